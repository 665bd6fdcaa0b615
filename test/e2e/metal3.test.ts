/**
 * bmc-operator in metal3 mode, next to the Metal3 baremetal-operator (BMO):
 * the API emulator serves BMO's real CRDs (read at run time from
 * `../shared/metal3-baremetal-operator/crds/`, relative to the repository
 * root) and ours from config/metal3; the test plays BMO, enrolling each
 * host's node in a real Ironic (an `available` node and an `active` one,
 * adopted as BMO adopts a provisioned host) and writing hosts and a
 * BMCEventSubscription as BMO writes them, including its periodic full-status
 * rewrite. The operator runs with `--mode auto` and must choose metal3 mode,
 * publish each host's lights, switch them through Ironic (checked on the
 * emulated BMC itself), and write nothing to BMO's objects: every API write
 * to BareMetalHosts, Secrets and BMCEventSubscriptions is counted by the API
 * emulator and all of them are the test's own.
 *
 * The emulator authorizes with RBAC, and the operator runs with a token of
 * the ServiceAccount of config/metal3/rbac (generated from the permissions
 * metal3 mode's code declares): a call that install does not grant fails
 * here, as in a cluster. The test's own client is the admin.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { type AddressInfo } from "node:net";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { renderKubeconfig, startKubeApiServer, type RunningKubeApiServer } from "../../emulators/kube-apiserver/index.ts";
import { type RunningBmcFleet, startBmcFleet } from "../../emulators/redfish-bmc/index.ts";
import type { BareMetalHost } from "../../src/api/baremetalhost.ts";
import type { BareMetalHostServiceIndicator } from "../../src/api/baremetalhost-service-indicator.ts";
import type { HostIndicators } from "../../src/api/host-indicators.ts";
import { REFRESH_INDICATORS_ANNOTATION } from "../../src/api/host-indicators.ts";
import { installManifests } from "../../src/api/install.ts";
import { installPermissions, METAL3_INSTALL } from "../../src/api/rbac.ts";
import { parseOperatorArgs } from "../../src/cli/operator-options.ts";
import { type RunningOperator, startOperator } from "../../src/cli/run-operator.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS, HOST_INDICATORS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { redfishDriverInfo } from "../../src/provisioner/ironic/driver-info.ts";
import {
  createLogger,
  defineResource,
  findStatusCondition,
  KubeClient,
  type KubeObject,
  kubeConfigFromString,
  NAMESPACES,
  permittedCalls,
  SECRETS,
} from "../../src/runtime/index.ts";
import { ironicReleases, ironicSkipReason, type IronicServer, startIronic } from "../support/ironic.ts";
import { IronicRequestLog } from "../support/ironic-request-log.ts";
import { ensureKubectl } from "../support/kubectl.ts";
import { installOperatorRbac, waitFor } from "../support/operator-stack.ts";

const root = join(import.meta.dirname, "..", "..");
const BMO_CRDS = join(root, "..", "shared", "metal3-baremetal-operator", "crds");
const NO_BMO_CRDS = existsSync(BMO_CRDS) ? false : "BMO's CRDs are not at ../shared/metal3-baremetal-operator/crds/ (relative to the repository root)";

const NS = "metal3-e2e";
/** Where config/metal3 installs the operator (its kustomization's namespace). */
const OPERATOR_NS = "baremetal-operator-system";
const CRDS = defineResource<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>({
  group: "apiextensions.k8s.io",
  version: "v1",
  plural: "customresourcedefinitions",
  kind: "CustomResourceDefinition",
  namespaced: false,
});

/** The two hosts: one `available` (Ironic `available`), one `provisioned` (Ironic `active`, adopted). */
const HOSTS = [
  { name: "worker-available", bmc: 0, bmoState: "available", ironicTarget: "provide", ironicState: "available" },
  { name: "worker-provisioned", bmc: 1, bmoState: "provisioned", ironicTarget: "adopt", ironicState: "active" },
] as const;

for (const release of ironicReleases()) {
  describe(`metal3 mode next to BMO's CRDs and a real Ironic (${release.label})`, { skip: NO_BMO_CRDS || ironicSkipReason(release) }, () => {
    let api: RunningKubeApiServer;
    let client: KubeClient;
    let fleet: RunningBmcFleet;
    let ironic: IronicServer;
    let ironicLog: IronicRequestLog;
    /** A web server for the images BMO's nodes name (Ironic checks that they exist before adopting). */
    let imageServer: Server;
    let images: string;
    let dir: string;
    let kubectlPath: string;
    /** A kubeconfig as the ServiceAccount of config/metal3/rbac. */
    let operatorKubeconfig: string;
    let operator: RunningOperator | undefined;
    let stopOperator: (() => Promise<void>) | undefined;
    const logLines: string[] = [];
    /** Node UUID by host name. */
    const nodes = new Map<string, string>();
    /** Writes the test itself (playing BMO) made to BareMetalHosts since the counters were last reset. */
    let bmoHostWrites = 0;

    async function ironicCall(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
      const response = await fetch(`${ironic.url}${path}`, {
        method,
        headers: { "Content-Type": "application/json", "X-OpenStack-Ironic-API-Version": "1.63" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`Ironic ${method} ${path}: ${response.status} ${text}`);
      return text ? (JSON.parse(text) as Record<string, unknown>) : {};
    }

    /** Enrolls a host's node as BMO does (name `<namespace>~<name>`, driver redfish) and moves it to `target`'s state. */
    async function enrol(host: (typeof HOSTS)[number]): Promise<string> {
      const bmc = fleet.bmcs[host.bmc]!;
      const address = `redfish+http://${new URL(bmc.url).host}${bmc.systemPath}`;
      const node = await ironicCall("POST", "/v1/nodes", {
        name: `${NS}~${host.name}`,
        driver: "redfish",
        boot_interface: "pxe",
        deploy_interface: "direct",
        automated_clean: false,
        driver_info: {
          ...redfishDriverInfo({
            namespace: NS,
            name: host.name,
            address,
            disableCertificateVerification: false,
            username: bmc.username,
            password: bmc.password,
          }),
          deploy_kernel: `${images}/ironic-python-agent.kernel`,
          deploy_ramdisk: `${images}/ironic-python-agent.initramfs`,
        },
        // What BMO sets before adopting a provisioned host: the image it runs.
        instance_info: { image_source: `${images}/ubuntu.qcow2`, image_checksum: "0123456789abcdef0123456789abcdef", capabilities: {} },
      });
      const uuid = String(node.uuid);
      for (const [target, state] of [
        ["manage", "manageable"],
        [host.ironicTarget, host.ironicState],
      ] as const) {
        await ironicCall("PUT", `/v1/nodes/${uuid}/states/provision`, { target });
        await waitFor(
          `node ${host.name} to be ${state}`,
          () => ironicCall("GET", `/v1/nodes/${uuid}`),
          (n) => {
            if (n.last_error) throw new Error(`node ${host.name}: ${JSON.stringify(n.last_error)}`);
            return n.provision_state === state;
          },
          60_000,
        );
      }
      return uuid;
    }

    /** A host's status as BMO writes it: every field its schema requires, its hardware inventory, its node. */
    function bmoStatus(host: (typeof HOSTS)[number], uuid: string, rewrite: number) {
      const bmc = fleet.bmcs[host.bmc]!;
      const now = new Date(Date.UTC(2026, 0, 1, 0, 0, rewrite)).toISOString().replace(/\.\d+Z$/, "Z");
      return {
        operationalStatus: "OK",
        errorMessage: "",
        errorCount: 0,
        poweredOn: host.bmoState === "provisioned",
        provisioningFailCount: 0,
        lastUpdated: now,
        hardwareProfile: "unknown",
        goodCredentials: { credentials: { name: `${host.name}-bmc`, namespace: NS }, credentialsVersion: "1" },
        hardware: {
          systemVendor: { manufacturer: "Contoso", productName: "Emulated", serialNumber: `SN-${host.bmc}` },
          ramMebibytes: 16384,
          cpu: { arch: "x86_64", model: "Emulated CPU", clockMegahertz: 2400, count: 8, flags: ["avx2"] },
          storage: bmc.drives.map((d, i) => ({
            name: `/dev/sd${String.fromCharCode(97 + i)}`,
            serialNumber: d.serialNumber,
            model: d.model,
            sizeBytes: 960_000_000_000,
            rotational: false,
            type: "SSD",
          })),
          nics: [{ name: "eth0", mac: `52:54:00:00:00:0${host.bmc}`, ip: "192.0.2.10", speedGbps: 25, pxe: true }],
          hostname: host.name,
        },
        provisioning: {
          ID: uuid,
          state: host.bmoState,
          bootMode: "UEFI",
          rootDeviceHints: { deviceName: "/dev/sda" },
          image: host.bmoState === "provisioned" ? { url: "http://images/ubuntu.qcow2", checksum: "abc" } : undefined,
        },
        operationHistory: {
          register: { start: now, end: now },
          inspect: { start: now, end: now },
          provision: host.bmoState === "provisioned" ? { start: now, end: now } : { start: null, end: null },
          deprovision: { start: null, end: null },
        },
      };
    }

    /** BMO's whole-status write (`Status().Update`), counted as the test's own. */
    async function bmoWriteStatus(host: (typeof HOSTS)[number], rewrite: number, edit: (status: ReturnType<typeof bmoStatus>) => void = () => {}) {
      const current = await client.get(BARE_METAL_HOSTS, { namespace: NS, name: host.name });
      const status = bmoStatus(host, nodes.get(host.name)!, rewrite);
      edit(status);
      bmoHostWrites++;
      return await client.updateStatus(BARE_METAL_HOSTS, { ...current, status } as unknown as BareMetalHost);
    }

    /** The API writes (of any verb, accepted or not) to a resource since the counters were reset. */
    function writesTo(resource: string): number {
      const counts = api.stats().byResource[resource];
      return counts ? counts.create + counts.update + counts.patch + counts.delete + counts.status : 0;
    }

    async function reconcileTotal(controller: string): Promise<number> {
      const metric = (await operator!.manager.registry.getMetricsAsJSON()).find((m) => m.name === "controller_runtime_reconcile_total");
      return ((metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[])
        .filter((v) => v.labels.controller === controller)
        .reduce((sum, v) => sum + v.value, 0);
    }

    async function idle(): Promise<void> {
      const registry = operator!.manager.registry;
      await waitFor(
        "the operator's queues to be empty and its workers idle",
        async () => {
          const metrics = await registry.getMetricsAsJSON();
          const sum = (name: string) =>
            ((metrics.find((m) => m.name === name)?.values ?? []) as { value: number }[]).reduce((s, v) => s + v.value, 0);
          return sum("workqueue_depth") + sum("controller_runtime_active_workers");
        },
        (busy) => busy === 0,
      );
    }

    async function start(): Promise<void> {
      const settings = parseOperatorArgs([
        "--ironic-endpoint",
        ironic.url,
        "--ironic-auth-dir",
        join(dir, "no-auth"),
        "--ironic-timeout",
        "10s",
        "--metrics-bind-address",
        "0",
        "--health-probe-bind-address",
        "0",
        // As config/metal3's Deployment runs it: with the leader Lease in its own namespace.
        "--leader-elect",
        "--leader-election-namespace",
        OPERATOR_NS,
        "--retry-period",
        "200ms",
      ]);
      const abort = new AbortController();
      const logger = createLogger({ level: "debug", destination: { write: (line: string) => void logLines.push(line) } });
      const running = await startOperator(settings, { signal: abort.signal, kubeConfig: kubeConfigFromString(operatorKubeconfig), logger, env: {} });
      operator = running;
      stopOperator = async () => {
        abort.abort();
        await running.done.catch(() => {});
        operator = undefined;
      };
      await waitFor("the caches to sync", () => Promise.resolve([running.hosts, running.indicators, running.hostIndicators]), (informers) =>
        informers.every((i) => i?.hasSynced() === true),
      );
    }

    function kubectl(args: readonly string[]): Promise<string> {
      return new Promise((resolve, reject) => {
        execFile(
          kubectlPath,
          args,
          { timeout: 30_000, env: { PATH: process.env.PATH ?? "", HOME: dir, KUBECONFIG: join(dir, "kubeconfig"), KUBECACHEDIR: join(dir, "kube-cache") } },
          (error, stdout, stderr) => (error ? reject(new Error(`kubectl ${args.join(" ")}: ${stderr}${stdout}`)) : resolve(stdout)),
        );
      });
    }

    const published = (name: string, accept: (o: HostIndicators) => boolean, what: string) =>
      waitFor(`HostIndicators ${name}: ${what}`, () => client.get(HOST_INDICATORS, { namespace: NS, name }), accept, 60_000);

    const indicator = (name: string, host: string, id: string, on: boolean): BareMetalHostServiceIndicator => ({
      apiVersion: "metal3.io/v1alpha1",
      kind: "BareMetalHostServiceIndicator",
      metadata: { name, namespace: NS },
      spec: { hostRef: { name: host }, id, on },
    });

    const lightReady = (name: string, on: boolean) =>
      waitFor(
        `indicator ${name} to be Ready with on=${on}`,
        () => client.get(SERVICE_INDICATORS, { namespace: NS, name }),
        (i) => i.status?.on === on && i.status.observedGeneration === i.metadata.generation && findStatusCondition(i.status.conditions, "Ready")?.status === "True",
        30_000,
      );

    /** Requests to Ironic since `mark` that are the operator's: the test names nodes only through its own `ironicCall`, before marks. */
    const ironicSince = (mark: number) => ironicLog.since(mark);

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "bmc-operator-metal3-"));
      imageServer = createServer((_request, response) => response.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": "0" }).end());
      await new Promise<void>((resolve) => imageServer.listen(0, "127.0.0.1", resolve));
      images = `http://127.0.0.1:${(imageServer.address() as AddressInfo).port}/images`;
      [api, fleet, ironic, kubectlPath] = await Promise.all([
        // Over https: kubectl sends the admin's token only there.
        startKubeApiServer({ port: 0, authorizationMode: "RBAC", tls: true }),
        startBmcFleet({ count: 2 }),
        startIronic({ release }),
        ensureKubectl(),
      ]);
      ironicLog = new IronicRequestLog(ironic);
      await writeFile(join(dir, "kubeconfig"), api.kubeconfig, { mode: 0o600 });
      client = new KubeClient(kubeConfigFromString(api.kubeconfig));
      // BMO's CRDs as a Metal3 cluster has them, then ours from config/metal3.
      for (const file of ["metal3.io_baremetalhosts.yaml", "metal3.io_bmceventsubscriptions.yaml", "metal3.io_hardwaredata.yaml"]) {
        const crd = await client.create(CRDS, parse(readFileSync(join(BMO_CRDS, file), "utf8")) as KubeObject);
        await waitFor(`${crd.metadata?.name} to be established`, () => client.get(CRDS, { name: crd.metadata?.name ?? "" }), (c) =>
          c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True") === true,
        );
      }
      await installManifests(client, { install: "metal3" });
      const certificateAuthority = kubeConfigFromString(api.kubeconfig).getCurrentCluster()?.caData;
      operatorKubeconfig = renderKubeconfig(
        api.url,
        await installOperatorRbac(client, OPERATOR_NS, "config/metal3/rbac"),
        certificateAuthority ? Buffer.from(certificateAuthority, "base64").toString("utf8") : undefined,
      );
      await client.create(NAMESPACES, { metadata: { name: NS } });

      for (const host of HOSTS) nodes.set(host.name, await enrol(host));
      for (const host of HOSTS) {
        const bmc = fleet.bmcs[host.bmc]!;
        // BMO labels the credentials Secrets it reads; the second one is left unlabelled, to see that nothing labels it.
        await client.create(SECRETS, {
          metadata: { name: `${host.name}-bmc`, namespace: NS, labels: host.bmc === 0 ? { "environment.metal3.io": "baremetal" } : {} },
          type: "Opaque",
          stringData: { username: bmc.username, password: bmc.password },
        });
        await client.create(BARE_METAL_HOSTS, {
          apiVersion: "metal3.io/v1alpha1",
          kind: "BareMetalHost",
          metadata: { name: host.name, namespace: NS, finalizers: ["baremetalhost.metal3.io"] },
          spec: {
            online: true,
            bootMACAddress: `52:54:00:00:00:0${host.bmc}`,
            bmc: { address: `redfish+http://${new URL(bmc.url).host}${bmc.systemPath}`, credentialsName: `${host.name}-bmc` },
          },
        });
        await bmoWriteStatus(host, 0);
      }
      // A subscription as BMO leaves it once created: its finalizer, the BMC's ID, an empty error.
      const subscription = await client.create(BMC_EVENT_SUBSCRIPTIONS, {
        apiVersion: "metal3.io/v1alpha1",
        kind: "BMCEventSubscription",
        metadata: { name: "events", namespace: NS, finalizers: ["bmceventsubscription.metal3.io"] },
        spec: { hostName: HOSTS[1].name, destination: "https://events.example.com/", context: "ctx" },
      });
      await client.updateStatus(BMC_EVENT_SUBSCRIPTIONS, { ...subscription, status: { subscriptionID: "sub-1", error: "" } });
      api.resetStats();
      bmoHostWrites = 0;
      await start();
    });

    after(async () => {
      await stopOperator?.();
      await client?.close();
      await Promise.allSettled([api?.close(), fleet?.close(), ironic?.close()]);
      imageServer?.closeAllConnections();
      imageServer?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("chooses metal3 mode from BMO's BareMetalHost CRD and says why", () => {
      assert.equal(operator?.mode, "metal3");
      assert.deepEqual(operator?.controllers, ["indicators"]);
      const line = logLines.map((l) => JSON.parse(l) as { msg: string; reason?: string }).find((l) => l.msg.startsWith("running in metal3 mode"));
      assert.match(line?.reason ?? "", /is not bmc-operator's \(no bmc-operator\.metal3\.io\/crd=true label/);
    });

    it("publishes each host's lights, read from its Ironic node without changing it, and shows them with one kubectl command", async () => {
      for (const host of HOSTS) {
        const bmc = fleet.bmcs[host.bmc]!;
        const list = await published(host.name, (o) => (o.status?.indicators?.length ?? 0) > 0, "lights listed");
        assert.equal(list.status?.nodeID, nodes.get(host.name));
        const ids = list.status?.indicators?.map((i) => i.id) ?? [];
        assert.ok(ids.includes(`${bmc.systemUUID}@system`), ids.join(", "));
        assert.ok(ids.includes(`${bmc.chassisUUID}@chassis`), ids.join(", "));
        assert.equal(list.metadata.ownerReferences?.[0]?.kind, "BareMetalHost");
      }
      // The command docs/metal3.md gives.
      const shown = await kubectl(["get", "hostindicators", HOSTS[1].name, "-n", NS, "-o", "jsonpath={range .status.indicators[*]}{.id}{\"\\n\"}{end}"]);
      assert.ok(shown.includes(`${fleet.bmcs[1]!.systemUUID}@system`), shown);
      // Only reads: no node enrolled, changed or moved. The only other requests are the test's own enrolments.
      const writes = (await ironicSince(0))
        .filter((r) => r.method !== "GET")
        .map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/, "<node>")}`)
        .sort();
      assert.deepEqual(writes, [
        "POST /v1/nodes",
        "POST /v1/nodes",
        "PUT /v1/nodes/<node>/states/provision",
        "PUT /v1/nodes/<node>/states/provision",
        "PUT /v1/nodes/<node>/states/provision",
        "PUT /v1/nodes/<node>/states/provision",
      ]);
    });

    it("switches the lights of the available and the provisioned host through Ironic, one read and one write each, on the BMC itself", async () => {
      for (const host of HOSTS) {
        const bmc = fleet.bmcs[host.bmc]!;
        const system = `${bmc.systemUUID}@system`;
        const path = `/v1/nodes/${nodes.get(host.name)}/management/indicators/${system}`;
        let mark = await ironicLog.mark();
        await client.create(SERVICE_INDICATORS, indicator(`${host.name}-locate`, host.name, system, true));
        await lightReady(`${host.name}-locate`, true);
        assert.equal(fleet.bmc(host.bmc).lights().system, "Lit", host.name);
        assert.deepEqual(await ironicSince(mark), [
          { method: "GET", path, status: 200 },
          { method: "PUT", path, status: 204 },
        ]);
        mark = await ironicLog.mark();
        await client.patch(SERVICE_INDICATORS, { namespace: NS, name: `${host.name}-locate` }, { spec: { on: false } }, { type: "merge" });
        await lightReady(`${host.name}-locate`, false);
        assert.equal(fleet.bmc(host.bmc).lights().system, "Off", host.name);
        assert.deepEqual(await ironicSince(mark), [
          { method: "GET", path, status: 200 },
          { method: "PUT", path, status: 204 },
        ]);
      }
      const active = await ironicCall("GET", `/v1/nodes/${nodes.get(HOSTS[1].name)}`);
      assert.equal(active.provision_state, "active", "the provisioned host's node stayed active");
    });

    it("turns a light off when its indicator is deleted, on the provisioned host", async () => {
      const host = HOSTS[1];
      const chassis = `${fleet.bmcs[host.bmc]!.chassisUUID}@chassis`;
      await client.create(SERVICE_INDICATORS, indicator("beacon", host.name, chassis, true));
      await lightReady("beacon", true);
      assert.equal(fleet.bmc(host.bmc).lights().chassis, "Lit");
      await kubectl(["delete", "baremetalhostserviceindicators.metal3.io", "beacon", "-n", NS, "--timeout=30s"]);
      assert.equal(fleet.bmc(host.bmc).lights().chassis, "Off");
    });

    it("a host without an Ironic node (registering): looked up by name, its light list and its indicator say so", async () => {
      const name = "worker-registering";
      const host = await client.create(BARE_METAL_HOSTS, {
        apiVersion: "metal3.io/v1alpha1",
        kind: "BareMetalHost",
        metadata: { name, namespace: NS },
        spec: { online: true, bmc: { address: "redfish+http://192.0.2.1/redfish/v1/Systems/1", credentialsName: `${name}-bmc` } },
      });
      bmoHostWrites++;
      const status = { ...bmoStatus(HOSTS[0], "", 0), provisioning: { ID: "", state: "registering" } };
      await client.updateStatus(BARE_METAL_HOSTS, { ...host, status } as unknown as BareMetalHost);
      bmoHostWrites++;
      const list = await published(name, (o) => o.status?.errorMessage !== undefined, "an error");
      assert.match(list.status?.errorMessage ?? "", new RegExp(`Ironic has no node "${NS}~${name}"`));
      assert.equal(list.status?.indicators, undefined);
      assert.ok(
        (await ironicSince(0)).some((r) => r.method === "GET" && r.path === `/v1/nodes/${NS}~${name}` && r.status === 404),
        "the node was looked up by its name",
      );
      await client.create(SERVICE_INDICATORS, indicator("waiting", name, "abc@system", true));
      const failed = await waitFor(
        "the indicator to say why",
        () => client.get(SERVICE_INDICATORS, { namespace: NS, name: "waiting" }),
        (i) => findStatusCondition(i.status?.conditions, "Ready")?.status === "False",
      );
      assert.match(failed.status?.errorMessage ?? "", new RegExp(`could not be read \\(see HostIndicators "${NS}/${name}"\\): .*Ironic has no node`));
    });

    it("an indicator for a light the host does not have names the host's lights", async () => {
      const host = HOSTS[1];
      await client.create(SERVICE_INDICATORS, indicator("unknown-light", host.name, "nope@system", true));
      const failed = await waitFor(
        "the indicator to be refused",
        () => client.get(SERVICE_INDICATORS, { namespace: NS, name: "unknown-light" }),
        (i) => findStatusCondition(i.status?.conditions, "Ready")?.status === "False",
      );
      assert.match(failed.status?.errorMessage ?? "", new RegExp(`spec.id "nope@system" is not an indicator of BareMetalHost "${host.name}"; its indicators are: .*${fleet.bmcs[host.bmc]!.systemUUID}@system`));
    });

    it("BMO's periodic full-status rewrites cost no Ironic request and no API write", async () => {
      await idle();
      const mark = await ironicLog.mark();
      const before = { lists: await reconcileTotal("hostindicators"), indicators: await reconcileTotal("baremetalhostserviceindicator") };
      const writesBefore = { ours: writesTo("metal3.io/hostindicators"), indicators: writesTo("metal3.io/baremetalhostserviceindicators") };
      for (const host of HOSTS) await bmoWriteStatus(host, 1);
      for (const host of HOSTS) await bmoWriteStatus(host, 2);
      // Each rewrite reaches both controllers; wait until they have seen them all and are idle again.
      await waitFor("both controllers to reconcile after the rewrites", async () => ({
        lists: (await reconcileTotal("hostindicators")) - before.lists,
        indicators: (await reconcileTotal("baremetalhostserviceindicator")) - before.indicators,
      }), (seen) => seen.lists >= 2 * HOSTS.length && seen.indicators >= 1);
      await idle();
      assert.deepEqual(await ironicSince(mark), []);
      assert.equal(writesTo("metal3.io/hostindicators"), writesBefore.ours);
      assert.equal(writesTo("metal3.io/baremetalhostserviceindicators"), writesBefore.indicators);
    });

    it("reads a host's lights again when its hardware changes or the user asks, never otherwise", async () => {
      const host = HOSTS[0];
      const node = nodes.get(host.name)!;
      const first = await client.get(HOST_INDICATORS, { namespace: NS, name: host.name });
      let mark = await ironicLog.mark();
      // A drive swapped: BMO's next inspection writes another serial number.
      await bmoWriteStatus(host, 3, (status) => {
        status.hardware.storage[0]!.serialNumber = "SWAPPED-1";
      });
      const refreshed = await published(host.name, (o) => o.status?.fingerprint !== first.status?.fingerprint, "read again after the drive swap");
      assert.equal(refreshed.status?.nodeID, node);
      assert.deepEqual(
        (await ironicSince(mark)).map((r) => `${r.method} ${r.path}`),
        [`GET /v1/nodes/${node}`, `GET /v1/nodes/${node}/management/indicators`],
      );
      mark = await ironicLog.mark();
      await kubectl(["annotate", "hostindicators", host.name, "-n", NS, `${REFRESH_INDICATORS_ANNOTATION}=now`]);
      await published(host.name, (o) => o.status?.fingerprint !== refreshed.status?.fingerprint, "read again when asked");
      assert.deepEqual(
        (await ironicSince(mark)).map((r) => `${r.method} ${r.path}`),
        [`GET /v1/nodes/${node}`, `GET /v1/nodes/${node}/management/indicators`],
      );
    });

    it("a restart costs no Ironic request and no write of a light list", async () => {
      await idle();
      await stopOperator!();
      const mark = await ironicLog.mark();
      const writes = writesTo("metal3.io/hostindicators");
      await start();
      const hosts = (await client.list(BARE_METAL_HOSTS, { namespace: NS })).items.length;
      const indicators = (await client.list(SERVICE_INDICATORS, { namespace: NS })).items.length;
      await waitFor("the restarted operator to reconcile every host", () => reconcileTotal("hostindicators"), (n) => n >= hosts);
      await waitFor("the restarted operator to reconcile every indicator", () => reconcileTotal("baremetalhostserviceindicator"), (n) => n >= indicators);
      await idle();
      assert.deepEqual(await ironicSince(mark), []);
      assert.equal(writesTo("metal3.io/hostindicators"), writes);
    });

    it("wrote nothing to BMO's hosts, their Secrets or BMCEventSubscriptions, and labelled no Secret", async () => {
      await idle();
      assert.equal(writesTo("metal3.io/baremetalhosts"), bmoHostWrites, "every BareMetalHost write is the test's own (as BMO)");
      assert.equal(writesTo("secrets"), 0);
      assert.equal(writesTo("metal3.io/bmceventsubscriptions"), 0);
      assert.equal(writesTo("metal3.io/hardwaredata"), 0);
      const unlabelled = await client.get(SECRETS, { namespace: NS, name: `${HOSTS[1].name}-bmc` });
      assert.deepEqual(unlabelled.metadata?.labels ?? {}, {});
      const subscription = await client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: NS, name: "events" });
      assert.deepEqual(subscription.status, { subscriptionID: "sub-1", error: "" });
      assert.deepEqual(subscription.metadata.finalizers, ["bmceventsubscription.metal3.io"]);
      for (const host of HOSTS) {
        const stored = await client.get(BARE_METAL_HOSTS, { namespace: NS, name: host.name });
        assert.deepEqual(stored.metadata.finalizers, ["baremetalhost.metal3.io"]);
        assert.equal(stored.metadata.annotations, undefined);
      }
    });

    it("deletes a host's light list once BMO has deleted the host", async () => {
      const name = "worker-registering";
      await client.delete(BARE_METAL_HOSTS, { namespace: NS, name });
      bmoHostWrites++;
      await waitFor("the light list to go", () => client.list(HOST_INDICATORS, { namespace: NS }), (l) => !l.items.some((o) => o.metadata.name === name));
      assert.equal(writesTo("metal3.io/baremetalhosts"), bmoHostWrites);
    });

    it("publishes a light list again when somebody deletes it after this process published it", async () => {
      const name = HOSTS[0].name;
      const old = await client.get(HOST_INDICATORS, { namespace: NS, name });
      await client.patch(HOST_INDICATORS, { namespace: NS, name }, { metadata: { annotations: { [REFRESH_INDICATORS_ANNOTATION]: "again" } } }, { type: "merge" });
      const refreshed = await published(name, (o) => o.status?.fingerprint !== old.status?.fingerprint, "read again for the refresh");
      // The annotation taken off: this process publishes the list again (and knows it did).
      await client.patch(HOST_INDICATORS, { namespace: NS, name }, { metadata: { annotations: { [REFRESH_INDICATORS_ANNOTATION]: null } } }, { type: "merge" });
      const before = await published(name, (o) => o.status?.fingerprint !== refreshed.status?.fingerprint, "read again without the annotation");
      await client.delete(HOST_INDICATORS, { namespace: NS, name });
      await published(name, (o) => o.metadata.uid !== before.metadata.uid && (o.status?.indicators?.length ?? 0) > 0, "published again");
    });

    it("made every call the metal3 install declares (and config/metal3/rbac grants), and no other", async () => {
      await idle();
      await stopOperator!();
      const user = `system:serviceaccount:${OPERATOR_NS}:bmc-operator`;
      assert.deepEqual(api.authorizedCalls(user), permittedCalls(installPermissions(METAL3_INSTALL)), "calls authorized for the operator vs the permissions declared");
    });
  });
}

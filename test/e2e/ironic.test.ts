/**
 * End to end through real Ironic: kubectl 1.35 → Kubernetes API emulator →
 * the operator (`--provisioner ironic`) → Ironic → the Redfish BMC emulator,
 * with events delivered from the BMC to a local listener. A host is enrolled
 * in Ironic, lights are switched through Ironic's indicator API, and a
 * subscription is created and deleted through its Redfish vendor passthru.
 *
 * Ironic 21.4.4 (Debian bookworm) lists no disk lights: it reads them from
 * the System's SimpleStorage, where sushy 4.3.3 finds no drives (see
 * docs/ironic.md): there the disk-light case is skipped with that reason.
 * Ironic 29.0.5 (Debian trixie) lists them, and the case must pass there.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BareMetalHost } from "../../src/api/baremetalhost.ts";
import type { BareMetalHostServiceIndicator } from "../../src/api/baremetalhost-service-indicator.ts";
import type { BMCEventSubscription } from "../../src/api/bmc-event-subscription.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { EVENTS, findStatusCondition } from "../../src/runtime/index.ts";
import { ironicReleases, ironicSkipReason } from "../support/ironic.ts";
import { type IronicOperatorStack, startIronicOperatorStack } from "../support/ironic-operator-stack.ts";
import type { IronicRequest } from "../support/ironic-request-log.ts";
import { waitFor } from "../support/operator-stack.ts";
import { startBmcFleet } from "../../emulators/redfish-bmc/index.ts";

const NS = "e2e-ironic";
const HOST = "worker-0";
const NO_DISK_LIGHTS =
  "this Ironic lists no disk lights: Ironic before 23.1 reads them from the System's SimpleStorage, " +
  "where sushy 4.3.3 finds no drives (docs/ironic.md)";

for (const release of ironicReleases()) {
  describe(`end to end through real Ironic: enrolment, lights and event subscriptions (${release.label})`, { skip: ironicSkipReason(release) }, () => {
    let stack: IronicOperatorStack;
    /** The host as the operator registered it. */
    let host: BareMetalHost;

    before(async () => {
      stack = await startIronicOperatorStack({ bmcs: 1, release });
      await stack.startOperator();
      await stack.kubectl(["create", "namespace", NS]);
    });
    after(() => stack?.close());

    const bmc = () => stack.fleet.bmcs[0]!;
    const emulated = () => stack.fleet.bmc(0);
    const apply = (object: object) => stack.kubectl(["apply", "-f", "-"], JSON.stringify(object));

    function indicator(name: string, id: string, on: boolean): BareMetalHostServiceIndicator {
      return {
        apiVersion: "metal3.io/v1alpha1",
        kind: "BareMetalHostServiceIndicator",
        metadata: { name, namespace: NS },
        spec: { hostRef: { name: HOST }, id, on },
      };
    }

    function lightReady(name: string, on: boolean) {
      return waitFor(
        `indicator ${name} to be Ready with on=${on}`,
        () => stack.client.get(SERVICE_INDICATORS, { namespace: NS, name }),
        (i) =>
          i.status?.on === on &&
          i.status.observedGeneration === i.metadata.generation &&
          findStatusCondition(i.status.conditions, "Ready")?.status === "True",
        30_000,
      );
    }

    const nodeUUID = () => host.status?.provisioning?.ID ?? "";
    const indicatorPath = (id: string) => `/v1/nodes/${nodeUUID()}/management/indicators/${id}`;

    /**
     * The operator's requests to Ironic about the host's node since `mark`. The
     * operator names the node by its UUID; the test's own look-ups name it by
     * name, so they are not counted.
     */
    async function operatorRequestsSince(mark: number): Promise<IronicRequest[]> {
      return (await stack.ironicRequests.since(mark)).filter((r) => r.path.startsWith(`/v1/nodes/${nodeUUID()}`));
    }

    it("enrolls the BareMetalHost in Ironic: a redfish node with the host's driver_info, its UUID in status, its lights from Ironic", async () => {
      const mark = await stack.ironicRequests.mark();
      await stack.kubectl([
        "create",
        "secret",
        "generic",
        `${HOST}-bmc`,
        "-n",
        NS,
        `--from-literal=username=${bmc().username}`,
        `--from-literal=password=${bmc().password}`,
      ]);
      await apply({
        apiVersion: "metal3.io/v1alpha1",
        kind: "BareMetalHost",
        metadata: { name: HOST, namespace: NS },
        spec: {
          online: true,
          bmc: { address: `redfish+http://${new URL(bmc().url).host}${bmc().systemPath}`, credentialsName: `${HOST}-bmc` },
        },
      });
      host = await waitFor(
        "the host to be registered",
        () => stack.client.get(BARE_METAL_HOSTS, { namespace: NS, name: HOST }),
        (h) => findStatusCondition(h.status?.conditions, "Ready")?.status === "True",
        30_000,
      );

      const node = await stack.ironicClient.getNode(`${NS}~${HOST}`);
      assert.equal(node.driver, "redfish");
      assert.deepEqual(node.driver_info, {
        redfish_address: bmc().url,
        redfish_system_id: bmc().systemPath,
        redfish_username: bmc().username,
        redfish_password: "******",
      });
      assert.equal(host.status?.provisioning?.ID, node.uuid);
      assert.equal(host.status?.operationalStatus, "OK");

      // The test looks the node up by name, so that its requests tell apart from the operator's (by UUID).
      const fromIronic = await stack.ironicClient.listIndicators(`${NS}~${HOST}`);
      const listed = host.status?.hardware?.indicators ?? [];
      assert.deepEqual(listed.map((i) => i.id).sort(), fromIronic.map((i) => i.name).sort());
      const ids = listed.map((i) => i.id);
      assert.ok(ids.includes(`${bmc().systemUUID}@system`), ids.join(", "));
      assert.ok(ids.includes(`${bmc().chassisUUID}@chassis`), ids.join(", "));
      for (const entry of listed) assert.equal(entry.readonly, false, entry.id);

      // Exactly one node was enrolled, through Ironic's API.
      const enrolments = (await stack.ironicRequests.since(mark)).filter((r) => r.method === "POST" && r.path === "/v1/nodes");
      assert.deepEqual(enrolments, [{ method: "POST", path: "/v1/nodes", status: 201 }]);
    });

    it("switches the system and the chassis light on and off through Ironic, one read and one write per switch", async () => {
      assert.ok(host, "the host was not registered");
      const system = `${bmc().systemUUID}@system`;
      const chassis = `${bmc().chassisUUID}@chassis`;

      let mark = await stack.ironicRequests.mark();
      await apply(indicator("locate", system, true));
      await lightReady("locate", true);
      assert.equal(emulated().lights().system, "Lit");
      assert.equal(emulated().lights().chassis, "Off");
      assert.deepEqual(await operatorRequestsSince(mark), [
        { method: "GET", path: indicatorPath(system), status: 200 },
        { method: "PUT", path: indicatorPath(system), status: 204 },
      ]);

      mark = await stack.ironicRequests.mark();
      await apply(indicator("rack", chassis, true));
      await lightReady("rack", true);
      assert.equal(emulated().lights().chassis, "Lit");
      assert.equal(emulated().lights().system, "Lit");
      assert.deepEqual(await operatorRequestsSince(mark), [
        { method: "GET", path: indicatorPath(chassis), status: 200 },
        { method: "PUT", path: indicatorPath(chassis), status: 204 },
      ]);

      mark = await stack.ironicRequests.mark();
      await stack.kubectl(["patch", "baremetalhostserviceindicators.metal3.io", "locate", "-n", NS, "--type", "merge", "-p", '{"spec":{"on":false}}']);
      await lightReady("locate", false);
      assert.equal(emulated().lights().system, "Off");
      assert.equal(emulated().lights().chassis, "Lit", "switching one light leaves the other alone");
      assert.deepEqual(await operatorRequestsSince(mark), [
        { method: "GET", path: indicatorPath(system), status: 200 },
        { method: "PUT", path: indicatorPath(system), status: 204 },
      ]);

      await stack.kubectl(["patch", "baremetalhostserviceindicators.metal3.io", "rack", "-n", NS, "--type", "merge", "-p", '{"spec":{"on":false}}']);
      await lightReady("rack", false);
      assert.equal(emulated().lights().chassis, "Off");
      // One indicator per light: the next test's indicator of the chassis light needs this one gone.
      await stack.kubectl(["delete", "baremetalhostserviceindicators.metal3.io", "rack", "-n", NS, "--timeout=30s"]);
    });

    it("turns a light off when its resource is deleted, before the resource goes", async () => {
      assert.ok(host, "the host was not registered");
      const chassis = `${bmc().chassisUUID}@chassis`;
      await apply(indicator("beacon", chassis, true));
      await lightReady("beacon", true);
      assert.equal(emulated().lights().chassis, "Lit");

      const mark = await stack.ironicRequests.mark();
      // kubectl delete waits until the finalizer is released and the resource is gone.
      await stack.kubectl(["delete", "baremetalhostserviceindicators.metal3.io", "beacon", "-n", NS, "--timeout=30s"]);
      assert.equal(emulated().lights().chassis, "Off");
      assert.deepEqual(
        (await operatorRequestsSince(mark)).filter((r) => r.path === indicatorPath(chassis)),
        [
          { method: "GET", path: indicatorPath(chassis), status: 200 },
          { method: "PUT", path: indicatorPath(chassis), status: 204 },
        ],
      );
      const events = await stack.client.list(EVENTS, { namespace: NS });
      assert.ok(
        events.items.some((e) => e.reason === "LightOff" && (e.note ?? "").includes("before deleting the resource")),
        events.items.map((e) => `${e.reason}: ${e.note ?? ""}`).join("\n"),
      );
    });

    it("switches a disk light on and off through Ironic", async (t) => {
      assert.ok(host, "the host was not registered");
      if (!release.listsDiskLights) {
        t.skip(NO_DISK_LIGHTS);
        return;
      }
      const disk = host.status?.hardware?.indicators?.find((i) => i.component === "disk");
      assert.ok(disk, `${release.label} lists no disk light: ${JSON.stringify(host.status?.hardware?.indicators)}`);
      const drive = bmc().drives.find((d) => `${d.storageId}:${d.driveId}@disk` === disk.id);
      assert.ok(drive, `disk light ${disk.id} names no drive of the BMC: ${JSON.stringify(bmc().drives)}`);
      // Ironic names the storage and the drive; the operator read the rest from the Drive resource.
      assert.deepEqual(disk.drive, {
        storage: drive.storageId,
        id: drive.driveId,
        name: drive.name,
        model: drive.model,
        serialNumber: drive.serialNumber,
      });
      const led = () => emulated().lights().drives[`${drive.storageId}:${drive.driveId}`];

      await apply(indicator("disk", disk.id, true));
      await lightReady("disk", true);
      assert.equal(led(), "Lit");
      await stack.kubectl(["delete", "baremetalhostserviceindicators.metal3.io", "disk", "-n", NS, "--timeout=30s"]);
      assert.equal(led(), "Off");
    });

    it("creates a subscription through Ironic's vendor passthru; a test event from the BMC arrives with its context and headers; deleting it deletes it", async () => {
      assert.ok(host, "the host was not registered");
      const token = `Bearer e2e-${crypto.randomUUID()}`;
      const key = `key-${crypto.randomUUID()}`;
      await stack.kubectl([
        "create",
        "secret",
        "generic",
        "hook-headers",
        "-n",
        NS,
        `--from-literal=Authorization=${token}`,
        `--from-literal=X-Hook-Key=${key}`,
      ]);
      let mark = await stack.ironicRequests.mark();
      const subscription: BMCEventSubscription = {
        apiVersion: "metal3.io/v1alpha1",
        kind: "BMCEventSubscription",
        metadata: { name: "events", namespace: NS },
        spec: {
          hostName: HOST,
          destination: `${stack.sink.url}/${NS}/events`,
          context: "e2e-context",
          httpHeadersRef: { name: "hook-headers" },
        },
      };
      await apply(subscription);
      const ready = await waitFor(
        "the subscription to be Ready",
        () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: NS, name: "events" }),
        (s) => !!s.status?.subscriptionID && findStatusCondition(s.status.conditions, "Ready")?.status === "True",
        30_000,
      );
      const onBmc = emulated().subscriptions();
      assert.equal(onBmc.length, 1, JSON.stringify(onBmc));
      assert.equal(onBmc[0]?.id, ready.status?.subscriptionID);
      assert.equal(onBmc[0]?.destination, subscription.spec.destination);
      assert.equal(onBmc[0]?.context, "e2e-context");
      assert.deepEqual([...(onBmc[0]?.httpHeaderNames ?? [])].sort(), ["Authorization", "X-Hook-Key"]);
      const passthru = `/v1/nodes/${nodeUUID()}/vendor_passthru`;
      assert.deepEqual(
        (await stack.ironicRequests.since(mark)).filter((r) => r.path.startsWith(passthru)),
        [{ method: "POST", path: `${passthru}?method=create_subscription`, status: 200 }],
      );

      emulated().submitEvent({ MessageId: "Base.1.0.E2ETestEvent", Message: "a test event through Ironic's subscription" });
      const event = await stack.sink.waitFor((e) => e.path === `/${NS}/events` && e.messageIds.includes("Base.1.0.E2ETestEvent"), 15_000);
      assert.equal(event.context, "e2e-context");
      assert.equal(event.headers.authorization, token);
      assert.equal(event.headers["x-hook-key"], key);

      mark = await stack.ironicRequests.mark();
      await stack.kubectl(["delete", "bmceventsubscriptions.metal3.io", "events", "-n", NS, "--timeout=30s"]);
      assert.deepEqual(emulated().subscriptions(), []);
      assert.deepEqual(
        (await stack.ironicRequests.since(mark)).filter((r) => r.path.startsWith(passthru)),
        [{ method: "DELETE", path: `${passthru}?method=delete_subscription`, status: 200 }],
      );

      // No secret in status, Events or the operator's log.
      const events = JSON.stringify((await stack.client.list(EVENTS, { namespace: NS })).items);
      const hosts = JSON.stringify((await stack.client.list(BARE_METAL_HOSTS, { namespace: NS })).items.map((h) => h.status));
      const log = stack.operatorLog();
      assert.ok(log.length > 0, "the operator logged nothing");
      for (const secret of [token, key, bmc().password]) {
        for (const [where, text] of [
          ["Events", events],
          ["host status", hosts],
          ["status", JSON.stringify(ready.status)],
          ["the operator's log", log],
        ] as const) {
          assert.ok(!text.includes(secret.replace(/^Bearer /, "")), `a secret appears in ${where}`);
        }
      }
    });

    it("on a BMC that refuses EventTypes (as OpenBMC does), the subscription reports Ironic's and the BMC's message", async () => {
      // Ironic sends EventTypes ["Alert"] with every create_subscription, whatever the caller sends.
      const openbmc = await startBmcFleet({ count: 1, refuseEventTypes: true });
      try {
        const info = openbmc.bmcs[0]!;
        const name = "openbmc-0";
        const token = `Bearer openbmc-${crypto.randomUUID()}`;
        await stack.kubectl(["create", "secret", "generic", `${name}-bmc`, "-n", NS, `--from-literal=username=${info.username}`, `--from-literal=password=${info.password}`]);
        await stack.kubectl(["create", "secret", "generic", "openbmc-headers", "-n", NS, `--from-literal=Authorization=${token}`]);
        await apply({
          apiVersion: "metal3.io/v1alpha1",
          kind: "BareMetalHost",
          metadata: { name, namespace: NS },
          spec: { online: true, bmc: { address: `redfish+http://${new URL(info.url).host}${info.systemPath}`, credentialsName: `${name}-bmc` } },
        });
        await waitFor(
          `host ${name} to be registered`,
          () => stack.client.get(BARE_METAL_HOSTS, { namespace: NS, name }),
          (h) => !!h.status?.provisioning?.ID && findStatusCondition(h.status.conditions, "Ready")?.status === "True",
          30_000,
        );
        await apply({
          apiVersion: "metal3.io/v1alpha1",
          kind: "BMCEventSubscription",
          metadata: { name: "openbmc-events", namespace: NS },
          spec: { hostName: name, destination: `${stack.sink.url}/${NS}/openbmc`, context: "openbmc", httpHeadersRef: { name: "openbmc-headers" } },
        });
        const failed = await waitFor(
          "the subscription to report the BMC's refusal",
          () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: NS, name: "openbmc-events" }),
          (s) => findStatusCondition(s.status?.conditions, "Ready")?.status === "False" && /EventTypes/.test(s.status?.errorMessage ?? ""),
          30_000,
        );
        const message = failed.status?.errorMessage ?? "";
        // Ironic's words, then the BMC's own Redfish message, quoted through Ironic.
        assert.match(message, /Failed to create subscription on node/);
        assert.match(message, /returned code 400/);
        assert.match(message, /PropertyUnknown/);
        assert.match(message, /The property EventTypes is not in the list of valid properties/);
        assert.equal(failed.status?.subscriptionID ?? "", "");
        assert.ok(!message.includes(token.replace(/^Bearer /, "")), "the header value appears in the message");
        assert.ok(!message.includes(info.password), "the BMC password appears in the message");
        assert.deepEqual(openbmc.bmc(0).subscriptions(), []);
        assert.ok((openbmc.bmc(0).stats().byMethodPath["POST /redfish/v1/EventService/Subscriptions"] ?? 0) >= 1, "Ironic never asked the BMC");
        await stack.kubectl(["delete", "bmceventsubscriptions.metal3.io", "openbmc-events", "-n", NS, "--timeout=30s"]);
      } finally {
        await openbmc.close();
      }
    });
  });
}

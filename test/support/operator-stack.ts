/**
 * The whole stack for operator tests, over real HTTP on 127.0.0.1: the
 * Kubernetes API emulator with the CRDs installed, a fleet of emulated
 * Redfish BMCs, an event sink, and the operator (a manager with the three
 * controllers and the Redfish provisioner) that can be stopped and started
 * again as a restart would.
 *
 * The emulator authorizes with RBAC, and the operator runs as the
 * ServiceAccount of config/rbac, applied from the manifests with a token from
 * the TokenRequest API, as in a cluster: a call the RBAC manifests do not
 * grant fails the test that needs it. The test's own client is the admin.
 *
 * @module
 */
import type { BareMetalHost } from "../../src/api/baremetalhost.ts";
import type { BareMetalHostServiceIndicator } from "../../src/api/baremetalhost-service-indicator.ts";
import type { BMCEventSubscription } from "../../src/api/bmc-event-subscription.ts";
import type { Condition } from "../../src/api/meta.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { installManifests } from "../../src/api/install.ts";
import { setUpOperator, type Operator } from "../../src/controllers/operator.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { lookUpBareMetalHostCrd } from "../../src/cli/operator-mode.ts";
import { BmcCallLimiter } from "../../src/provisioner/limiter.ts";
import type { Provisioner } from "../../src/provisioner/provisioner.ts";
import { RedfishProvisioner } from "../../src/provisioner/redfish/redfish-provisioner.ts";
import {
  findStatusCondition,
  isAlreadyExists,
  KubeClient,
  type KubeObject,
  kubeConfigFromString,
  defineResource,
  Manager,
  NAMESPACES,
  type Resource,
  SECRETS,
  silentLogger,
} from "../../src/runtime/index.ts";
import { renderKubeconfig, startKubeApiServer, type RunningKubeApiServer } from "../../emulators/kube-apiserver/index.ts";
import { type BmcFleetOptions, type RunningBmcFleet, startBmcFleet } from "../../emulators/redfish-bmc/index.ts";
import { type RunningEventSink, startEventSink } from "../../emulators/event-sink/index.ts";

/** Options of {@link startOperatorStack}. */
export interface OperatorStackOptions {
  /** BMCs in the fleet. @default 2 */
  bmcs?: number;
  fleet?: Omit<BmcFleetOptions, "count">;
  /** Install the ValidatingAdmissionPolicy too. @default true */
  policies?: boolean;
  /** Serve the emulator over https (with its self-signed certificate): kubectl sends tokens only over https. @default false */
  tls?: boolean;
}

/** Options of one operator run. */
export interface OperatorRunOptions {
  /** Wraps the Redfish provisioner, to inject faults. */
  wrapProvisioner?: (provisioner: Provisioner) => Provisioner;
  subscriptionCheckIntervalMs?: number;
  /** BMC calls in flight per BMC. @default 1 */
  perBmc?: number;
  /** The API server address the operator uses, for a proxy in front of the emulator. @default the emulator's */
  apiUrl?: string;
  /** Elect a leader through a Lease in {@link OPERATOR_NAMESPACE}, as the Deployment does. @default false */
  leaderElection?: boolean;
}

/** The namespace config/default installs into, where the operator's ServiceAccount lives. */
export const OPERATOR_NAMESPACE = "bmc-operator-system";
/** The user the operator runs as: the ServiceAccount of config/rbac. */
export const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:bmc-operator`;

const root = join(import.meta.dirname, "..", "..");

/**
 * Creates what an install's RBAC folder holds (ServiceAccount, roles and
 * bindings; config/rbac unless `directory` says another) in `namespace`, as
 * `kubectl apply -k` does (kustomize's namespace replaces `system`, in
 * bindings' subjects too), and returns a token of its ServiceAccount
 * `bmc-operator` from the TokenRequest API.
 */
export async function installOperatorRbac(client: KubeClient, namespace = OPERATOR_NAMESPACE, directory = "config/rbac"): Promise<string> {
  const folder = join(root, ...directory.split("/"));
  const kustomization = parseYaml(readFileSync(join(folder, "kustomization.yaml"), "utf8")) as { resources: string[] };
  await client.create(NAMESPACES, { metadata: { name: namespace } }).catch((error: unknown) => {
    if (!isAlreadyExists(error)) throw error;
  });
  for (const file of kustomization.resources) {
    for (const document of parseAllDocuments(readFileSync(join(folder, file), "utf8"))) {
      const object = document.toJS() as KubeObject & { apiVersion: string; kind: string; subjects?: { namespace?: string }[] };
      const [group, version] = object.apiVersion.includes("/") ? object.apiVersion.split("/") : ["", object.apiVersion];
      const namespaced = object.metadata?.namespace !== undefined;
      if (namespaced) object.metadata!.namespace = namespace;
      for (const subject of object.subjects ?? []) if (subject.namespace !== undefined) subject.namespace = namespace;
      const resource = defineResource({ group: group!, version: version!, plural: `${object.kind.toLowerCase()}s`, kind: object.kind, namespaced });
      await client.create(resource, object);
    }
  }
  const review = await client.transport.json<{ status: { token: string } }>({
    method: "POST",
    path: `/api/v1/namespaces/${namespace}/serviceaccounts/bmc-operator/token`,
    body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 24 * 3600 } },
  });
  return review.status.token;
}

/** A running stack. */
export interface OperatorStack {
  api: RunningKubeApiServer;
  /** A kubeconfig for the emulator as the operator's ServiceAccount (see {@link OPERATOR_USER}). */
  operatorKubeconfig: string;
  fleet: RunningBmcFleet;
  sink: RunningEventSink;
  /** A client for the test's own reads and writes. */
  client: KubeClient;
  /** The running operator, if started. */
  operator?: Operator & { manager: Manager };
  /** Starts the operator (a new manager, informers and provisioner). */
  startOperator(options?: OperatorRunOptions): Promise<void>;
  /** Stops the operator gracefully (reconciles in flight get up to 2 s). */
  stopOperator(): Promise<void>;
  /** Creates a namespace. */
  namespace(name: string): Promise<string>;
  /** Creates the credentials Secret and a BareMetalHost for BMC `index`, named `name`. */
  createHost(namespace: string, name: string, index: number): Promise<BareMetalHost>;
  /** Creates an object (of any resource). */
  create<T extends KubeObject>(resource: Resource<T>, object: T): Promise<T>;
  /**
   * Moves the operator's wall clock (by which it judges objects' ages, as in
   * the grace a new resource gives its host) `ms` on, instead of sleeping.
   */
  advanceWallClock(ms: number): void;
  /**
   * Waits until the operator's caches hold `objects` at their current
   * versions (the watch delivered every change to them), and every
   * controller's queue is empty with no reconcile running: what those changes
   * would make it do, it has done.
   */
  idle(...objects: { resource: Resource<KubeObject>; ref: { namespace: string; name: string } }[]): Promise<void>;
  close(): Promise<void>;
}

/** Starts the API emulator, the BMC fleet and the event sink; start the operator with `startOperator`. */
export async function startOperatorStack(options: OperatorStackOptions = {}): Promise<OperatorStack> {
  const api = await startKubeApiServer({ port: 0, authorizationMode: "RBAC", tls: options.tls ?? false });
  const fleet = await startBmcFleet({ count: options.bmcs ?? 2, ...options.fleet });
  const sink = await startEventSink();
  const kubeConfig = kubeConfigFromString(api.kubeconfig);
  const client = new KubeClient(kubeConfig);
  await installManifests(client, { policies: options.policies ?? true });
  const certificateAuthority = kubeConfigFromString(api.kubeconfig).getCurrentCluster()?.caData;
  const operatorKubeconfig = renderKubeconfig(
    api.url,
    await installOperatorRbac(client),
    certificateAuthority ? Buffer.from(certificateAuthority, "base64").toString("utf8") : undefined,
  );
  const operatorKubeConfig = kubeConfigFromString(operatorKubeconfig);

  let running: { abort: AbortController; done: Promise<void>; provisioner: Provisioner } | undefined;
  let wallClockOffsetMs = 0;

  const stack: OperatorStack = {
    api,
    operatorKubeconfig,
    fleet,
    sink,
    client,
    async startOperator(run = {}) {
      if (running) throw new Error("the operator is already running");
      const manager = new Manager({
        kubeConfig: run.apiUrl ? kubeConfigFromString(operatorKubeconfig.replaceAll(api.url, run.apiUrl)) : operatorKubeConfig,
        ...(run.leaderElection ? { leaderElection: { name: "bmc-operator", namespace: OPERATOR_NAMESPACE, retryPeriodMs: 200, renewDeadlineMs: 2_000, leaseDurationMs: 3_000 } } : {}),
        metricsAddress: "0",
        probeAddress: "0",
        logger: silentLogger,
        gracefulShutdownTimeoutMs: 2_000,
      });
      // As the operator process does at start (and so its RBAC is used in full): which deployment is this?
      await lookUpBareMetalHostCrd(manager.client);
      const redfish = new RedfishProvisioner({ limiter: new BmcCallLimiter({ perKey: run.perBmc ?? 1, global: 64 }) });
      const provisioner = run.wrapProvisioner ? run.wrapProvisioner(redfish) : redfish;
      const operator = setUpOperator(manager, {
        provisioner,
        subscriptionCheckIntervalMs: run.subscriptionCheckIntervalMs ?? 0,
        now: () => new Date(Date.now() + wallClockOffsetMs),
      });
      const abort = new AbortController();
      const done = manager.start(abort.signal);
      running = { abort, done, provisioner: redfish };
      stack.operator = { ...operator, manager };
      const deadline = Date.now() + 10_000;
      while (![operator.hosts, operator.subscriptions, operator.indicators].every((i) => i?.hasSynced() ?? true)) {
        if (Date.now() > deadline) throw new Error("the operator's caches did not sync within 10 s");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async stopOperator() {
      if (!running) return;
      const { abort, done, provisioner } = running;
      running = undefined;
      abort.abort();
      await done.catch(() => {});
      await provisioner.close?.();
      stack.operator = undefined;
    },
    async namespace(name) {
      await client.create(NAMESPACES, { metadata: { name } }).catch((error: unknown) => {
        if (!isAlreadyExists(error)) throw error;
      });
      return name;
    },
    async createHost(namespace, name, index) {
      const bmc = fleet.bmcs[index];
      if (!bmc) throw new RangeError(`no BMC ${index} in a fleet of ${fleet.bmcs.length}`);
      await client.create(SECRETS, {
        metadata: { name: `${name}-bmc`, namespace },
        type: "Opaque",
        stringData: { username: bmc.username, password: bmc.password },
      });
      const address = `redfish+http://${new URL(bmc.url).host}${bmc.systemPath}`;
      return client.create(BARE_METAL_HOSTS, {
        apiVersion: "metal3.io/v1alpha1",
        kind: "BareMetalHost",
        metadata: { name, namespace },
        spec: { online: true, bmc: { address, credentialsName: `${name}-bmc` } },
      });
    },
    create(resource, object) {
      return client.create(resource, object);
    },
    advanceWallClock(ms) {
      wallClockOffsetMs += ms;
    },
    async idle(...objects) {
      const operator = stack.operator;
      if (!operator) throw new Error("the operator is not running");
      const informers = [operator.hosts, operator.subscriptions, operator.indicators];
      for (const { resource, ref } of objects) {
        const informer = informers.find((i) => i?.resource.plural === resource.plural);
        if (!informer) throw new Error(`the operator does not cache ${resource.plural}`);
        const current = await client.get(resource, ref);
        await waitFor(
          `the operator's cache to show ${resource.plural} ${ref.name} at version ${current.metadata?.resourceVersion}`,
          () => Promise.resolve(informer.get(ref)),
          (cached) => cached?.metadata?.resourceVersion === current.metadata?.resourceVersion,
        );
      }
      await waitFor(
        "the operator's queues to be empty and its workers idle",
        () => Promise.resolve(operator.manager.controllers.reduce((busy, c) => busy + c.queue.length + c.activeWorkers, 0)),
        (busy) => busy === 0,
      );
    },
    async close() {
      await stack.stopOperator();
      await client.close();
      await sink.close();
      await fleet.close();
      await api.close();
    },
  };
  return stack;
}

/**
 * Polls `read` every 20 ms until it returns a value that `accept` takes; fails
 * after `timeoutMs` saying what it waited for and what it saw last.
 */
export async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await read();
      if (accept(last)) return last;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(
    `Timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${JSON.stringify(last)?.slice(0, 2000)}`,
    { cause: lastError },
  );
}

/** Whether an object's `Ready` condition is True. */
export function isReady(object: { status?: { conditions?: Condition[] } }): boolean {
  return findStatusCondition(object.status?.conditions, "Ready")?.status === "True";
}

/** A BareMetalHostServiceIndicator for light `id` of `host`. */
export function indicatorObject(namespace: string, name: string, host: string, id: string, on: boolean): BareMetalHostServiceIndicator {
  return {
    apiVersion: "metal3.io/v1alpha1",
    kind: "BareMetalHostServiceIndicator",
    metadata: { name, namespace },
    spec: { hostRef: { name: host }, id, on },
  };
}

/** A BMCEventSubscription of `host` delivering to `<sinkUrl>/<namespace>/<name>` with context `ctx-<name>`. */
export function subscriptionObject(
  namespace: string,
  name: string,
  host: string,
  sinkUrl: string,
  extra: Partial<BMCEventSubscription["spec"]> = {},
): BMCEventSubscription {
  return {
    apiVersion: "metal3.io/v1alpha1",
    kind: "BMCEventSubscription",
    metadata: { name, namespace },
    spec: { hostName: host, destination: `${sinkUrl}/${namespace}/${name}`, context: `ctx-${name}`, ...extra },
  };
}

/** How many indicators and subscriptions of `namespace` are Ready. */
export async function readyResources(client: KubeClient, namespace: string): Promise<number> {
  const [indicators, subscriptions] = await Promise.all([
    client.list(SERVICE_INDICATORS, { namespace }),
    client.list(BMC_EVENT_SUBSCRIPTIONS, { namespace }),
  ]);
  return [...indicators.items, ...subscriptions.items].filter(isReady).length;
}

/** How many indicators of `namespace` are refused because an earlier one switches their light. */
export async function duplicateIndicators(client: KubeClient, namespace: string): Promise<number> {
  const indicators = await client.list(SERVICE_INDICATORS, { namespace });
  return indicators.items.filter((i) => findStatusCondition(i.status?.conditions, "Ready")?.reason === "DuplicateIndicator").length;
}

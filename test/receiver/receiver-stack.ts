/**
 * The operator with its event receiver, over real HTTP(S) on 127.0.0.1: the
 * operator stack (API emulator with RBAC, emulated BMCs, an event sink), and
 * an operator process-equivalent — a manager running as the operator's
 * ServiceAccount with the three controllers, the Redfish provisioner and the
 * receiver listening on HTTPS with a throwaway certificate. BMCs deliver to
 * the receiver themselves, as in a cluster.
 *
 * @module
 */
import type { BareMetalHost } from "../../src/api/baremetalhost.ts";
import { setUpOperator } from "../../src/controllers/operator.ts";
import { BARE_METAL_HOSTS } from "../../src/controllers/resources.ts";
import { BmcCallLimiter } from "../../src/provisioner/limiter.ts";
import { RedfishProvisioner } from "../../src/provisioner/redfish/redfish-provisioner.ts";
import { prepareEventReceiver, type StartedEventReceiver } from "../../src/receiver/setup.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { defineResource, EVENTS, type KubeEvent, type KubeObject, kubeConfigFromString, Manager, silentLogger } from "../../src/runtime/index.ts";
import { selfSignedCertificate } from "../../emulators/redfish-bmc/tls.ts";
import { isReady, OPERATOR_NAMESPACE, type OperatorStack, startOperatorStack, waitFor } from "../support/operator-stack.ts";

/** A running stack with the receiver. */
export interface ReceiverStack {
  stack: OperatorStack;
  manager: Manager;
  receiver: StartedEventReceiver;
  /** The URL subscriptions aim at (`https://127.0.0.1:<port>/events`). */
  url: string;
  /** Creates a host for BMC `index` and waits until it is Ready with its lights listed. */
  readyHost(namespace: string, name: string, index: number): Promise<BareMetalHost>;
  /** The Events the receiver wrote about `host`. */
  hostEvents(namespace: string, host: string): Promise<KubeEvent[]>;
  /** The value of a metric sample of the operator's registry (0 when absent). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

/** Options of {@link startReceiverStack}. */
export interface ReceiverStackOptions {
  bmcs?: number;
  maxBodyBytes?: number;
  flushIntervalMs?: number;
  /**
   * As next to the Metal3 baremetal-operator, which owns BMCEventSubscriptions: no subscription
   * controller runs (the test plays BMO's part) and the receiver runs in metal3 mode.
   */
  bmoOwnsSubscriptions?: boolean;
  fleet?: Parameters<typeof startOperatorStack>[0] extends infer O ? (O extends { fleet?: infer F } ? F : never) : never;
}

/** Starts everything; close it with `close()`. */
export async function startReceiverStack(options: ReceiverStackOptions = {}): Promise<ReceiverStack> {
  const stack = await startOperatorStack({
    bmcs: options.bmcs ?? 2,
    fleet: { eventDelivery: { retryAttempts: 2, retryIntervalSeconds: 0.05, timeoutMs: 2_000 }, ...options.fleet },
  });
  await installReceiverRbac(stack);
  const tls = await selfSignedCertificate();
  const manager = new Manager({
    kubeConfig: kubeConfigFromString(stack.operatorKubeconfig),
    metricsAddress: "0",
    probeAddress: "0",
    logger: silentLogger,
    gracefulShutdownTimeoutMs: 2_000,
  });
  // The port is known once listening, and the URL must be set before: take a free port first.
  const port = await freePort();
  const url = `https://127.0.0.1:${port}/events`;
  const prepared = prepareEventReceiver(manager, {
    bindAddress: `127.0.0.1:${port}`,
    url,
    tls,
    ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.flushIntervalMs !== undefined ? { flushIntervalMs: options.flushIntervalMs } : {}),
    ...(options.bmoOwnsSubscriptions ? { mode: "metal3" as const } : {}),
  });
  const provisioner = new RedfishProvisioner({ limiter: new BmcCallLimiter({ perKey: 1, global: 64 }) });
  setUpOperator(
    manager,
    options.bmoOwnsSubscriptions
      ? { provisioner, controllers: ["hosts", "indicators"] }
      : { provisioner, subscriptionExtraHeaders: prepared.extraHeaders },
  );
  prepared.addControllers({});
  const receiver = await prepared.start();
  const abort = new AbortController();
  const done = manager.start(abort.signal);

  return {
    stack,
    manager,
    receiver,
    url,
    async readyHost(namespace, name, index) {
      await stack.createHost(namespace, name, index);
      return waitFor(
        `host ${name} to be Ready with its lights`,
        () => stack.client.get(BARE_METAL_HOSTS, { namespace, name }),
        (h) => isReady(h) && (h.status?.hardware?.indicators?.length ?? 0) > 0,
        30_000,
      );
    },
    async hostEvents(namespace, host) {
      const list = await stack.client.list(EVENTS, { namespace });
      return list.items.filter((e) => e.regarding?.kind === "BareMetalHost" && e.regarding.name === host && e.reportingController === "metal3.io/bmc-event-receiver");
    },
    async metric(name, labels = {}) {
      const metric = await manager.registry.getSingleMetric(name)?.get();
      return (metric?.values ?? [])
        .filter((v) => Object.entries(labels).every(([k, value]) => String((v.labels as Record<string, unknown>)[k]) === value))
        .reduce((sum, v) => sum + v.value, 0);
    },
    async close() {
      abort.abort();
      await done.catch(() => {});
      await receiver.close();
      await provisioner.close?.();
      await stack.close();
    },
  };
}

/**
 * The receiver's ClusterRole and binding from config/components/event-receiver,
 * as kustomize applies them: the operator's ServiceAccount (config/rbac) gets
 * the receiver's calls only through them, so a call they do not grant fails.
 */
async function installReceiverRbac(stack: OperatorStack): Promise<void> {
  const file = join(import.meta.dirname, "..", "..", "config", "components", "event-receiver", "rbac.yaml");
  for (const document of parseAllDocuments(readFileSync(file, "utf8"))) {
    const object = document.toJS() as KubeObject & { kind: string; subjects?: { namespace?: string }[] };
    for (const subject of object.subjects ?? []) subject.namespace = OPERATOR_NAMESPACE;
    const resource = defineResource({ group: "rbac.authorization.k8s.io", version: "v1", plural: `${object.kind.toLowerCase()}s`, kind: object.kind, namespaced: false });
    await stack.client.create(resource, object);
  }
}

async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

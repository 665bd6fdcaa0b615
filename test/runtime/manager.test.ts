/**
 * Two managers against the Kubernetes API emulator: one leads and reconciles,
 * the other waits with warm caches and takes over when the first stops and
 * releases the Lease; a manager whose lease is taken away stops reconciling
 * and reports the loss. Probes and metrics are served over HTTP. Informers
 * cache objects without the writers' bookkeeping (managedFields, last-applied).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { kubeConfigFromString } from "../../src/runtime/kube-config.ts";
import { silentLogger } from "../../src/runtime/logger.ts";
import { LeaderElectionLostError, Manager } from "../../src/runtime/manager.ts";
import { LAST_APPLIED_ANNOTATION } from "../../src/runtime/cache-transform.ts";
import { LEASES } from "../../src/runtime/resource.ts";
import { retryOnConflict } from "../../src/runtime/retry.ts";
import { CONFIG_MAPS, createNamespace, eventually, startCluster, type TestCluster } from "./helpers.ts";

const TIMINGS = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };

interface Running {
  manager: Manager;
  reconciled: string[];
  abort: AbortController;
  done: Promise<unknown>;
}

function startManager(
  cluster: TestCluster,
  identity: string,
  leaseName: string,
  options: { gracefulShutdownTimeoutMs?: number; block?: (name: string) => Promise<void> | undefined } = {},
): Running {
  const manager = new Manager({
    kubeConfig: kubeConfigFromString(cluster.kubeconfig),
    namespaces: ["work"],
    identity,
    metricsAddress: "127.0.0.1:0",
    probeAddress: "127.0.0.1:0",
    leaderElection: { name: leaseName, namespace: "work", ...TIMINGS },
    gracefulShutdownTimeoutMs: options.gracefulShutdownTimeoutMs ?? 2000,
    logger: silentLogger,
  });
  const reconciled: string[] = [];
  manager.controller({
    name: "configmaps",
    for: CONFIG_MAPS,
    reconcile: async (req) => {
      reconciled.push(req.name);
      await options.block?.(req.name);
    },
  });
  const abort = new AbortController();
  const done = manager.start(abort.signal).then(() => undefined, (error: unknown) => error);
  return { manager, reconciled, abort, done };
}

async function leaseOf(cluster: TestCluster, name: string) {
  return (await cluster.client.get(LEASES, { namespace: "work", name })).spec!;
}

describe("Manager against the API emulator", () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startCluster();
    await createNamespace(cluster.client, "work");
    await cluster.client.create(CONFIG_MAPS, { metadata: { namespace: "work", name: "first" } });
  });

  after(async () => {
    await cluster.close();
  });

  it("elects one leader; the other takes over when the leader stops and releases the lease", async () => {
    const a = startManager(cluster, "manager-a", "election");
    await eventually(() => a.manager.isLeader, "manager-a to lead");
    const b = startManager(cluster, "manager-b", "election");
    try {
      await eventually(() => a.reconciled.includes("first"), "the leader to reconcile the existing object");
      await eventually(async () => (await fetch(`${b.manager.probeUrl}/readyz`)).status === 200, "the standby to be ready (caches synced)");

      await cluster.client.create(CONFIG_MAPS, { metadata: { namespace: "work", name: "second" } });
      await eventually(() => a.reconciled.includes("second"), "the leader to reconcile a new object");
      assert.equal(b.manager.isLeader, false);
      assert.deepEqual(b.reconciled, [], "the standby reconciles nothing");

      const held = await leaseOf(cluster, "election");
      assert.equal(held.holderIdentity, "manager-a");
      assert.equal(held.leaseDurationSeconds, 2);
      assert.ok(held.acquireTime && held.renewTime);
      assert.equal(held.leaseTransitions, 0);
      const metrics = await (await fetch(`${a.manager.metricsUrl}/metrics`)).text();
      assert.match(metrics, /leader_election_master_status\{name="election"\} 1/);
      assert.match(metrics, /controller_runtime_reconcile_total\{controller="configmaps",result="success"\} [1-9]/);
      assert.match(metrics, /workqueue_adds_total\{name="configmaps",controller="configmaps"\} [1-9]/);
      assert.match(metrics, /rest_client_requests_total\{code="200",method="GET",host="127\.0\.0\.1:\d+"\}/);
      assert.match(metrics, /process_cpu_seconds_total/);
      assert.equal((await fetch(`${a.manager.probeUrl}/healthz`)).status, 200);

      a.abort.abort();
      assert.equal(await a.done, undefined, "a graceful stop resolves");
      const released = await leaseOf(cluster, "election");
      assert.ok(released.holderIdentity === "" || released.holderIdentity === "manager-b", "released on shutdown");

      await eventually(() => b.manager.isLeader, "manager-b to take over");
      await eventually(() => b.reconciled.includes("first") && b.reconciled.includes("second"), "the new leader to reconcile every object");
      const taken = await leaseOf(cluster, "election");
      assert.equal(taken.holderIdentity, "manager-b");
      assert.equal(taken.leaseTransitions, 1);
    } finally {
      a.abort.abort();
      b.abort.abort();
      await Promise.all([a.done, b.done]);
    }
  });

  it("stops reconciling and reports LeaderElectionLostError when the lease is taken away, without waiting for reconciles", { timeout: 30_000 }, async () => {
    let unblock!: () => void;
    const blocked = new Promise<void>((resolve) => (unblock = resolve));
    // A reconcile that ignores its signal: after a lost lease the manager must not wait for it.
    const a = startManager(cluster, "manager-a", "stolen", { gracefulShutdownTimeoutMs: 60_000, block: (name) => (name === "slow" ? blocked : undefined) });
    try {
      await eventually(() => a.manager.isLeader, "manager-a to lead");
      await cluster.client.create(CONFIG_MAPS, { metadata: { namespace: "work", name: "slow" } });
      await eventually(() => a.reconciled.includes("slow"), "the slow reconcile to start");
      // Another holder overwrites the Lease (as after a partition); a can no longer renew.
      await retryOnConflict(async () => {
        const lease = await cluster.client.get(LEASES, { namespace: "work", name: "stolen" });
        const now = new Date().toISOString().replace("Z", "000Z");
        await cluster.client.update(LEASES, { ...lease, spec: { ...lease.spec, holderIdentity: "intruder", renewTime: now, leaseDurationSeconds: 60 } });
      });
      const outcome = await a.done;
      assert.ok(outcome instanceof LeaderElectionLostError, `expected LeaderElectionLostError, got ${String(outcome)}`);
      assert.equal(a.manager.isLeader, false);
      // Stopped: every controller's queue is shut down, so no key can be handed to a worker again.
      assert.ok(a.manager.controllers.length > 0 && a.manager.controllers.every((c) => c.queue.shuttingDown), "the controllers stopped");
      const count = a.reconciled.length;
      await cluster.client.create(CONFIG_MAPS, { metadata: { namespace: "work", name: "after-loss" } });
      assert.equal(a.reconciled.length, count, "nothing is reconciled after the loss");
    } finally {
      unblock();
      a.abort.abort();
      await a.done;
    }
  });

  it("runs a major garbage collection once its controllers are idle, never while one reconciles", async () => {
    let reconciling = false;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const collections: { whileReconciling: boolean }[] = [];
    let checksWhileReconciling = 0;
    const manager = new Manager({
      kubeConfig: kubeConfigFromString(cluster.kubeconfig),
      namespaces: ["work"],
      metricsAddress: "0",
      probeAddress: "0",
      logger: silentLogger,
      idleCollection: {
        intervalMs: 20,
        growthBytes: 0,
        // Called at every look: counts the looks made while the reconcile is held.
        heapBytes: () => {
          if (reconciling) checksWhileReconciling++;
          return 0;
        },
        collect: () => collections.push({ whileReconciling: reconciling }),
      },
    });
    let seen = false;
    manager.controller({
      name: "configmaps-idle",
      for: CONFIG_MAPS,
      reconcile: async (req) => {
        if (req.name !== "first" || seen) return;
        seen = true;
        reconciling = true;
        await held;
        reconciling = false;
      },
    });
    const abort = new AbortController();
    const done = manager.start(abort.signal);
    try {
      await eventually(() => reconciling, "the reconcile of first to start");
      await eventually(() => checksWhileReconciling >= 3, "the collector to look three times during the reconcile");
      const before = collections.length;
      release();
      await eventually(() => collections.length > before && !reconciling, "a collection after the reconcile finished");
      assert.deepEqual(
        collections.filter((c) => c.whileReconciling),
        [],
        "no collection while a reconcile ran",
      );
    } finally {
      release();
      abort.abort();
      await done;
    }
  });

  it("caches objects without managedFields and kubectl's last-applied annotation, which the API keeps", async () => {
    const annotations = { [LAST_APPLIED_ANNOTATION]: '{"kind":"ConfigMap"}', note: "kept" };
    await cluster.client.create(CONFIG_MAPS, { metadata: { namespace: "work", name: "annotated", annotations }, data: { a: "1" } }, { fieldManager: "kubectl-client-side-apply" });
    await cluster.client.patch(CONFIG_MAPS, { namespace: "work", name: "annotated" }, { data: { b: "2" } }, { type: "merge", fieldManager: "someone-else" });
    const onServer = await cluster.client.get(CONFIG_MAPS, { namespace: "work", name: "annotated" });
    assert.equal(onServer.metadata?.managedFields?.length, 2);
    assert.equal(onServer.metadata?.annotations?.[LAST_APPLIED_ANNOTATION], annotations[LAST_APPLIED_ANNOTATION]);

    const manager = new Manager({ kubeConfig: kubeConfigFromString(cluster.kubeconfig), namespaces: ["work"], metricsAddress: "0", probeAddress: "0", logger: silentLogger });
    const informer = manager.informer(CONFIG_MAPS);
    const abort = new AbortController();
    const done = manager.start(abort.signal);
    try {
      assert.equal(await informer.waitForSync(AbortSignal.timeout(10_000)), true);
      const cached = informer.get("work/annotated");
      assert.deepEqual(cached?.data, { a: "1", b: "2" });
      assert.equal(cached?.metadata?.managedFields, undefined);
      assert.deepEqual(cached?.metadata?.annotations, { note: "kept" });
    } finally {
      abort.abort();
      await done;
    }
  });
});

/**
 * Figures 2 and 3 on a converged fleet: the BMC requests of single
 * operations, and what a full operator restart followed by an idle period
 * costs the BMCs and the Kubernetes API.
 *
 * 1. With the operator that converged the fleet (its provisioner has read
 *    every host): a light toggled off and on again, a subscription created
 *    and deleted, each counted at that host's BMC.
 * 2. The operator is stopped (SIGTERM) and started again with
 *    `--leader-elect`; once it holds the Lease and has handled every object
 *    once, the fleet idles for `idleMs`. Every BMC request from the stop to
 *    the end of the idle period is counted (goal 0), and the API writes of
 *    the restart and of each idle minute, Lease renewals apart.
 * 3. The same operations on another host after the restart, when the new
 *    process knows nothing of that host yet.
 *
 * @module
 */
import { join } from "node:path";
import type { BareMetalHostServiceIndicator } from "../../src/api/baremetalhost-service-indicator.ts";
import type { BMCEventSubscription } from "../../src/api/bmc-event-subscription.ts";
import { BMC_EVENT_SUBSCRIPTIONS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { isStatusConditionTrue, LEASES } from "../../src/runtime/index.ts";
import { type OperatorWrites, operatorWrites } from "../lib/api-writes.ts";
import { type BenchContext, sleep } from "../lib/bench-context.ts";
import { eventSubscription, hostName } from "../lib/fleet-objects.ts";
import { type OperatorProcess, type OperatorStop, startOperatorProcess } from "../lib/operator-process.ts";
import { handledState, hasHandled } from "../lib/operator-settled.ts";
import { waitForGone, waitForObject } from "../lib/wait-for-object.ts";
import { type ConvergedRun, NAMESPACE } from "./convergence.ts";

/** The requests one operation cost at its host's BMC. */
export interface OperationRequests {
  total: number;
  byMethod: Record<string, number>;
  /** The most requests in flight at that BMC during the operation. */
  peakInFlight: number;
}

/** One idle interval's API writes, scaled to a minute. */
export interface IdleMinute {
  /** Seconds since the idle period began, at the end of this interval. */
  atSeconds: number;
  leaseWritesPerMinute: number;
  otherWritesPerMinute: number;
}

/** The figures of {@link measureOperations}. */
export interface OperationsResult {
  hosts: number;
  /** With the process that converged the fleet. */
  toggleOff: OperationRequests;
  toggleOn: OperationRequests;
  subscriptionCreate: OperationRequests;
  subscriptionDelete: OperationRequests;
  /** How the first operator stopped. */
  stop: OperatorStop;
  /** From the new process's spawn to `/readyz`, ms. */
  startToReadyMs: number;
  /** From the new process's spawn until it held the Lease and had handled every object once, ms. */
  startToSettledMs: number;
  /** Reconciles the new process ran before the idle period (one per object). */
  restartReconciles: number;
  /** The idle period, seconds. */
  idleSeconds: number;
  /** BMC requests from the stop to the end of the idle period (goal 0). */
  restartAndIdleBmcRequests: number;
  restartAndIdleBmcByMethod: Record<string, number>;
  /** API writes from the new process's spawn until it had settled. */
  restartWrites: OperatorWrites;
  /** API writes during the idle period. */
  idleWrites: OperatorWrites;
  idleMinutes: IdleMinute[];
  /** API requests during the idle period, by verb. */
  idleRequestsByVerb: Record<string, number>;
  /** The new process's memory and CPU time. */
  operatorRssAfterRestartBytes: number;
  operatorRssAfterIdleBytes: number;
  operatorCpuSecondsIdle: number;
  /** With the new process, on a host it has not touched yet. */
  afterRestart: {
    toggleOff: OperationRequests;
    toggleOn: OperationRequests;
    subscriptionCreate: OperationRequests;
    subscriptionDelete: OperationRequests;
  };
}

/**
 * Returns an `afterConverged` hook for {@link runConvergence} that measures
 * the operations and the restart, and hands its result to `done`.
 */
export function measureOperations(
  ctx: BenchContext,
  idleMs: number,
  done: (result: OperationsResult) => void,
): (run: ConvergedRun) => Promise<OperatorProcess> {
  return async ({ cluster, operator, hosts }) => {
    const { fleet, sink } = ctx;
    const { client } = cluster;
    if (hosts < 2) throw new Error(`the operations need at least 2 hosts, got ${hosts}`);

    const measure = async (index: number, action: () => Promise<void>): Promise<OperationRequests> => {
      await fleet.resetBmcStats(index);
      await action();
      // Anything the operation set off at the BMC has happened by the time the status says so; allow stragglers.
      await sleep(200);
      const stats = await fleet.bmcStats(index);
      return { total: stats.total, byMethod: stats.byMethod, peakInFlight: stats.peakInFlight };
    };
    const toggle = (index: number, on: boolean) =>
      measure(index, async () => {
        const ref = { namespace: NAMESPACE, name: `${hostName(index)}-light-0` };
        await client.patch(SERVICE_INDICATORS, ref, { spec: { on } }, { type: "merge" });
        await waitForObject<BareMetalHostServiceIndicator>(
          client,
          SERVICE_INDICATORS,
          ref,
          (i) => i.status?.on === on && i.status.observedGeneration === i.metadata.generation && isStatusConditionTrue(i.status.conditions, "Ready"),
        );
      });
    const createSubscription = (index: number) =>
      measure(index, async () => {
        const name = `${hostName(index)}-extra`;
        await client.create(BMC_EVENT_SUBSCRIPTIONS, eventSubscription(NAMESPACE, index, name, `${sink.url}/${NAMESPACE}/${name}`));
        await waitForObject<BMCEventSubscription>(
          client,
          BMC_EVENT_SUBSCRIPTIONS,
          { namespace: NAMESPACE, name },
          (s) => !!s.status?.subscriptionID && isStatusConditionTrue(s.status.conditions, "Ready"),
        );
      });
    const deleteSubscription = (index: number) =>
      measure(index, async () => {
        const ref = { namespace: NAMESPACE, name: `${hostName(index)}-extra` };
        await client.delete(BMC_EVENT_SUBSCRIPTIONS, ref);
        await waitForGone(client, BMC_EVENT_SUBSCRIPTIONS, ref);
      });

    // 1. Single operations with the process that converged the fleet.
    const toggleOff = await toggle(0, false);
    const toggleOn = await toggle(0, true);
    const subscriptionCreate = await createSubscription(0);
    const subscriptionDelete = await deleteSubscription(0);
    ctx.log(`operations: toggle ${toggleOff.total}+${toggleOn.total} requests, subscription create ${subscriptionCreate.total}, delete ${subscriptionDelete.total}`);

    // 2. Restart, then idle.
    await fleet.resetStats();
    const stop = await operator.stop();
    // API writes are counted from here: those of the stopping process (its queued Events) are not the restart's.
    await cluster.api.resetStats();
    const next = await startOperatorProcess({
      kubeconfigPath: cluster.api.kubeconfigPath,
      logPath: join(ctx.dir, `operator-restart-${hosts}.log`),
      args: ["--leader-elect", "--leader-election-namespace", NAMESPACE],
    });
    try {
      const objects = hosts * 3;
      const deadline = Date.now() + 120_000 + hosts * 50;
      let reconciles = 0;
      for (;;) {
        const lease = await client.get(LEASES, { namespace: NAMESPACE, name: "bmc-operator" }).catch(() => undefined);
        const state = handledState(await next.metrics());
        reconciles = state.reconciles;
        if (lease?.spec?.holderIdentity && hasHandled(state, objects)) break;
        if (Date.now() > deadline) {
          throw new Error(
            `after the restart, the operator had run ${state.reconciles} of ${objects} reconciles (queue depth ${state.queued}) within the deadline`,
          );
        }
        await sleep(100);
      }
      const startToSettledMs = performance.now() - next.startedAt;
      const restartWrites = operatorWrites(await cluster.api.stats());
      const rssAfterRestart = next.usage()?.rssBytes ?? 0;
      ctx.log(`restart: stop ${Math.round(stop.ms)} ms, settled ${Math.round(startToSettledMs)} ms after spawn, ${restartWrites.total} API writes; idling ${idleMs / 1000} s`);

      await cluster.api.resetStats();
      const cpuBefore = next.usage()?.cpuSeconds ?? 0;
      const idleStarted = performance.now();
      const idleMinutes: IdleMinute[] = [];
      const interval = Math.min(60_000, idleMs);
      let previous = operatorWrites(await cluster.api.stats());
      let previousAt = idleStarted;
      while (performance.now() - idleStarted < idleMs - 50) {
        await sleep(Math.min(interval, idleMs - (performance.now() - idleStarted)));
        const now = performance.now();
        const writes = operatorWrites(await cluster.api.stats());
        const perMinute = 60_000 / (now - previousAt);
        idleMinutes.push({
          atSeconds: Math.round((now - idleStarted) / 1000),
          leaseWritesPerMinute: (writes.leases - previous.leases) * perMinute,
          otherWritesPerMinute: (writes.total - writes.leases - (previous.total - previous.leases)) * perMinute,
        });
        previous = writes;
        previousAt = now;
      }
      const idleSeconds = (performance.now() - idleStarted) / 1000;
      const idleStats = await cluster.api.stats();
      const bmcStats = await fleet.stats();
      const usage = next.usage();

      // 3. The same operations with the new process, on a host it has not touched.
      const afterRestart = {
        toggleOff: await toggle(1, false),
        toggleOn: await toggle(1, true),
        subscriptionCreate: await createSubscription(1),
        subscriptionDelete: await deleteSubscription(1),
      };
      done({
        hosts,
        toggleOff,
        toggleOn,
        subscriptionCreate,
        subscriptionDelete,
        stop,
        startToReadyMs: next.readyAt - next.startedAt,
        startToSettledMs,
        restartReconciles: reconciles,
        idleSeconds,
        restartAndIdleBmcRequests: bmcStats.total,
        restartAndIdleBmcByMethod: bmcStats.byMethod,
        restartWrites,
        idleWrites: operatorWrites(idleStats),
        idleMinutes,
        idleRequestsByVerb: idleStats.byVerb,
        operatorRssAfterRestartBytes: rssAfterRestart,
        operatorRssAfterIdleBytes: usage?.rssBytes ?? 0,
        operatorCpuSecondsIdle: (usage?.cpuSeconds ?? 0) - cpuBefore,
        afterRestart,
      });
      return next;
    } catch (error) {
      await next.stop();
      throw error;
    }
  };
}

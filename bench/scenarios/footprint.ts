/**
 * Figure 4, the operator's footprint: its resident memory (`VmRSS`, and the
 * peak `VmHWM`) and CPU time (`utime + stime`) while it converges R
 * resources and after, read from `/proc`. The resources come ten per host —
 * the BareMetalHost, an indicator for each of its four lights and five
 * subscriptions — so 1,000 resources are 100 hosts and 10,000 are 1,000
 * hosts, all on the one BMC emulator process (whose measured capacity is
 * 1,000 BMCs).
 *
 * @module
 */
import { join } from "node:path";
import { type BenchContext, sleep } from "../lib/bench-context.ts";
import { startCluster } from "../lib/cluster.ts";
import { createAll, fleetObjects, type HostShape, secretObjects } from "../lib/fleet-objects.ts";
import { type OperatorStop, startOperatorProcess } from "../lib/operator-process.ts";
import { sumOf } from "../lib/prometheus-text.ts";
import { UsageWindow, type WindowUsage } from "../lib/usage-window.ts";
import { NAMESPACE } from "./convergence.ts";

/** Ten resources per host. */
export const FOOTPRINT_SHAPE: HostShape = { indicators: 4, subscriptions: 5 };

/** The figures of one footprint run. */
export interface FootprintResult {
  hosts: number;
  /** Hosts, indicators and subscriptions. */
  resources: number;
  /** First create to the last resource Ready, ms. */
  convergeMs: number;
  /** Resident memory with its caches synced and no resource yet, bytes. */
  rssEmptyBytes: number;
  /** The peak resident memory of its life (through convergence), bytes. */
  peakRssBytes: number;
  /** Resident memory at convergence, bytes. */
  rssConvergedBytes: number;
  /** Resident memory after `settleSeconds` of idle, bytes. */
  rssSettledBytes: number;
  settleSeconds: number;
  /** CPU time the operator used from the first create to convergence, seconds. */
  cpuSecondsToConverge: number;
  /** CPU time during the idle settle period, seconds. */
  cpuSecondsSettle: number;
  /** Every process's usage over the convergence window. */
  usage: Record<string, WindowUsage>;
  bmcRequests: number;
  maxPeakInFlightPerBmc: number;
  eventsDropped: number;
  stop: OperatorStop;
}

/** Runs the footprint figure for `hosts` hosts of ten resources each, idling `settleMs` after. */
export async function runFootprint(ctx: BenchContext, hosts: number, settleMs: number): Promise<FootprintResult> {
  const { fleet, sink } = ctx;
  const resources = hosts * (1 + FOOTPRINT_SHAPE.indicators + FOOTPRINT_SHAPE.subscriptions);
  const label = `footprint ${resources} resources (${hosts} hosts)`;
  await fleet.setLatency(0);
  await fleet.resetAll();
  const cluster = await startCluster(ctx.dir, NAMESPACE);
  try {
    await createAll(cluster.client, secretObjects(NAMESPACE, fleet.bmcs, hosts));
    const operator = await startOperatorProcess({
      kubeconfigPath: cluster.api.kubeconfigPath,
      logPath: join(ctx.dir, `operator-footprint-${resources}.log`),
    });
    let result: Omit<FootprintResult, "stop"> | undefined;
    let stop: OperatorStop = { ms: 0, graceful: true };
    try {
      const empty = operator.usage();
      await fleet.resetStats();
      const usage = new UsageWindow({ operator: operator.pid, apiEmulator: cluster.api.pid, bmcEmulator: fleet.pid, benchmark: process.pid });
      const objects = fleetObjects(NAMESPACE, fleet.bmcs, hosts, FOOTPRINT_SHAPE, sink.url);
      usage.start();
      const t0 = performance.now();
      await createAll(cluster.client, objects);
      await cluster.tracker.waitFor(
        { host: hosts, indicator: hosts * FOOTPRINT_SHAPE.indicators, subscription: hosts * FOOTPRINT_SHAPE.subscriptions },
        180_000 + resources * 100,
      );
      const convergeMs = Math.max(cluster.tracker.lastReadyAt("indicator"), cluster.tracker.lastReadyAt("subscription")) - t0;
      const windowUsage = usage.stop();
      const converged = operator.usage();
      const bmcStats = await fleet.stats();
      ctx.log(`${label}: converged in ${Math.round(convergeMs)} ms; settling ${settleMs / 1000} s`);
      await sleep(settleMs);
      const settled = operator.usage();
      const metrics = await operator.metrics();
      if (!empty || !converged || !settled) throw new Error(`${label}: the operator process (pid ${operator.pid}) is gone`);
      result = {
        hosts,
        resources,
        convergeMs,
        rssEmptyBytes: empty.rssBytes,
        peakRssBytes: settled.peakRssBytes,
        rssConvergedBytes: converged.rssBytes,
        rssSettledBytes: settled.rssBytes,
        settleSeconds: settleMs / 1000,
        cpuSecondsToConverge: windowUsage.operator?.cpuSeconds ?? Number.NaN,
        cpuSecondsSettle: settled.cpuSeconds - converged.cpuSeconds,
        usage: windowUsage,
        bmcRequests: bmcStats.total,
        maxPeakInFlightPerBmc: bmcStats.maxPeakInFlight,
        eventsDropped: sumOf(metrics, "event_recorder_events_total", { result: "dropped" }),
      };
    } finally {
      stop = await operator.stop();
    }
    if (!result) throw new Error(`${label}: no result`);
    return { ...result, stop };
  } finally {
    await cluster.close();
  }
}

/**
 * Figure 5, the convergence ratio through Ironic: N hosts, each with one
 * indicator and one subscription, created at once with the operator running
 * `--provisioner ironic` against a real Ironic (all-in-one, sqlite, started
 * by `test/support/ironic.ts`), which drives the emulated BMCs. The baseline
 * ({@link runIronicBaseline}) makes the Ironic calls directly with the same
 * caps, before and after the operator's run, each with its own node names.
 * Skipped, saying why, where Ironic is not installed.
 *
 * @module
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { ironicAvailable, type IronicReleaseName, ironicSkipReason, startIronic } from "../../test/support/ironic.ts";
import type { BenchContext } from "../lib/bench-context.ts";
import { startCluster } from "../lib/cluster.ts";
import { createAll, fleetObjects, secretObjects } from "../lib/fleet-objects.ts";
import { runIronicBaseline } from "../lib/ironic-baseline.ts";
import { listenerPid } from "../lib/listener-pid.ts";
import { type OperatorStop, startOperatorProcess } from "../lib/operator-process.ts";
import { sumOf } from "../lib/prometheus-text.ts";
import { medianRun, type RatioRun } from "../lib/median-run.ts";
import { mean } from "../lib/statistics.ts";
import { UsageWindow, type WindowUsage } from "../lib/usage-window.ts";
import { NAMESPACE } from "./convergence.ts";

/** The figures of the Ironic run, or why it was skipped. */
export type IronicResult =
  | { skipped: string }
  | {
      hosts: number;
      /** The Ironic measured (`Ironic 29.0.5`); absent in results from before releases could be chosen (21.4.4). */
      ironic?: string;
      baselineMs: number[];
      baselineMeanMs: number;
      /** Ironic calls the baseline made per host. */
      baselineCallsPerHost: number;
      operatorMs: number;
      ratio: number;
      hostsReadyMs: number;
      /** BMC requests Ironic made during the operator's window, per host. */
      bmcRequestsPerHost: number;
      /** BMC requests Ironic made during the first baseline, per host. */
      baselineBmcRequestsPerHost: number;
      maxPeakInFlightPerBmc: number;
      reconcileErrors: number;
      usage: Record<string, WindowUsage>;
      stop: OperatorStop;
      /** When the figure was run more than once: every run's times and ratio, in order (this result is the median run's). */
      runs?: RatioRun[];
    };

/**
 * Runs the Ironic figure `repeats` times, each with an Ironic of its own, and
 * returns the run with the median ratio (or the reason it was skipped).
 */
export async function runIronicConvergenceRepeated(
  ctx: BenchContext,
  hosts: number,
  repeats: number,
  release: IronicReleaseName = "bookworm",
): Promise<IronicResult> {
  const results: Extract<IronicResult, { hosts: number }>[] = [];
  for (let i = 0; i < repeats; i++) {
    const result = await runIronicConvergence(ctx, hosts, release);
    if ("skipped" in result) return result;
    results.push(result);
  }
  return medianRun(results);
}

/** Runs the Ironic convergence figure for `hosts` hosts, against the Ironic of `release`. */
export async function runIronicConvergence(ctx: BenchContext, hosts: number, release: IronicReleaseName = "bookworm"): Promise<IronicResult> {
  if (!ironicAvailable(release)) {
    const reason = ironicSkipReason(release);
    return { skipped: typeof reason === "string" ? reason : "Ironic is not available" };
  }
  const { fleet, sink, caps } = ctx;
  await fleet.setLatency(0);
  await fleet.resetAll();
  const ironic = await startIronic({ release });
  try {
    const baseline = async (prefix: string) => {
      await fleet.resetAll();
      await fleet.resetStats();
      const run = await runIronicBaseline(ironic.url, fleet.bmcs, hosts, caps, `${sink.url}/baseline`, prefix);
      const bmc = await fleet.stats();
      await fleet.resetAll();
      ctx.log(`ironic N=${hosts}: baseline ${Math.round(run.ms)} ms (${run.requests} Ironic calls, ${bmc.total} BMC requests)`);
      return { ...run, bmcRequests: bmc.total };
    };
    const before = await baseline("baseline-a");

    const authDir = join(ctx.dir, "no-ironic-auth");
    await mkdir(authDir, { recursive: true });
    const cluster = await startCluster(ctx.dir, NAMESPACE);
    let measured: Omit<Extract<IronicResult, { hosts: number }>, "baselineMs" | "baselineMeanMs" | "ratio" | "stop"> | undefined;
    let stop: OperatorStop = { ms: 0, graceful: true };
    try {
      await createAll(cluster.client, secretObjects(NAMESPACE, fleet.bmcs, hosts));
      const operator = await startOperatorProcess({
        kubeconfigPath: cluster.api.kubeconfigPath,
        logPath: join(ctx.dir, `operator-ironic-${hosts}.log`),
        args: ["--provisioner", "ironic", "--ironic-endpoint", ironic.url],
        env: { METAL3_AUTH_ROOT_DIR: authDir },
      });
      try {
        await fleet.resetStats();
        const pids: Record<string, number> = { operator: operator.pid, apiEmulator: cluster.api.pid, bmcEmulator: fleet.pid, benchmark: process.pid };
        const pid = listenerPid(ironic.port);
        if (pid !== undefined) pids.ironic = pid;
        const usage = new UsageWindow(pids).start();
        const t0 = performance.now();
        await createAll(cluster.client, fleetObjects(NAMESPACE, fleet.bmcs, hosts, { indicators: 1, subscriptions: 1 }, sink.url));
        await cluster.tracker.waitFor({ host: hosts, indicator: hosts, subscription: hosts }, 300_000 + hosts * 5_000);
        const operatorMs = Math.max(cluster.tracker.lastReadyAt("indicator"), cluster.tracker.lastReadyAt("subscription")) - t0;
        const windowUsage = usage.stop();
        const bmc = await fleet.stats();
        const metrics = await operator.metrics();
        measured = {
          hosts,
          ironic: ironic.release.label,
          baselineCallsPerHost: before.requests / hosts,
          operatorMs,
          hostsReadyMs: cluster.tracker.lastReadyAt("host") - t0,
          bmcRequestsPerHost: bmc.total / hosts,
          baselineBmcRequestsPerHost: before.bmcRequests / hosts,
          maxPeakInFlightPerBmc: bmc.maxPeakInFlight,
          reconcileErrors: sumOf(metrics, "controller_runtime_reconcile_errors_total"),
          usage: windowUsage,
        };
        ctx.log(`ironic N=${hosts}: operator ${Math.round(operatorMs)} ms, ${measured.bmcRequestsPerHost} BMC requests per host`);
      } finally {
        stop = await operator.stop();
      }
    } finally {
      await cluster.close();
    }
    const after = await baseline("baseline-b");
    if (!measured) throw new Error("ironic: no result");
    const baselineMs = [before.ms, after.ms];
    const baselineMeanMs = mean(baselineMs);
    return { ...measured, baselineMs, baselineMeanMs, ratio: measured.operatorMs / baselineMeanMs, stop };
  } finally {
    await ironic.close();
  }
}

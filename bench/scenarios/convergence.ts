/**
 * Figure 1, the convergence ratio (Redfish provisioner): N hosts, each with
 * one BareMetalHostServiceIndicator (`on: true`) and one BMCEventSubscription,
 * created at once through the Kubernetes API with the operator running as its
 * own process. The window runs from the first create until every indicator
 * and subscription is Ready; the hosts are created in the same burst, so
 * their registration is inside the window. The credentials Secrets exist
 * before (unlabelled: the operator labels them, as in Metal3).
 *
 * Before the window the operator converges a warm-up batch of hosts on BMCs
 * outside the measured ones (namespace `warmup`, left in place): the figure is
 * a running operator's, whose code is compiled and whose connections are
 * open, as in production. A run with `restartAfterWarmUp` measures the
 * first burst after a start instead: the process that converged the warm-up
 * batch is stopped and a new one started, which handles the objects it finds
 * before the window (as after an upgrade or a failover). The stack around it
 * stays warm: the API emulator is a Node.js process too, and a fresh one
 * would add a JIT warm-up of its own that a long-running kube-apiserver does
 * not have. A run with `warmupHosts: 0` measures the first burst of a new
 * operator on a new stack.
 *
 * The baseline ({@link runRedfishBaseline}) makes the same BMC requests with
 * the same caps against the same BMCs, once before and once after the
 * operator's run (BMCs reset in between); the ratio divides by their mean.
 *
 * The same run also yields figures 2 to 4's numbers for this N: BMC requests
 * per host, peak requests in flight per BMC, API writes per converged
 * resource, and the processes' CPU time and memory.
 *
 * @module
 */
import { join } from "node:path";
import { type OperatorWrites, operatorWrites, RESOURCE_KEYS } from "../lib/api-writes.ts";
import type { BenchContext } from "../lib/bench-context.ts";
import { type Cluster, startCluster } from "../lib/cluster.ts";
import { createAll, fleetObjects, secretObjects } from "../lib/fleet-objects.ts";
import { type OperatorProcess, type OperatorStop, startOperatorProcess } from "../lib/operator-process.ts";
import { sumOf } from "../lib/prometheus-text.ts";
import { runRedfishBaseline } from "../lib/redfish-baseline.ts";
import { waitUntilHandled } from "../lib/operator-settled.ts";
import { medianRun, type RatioRun } from "../lib/median-run.ts";
import { mean } from "../lib/statistics.ts";
import { ReadinessTracker } from "../lib/readiness-tracker.ts";
import { UsageWindow, type WindowUsage } from "../lib/usage-window.ts";
import { isAlreadyExists, NAMESPACES } from "../../src/runtime/index.ts";

/** The namespace of the benchmark's objects. */
export const NAMESPACE = "fleet";
/** The namespace of the warm-up hosts. */
export const WARMUP_NAMESPACE = "warmup";

/** A converged run, handed to follow-up measurements. */
export interface ConvergedRun {
  cluster: Cluster;
  operator: OperatorProcess;
  hosts: number;
}

/** Options of {@link runConvergence}. */
export interface ConvergenceOptions {
  hosts: number;
  /** Latency the BMCs add to every response, ms. */
  latencyMs: number;
  /** More operator flags, for a variant of the run (for example `["--concurrency", "64"]`). */
  operatorArgs?: string[];
  /** Hosts the operator converges before the window, on the fleet's last BMCs; 0 for a just-started operator on a new stack. */
  warmupHosts: number;
  /** After the warm-up, stop the operator and measure a new process's first burst. */
  restartAfterWarmUp?: boolean;
  /** More measurements on the converged stack; returns the operator process running at its end. */
  afterConverged?: (run: ConvergedRun) => Promise<OperatorProcess>;
}

/** The figures of one convergence run. */
export interface ConvergenceResult {
  hosts: number;
  latencyMs: number;
  /** The operator flags added for this run, if any. */
  operatorArgs: string[];
  /** Hosts converged before the window (0: the operator had just started). */
  warmupHosts: number;
  /** True when the operator measured was started after the warm-up, by a process that converged it and was then stopped. */
  restarted?: boolean;
  /** Baseline times, before and after the operator's run, ms. */
  baselineMs: number[];
  baselineMeanMs: number;
  /** BMC requests the baseline sent per host. */
  baselineRequestsPerHost: number;
  /** First create to the last indicator or subscription Ready, ms. */
  operatorMs: number;
  /** Operator time over the baseline mean. */
  ratio: number;
  /** How long the benchmark took to create the objects (part of the window), ms. */
  createMs: number;
  /** First create to the last host Ready, ms. */
  hostsReadyMs: number;
  /** BMC requests during the operator's window, per host, and by method over the fleet. */
  bmcRequestsPerHost: number;
  bmcRequestsByMethod: Record<string, number>;
  /** The most requests in flight at one BMC during the window. */
  maxPeakInFlightPerBmc: number;
  /** API requests during the window, by verb. */
  apiRequestsByVerb: Record<string, number>;
  /** The operator's API writes during the window. */
  writes: OperatorWrites;
  /** Events the operator's recorders had written, and dropped, at convergence (from its metrics). */
  eventsWritten: number;
  eventsDropped: number;
  /** Reconcile errors and requeues at convergence (from its metrics). */
  reconcileErrors: number;
  /** Reconciles in the window per measured object, by controller (from its metrics); absent in older runs. */
  reconcilesPerObject?: { host: number; indicator: number; subscription: number };
  /** CPU and memory of each process over the window. */
  usage: Record<string, WindowUsage>;
  /** The operator's resident memory when its caches had synced, before any object existed, bytes. */
  operatorRssAtStartBytes: number;
  /** How stopping the operator went (Events still queued are written during a graceful stop). */
  stop: OperatorStop;
  /** When the row was run more than once: every run's times and ratio, in the order they ran (this result is the median run's). */
  runs?: RatioRun[];
}

/**
 * Runs a convergence row `repeats` times (each on a fresh stack, with its own
 * baselines) and returns the run with the median ratio, with every run's
 * times in `runs`. Only the first run gets `afterConverged`.
 */
export async function runConvergenceRepeated(ctx: BenchContext, options: ConvergenceOptions, repeats: number): Promise<ConvergenceResult> {
  const { afterConverged: _firstRunOnly, ...later } = options;
  const results: ConvergenceResult[] = [];
  for (let i = 0; i < repeats; i++) results.push(await runConvergence(ctx, i === 0 ? options : later));
  return medianRun(results);
}

/** Runs the convergence figure for `options.hosts` hosts at `options.latencyMs` of BMC latency. */
export async function runConvergence(ctx: BenchContext, options: ConvergenceOptions): Promise<ConvergenceResult> {
  const { fleet, sink, caps } = ctx;
  const n = options.hosts;
  const operatorArgs = options.operatorArgs ?? [];
  const restart = options.restartAfterWarmUp === true && options.warmupHosts > 0;
  const label =
    `convergence N=${n} latency=${options.latencyMs} ms${options.warmupHosts === 0 ? " just started" : restart ? " just restarted" : ""}` +
    `${operatorArgs.length ? ` ${operatorArgs.join(" ")}` : ""}`;
  await fleet.setLatency(options.latencyMs);

  const baseline = async () => {
    await fleet.resetAll();
    await fleet.resetStats();
    const run = await runRedfishBaseline(fleet.bmcs, n, caps, `${sink.url}/baseline`);
    const seen = (await fleet.stats()).total;
    if (seen !== run.requests) throw new Error(`${label}: the baseline sent ${run.requests} requests but the BMCs counted ${seen}`);
    await fleet.resetAll();
    ctx.log(`${label}: baseline ${Math.round(run.ms)} ms (${run.requests} BMC requests)`);
    return run;
  };
  const before = await baseline();

  const cluster = await startCluster(ctx.dir, NAMESPACE);
  let result: Omit<ConvergenceResult, "baselineMs" | "baselineMeanMs" | "ratio" | "stop"> | undefined;
  let stop: OperatorStop | undefined;
  try {
    await createAll(cluster.client, secretObjects(NAMESPACE, fleet.bmcs, n));
    const logName = `operator-convergence-${n}-${options.latencyMs}-${options.warmupHosts}${restart ? "-restarted" : ""}${operatorArgs.join("")}`;
    let operator = await startOperatorProcess({
      kubeconfigPath: cluster.api.kubeconfigPath,
      logPath: join(ctx.dir, `${logName}.log`),
      args: operatorArgs,
    });
    try {
      const rssAtStart = operator.usage()?.rssBytes ?? 0;
      if (options.warmupHosts > 0) await warmUp(ctx, cluster, options.warmupHosts, n);
      if (restart) {
        await operator.stop();
        operator = await startOperatorProcess({
          kubeconfigPath: cluster.api.kubeconfigPath,
          logPath: join(ctx.dir, `${logName}-2.log`),
          args: operatorArgs,
        });
        await waitUntilHandled(operator, options.warmupHosts * 3, 120_000);
      }
      const metricsBefore = await operator.metrics();
      await cluster.api.resetStats();
      await fleet.resetStats();
      const usage = new UsageWindow({ operator: operator.pid, apiEmulator: cluster.api.pid, bmcEmulator: fleet.pid, benchmark: process.pid });
      const objects = fleetObjects(NAMESPACE, fleet.bmcs, n, { indicators: 1, subscriptions: 1 }, sink.url);
      usage.start();
      const t0 = performance.now();
      await createAll(cluster.client, objects);
      const createMs = performance.now() - t0;
      await cluster.tracker.waitFor({ host: n, indicator: n, subscription: n }, 120_000 + n * (100 + 12 * options.latencyMs));
      const convergedAt = Math.max(cluster.tracker.lastReadyAt("indicator"), cluster.tracker.lastReadyAt("subscription"));
      const windowUsage = usage.stop();
      const [apiStats, bmcStats, metrics] = await Promise.all([cluster.api.stats(), fleet.stats(), operator.metrics()]);
      const writes = operatorWrites(apiStats, { [RESOURCE_KEYS.hosts]: n, [RESOURCE_KEYS.indicators]: n, [RESOURCE_KEYS.subscriptions]: n });
      result = {
        hosts: n,
        latencyMs: options.latencyMs,
        operatorArgs,
        warmupHosts: options.warmupHosts,
        ...(restart ? { restarted: true } : {}),
        baselineRequestsPerHost: before.requests / n,
        operatorMs: convergedAt - t0,
        createMs,
        hostsReadyMs: cluster.tracker.lastReadyAt("host") - t0,
        bmcRequestsPerHost: bmcStats.total / n,
        bmcRequestsByMethod: bmcStats.byMethod,
        maxPeakInFlightPerBmc: bmcStats.maxPeakInFlight,
        apiRequestsByVerb: apiStats.byVerb,
        writes,
        eventsWritten: since(metrics, metricsBefore, "event_recorder_events_total", { result: "created" }),
        eventsDropped: since(metrics, metricsBefore, "event_recorder_events_total", { result: "dropped" }),
        reconcileErrors: since(metrics, metricsBefore, "controller_runtime_reconcile_errors_total"),
        reconcilesPerObject: {
          host: since(metrics, metricsBefore, "controller_runtime_reconcile_total", { controller: "baremetalhost" }) / n,
          indicator: since(metrics, metricsBefore, "controller_runtime_reconcile_total", { controller: "baremetalhostserviceindicator" }) / n,
          subscription: since(metrics, metricsBefore, "controller_runtime_reconcile_total", { controller: "bmceventsubscription" }) / n,
        },
        usage: windowUsage,
        operatorRssAtStartBytes: rssAtStart,
      };
      ctx.log(
        `${label}: operator ${Math.round(result.operatorMs)} ms (creates ${Math.round(createMs)} ms), ` +
          `${result.bmcRequestsPerHost} BMC requests per host, ${writes.total} API writes`,
      );
      if (options.afterConverged) operator = await options.afterConverged({ cluster, operator, hosts: n });
    } finally {
      stop = await operator.stop();
    }
  } finally {
    await cluster.close();
  }
  const after = await baseline();
  const baselineMs = [before.ms, after.ms];
  const baselineMeanMs = mean(baselineMs);
  if (!result || !stop) throw new Error(`${label}: no result`);
  return { ...result, baselineMs, baselineMeanMs, ratio: result.operatorMs / baselineMeanMs, stop };
}

/** A counter's growth between two `/metrics` readings. */
function since(after: string, before: string, name: string, labels: Record<string, string> = {}): number {
  return sumOf(after, name, labels) - sumOf(before, name, labels);
}

/**
 * Converges `count` hosts (each with an indicator and a subscription) in the
 * warm-up namespace, on the fleet's last BMCs, which the measured hosts
 * (`measured` of them, from the first BMC) never use.
 */
async function warmUp(ctx: BenchContext, cluster: Cluster, count: number, measured: number): Promise<void> {
  const spare = ctx.fleet.bmcs.slice(measured);
  if (spare.length < count) {
    throw new RangeError(`warm-up: ${count} hosts need ${count} BMCs beyond the ${measured} measured; the fleet has ${ctx.fleet.bmcs.length}`);
  }
  const bmcs = spare.slice(-count);
  await cluster.client.create(NAMESPACES, { metadata: { name: WARMUP_NAMESPACE } }).catch((error: unknown) => {
    if (!isAlreadyExists(error)) throw error;
  });
  const tracker = new ReadinessTracker(cluster.client, WARMUP_NAMESPACE);
  await tracker.start();
  try {
    await createAll(cluster.client, secretObjects(WARMUP_NAMESPACE, bmcs, count));
    await createAll(cluster.client, fleetObjects(WARMUP_NAMESPACE, bmcs, count, { indicators: 1, subscriptions: 1 }, ctx.sink.url));
    await tracker.waitFor({ host: count, indicator: count, subscription: count }, 120_000);
  } finally {
    await tracker.stop();
  }
}

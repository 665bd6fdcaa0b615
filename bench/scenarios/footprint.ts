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
import { existsSync, readdirSync, statSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { SECRET_LABEL_SELECTOR } from "../../src/controllers/secret-reader.ts";
import { type KubeObject, type Resource, SECRETS } from "../../src/runtime/index.ts";
import { type BenchContext, sleep } from "../lib/bench-context.ts";
import { type CachedKind, measureCachedKinds } from "../lib/cache-footprint.ts";
import { startCluster } from "../lib/cluster.ts";
import { createAll, fleetObjects, type HostShape, secretObjects } from "../lib/fleet-objects.ts";
import { type OperatorStop, startOperatorProcess } from "../lib/operator-process.ts";
import { samplesOf, sumOf } from "../lib/prometheus-text.ts";
import { residentByMapping } from "../lib/process-usage.ts";
import { speedProbeMs } from "../lib/speed-probe.ts";
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
  /** Resident memory with its caches synced and no resource yet, once idle (after its first idle collection), bytes. */
  rssEmptyBytes: number;
  /** Resident memory the moment its caches had synced (`/readyz` first answered), bytes. */
  rssAtReadyBytes?: number;
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
  /** The memory per cached object of each kind the operator caches (measured in the benchmark's process). */
  cachedKinds?: CachedKind[];
  /** The operator's V8 heap once settled (its `nodejs_heap_*` and `nodejs_external_memory_bytes` metrics), bytes. */
  settledHeap?: { totalBytes: number; usedBytes: number; externalBytes: number };
  /** The load average (1, 5, 15 min) when the run started. */
  loadAverage?: number[];
  /** Where the operator's heap snapshot went, when one was asked for (`$BENCH_FOOTPRINT_HEAPSNAPSHOT_DIR`). */
  heapSnapshot?: string;
  /** Every process's usage over the convergence window. */
  usage: Record<string, WindowUsage>;
  bmcRequests: number;
  maxPeakInFlightPerBmc: number;
  eventsDropped: number;
  /** The operator's API requests by method and reconciles by controller, read from its metrics at convergence. */
  atConvergence?: { apiRequests: Record<string, number>; reconciles: Record<string, number> };
  /** The machine's speed before the burst (`bench/lib/speed-probe.ts`), ms; lower is faster. */
  speedProbeMs?: number;
  /** The settled operator's largest resident mappings (`/proc/<pid>/smaps`). */
  settledByMapping?: { mapping: string; bytes: number }[];
  stop: OperatorStop;
}

/** Runs the footprint figure for `hosts` hosts of ten resources each, idling `settleMs` after. */
export async function runFootprint(ctx: BenchContext, hosts: number, settleMs: number): Promise<FootprintResult> {
  const { fleet, sink } = ctx;
  const resources = hosts * (1 + FOOTPRINT_SHAPE.indicators + FOOTPRINT_SHAPE.subscriptions);
  const label = `footprint ${resources} resources (${hosts} hosts)`;
  const loadAverage = loadavg();
  const snapshotDir = process.env.BENCH_FOOTPRINT_HEAPSNAPSHOT_DIR;
  await fleet.setLatency(0);
  await fleet.resetAll();
  const cluster = await startCluster(ctx.dir, NAMESPACE);
  try {
    await createAll(cluster.client, secretObjects(NAMESPACE, fleet.bmcs, hosts));
    const operator = await startOperatorProcess({
      kubeconfigPath: cluster.api.kubeconfigPath,
      logPath: join(ctx.dir, `operator-footprint-${resources}.log`),
      ...(snapshotDir ? { nodeArgs: ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${snapshotDir}`] } : {}),
    });
    let result: Omit<FootprintResult, "stop"> | undefined;
    let stop: OperatorStop = { ms: 0, graceful: true };
    try {
      const atReady = operator.usage();
      // Empty means idle: start-up (the code loaded, the caches listed) is a burst of its own, whose
      // memory the operator gives back at its first idle stretch (src/runtime/idle-collector.ts).
      for (let i = 0; i < 300 && operator.idleCollections() === 0; i++) await sleep(100);
      const empty = operator.usage();
      await fleet.resetStats();
      const usage = new UsageWindow({ operator: operator.pid, apiEmulator: cluster.api.pid, bmcEmulator: fleet.pid, benchmark: process.pid });
      const objects = fleetObjects(NAMESPACE, fleet.bmcs, hosts, FOOTPRINT_SHAPE, sink.url);
      const speedProbe = speedProbeMs();
      usage.start();
      const t0 = performance.now();
      // A snapshot in the middle of the burst, of what is live while the fleet converges (diagnosis only).
      const midBurstMs = Number(process.env.BENCH_FOOTPRINT_MID_BURST_SNAPSHOT_MS ?? 0);
      const midBurst = snapshotDir && midBurstMs > 0 ? sleep(midBurstMs).then(() => takeHeapSnapshot(operator.pid, snapshotDir)) : undefined;
      await createAll(cluster.client, objects);
      // An operator that dies in the burst (a memory limit's OOM kill, under $BENCH_OPERATOR_WRAPPER) fails the run at once.
      await Promise.race([
        cluster.tracker.waitFor(
          { host: hosts, indicator: hosts * FOOTPRINT_SHAPE.indicators, subscription: hosts * FOOTPRINT_SHAPE.subscriptions },
          180_000 + resources * 100,
        ),
        operator.died,
      ]);
      if (midBurst) ctx.log(`${label}: heap snapshot in the burst: ${await midBurst}`);
      const convergeMs = Math.max(cluster.tracker.lastReadyAt("indicator"), cluster.tracker.lastReadyAt("subscription")) - t0;
      const windowUsage = usage.stop();
      const converged = operator.usage();
      const bmcStats = await fleet.stats();
      const atConvergence = countsOf(await operator.metrics());
      ctx.log(`${label}: at convergence, API requests ${JSON.stringify(atConvergence.apiRequests)}, reconciles ${JSON.stringify(atConvergence.reconciles)}`);
      ctx.log(`${label}: converged in ${Math.round(convergeMs)} ms; settling ${settleMs / 1000} s`);
      await sleep(settleMs);
      const settled = operator.usage();
      const settledByMapping = residentByMapping(operator.pid).slice(0, 4);
      ctx.log(`${label}: settled RSS by mapping ${settledByMapping.map((m) => `${m.mapping.split("/").pop()} ${(m.bytes / 1048576).toFixed(1)} MiB`).join(", ")}`);
      const metrics = await operator.metrics();
      if (!empty || !converged || !settled) throw new Error(`${label}: the operator process (pid ${operator.pid}) is gone`);
      ctx.log(`${label}: settled V8 heap ${(sumOf(metrics, "nodejs_heap_size_total_bytes") / 1048576).toFixed(1)} MiB, used ${(sumOf(metrics, "nodejs_heap_size_used_bytes") / 1048576).toFixed(1)} MiB`);
      const heapSnapshot = snapshotDir ? await takeHeapSnapshot(operator.pid, snapshotDir) : undefined;
      const cachedKinds = await measureCachedKinds(cluster.client, CACHED_KINDS);
      result = {
        hosts,
        resources,
        convergeMs,
        rssEmptyBytes: empty.rssBytes,
        ...(atReady ? { rssAtReadyBytes: atReady.rssBytes } : {}),
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
        atConvergence,
        settledByMapping,
        speedProbeMs: speedProbe,
        cachedKinds,
        loadAverage,
        settledHeap: {
          totalBytes: sumOf(metrics, "nodejs_heap_size_total_bytes"),
          usedBytes: sumOf(metrics, "nodejs_heap_size_used_bytes"),
          externalBytes: sumOf(metrics, "nodejs_external_memory_bytes"),
        },
        ...(heapSnapshot ? { heapSnapshot } : {}),
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

/** What the operator's informers cache in standalone mode (src/controllers/operator.ts). */
const CACHED_KINDS: { resource: Resource<KubeObject>; labelSelector?: string }[] = [
  { resource: BARE_METAL_HOSTS },
  { resource: SERVICE_INDICATORS },
  { resource: BMC_EVENT_SUBSCRIPTIONS },
  { resource: SECRETS, labelSelector: SECRET_LABEL_SELECTOR },
];

/** The operator's API requests by method and its reconciles by controller, from its `/metrics` text. */
function countsOf(metrics: string): { apiRequests: Record<string, number>; reconciles: Record<string, number> } {
  const by = (name: string, label: string) => {
    const totals: Record<string, number> = {};
    for (const sample of samplesOf(metrics, name)) {
      const key = sample.labels[label] ?? "";
      totals[key] = (totals[key] ?? 0) + sample.value;
    }
    return totals;
  };
  return { apiRequests: by("rest_client_requests_total", "method"), reconciles: by("controller_runtime_reconcile_total", "controller") };
}

/** Sends the operator SIGUSR2 (`--heapsnapshot-signal`) and waits until its snapshot file is complete; returns its path. */
async function takeHeapSnapshot(pid: number, dir: string): Promise<string> {
  const ours = () => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".heapsnapshot") && f.includes(`.${pid}.`)) : []);
  const before = new Set(ours());
  process.kill(pid, "SIGUSR2");
  let lastSize = -1;
  for (let i = 0; i < 600; i++) {
    await sleep(500);
    const file = ours().find((f) => !before.has(f));
    if (file === undefined) continue;
    const size = statSync(join(dir, file)).size;
    if (size > 0 && size === lastSize) return join(dir, file);
    lastSize = size;
  }
  throw new Error(`the operator (pid ${pid}) wrote no heap snapshot into ${dir} within 5 minutes`);
}

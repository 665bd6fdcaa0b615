/**
 * prom-client's registry and metric classes, and its default process and
 * Node.js metrics, loaded without the package's index. The index also loads
 * the cluster aggregator, the Pushgateway client and the Summary (with its
 * t-digest), and the default metrics' CPU counter loads OpenTelemetry's API
 * (51 modules) for exemplars the operator never records: together about
 * 15 MiB of resident memory more than these modules (docs/benchmarks.md).
 * The CPU counters are written here, as prom-client writes them without
 * exemplars; every other default metric is prom-client's own module. A test
 * checks that the default metrics are the same set, with the same names, as
 * prom-client's `collectDefaultMetrics`.
 *
 * @module
 */
import { createRequire } from "node:module";
import type * as PromClient from "prom-client";

const require = createRequire(import.meta.url);

export const Registry = require("prom-client/lib/registry.js") as typeof PromClient.Registry;
export type Registry = PromClient.Registry;
export const Counter = require("prom-client/lib/counter.js") as typeof PromClient.Counter;
export type Counter<L extends string = string> = PromClient.Counter<L>;
export const Gauge = require("prom-client/lib/gauge.js") as typeof PromClient.Gauge;
export type Gauge<L extends string = string> = PromClient.Gauge<L>;
export const Histogram = require("prom-client/lib/histogram.js") as typeof PromClient.Histogram;
export type Histogram<L extends string = string> = PromClient.Histogram<L>;

/** A default metric module of prom-client: registers its metrics in the registry. */
type DefaultMetric = (registry: Registry, config: Record<string, unknown>) => void;

/** prom-client's default metrics other than the CPU counters, by module (`prom-client/lib/defaultMetrics.js` lists them). */
const DEFAULT_METRIC_MODULES = [
  "processStartTime",
  "osMemoryHeap",
  "processOpenFileDescriptors",
  "processMaxFileDescriptors",
  "eventLoopLag",
  "processResources",
  "processHandles",
  "processRequests",
  "heapSizeAndUsed",
  "heapSpacesSizeAndUsed",
  "version",
  "gc",
];

/** prom-client's `collectDefaultMetrics({ register: registry })`, without OpenTelemetry. */
export function collectDefaultMetrics(registry: Registry): void {
  processCpuCounters(registry);
  for (const name of DEFAULT_METRIC_MODULES) {
    (require(`prom-client/lib/metrics/${name}.js`) as DefaultMetric)(registry, { eventLoopMonitoringPrecision: 10 });
  }
}

/** `process_cpu_user_seconds_total`, `process_cpu_system_seconds_total` and `process_cpu_seconds_total`, read at scrape time. */
function processCpuCounters(registry: Registry): void {
  let last = process.cpuUsage();
  const system = new Counter({ name: "process_cpu_system_seconds_total", help: "Total system CPU time spent in seconds.", registers: [registry] });
  const total = new Counter({ name: "process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.", registers: [registry] });
  new Counter({
    name: "process_cpu_user_seconds_total",
    help: "Total user CPU time spent in seconds.",
    registers: [registry],
    // One collect sets all three, as prom-client's own does.
    collect() {
      const now = process.cpuUsage();
      const user = now.user - last.user;
      const sys = now.system - last.system;
      last = now;
      this.inc(user / 1e6);
      system.inc(sys / 1e6);
      total.inc((user + sys) / 1e6);
    },
  });
}

/**
 * Metric registration shared by the runtime's components. Every component
 * takes the prom-client `Registry` to register in (the manager passes its
 * own); a metric is created once per registry and reused by every component
 * that asks for it, so two controllers share one `workqueue_depth`.
 *
 * @module
 */
import type { CounterConfiguration, GaugeConfiguration, HistogramConfiguration, Metric } from "prom-client";
import { Counter, Gauge, Histogram, Registry } from "./prometheus.ts";

/**
 * The registry used by components created without one. Managers use their
 * own registry instead.
 */
export const defaultRegistry: Registry = new Registry();

function once<M extends Metric<string>>(
  registry: Registry,
  name: string,
  kind: abstract new (...args: any[]) => M,
  create: () => M,
): M {
  const existing = registry.getSingleMetric(name);
  if (existing === undefined) return create();
  if (!(existing instanceof kind)) {
    throw new TypeError(`Metric "${name}" is already registered as another type (${existing.constructor.name})`);
  }
  return existing;
}

/** The counter `config.name` of `registry`, created on first use. */
export function counter<L extends string>(registry: Registry, config: CounterConfiguration<L>): Counter<L> {
  return once(registry, config.name, Counter, () => new Counter({ ...config, registers: [registry] }));
}

/** The gauge `config.name` of `registry`, created on first use. */
export function gauge<L extends string>(registry: Registry, config: GaugeConfiguration<L>): Gauge<L> {
  return once(registry, config.name, Gauge, () => new Gauge({ ...config, registers: [registry] }));
}

/** The histogram `config.name` of `registry`, created on first use. */
export function histogram<L extends string>(registry: Registry, config: HistogramConfiguration<L>): Histogram<L> {
  return once(registry, config.name, Histogram, () => new Histogram({ ...config, registers: [registry] }));
}

/** Something a {@link sampledGauge} reads at scrape time. */
export interface GaugeSource<L extends string> {
  readonly labels: Partial<Record<L, string>>;
  /** The value now. */
  sample(): number;
}

/** The sources of each sampled gauge, per registry and metric name. */
const gaugeSources = new WeakMap<Registry, Map<string, Set<GaugeSource<string>>>>();

/**
 * A gauge read from its sources when scraped, rather than set on every change:
 * a queue's depth or a cache's size changes on every event, and setting a
 * prom-client gauge each time (it hashes the labels) costs more than the
 * change itself. Returns the source set to add to and remove from; a source
 * removed leaves its last value.
 */
export function sampledGauge<L extends string>(registry: Registry, config: Omit<GaugeConfiguration<L>, "collect">): {
  add(source: GaugeSource<L>): void;
  delete(source: GaugeSource<L>): void;
} {
  let byName = gaugeSources.get(registry);
  if (byName === undefined) gaugeSources.set(registry, (byName = new Map()));
  let sources = byName.get(config.name);
  if (sources === undefined) byName.set(config.name, (sources = new Set()));
  const live = sources as Set<GaugeSource<L>>;
  const metric = gauge(registry, {
    ...config,
    collect() {
      for (const source of live) this.set(source.labels, source.sample());
    },
  });
  return {
    add(source) {
      live.add(source);
      metric.set(source.labels, source.sample());
    },
    delete(source) {
      if (live.delete(source)) metric.set(source.labels, source.sample());
    },
  };
}

/**
 * Exponential histogram buckets: `count` buckets from `start`, each `factor`
 * times the previous (Prometheus' `ExponentialBuckets`).
 */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start * factor ** i);
}

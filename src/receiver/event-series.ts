/**
 * Writes received BMC events as Kubernetes Events on their host, aggregated
 * into series so that a storm costs the API a bounded number of writes:
 *
 * - the first event of a series (same host, type, reason and note) is created
 *   at once: one write;
 * - repeats only count in memory; while they keep coming, the series' count
 *   is written with one patch per `flushIntervalMs`;
 * - a host has at most `maxSeriesPerHost` series per window; events beyond
 *   them join one `BMCEventStorm` series of that host.
 *
 * So a host costs at most (maxSeriesPerHost + 1) × (1 + T / flushIntervalMs)
 * writes for a storm of T ms, however many events it sends; a burst shorter
 * than the flush interval costs at most 2 writes per series. Writes run a few
 * at a time, one pending per series, so a slow API server delays counts but
 * never grows a queue beyond the number of series.
 *
 * @module
 */
import {
  EVENTS,
  isAlreadyExists,
  isNotFound,
  type KubeClient,
  type KubeEvent,
  type KubeObject,
  type Logger,
  microTime,
  referenceTo,
} from "../runtime/index.ts";

/** One Event to record. */
export interface SeriesEvent {
  type: "Normal" | "Warning";
  reason: string;
  action: string;
  note: string;
}

/** Options of {@link EventSeriesWriter}. */
export interface EventSeriesOptions {
  client: Pick<KubeClient, "create" | "patch">;
  reportingController: string;
  reportingInstance: string;
  /** How long a series lasts without a repeat before the next repeat starts a new Event. @default 360_000 (as client-go) */
  windowMs?: number;
  /** At most one patch of a series' count per this many ms. @default 10_000 */
  flushIntervalMs?: number;
  /** Series per host and window before events join the host's storm series. @default 32 */
  maxSeriesPerHost?: number;
  /** Writes in flight at once. @default 4 */
  concurrency?: number;
  /** Called after every API write (for benchmarks and metrics). */
  onWrite?: (kind: "create" | "patch", ok: boolean) => void;
  logger?: Logger;
}

interface Series {
  hostKey: string;
  namespace: string;
  name: string;
  event: KubeEvent;
  count: number;
  writtenCount: number;
  lastObserved: number;
  written: boolean;
  /** A write of this series waits or runs (one at a time per series). */
  pending: boolean;
  timer?: ReturnType<typeof setTimeout>;
  lastWrite: number;
}

const NOTE_LIMIT = 1024;
let sequence = Math.floor(Math.random() * 1_000_000);

/** Aggregates BMC events into Event series and writes them. */
export class EventSeriesWriter {
  readonly #o: Required<Omit<EventSeriesOptions, "onWrite" | "logger">> & Pick<EventSeriesOptions, "onWrite" | "logger">;
  readonly #series = new Map<string, Series>();
  readonly #perHost = new Map<string, number>();
  readonly #queue: Series[] = [];
  #running = 0;
  #idle: (() => void)[] = [];
  #closed = false;
  /** While flushing, counts are written at once instead of at their flush time. */
  #flushing = 0;

  constructor(options: EventSeriesOptions) {
    this.#o = { windowMs: 360_000, flushIntervalMs: 10_000, maxSeriesPerHost: 32, concurrency: 4, ...options };
  }

  /** Records one event about `host`. Returns at once; never throws. */
  record(host: KubeObject, info: SeriesEvent): void {
    if (this.#closed) return;
    const now = Date.now();
    const hostKey = `${host.metadata?.namespace ?? ""}/${host.metadata?.name ?? ""}/${host.metadata?.uid ?? ""}`;
    let note = info.note.length > NOTE_LIMIT ? `${info.note.slice(0, NOTE_LIMIT - 3)}...` : info.note;
    let reason = info.reason;
    let type = info.type;
    let key = JSON.stringify([hostKey, type, reason, note]);
    let series = this.#live(key, now);
    if (!series && (this.#perHost.get(hostKey) ?? 0) >= this.#o.maxSeriesPerHost) {
      type = "Warning";
      reason = "BMCEventStorm";
      note = `More than ${this.#o.maxSeriesPerHost} different BMC events within ${Math.round(this.#o.windowMs / 1000)} s; further ones are only counted here (and in bmc_events_received_total)`;
      key = JSON.stringify([hostKey, "storm"]);
      series = this.#live(key, now);
    }
    if (series) {
      series.count++;
      series.lastObserved = now;
      this.#schedule(series, now);
      return;
    }
    const namespace = host.metadata?.namespace || "default";
    const name = eventName(host.metadata?.name ?? "host", now);
    const event: KubeEvent = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { namespace, name },
      eventTime: microTime(now),
      reportingController: this.#o.reportingController,
      reportingInstance: this.#o.reportingInstance,
      action: info.action,
      reason,
      regarding: referenceTo(host),
      note,
      type,
    };
    const fresh: Series = { hostKey, namespace, name, event, count: 1, writtenCount: 0, lastObserved: now, written: false, pending: false, lastWrite: 0 };
    this.#series.set(key, fresh);
    if (reason !== "BMCEventStorm") this.#perHost.set(hostKey, (this.#perHost.get(hostKey) ?? 0) + 1);
    this.#enqueue(fresh);
  }

  /** Resolves once nothing is waiting or being written, counts not yet due included (they are written now). */
  async flush(): Promise<void> {
    this.#flushing++;
    try {
      for (;;) {
        for (const series of this.#series.values()) {
          if (series.timer) {
            clearTimeout(series.timer);
            series.timer = undefined;
            this.#enqueue(series);
          }
        }
        if (this.#running === 0 && this.#queue.length === 0) return;
        await new Promise<void>((resolve) => this.#idle.push(resolve));
      }
    } finally {
      this.#flushing--;
    }
  }

  /** Writes what is due and stops; later events are ignored. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    for (const series of this.#series.values()) if (series.timer) clearTimeout(series.timer);
  }

  /** The series of `key`, if it is still within its window; forgets it otherwise. */
  #live(key: string, now: number): Series | undefined {
    const series = this.#series.get(key);
    if (!series) return undefined;
    if (now - series.lastObserved <= this.#o.windowMs) return series;
    if (series.pending || series.timer) return series; // its last count is still to be written
    this.#series.delete(key);
    if (series.event.reason !== "BMCEventStorm") {
      const left = (this.#perHost.get(series.hostKey) ?? 1) - 1;
      if (left > 0) this.#perHost.set(series.hostKey, left);
      else this.#perHost.delete(series.hostKey);
    }
    return undefined;
  }

  /** Makes sure the new count gets written: now if the last write is old enough, else at the next flush time. */
  #schedule(series: Series, now: number): void {
    if (series.pending || series.timer) return;
    const due = series.lastWrite + this.#o.flushIntervalMs - now;
    if (due <= 0 || this.#flushing > 0) {
      this.#enqueue(series);
      return;
    }
    series.timer = setTimeout(() => {
      series.timer = undefined;
      this.#enqueue(series);
    }, due);
    series.timer.unref?.();
  }

  #enqueue(series: Series): void {
    if (series.pending) return;
    series.pending = true;
    this.#queue.push(series);
    this.#pump();
  }

  #pump(): void {
    while (this.#running < this.#o.concurrency && this.#queue.length > 0) {
      const series = this.#queue.shift()!;
      this.#running++;
      void this.#write(series).finally(() => {
        this.#running--;
        this.#pump();
        if (this.#running === 0 && this.#queue.length === 0) for (const wake of this.#idle.splice(0)) wake();
      });
    }
  }

  async #write(series: Series): Promise<void> {
    try {
      await this.#writeOnce(series);
    } finally {
      series.pending = false;
    }
    // Repeats that arrived during the write are written at the next flush time.
    if (series.count !== series.writtenCount) this.#schedule(series, Date.now());
  }

  /** One create or patch, with whatever the count is now; a series has at most one running. */
  async #writeOnce(series: Series): Promise<void> {
    series.lastWrite = Date.now();
    const count = series.count;
    if (series.written && count === series.writtenCount) return;
    const seriesField = count > 1 ? { count, lastObservedTime: microTime(series.lastObserved) } : undefined;
    let kind: "create" | "patch" = series.written ? "patch" : "create";
    try {
      if (series.written) {
        try {
          await this.#o.client.patch(EVENTS, { namespace: series.namespace, name: series.name }, { series: seriesField }, { type: "merge" });
          series.writtenCount = count;
          this.#o.onWrite?.("patch", true);
          return;
        } catch (error) {
          if (!isNotFound(error)) throw error;
          kind = "create"; // the Event expired meanwhile: write it again
        }
      }
      const body = { ...series.event, metadata: { namespace: series.namespace, name: series.name }, ...(seriesField ? { series: seriesField } : {}) };
      try {
        await this.#o.client.create(EVENTS, body);
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
        series.name = eventName(series.event.regarding.name ?? "host", Date.now());
        await this.#o.client.create(EVENTS, { ...body, metadata: { namespace: series.namespace, name: series.name } });
      }
      series.written = true;
      series.writtenCount = count;
      this.#o.onWrite?.(kind, true);
    } catch (error) {
      this.#o.onWrite?.(kind, false);
      this.#o.logger?.warn({ err: error, event: `${series.namespace}/${series.name}`, reason: series.event.reason }, "could not write the Event of a BMC event");
      series.writtenCount = series.count; // not retried: the next repeat writes the count again
    }
  }
}

/** `<host>.<hex nanoseconds>`, as client-go names Events. */
function eventName(objectName: string, nowMs: number): string {
  sequence = (sequence + 1) % 1_000_000;
  return `${objectName}.${(BigInt(Math.floor(nowMs)) * 1_000_000n + BigInt(sequence)).toString(16)}`;
}

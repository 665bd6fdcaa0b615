/**
 * An `events.k8s.io/v1` Event recorder, like controller-runtime's
 * `GetEventRecorder`: `event()` returns at once and never throws; Events are
 * written in the background, one at a time, through a token bucket.
 * A repeat of the same Event (same object, type, reason, action, note and
 * related object) within the aggregation window updates the first one's
 * `series` (`count`, `lastObservedTime`) instead of creating another object.
 * Notes go through a redaction hook so callers can strip secrets.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Registry } from "prom-client";
import { isAlreadyExists, isNotFound } from "./api-error.ts";
import { withDefaults } from "./backoff.ts";
import type { KubeClient } from "./client.ts";
import { type Clock, realClock, sleep, sleepUnlessAborted } from "./clock.ts";
import { microTime } from "./lease-lock.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { counter, defaultRegistry } from "./metrics.ts";
import { BucketRateLimiter } from "./rate-limiter.ts";
import { type Permission, permissionOn } from "./permissions.ts";
import { EVENTS, type KubeEvent, type KubeObject, type ObjectReference } from "./resource.ts";
import { redactUrlUserinfo } from "./url-userinfo.ts";

/** The calls of an {@link EventRecorder}: a new Event, and a patch of its series for a repeat. */
export const EVENT_RECORDER_PERMISSIONS: readonly Permission[] = [permissionOn(EVENTS, ["create", "patch"])];

/** One thing worth telling users about an object. */
export interface EventInfo {
  /** `Normal` for expected things, `Warning` for problems. */
  type: "Normal" | "Warning";
  /** Why, in CamelCase, for example `SubscriptionCreated`. */
  reason: string;
  /** What was done or failed, in CamelCase, for example `CreateSubscription`. */
  action: string;
  /** A human-readable sentence, at most 1 kB after redaction (longer notes are cut). */
  note?: string;
  /** A second object involved, for example the host of a subscription. */
  related?: KubeObject;
}

/** Where Events are written: the {@link KubeClient}'s methods the recorder uses. */
export type EventSink = Pick<KubeClient, "create" | "patch">;

/** Options of an {@link EventRecorder}. */
export interface EventRecorderOptions {
  sink: EventSink;
  /** `reportingController`, for example `metal3.io/bmceventsubscription-controller`. */
  reportingController: string;
  /** `reportingInstance`: this process, for example the pod name. */
  reportingInstance: string;
  /** Applied to every note before anything else, to strip secrets (URLs' user information is always removed). */
  redact?: (note: string) => string;
  /** Repeats within this many ms join the first Event's series. @default 360_000 (6 min, as client-go) */
  aggregationWindowMs?: number;
  /**
   * Writes per second, over all objects. @default 50 (an operator creating
   * thousands of resources at once writes one Event each; client-go limits
   * per object, not per process)
   */
  qps?: number;
  /** Writes allowed in a burst. @default 200 */
  burst?: number;
  /** Writes waiting beyond this are dropped (and counted). @default 10000 */
  maxPending?: number;
  /**
   * Series remembered for aggregation; past this the least recently seen is
   * forgotten (its repeats then start a new Event), as client-go's
   * EventCorrelator keeps an LRU cache of 4096. Without a bound a burst over
   * 50,000 resources kept a series for each for the whole window, about
   * 1.5 kB apiece. @default 4096
   */
  maxSeries?: number;
  logger?: Logger;
  registry?: Registry;
  clock?: Clock;
}

interface Series {
  namespace: string;
  name: string;
  /**
   * The Event as last recorded, held only while a write of the series is
   * queued: a series remembered for aggregation is then a few numbers and
   * names, not the whole Event (about 700 bytes apiece).
   */
  body: KubeEvent | undefined;
  count: number;
  lastObserved: number;
  firstSeen: number;
  written: boolean;
  writeQueued: boolean;
}

const NOTE_LIMIT = 1024;

/** Sub-millisecond part of Event names: process-wide, from a random start, so names do not collide. */
let nameSequence = Math.floor(Math.random() * 1_000_000);

/** `<object name>.<hex nanoseconds>`, as client-go names Events. */
function eventName(objectName: string, nowMs: number): string {
  nameSequence = (nameSequence + 1) % 1_000_000;
  return `${objectName}.${(BigInt(Math.floor(nowMs)) * 1_000_000n + BigInt(nameSequence)).toString(16)}`;
}
const CAMEL_CASE = /^[A-Z][A-Za-z0-9]*$/;

/**
 * Records Events about objects.
 *
 * @example
 * ```ts
 * const recorder = manager.eventRecorder("bmceventsubscription-controller");
 * recorder.event(subscription, { type: "Normal", reason: "Created", action: "CreateSubscription", note: `BMC subscription ${id} created` });
 * ```
 */
export class EventRecorder {
  readonly #o: Required<Omit<EventRecorderOptions, "logger" | "registry" | "redact">> & Pick<EventRecorderOptions, "redact">;
  readonly #log: Logger;
  readonly #bucket: BucketRateLimiter;
  readonly #series = new Map<string, Series>();
  readonly #metric: ReturnType<typeof counter<"controller" | "result">>;
  #queue: (() => Promise<void>)[] = [];
  #draining = false;
  #idle: (() => void)[] = [];
  #closed = false;
  #lastSweep = 0;

  constructor(options: EventRecorderOptions) {
    this.#o = withDefaults({ aggregationWindowMs: 360_000, qps: 50, burst: 200, maxPending: 10_000, maxSeries: 4096, clock: realClock }, options);
    this.#log = (options.logger ?? silentLogger).child({ eventRecorder: options.reportingController });
    this.#bucket = new BucketRateLimiter(this.#o.qps, this.#o.burst, this.#o.clock);
    this.#metric = counter(options.registry ?? defaultRegistry, {
      name: "event_recorder_events_total",
      help: "Events recorded, by reporting controller and result (created, aggregated, dropped, failed).",
      labelNames: ["controller", "result"] as const,
    });
  }

  /** Records an Event about `regarding`. Returns at once; never throws. */
  event(regarding: KubeObject, info: EventInfo): void {
    try {
      this.#record(regarding, info);
    } catch (error) {
      this.#count("dropped");
      this.#log.error({ err: error, reason: info.reason }, "event dropped");
    }
  }

  /** Resolves once every Event recorded so far has been written (or has failed). */
  flush(): Promise<void> {
    if (!this.#draining && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Stops recording (later Events are dropped) and writes what is pending,
   * without the rate limit, for at most `timeoutMs`; what is still pending
   * then is dropped (and counted), so shutdown never waits on Events.
   */
  async close(timeoutMs = 5_000): Promise<void> {
    this.#closed = true;
    const gaveUp = new AbortController();
    const finished = await Promise.race([
      this.flush().then(() => true),
      sleepUnlessAborted(this.#o.clock, timeoutMs, gaveUp.signal).then(() => false),
    ]);
    gaveUp.abort();
    if (!finished) {
      const dropped = this.#queue.length;
      this.#queue = [];
      for (let i = 0; i < dropped; i++) this.#count("dropped");
      this.#log.warn({ dropped, timeoutMs }, "Events still pending at shutdown were dropped");
    }
  }

  #record(regarding: KubeObject, info: EventInfo): void {
    if (this.#closed) {
      this.#count("dropped");
      return;
    }
    if (info.type !== "Normal" && info.type !== "Warning") {
      throw new TypeError(`Event type must be Normal or Warning, got ${JSON.stringify(info.type)}`);
    }
    if (!CAMEL_CASE.test(info.reason) || info.reason.length > 128) {
      throw new TypeError(`Event reason must be CamelCase and at most 128 characters, got ${JSON.stringify(info.reason)}`);
    }
    if (!CAMEL_CASE.test(info.action) || info.action.length > 128) {
      throw new TypeError(`Event action must be CamelCase and at most 128 characters, got ${JSON.stringify(info.action)}`);
    }
    const name = regarding.metadata?.name;
    if (!name) throw new TypeError(`An Event needs a regarding object with a name (kind ${JSON.stringify(regarding.kind)})`);
    let note = info.note ?? "";
    if (this.#o.redact) note = this.#o.redact(note);
    note = redactUrlUserinfo(note); // whoever wrote the note, no URL in it keeps its password
    if (note.length > NOTE_LIMIT) note = `${note.slice(0, NOTE_LIMIT - 3)}...`;
    const now = this.#o.clock.now();
    const ref = referenceTo(regarding);
    const related = info.related ? referenceTo(info.related) : undefined;
    // A digest of what makes two Events the same: the note and references make the text itself a few hundred bytes.
    const key = createHash("sha1")
      .update(JSON.stringify([ref.apiVersion, ref.kind, ref.namespace, ref.name, ref.uid, info.type, info.reason, info.action, note, related ?? null]))
      .digest("base64");
    this.#sweep(now);
    const existing = this.#series.get(key);
    const namespace = regarding.metadata?.namespace || "default";
    const event = (objectName: string, firstSeen: number): KubeEvent => ({
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { namespace, name: objectName },
      eventTime: microTime(firstSeen),
      reportingController: this.#o.reportingController,
      reportingInstance: this.#o.reportingInstance,
      action: info.action,
      reason: info.reason,
      regarding: ref,
      ...(related ? { related } : {}),
      ...(note ? { note } : {}),
      type: info.type,
    });
    if (existing !== undefined && now - existing.lastObserved <= this.#o.aggregationWindowMs) {
      // Most recently seen last: the map's order is the LRU order.
      this.#series.delete(key);
      this.#series.set(key, existing);
      existing.count++;
      existing.lastObserved = now;
      this.#count("aggregated");
      if (!existing.writeQueued) {
        existing.writeQueued = true;
        // Kept for the write, should the Event have expired meanwhile and need creating again.
        existing.body = event(existing.name, existing.firstSeen);
        this.#enqueue(() => this.#write(existing));
      }
      return;
    }
    const created = event(eventName(name, now), now);
    const series: Series = { namespace, name: created.metadata!.name!, body: created, count: 1, lastObserved: now, firstSeen: now, written: false, writeQueued: true };
    this.#series.delete(key);
    this.#series.set(key, series);
    // The least recently seen series goes (a write it has queued still runs: the task holds it).
    if (this.#series.size > this.#o.maxSeries) this.#series.delete(this.#series.keys().next().value!);
    this.#enqueue(() => this.#write(series));
  }

  /** Creates the Event, or patches its series; whatever the counts are when the write runs. */
  async #write(series: Series): Promise<void> {
    series.writeQueued = false;
    const event = series.body!;
    series.body = undefined;
    const seriesField = series.count > 1 ? { count: series.count, lastObservedTime: microTime(series.lastObserved) } : undefined;
    try {
      if (series.written) {
        try {
          await this.#o.sink.patch(EVENTS, { namespace: series.namespace, name: series.name }, { series: seriesField }, { type: "merge" });
          return;
        } catch (error) {
          if (!isNotFound(error)) throw error;
          // The Event expired meanwhile: write it again below.
        }
      }
      const body = () => ({ ...event, metadata: { namespace: series.namespace, name: series.name }, ...(seriesField ? { series: seriesField } : {}) });
      try {
        await this.#o.sink.create(EVENTS, body());
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
        // Another recorder took the name in the same instant: take a new one.
        series.name = eventName(event.regarding.name ?? "event", this.#o.clock.now());
        await this.#o.sink.create(EVENTS, body());
      }
      series.written = true;
      this.#count("created");
    } catch (error) {
      this.#count("failed");
      this.#log.warn({ err: error, event: `${series.namespace}/${series.name}`, reason: event.reason }, "could not write event");
    }
  }

  #enqueue(task: () => Promise<void>): void {
    if (this.#queue.length >= this.#o.maxPending) {
      this.#count("dropped");
      return;
    }
    this.#queue.push(task);
    if (!this.#draining) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    for (let task = this.#queue.shift(); task !== undefined; task = this.#queue.shift()) {
      const delay = this.#closed ? 0 : this.#bucket.when("events");
      if (delay > 0) await sleep(this.#o.clock, delay);
      await task();
    }
    this.#draining = false;
    for (const wake of this.#idle.splice(0)) wake();
  }

  /** Forgets series whose window has passed, so the cache stays small; at most once a second. */
  #sweep(now: number): void {
    if (this.#series.size < 256 || now - this.#lastSweep < 1_000) return;
    this.#lastSweep = now;
    for (const [key, s] of this.#series) {
      if (now - s.lastObserved > this.#o.aggregationWindowMs && !s.writeQueued) this.#series.delete(key);
    }
  }

  #count(result: "created" | "aggregated" | "dropped" | "failed"): void {
    this.#metric.inc({ controller: this.#o.reportingController, result });
  }
}

/** The `ObjectReference` of an object, as Events carry it. */
export function referenceTo(object: KubeObject): ObjectReference {
  const m = object.metadata ?? {};
  const ref: ObjectReference = { apiVersion: object.apiVersion, kind: object.kind, name: m.name };
  if (m.namespace) ref.namespace = m.namespace;
  if (m.uid) ref.uid = m.uid;
  if (m.resourceVersion) ref.resourceVersion = m.resourceVersion;
  return ref;
}

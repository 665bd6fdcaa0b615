/**
 * A keyed, deduplicating, rate-limited work queue with client-go's semantics
 * (the `workqueue` package's Typed, Delaying and RateLimiting queues in one).
 *
 * - A key waits in the queue at most once: adding it again is a no-op.
 * - A key handed out by {@link WorkQueue.get} is *processing* until
 *   {@link WorkQueue.done}; it is never handed out twice at once. Added while
 *   processing, it is marked dirty and handed out again once after `done`.
 * - {@link WorkQueue.addAfter} delays an add; {@link WorkQueue.addRateLimited}
 *   delays it by the rate limiter. A key has one place in the queue, at its
 *   earliest time, as in controller-runtime's priority queue (its default
 *   since v0.23): of several delays the earliest wins, an add now supersedes a
 *   pending delay, and a delay for a key already due is dropped. The reconcile
 *   that runs returns its own requeue, so an older one is not needed.
 *
 * @module
 */
import type { Registry } from "prom-client";
import { type Clock, realClock, type Timer } from "./clock.ts";
import { MinHeap } from "./min-heap.ts";
import { counter, defaultRegistry, exponentialBuckets, gauge, histogram, type GaugeSource, sampledGauge } from "./metrics.ts";
import { defaultControllerRateLimiter, type RateLimiter } from "./rate-limiter.ts";

/** Options of a {@link WorkQueue}. */
export interface WorkQueueOptions {
  /** Names the queue in metrics (labels `name` and `controller`). */
  name: string;
  /** @default defaultControllerRateLimiter() */
  rateLimiter?: RateLimiter;
  clock?: Clock;
  /** Where the `workqueue_*` metrics go. @default defaultRegistry */
  registry?: Registry;
}

/** A delayed add: `key` is due at `at`; outdated once `#delayed` holds another time for it (or none). */
interface Due {
  key: string;
  at: number;
}

/** Every live queue per registry, for the gauges computed at scrape time. */
const liveQueues = new WeakMap<Registry, Set<WorkQueue>>();

function queueMetrics(registry: Registry) {
  const labelNames = ["name", "controller"] as const;
  const queues = () => liveQueues.get(registry) ?? new Set<WorkQueue>();
  return {
    depth: sampledGauge(registry, { name: "workqueue_depth", help: "Current depth of workqueue", labelNames }),
    adds: counter(registry, { name: "workqueue_adds_total", help: "Total number of adds handled by workqueue", labelNames }),
    queueDuration: histogram(registry, {
      name: "workqueue_queue_duration_seconds",
      help: "How long in seconds an item stays in workqueue before being requested",
      labelNames,
      buckets: exponentialBuckets(1e-8, 10, 12),
    }),
    workDuration: histogram(registry, {
      name: "workqueue_work_duration_seconds",
      help: "How long in seconds processing an item from workqueue takes",
      labelNames,
      buckets: exponentialBuckets(1e-8, 10, 12),
    }),
    unfinished: gauge(registry, {
      name: "workqueue_unfinished_work_seconds",
      help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads.",
      labelNames,
      collect() {
        for (const q of queues()) this.set(q.labels, q.unfinishedWorkSeconds());
      },
    }),
    longest: gauge(registry, {
      name: "workqueue_longest_running_processor_seconds",
      help: "How many seconds has the longest running processor for workqueue been running.",
      labelNames,
      collect() {
        for (const q of queues()) this.set(q.labels, q.longestRunningProcessorSeconds());
      },
    }),
    retries: counter(registry, { name: "workqueue_retries_total", help: "Total number of retries handled by workqueue", labelNames }),
  };
}

/**
 * The queue between event handlers and reconcile workers.
 *
 * @example
 * ```ts
 * const queue = new WorkQueue({ name: "bmceventsubscription" });
 * queue.add("default/sub-1");
 * const key = await queue.get(); // "default/sub-1", or undefined once shut down
 * try { await work(key); queue.forget(key); } catch { queue.addRateLimited(key); } finally { queue.done(key); }
 * ```
 */
export class WorkQueue {
  /** The metric labels of this queue. */
  readonly labels: { name: string; controller: string };
  readonly #rateLimiter: RateLimiter;
  readonly #clock: Clock;
  readonly #registry: Registry;
  readonly #metrics: ReturnType<typeof queueMetrics>;
  /** Keys waiting to be handed out, in order. */
  #queue: string[] = [];
  /** Keys that need processing: waiting in `#queue`, or processing and to be re-queued. */
  readonly #dirty = new Set<string>();
  /** Keys handed out and not yet done, with the time they were handed out. */
  readonly #processing = new Map<string, number>();
  /** When each waiting key was added, for `workqueue_queue_duration_seconds`. */
  readonly #addedAt = new Map<string, number>();
  /**
   * Delayed keys and when each is due. One timer serves them all, armed for the
   * earliest of `#due` (a binary min-heap by time): thousands of requeues an hour
   * apart then cost a map entry and a heap slot each, not a Node.js timer each.
   */
  readonly #delayed = new Map<string, number>();
  readonly #due = new MinHeap<Due>((due) => due.at);
  #timer: Timer | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #waiters: ((key: string | undefined) => void)[] = [];
  /** `workqueue_depth`, read when scraped. */
  readonly #depthSource: GaugeSource<"name" | "controller">;
  #drainWaiters: (() => void)[] = [];
  #shuttingDown = false;

  constructor(options: WorkQueueOptions) {
    this.labels = { name: options.name, controller: options.name };
    this.#depthSource = { labels: this.labels, sample: () => this.#queue.length };
    this.#clock = options.clock ?? realClock;
    this.#rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter({ clock: this.#clock });
    this.#registry = options.registry ?? defaultRegistry;
    this.#metrics = queueMetrics(this.#registry);
    let live = liveQueues.get(this.#registry);
    if (live === undefined) liveQueues.set(this.#registry, (live = new Set()));
    live.add(this);
    this.#metrics.depth.add(this.#depthSource);
  }

  /** Keys waiting to be handed out (not counting processing or delayed keys). */
  get length(): number {
    return this.#queue.length;
  }

  /** Whether {@link shutDown} was called. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Queues `key` unless it is already waiting; a processing key is re-queued
   * after `done`. A pending delayed add of `key` is dropped.
   */
  add(key: string): void {
    if (this.#shuttingDown) return;
    // Its slot in the heap is outdated now, and skipped when it comes due.
    this.#delayed.delete(key);
    if (this.#dirty.has(key)) return;
    this.#metrics.adds.inc(this.labels);
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    this.#push(key);
  }

  /**
   * Queues `key` after `ms` milliseconds; of several pending delays for one key
   * the earliest wins, and none is kept for a key already waiting or marked to
   * be re-queued after `done`.
   */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (this.#dirty.has(key)) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const at = this.#clock.now() + ms;
    const pending = this.#delayed.get(key);
    if (pending !== undefined && pending <= at) return;
    this.#delayed.set(key, at);
    // Outdated slots are dropped when they come due; rebuilt when they outnumber the live ones.
    if (this.#due.size >= 2 * this.#delayed.size + 1024) {
      this.#due.clear();
      for (const [k, t] of this.#delayed) this.#due.push({ key: k, at: t });
    } else {
      this.#due.push({ key, at });
    }
    this.#arm();
  }

  /** Arms the one timer for the earliest due key, unless it is armed for that time or earlier. */
  #arm(): void {
    const next = this.#due.peek();
    if (next === undefined) {
      this.#timer?.cancel();
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.#timer !== undefined && this.#timerAt <= next.at) return;
    this.#timer?.cancel();
    this.#timerAt = next.at;
    this.#timer = this.#clock.setTimer(() => this.#fire(), Math.max(1, Math.ceil(next.at - this.#clock.now())));
  }

  /** Adds every key due by now, then arms the timer for the next. */
  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    for (let next = this.#due.peek(); next !== undefined && next.at <= now; next = this.#due.peek()) {
      const { key, at } = this.#due.pop()!;
      if (this.#delayed.get(key) !== at) continue;
      this.#delayed.delete(key);
      this.add(key);
    }
    this.#arm();
  }

  /** Queues `key` after the delay the rate limiter gives it (one more failure). */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    this.#metrics.retries.inc(this.labels);
    this.addAfter(key, this.#rateLimiter.when(key));
  }

  /** Clears the failures of `key` in the rate limiter; call it after a success. */
  forget(key: string): void {
    this.#rateLimiter.forget(key);
  }

  /** How many times `key` was rate-limited since it was last forgotten. */
  numRequeues(key: string): number {
    return this.#rateLimiter.numRequeues(key);
  }

  /**
   * The next key to process, waiting for one if needed; `undefined` once the
   * queue shuts down. The caller must call {@link done} with the key.
   */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#queue.shift();
    if (key !== undefined) return Promise.resolve(this.#handOut(key));
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks `key` as processed; a key added meanwhile goes back into the queue. */
  done(key: string): void {
    const started = this.#processing.get(key);
    if (started === undefined) return;
    this.#processing.delete(key);
    this.#metrics.workDuration.observe(this.labels, (this.#clock.now() - started) / 1000);
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#push(key);
    if (this.#processing.size === 0) {
      for (const resolve of this.#drainWaiters.splice(0)) resolve();
    }
  }

  /**
   * Stops the queue: adds are ignored, delayed adds are dropped, waiting keys
   * are discarded and every pending {@link get} resolves to `undefined`.
   * Keys being processed may still be marked {@link done}.
   */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#delayed.clear();
    this.#due.clear();
    this.#queue = [];
    this.#dirty.clear();
    this.#addedAt.clear();
    this.#metrics.depth.delete(this.#depthSource);
    for (const resolve of this.#waiters.splice(0)) resolve(undefined);
    liveQueues.get(this.#registry)?.delete(this);
  }

  /** {@link shutDown}, then waits until every key being processed is done. */
  async shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return;
    await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Seconds of work in progress (summed over processing keys). */
  unfinishedWorkSeconds(): number {
    const now = this.#clock.now();
    let total = 0;
    for (const started of this.#processing.values()) total += now - started;
    return total / 1000;
  }

  /** Seconds the longest-running processing key has been running. */
  longestRunningProcessorSeconds(): number {
    const now = this.#clock.now();
    let longest = 0;
    for (const started of this.#processing.values()) longest = Math.max(longest, now - started);
    return longest / 1000;
  }

  #push(key: string): void {
    const waiter = this.#waiters.shift();
    this.#addedAt.set(key, this.#clock.now());
    if (waiter !== undefined) {
      waiter(this.#handOut(key));
      return;
    }
    this.#queue.push(key);
  }

  #handOut(key: string): string {
    const now = this.#clock.now();
    const added = this.#addedAt.get(key) ?? now;
    this.#addedAt.delete(key);
    this.#metrics.queueDuration.observe(this.labels, (now - added) / 1000);
    this.#dirty.delete(key);
    this.#processing.set(key, now);
    return key;
  }
}


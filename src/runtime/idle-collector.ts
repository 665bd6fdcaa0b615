/**
 * Gives the memory of a burst back once the operator is idle again.
 *
 * V8 grows its heap while many objects are reconciled at once and keeps it
 * when the work stops: after 10,000 resources converged, an operator with
 * about 70 MiB of live objects stayed at about 490 MiB resident. Its own
 * memory reducer does not shrink a heap that is no longer allocated into. One
 * major collection once the work queues have stayed empty lets V8 compact
 * the heap and release its free pages (491 → 214 MiB settled in the footprint
 * benchmark, docs/benchmarks.md).
 *
 * It collects at most once per check: at the first idle stretch after start-up
 * (start-up is a burst too), then only after the heap grew by `growthBytes`
 * or by `growthRatio` of its size after the last collection, whichever is
 * more, so an idle operator, or one with a steady trickle of work (the Events
 * of a burst are written for minutes after it), is not collected over and over.
 *
 * @module
 */
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type Clock, realClock, type Timer } from "./clock.ts";
import { type Logger, silentLogger } from "./logger.ts";

/** Options of an {@link IdleCollector}. */
export interface IdleCollectorOptions {
  /** Whether there is no work now (queues empty, no reconcile running). */
  isIdle: () => boolean;
  /** How often to look, in ms; idle at two looks in a row counts as idle. @default 5_000 */
  intervalMs?: number;
  /** The least the heap must have grown since the last collection to collect again, in bytes. @default 16 MiB */
  growthBytes?: number;
  /** The least the heap must have grown since the last collection, as a share of its size after it. @default 0.25 */
  growthRatio?: number;
  /** The heap's size now. @default V8's `total_heap_size` */
  heapBytes?: () => number;
  /** Runs a major collection. @default V8's `gc()` */
  collect?: () => void;
  clock?: Clock;
  logger?: Logger;
}

/** Runs one major garbage collection when the process turns idle after its heap grew. */
export class IdleCollector {
  readonly #isIdle: () => boolean;
  readonly #intervalMs: number;
  readonly #growthBytes: number;
  readonly #growthRatio: number;
  /** The heap's size right after the last collection. */
  #collected = 0;
  readonly #heapBytes: () => number;
  readonly #collect: () => void;
  readonly #clock: Clock;
  readonly #log: Logger;
  #timer: Timer | undefined;
  #baseline = 0;
  #wasIdle = false;
  #collections = 0;

  constructor(options: IdleCollectorOptions) {
    this.#isIdle = options.isIdle;
    this.#intervalMs = options.intervalMs ?? 5_000;
    this.#growthBytes = options.growthBytes ?? 16 * 1024 * 1024;
    this.#growthRatio = options.growthRatio ?? 0.25;
    if (!(this.#growthRatio >= 0)) throw new RangeError(`IdleCollector growthRatio must not be negative, got ${this.#growthRatio}`);
    if (!(this.#intervalMs > 0)) throw new RangeError(`IdleCollector intervalMs must be positive, got ${this.#intervalMs}`);
    if (!(this.#growthBytes >= 0)) throw new RangeError(`IdleCollector growthBytes must not be negative, got ${this.#growthBytes}`);
    this.#heapBytes = options.heapBytes ?? (() => getHeapStatistics().total_heap_size);
    this.#collect = options.collect ?? majorCollection;
    this.#clock = options.clock ?? realClock;
    this.#log = options.logger ?? silentLogger;
  }

  /** Collections run so far. */
  get collections(): number {
    return this.#collections;
  }

  /** Starts looking; the heap's size now is the baseline. */
  start(): void {
    if (this.#timer) return;
    this.#baseline = this.#heapBytes();
    this.#wasIdle = false;
    this.#schedule();
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimer(() => {
      this.#check();
      if (this.#timer) this.#schedule();
    }, this.#intervalMs);
  }

  #check(): void {
    const idle = this.#isIdle();
    const heap = this.#heapBytes();
    // V8 may shrink the heap itself; growth counts from the smallest size seen since.
    this.#baseline = Math.min(this.#baseline, heap);
    // Start-up is a burst too (the code loaded, the caches listed): the first idle period collects whatever the growth.
    const growth = Math.max(this.#growthBytes, this.#growthRatio * this.#collected);
    if (idle && this.#wasIdle && (this.#collections === 0 || heap - this.#baseline >= growth)) {
      const started = performance.now();
      this.#collect();
      this.#baseline = this.#heapBytes();
      this.#collected = this.#baseline;
      this.#collections++;
      this.#log.info(
        { heapBefore: heap, heapAfter: this.#baseline, ms: Math.round(performance.now() - started) },
        "idle: ran a major garbage collection to give the heap's free memory back",
      );
    }
    this.#wasIdle = idle;
  }
}

let gc: ((options?: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void) | undefined;

/** V8's `gc()`: a full, compacting collection (exposed once, at first use, into a context of its own). */
function majorCollection(): void {
  if (gc === undefined) {
    const global = (globalThis as { gc?: () => void }).gc;
    if (typeof global === "function") {
      gc = global;
    } else {
      setFlagsFromString("--expose-gc");
      gc = runInNewContext("gc") as () => void;
    }
  }
  gc({ type: "major", execution: "sync", flavor: "last-resort" });
}

/**
 * Rate limiters for work queues, as client-go's `workqueue` package: how long
 * a key waits before it is retried.
 *
 * @module
 */
import { type Clock, realClock } from "./clock.ts";

/** Decides how long a key waits before its next attempt. */
export interface RateLimiter {
  /** The delay before `key` is handed out again, in milliseconds; counts one more failure. */
  when(key: string): number;
  /** Clears the failures of `key`, after a success. */
  forget(key: string): void;
  /** How many times `key` was delayed since it was last forgotten. */
  numRequeues(key: string): number;
}

/**
 * Per-key exponential backoff: `base · 2^failures`, capped at `max`
 * (client-go's `ItemExponentialFailureRateLimiter`).
 */
export class ItemExponentialFailureRateLimiter implements RateLimiter {
  readonly #failures = new Map<string, number>();
  readonly #base: number;
  readonly #max: number;

  /**
   * @param base The first delay in milliseconds. @default 5
   * @param max The longest delay in milliseconds. @default 1_000_000 (1000 s)
   */
  constructor(base = 5, max = 1_000_000) {
    if (!(base > 0) || !(max >= base)) {
      throw new RangeError(`Exponential rate limiter needs 0 < base <= max, got base ${base} ms and max ${max} ms`);
    }
    this.#base = base;
    this.#max = max;
  }

  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const delay = this.#base * 2 ** failures;
    return Number.isFinite(delay) ? Math.min(delay, this.#max) : this.#max;
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

/**
 * An overall token bucket shared by every key: `qps` tokens a second, at most
 * `burst` saved up (client-go's `BucketRateLimiter` over `x/time/rate`).
 * Each `when` reserves a token; the delay is how long until it exists.
 */
export class BucketRateLimiter implements RateLimiter {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  /**
   * @param qps Tokens added per second. @default 10
   * @param burst Tokens the bucket holds. @default 100
   */
  constructor(qps = 10, burst = 100, clock: Clock = realClock) {
    if (!(qps > 0) || !(burst >= 1)) {
      throw new RangeError(`Bucket rate limiter needs qps > 0 and burst >= 1, got qps ${qps} and burst ${burst}`);
    }
    this.#qps = qps;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }

  when(_key: string): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#qps);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.#qps) * 1000;
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/** The longest delay of several limiters (client-go's `MaxOfRateLimiter`). */
export class MaxOfRateLimiter implements RateLimiter {
  readonly #limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    if (limiters.length === 0) throw new RangeError("MaxOfRateLimiter needs at least one limiter");
    this.#limiters = limiters;
  }

  when(key: string): number {
    return Math.max(...this.#limiters.map((l) => l.when(key)));
  }

  forget(key: string): void {
    for (const l of this.#limiters) l.forget(key);
  }

  numRequeues(key: string): number {
    return Math.max(...this.#limiters.map((l) => l.numRequeues(key)));
  }
}

/** Options of {@link defaultControllerRateLimiter}. */
export interface ControllerRateLimiterOptions {
  /** First per-key delay in milliseconds. @default 5 */
  baseDelay?: number;
  /** Longest per-key delay in milliseconds. @default 1_000_000 */
  maxDelay?: number;
  /** Overall retries per second. @default 10 */
  qps?: number;
  /** Overall burst. @default 100 */
  burst?: number;
  clock?: Clock;
}

/**
 * controller-runtime's `DefaultTypedControllerRateLimiter`: the max of a
 * per-key exponential (5 ms · 2^n, capped at 1000 s) and an overall bucket
 * (10 qps, burst 100).
 */
export function defaultControllerRateLimiter(options: ControllerRateLimiterOptions = {}): RateLimiter {
  return new MaxOfRateLimiter(
    new ItemExponentialFailureRateLimiter(options.baseDelay ?? 5, options.maxDelay ?? 1_000_000),
    new BucketRateLimiter(options.qps ?? 10, options.burst ?? 100, options.clock ?? realClock),
  );
}

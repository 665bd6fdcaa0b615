/**
 * Retrying a write that lost an optimistic-concurrency race, as client-go's
 * `retry.RetryOnConflict`.
 *
 * @module
 */
import { isConflict } from "./api-error.ts";
import { Backoff, type BackoffOptions } from "./backoff.ts";
import { type Clock, realClock, sleep } from "./clock.ts";

/** A backoff with a number of attempts, as client-go's `wait.Backoff`. */
export interface RetryBackoff extends BackoffOptions {
  /** How many times to call the function at most. */
  steps: number;
}

/** client-go's `retry.DefaultRetry`: 5 attempts, 10 ms apart, jitter 0.1. */
export const DEFAULT_RETRY: Readonly<RetryBackoff> = Object.freeze({ steps: 5, duration: 10, factor: 1, jitter: 0.1 });

/** client-go's `retry.DefaultBackoff`: 4 attempts from 10 ms, growing 5× each time, jitter 0.1. */
export const DEFAULT_BACKOFF: Readonly<RetryBackoff> = Object.freeze({ steps: 4, duration: 10, factor: 5, jitter: 0.1 });

/** Options of {@link retryOnError} and {@link retryOnConflict}. */
export interface RetryOptions {
  /** @default DEFAULT_RETRY */
  backoff?: RetryBackoff;
  clock?: Clock;
  signal?: AbortSignal;
}

/**
 * Calls `fn` until it succeeds, it throws an error `retriable` rejects, or
 * `backoff.steps` attempts were made; the last error is rethrown.
 */
export async function retryOnError<T>(
  retriable: (error: unknown) => boolean,
  fn: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const spec = options.backoff ?? DEFAULT_RETRY;
  const backoff = new Backoff(spec);
  const clock = options.clock ?? realClock;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= spec.steps || !retriable(error)) throw error;
    }
    await sleep(clock, backoff.next(), options.signal);
  }
}

/**
 * Calls `fn` again while it fails with 409 Conflict: `fn` should read the
 * latest object, change it and write it back.
 *
 * @example
 * ```ts
 * await retryOnConflict(async () => {
 *   const host = await client.get(BareMetalHosts, ref);
 *   host.status = { ...host.status, operationalStatus: "OK" };
 *   return client.updateStatus(BareMetalHosts, host);
 * });
 * ```
 */
export function retryOnConflict<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  return retryOnError(isConflict, fn, options);
}

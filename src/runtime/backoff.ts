/**
 * Exponential backoff with jitter, as client-go's `wait.Backoff`: used for
 * watch reconnects and conflict retries.
 *
 * @module
 */

/** The shape of a backoff, with client-go's field names. */
export interface BackoffOptions {
  /** The first delay, in milliseconds. */
  duration: number;
  /** Multiplier applied to the delay after each step (1 keeps it constant). @default 2 */
  factor?: number;
  /** Adds up to `jitter × delay` of random delay (0 disables). @default 0 */
  jitter?: number;
  /** Upper bound of the delay before jitter, in milliseconds. @default Infinity */
  cap?: number;
  /** Random numbers in [0, 1), injectable for tests. @default Math.random */
  random?: () => number;
}

/**
 * A sequence of growing delays. `next()` returns the delay to wait now and
 * grows the next one; `reset()` starts over.
 *
 * @example
 * ```ts
 * const backoff = new Backoff({ duration: 800, factor: 2, jitter: 1, cap: 30_000 });
 * await sleep(realClock, backoff.next());
 * ```
 */
export class Backoff {
  readonly #options: Required<BackoffOptions>;
  #current: number;
  #attempts = 0;

  constructor(options: BackoffOptions) {
    if (!(options.duration >= 0)) {
      throw new RangeError(`Backoff duration must be a non-negative number of milliseconds, got ${options.duration}`);
    }
    this.#options = withDefaults({ factor: 2, jitter: 0, cap: Infinity, random: Math.random }, options);
    this.#current = options.duration;
  }

  /** How many delays were handed out since the last reset. */
  get attempts(): number {
    return this.#attempts;
  }

  /** The delay to wait now, in milliseconds. */
  next(): number {
    const { factor, jitter, cap, random } = this.#options;
    const base = Math.min(this.#current, cap);
    this.#current = Math.min(this.#current * factor, cap);
    this.#attempts++;
    return jitter > 0 ? base + random() * jitter * base : base;
  }

  /** Starts again from the first delay. */
  reset(): void {
    this.#current = this.#options.duration;
    this.#attempts = 0;
  }
}

/** `defaults` overridden by the options that are set (an `undefined` option keeps its default). */
export function withDefaults<D extends object, O extends object>(defaults: D, options: O): D & O {
  const result: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(options)) if (value !== undefined) result[key] = value;
  return result as D & O;
}

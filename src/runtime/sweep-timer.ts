/**
 * A timer for caches whose entries age out: once something is added it runs
 * a sweep after the entries' lifetime, and again while any are left, never
 * keeping the process up. One timer for the whole cache, not one per entry.
 *
 * @module
 */

/** Starts a timer; the default is an unref'd `setTimeout`, so a pending sweep never keeps the process up. */
export type StartTimer = (fn: () => void, ms: number) => void;

const unrefTimeout: StartTimer = (fn, ms) => {
  setTimeout(fn, ms).unref();
};

/** Runs `sweep` `delayMs` after {@link schedule}, and again while `more()` says entries are left. */
export class SweepTimer {
  readonly #delayMs: number;
  readonly #sweep: () => void;
  readonly #more: () => boolean;
  readonly #start: StartTimer;
  #pending = false;

  constructor(delayMs: number, sweep: () => void, more: () => boolean, start: StartTimer = unrefTimeout) {
    this.#delayMs = delayMs;
    this.#sweep = sweep;
    this.#more = more;
    this.#start = start;
  }

  /** Makes sure a sweep is due (one at a time). */
  schedule(): void {
    if (this.#pending) return;
    this.#pending = true;
    this.#start(() => {
      this.#pending = false;
      this.#sweep();
      if (this.#more()) this.schedule();
    }, this.#delayMs);
  }
}

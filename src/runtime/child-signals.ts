/**
 * Child abort signals of one long-lived parent, linked in constant time.
 *
 * Every listener added to an `AbortSignal` walks the signal's whole listener
 * list (the DOM rule against duplicates), and so does every removal. When
 * hundreds of concurrent reconciles hand the operator's one shutdown signal to
 * undici and the BMC call limiter, each of their requests adds and removes a
 * listener on it, and that walk costs more CPU than the request. A
 * {@link ChildSignals} puts one listener on the parent and gives each
 * reconcile a signal of its own, with few listeners, that aborts with the
 * parent.
 *
 * ```ts
 * const children = new ChildSignals(shutdown);
 * const child = children.open();
 * try {
 *   await reconcile(child.signal);
 * } finally {
 *   child.close();
 * }
 * ```
 *
 * @module
 */

/** One child signal; close it when done so the parent forgets it. */
export interface ChildSignal {
  /** Aborts when the parent aborts (with the parent's reason) or when {@link abort} is called. */
  readonly signal: AbortSignal;
  /** Aborts this child only. */
  abort(reason: unknown): void;
  /** Unlinks the child from its parent; it no longer aborts with it. */
  close(): void;
}

/** Hands out child signals of one parent; the parent carries a single listener however many are open. */
export class ChildSignals {
  readonly #parent: AbortSignal;
  readonly #open = new Set<AbortController>();
  readonly #onAbort = (): void => {
    const open = [...this.#open];
    this.#open.clear();
    for (const child of open) child.abort(this.#parent.reason);
  };

  constructor(parent: AbortSignal) {
    this.#parent = parent;
    if (!parent.aborted) parent.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Removes the listener from the parent; children open now no longer abort with it. */
  close(): void {
    this.#parent.removeEventListener("abort", this.#onAbort);
    this.#open.clear();
  }

  /** Children open now. */
  get size(): number {
    return this.#open.size;
  }

  /** A new child; already aborted when the parent is. */
  open(): ChildSignal {
    const controller = new AbortController();
    if (this.#parent.aborted) controller.abort(this.#parent.reason);
    else this.#open.add(controller);
    return {
      signal: controller.signal,
      abort: (reason) => controller.abort(reason),
      close: () => {
        this.#open.delete(controller);
      },
    };
  }
}

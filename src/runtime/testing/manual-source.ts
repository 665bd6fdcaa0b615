/**
 * An event source driven by hand, for controller unit tests.
 *
 * @module
 */
import type { EventHandler, EventSource } from "../informer.ts";
import type { KubeObject } from "../resource.ts";

/** A source whose events and sync state the test sets. */
export class ManualSource<T extends KubeObject> implements EventSource<T> {
  readonly #handlers = new Set<EventHandler<T>>();
  #synced: boolean;
  #waiters: (() => void)[] = [];

  constructor(synced = true) {
    this.#synced = synced;
  }

  addEventHandler(handler: EventHandler<T>): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      signal?.addEventListener("abort", () => resolve(false), { once: true });
      this.#waiters.push(() => resolve(true));
    });
  }

  /** Marks the source synced. */
  sync(): void {
    this.#synced = true;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** How many handlers are attached. */
  get handlers(): number {
    return this.#handlers.size;
  }

  add(object: T): void {
    for (const h of this.#handlers) h.add?.(object);
  }

  update(old: T, object: T): void {
    for (const h of this.#handlers) h.update?.(old, object);
  }

  delete(object: T): void {
    for (const h of this.#handlers) h.delete?.(object);
  }
}

/**
 * The BMC call limiter every provisioner sends its BMC calls through: at most
 * `perKey` calls in flight per BMC (the key is the BMC's address for Redfish,
 * the node for Ironic) and at most `global` in flight overall, so a burst of
 * thousands of resources never overwhelms a BMC or the provisioner.
 *
 * Waiting calls start in arrival order across all keys: when a slot frees, the
 * oldest waiting call whose key has room goes first. A call whose key is full
 * never blocks calls for other keys behind it.
 *
 * ```ts
 * const limiter = new BmcCallLimiter({ perKey: 1, global: 64 });
 * const body = await limiter.run("https://10.0.0.5:443", (signal) => fetchSystem(signal), signal);
 * ```
 *
 * @module
 */
import { MinHeap } from "../runtime/min-heap.ts";

/** How many calls the limiter lets run, and whom it tells about them. */
export interface BmcCallLimiterOptions {
  /** Calls in flight per key (per BMC). Default 1. */
  perKey?: number;
  /** Calls in flight overall. Default 64. */
  global?: number;
  /** Metrics hooks. */
  observer?: BmcCallLimiterObserver;
}

/** Metrics hooks of a {@link BmcCallLimiter}; each is called synchronously, so keep them cheap. */
export interface BmcCallLimiterObserver {
  /** Called whenever the number of running or waiting calls changes. */
  changed?(inFlight: number, waiting: number): void;
  /** Called when a call starts, with how long it waited for its slot, in milliseconds. */
  started?(key: string, waitedMs: number): void;
}

/** Default number of calls in flight per BMC. */
export const DEFAULT_PER_KEY = 1;
/** Default number of BMC calls in flight overall. */
export const DEFAULT_GLOBAL = 64;

interface Waiter {
  readonly seq: number;
  readonly key: string;
  readonly enqueuedAt: number;
  readonly start: () => void;
  cancelled: boolean;
}

interface KeyState {
  inFlight: number;
  /** Waiters in arrival order; `head` is the index of the first one not yet taken. */
  queue: Waiter[];
  head: number;
  /** Whether the key has an entry in the ready heap. */
  inHeap: boolean;
}

interface HeapEntry {
  key: string;
  seq: number;
}

function checkLimit(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`BmcCallLimiter: ${name} must be a whole number of at least 1, got ${value}`);
  }
  return value;
}

/**
 * Caps BMC calls per key and overall, starting waiting calls in FIFO order.
 * One instance is shared by all the controllers of a process.
 */
export class BmcCallLimiter {
  readonly perKey: number;
  readonly global: number;
  readonly #observer: BmcCallLimiterObserver | undefined;
  readonly #keys = new Map<string, KeyState>();
  /** Keys with room and a waiter, ordered by their first waiter's arrival. */
  readonly #ready = new MinHeap<HeapEntry>((entry) => entry.seq);
  #seq = 0;
  #inFlight = 0;
  #waiting = 0;

  constructor(options: BmcCallLimiterOptions = {}) {
    this.perKey = checkLimit("perKey", options.perKey ?? DEFAULT_PER_KEY);
    this.global = checkLimit("global", options.global ?? DEFAULT_GLOBAL);
    this.#observer = options.observer;
  }

  /** Calls running now, over all keys. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Calls waiting for a slot, over all keys. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Calls running now for one key. */
  inFlightFor(key: string): number {
    return this.#keys.get(key)?.inFlight ?? 0;
  }

  /**
   * Runs `call` once a slot for `key` is free, and settles with its result.
   * If `signal` aborts while the call is still waiting, it never runs and the
   * promise rejects with the signal's reason; once running, `call` receives
   * the signal and must honour it itself.
   */
  run<T>(key: string, call: (signal?: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<T>((resolve, reject) => {
      let state = this.#keys.get(key);
      if (state === undefined) {
        state = { inFlight: 0, queue: [], head: 0, inHeap: false };
        this.#keys.set(key, state);
      }
      const onAbort = (): void => {
        if (waiter.cancelled) return;
        waiter.cancelled = true;
        this.#waiting--;
        this.#changed();
        this.#dropIfIdle(key);
        reject(signal?.reason as Error);
      };
      const waiter: Waiter = {
        seq: this.#seq++,
        key,
        enqueuedAt: performance.now(),
        cancelled: false,
        start: () => {
          signal?.removeEventListener("abort", onAbort);
          this.#observer?.started?.(key, performance.now() - waiter.enqueuedAt);
          // An async wrapper turns a synchronous throw into a rejection.
          const result = (async () => call(signal))();
          // Free the slot before the caller sees the outcome.
          result.then(
            (value) => {
              this.#release(key);
              resolve(value);
            },
            (error: Error) => {
              this.#release(key);
              reject(error);
            },
          );
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      state.queue.push(waiter);
      this.#waiting++;
      this.#markReady(key, state);
      this.#changed();
      this.#dispatch();
    });
  }

  /** Puts `key` on the ready heap if it has room and a waiter and is not there yet. */
  #markReady(key: string, state: KeyState): void {
    if (state.inHeap || state.inFlight >= this.perKey) return;
    const first = this.#firstWaiter(state);
    if (first === undefined) return;
    state.inHeap = true;
    this.#ready.push({ key, seq: first.seq });
  }

  /** The key's first waiter that was not cancelled, dropping cancelled ones from the front. */
  #firstWaiter(state: KeyState): Waiter | undefined {
    while (state.head < state.queue.length) {
      const waiter = state.queue[state.head];
      if (waiter !== undefined && !waiter.cancelled) return waiter;
      state.head++;
    }
    this.#compact(state);
    return undefined;
  }

  #compact(state: KeyState): void {
    if (state.head > 64 && state.head * 2 > state.queue.length) {
      state.queue = state.queue.slice(state.head);
      state.head = 0;
    } else if (state.head === state.queue.length) {
      state.queue = [];
      state.head = 0;
    }
  }

  /** Starts waiting calls while there is global room, oldest eligible first. */
  #dispatch(): void {
    while (this.#inFlight < this.global && this.#ready.size > 0) {
      const entry = this.#ready.pop()!;
      const state = this.#keys.get(entry.key);
      if (state === undefined) continue;
      state.inHeap = false;
      if (state.inFlight >= this.perKey) continue;
      const waiter = this.#firstWaiter(state);
      if (waiter === undefined) {
        this.#dropIfIdle(entry.key);
        continue;
      }
      if (waiter.seq !== entry.seq) {
        // The entry's waiter was cancelled; re-order the key by its new first waiter.
        state.inHeap = true;
        this.#ready.push({ key: entry.key, seq: waiter.seq });
        continue;
      }
      state.head++;
      this.#compact(state);
      state.inFlight++;
      this.#inFlight++;
      this.#waiting--;
      this.#markReady(entry.key, state);
      this.#changed();
      waiter.start();
    }
  }

  #release(key: string): void {
    const state = this.#keys.get(key);
    if (state === undefined) return;
    state.inFlight--;
    this.#inFlight--;
    this.#markReady(key, state);
    this.#changed();
    this.#dropIfIdle(key);
    this.#dispatch();
  }

  #dropIfIdle(key: string): void {
    const state = this.#keys.get(key);
    if (state === undefined || state.inFlight > 0 || state.inHeap) return;
    if (this.#firstWaiter(state) === undefined) this.#keys.delete(key);
  }

  #changed(): void {
    this.#observer?.changed?.(this.#inFlight, this.#waiting);
  }
}

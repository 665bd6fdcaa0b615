/**
 * A controller, with controller-runtime's semantics: event sources put keys
 * into a {@link WorkQueue}; `maxConcurrentReconciles` workers take keys out
 * and call the reconciler, never two at once for the same key; the result
 * decides what happens to the key:
 *
 * | outcome | queue | `controller_runtime_reconcile_total{result}` |
 * |---|---|---|
 * | `{}` or nothing | forget | `success` |
 * | `{ requeueAfter: ms }` | forget, then add after `ms` | `requeue_after` |
 * | `{ requeue: true }` | add rate-limited | `requeue` |
 * | throws | add rate-limited | `error` |
 * | throws {@link TerminalError} | forget | `error` (+ terminal errors) |
 *
 * A programming error (`TypeError`, `ReferenceError`, `RangeError`,
 * `SyntaxError`) is JavaScript's panic: it is recovered like any error and
 * also counted in `controller_runtime_reconcile_panics_total`.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import type { Registry } from "prom-client";
import { type Clock, realClock, sleepUnlessAborted, type Timer } from "./clock.ts";
import { ChildSignals } from "./child-signals.ts";
import type { EventSource } from "./informer.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { counter, defaultRegistry, gauge, histogram, sampledGauge } from "./metrics.ts";
import type { Predicate } from "./predicates.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import { type ReconcileContext, type Reconciler, type Request, type Result, TerminalError } from "./reconcile.ts";
import { keyOf, type KubeObject, parseKey, refOf } from "./resource.ts";
import { WorkQueue } from "./work-queue.ts";

/** Options of a {@link Controller}. */
export interface ControllerOptions {
  /** Names the controller in logs and metrics; unique per manager. */
  name: string;
  reconcile: Reconciler;
  /** Workers reconciling different keys at once. @default 1 */
  maxConcurrentReconciles?: number;
  /** @default defaultControllerRateLimiter() */
  rateLimiter?: RateLimiter;
  /** Longest wait for the sources' caches before start fails, in ms. @default 120_000 */
  cacheSyncTimeoutMs?: number;
  /** Aborts a reconcile's signal after this many ms; 0 disables. @default 0 */
  reconcileTimeoutMs?: number;
  logger?: Logger;
  registry?: Registry;
  clock?: Clock;
}

/** How events of one source become requests. */
export interface WatchOptions<T extends KubeObject> {
  /**
   * Maps an object to the requests to enqueue (controller-runtime's
   * `EnqueueRequestsFromMapFunc`); the object's own key when unset
   * (`EnqueueRequestForObject`). On update both the old and the new object
   * are mapped.
   */
  map?: (object: T) => Request[];
  /** Filters events before mapping; all must pass. */
  predicates?: Predicate<T>[];
}

const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2,
  2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

function controllerMetrics(registry: Registry) {
  const labelNames = ["controller"] as const;
  return {
    total: counter(registry, {
      name: "controller_runtime_reconcile_total",
      help: "Total number of reconciliations per controller",
      labelNames: ["controller", "result"] as const,
    }),
    errors: counter(registry, { name: "controller_runtime_reconcile_errors_total", help: "Total number of reconciliation errors per controller", labelNames }),
    terminal: counter(registry, {
      name: "controller_runtime_terminal_reconcile_errors_total",
      help: "Total number of terminal reconciliation errors per controller",
      labelNames,
    }),
    panics: counter(registry, { name: "controller_runtime_reconcile_panics_total", help: "Total number of reconciliation panics per controller", labelNames }),
    timeouts: counter(registry, {
      name: "controller_runtime_reconcile_timeouts_total",
      help: "Total number of reconciliation timeouts per controller",
      labelNames,
    }),
    time: histogram(registry, {
      name: "controller_runtime_reconcile_time_seconds",
      help: "Length of time per reconciliation per controller",
      labelNames,
      buckets: RECONCILE_BUCKETS,
    }),
    maxConcurrent: gauge(registry, {
      name: "controller_runtime_max_concurrent_reconciles",
      help: "Maximum number of concurrent reconciles per controller",
      labelNames,
    }),
    active: sampledGauge(registry, { name: "controller_runtime_active_workers", help: "Number of currently used workers per controller", labelNames }),
  };
}

interface Watch {
  source: EventSource<any>;
  options: WatchOptions<any>;
}

/** Whether an error is a bug in the reconciler rather than a failure it reports. */
function isPanic(error: unknown): boolean {
  return error instanceof TypeError || error instanceof ReferenceError || error instanceof RangeError || error instanceof SyntaxError;
}

/**
 * Reconciles the objects its sources point at.
 *
 * @example
 * ```ts
 * const controller = new Controller({ name: "bmceventsubscription", reconcile: async (req, ctx) => {
 *   ctx.logger.info("reconciling");
 *   return { requeueAfter: 60_000 };
 * } });
 * controller.watch(subscriptionInformer, { predicates: [generationChanged] });
 * controller.watch(hostInformer, { map: (host) => subscriptionsOf(host) });
 * await controller.start(signal); // returns after `signal` aborts and in-flight reconciles finish
 * ```
 */
export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #options: ControllerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ReturnType<typeof controllerMetrics>;
  readonly #watches: Watch[] = [];
  readonly #labels: { controller: string };
  #started = false;
  #active = 0;

  constructor(options: ControllerOptions) {
    if (!options.name) throw new TypeError("A controller needs a name");
    const workers = options.maxConcurrentReconciles ?? 1;
    if (!Number.isInteger(workers) || workers < 1) {
      throw new RangeError(`maxConcurrentReconciles of controller "${options.name}" must be a positive integer, got ${workers}`);
    }
    this.name = options.name;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#labels = { controller: options.name };
    this.#log = (options.logger ?? silentLogger).child({ controller: options.name });
    const registry = options.registry ?? defaultRegistry;
    this.#metrics = controllerMetrics(registry);
    this.queue = new WorkQueue({ name: options.name, rateLimiter: options.rateLimiter, clock: this.#clock, registry });
    for (const result of ["success", "error", "requeue", "requeue_after"]) this.#metrics.total.inc({ ...this.#labels, result }, 0);
    for (const m of [this.#metrics.errors, this.#metrics.terminal, this.#metrics.panics, this.#metrics.timeouts]) m.inc(this.#labels, 0);
    this.#metrics.active.add({ labels: this.#labels, sample: () => this.#active });
  }

  /** Reconciles in progress right now. */
  get activeWorkers(): number {
    return this.#active;
  }

  /**
   * Enqueues requests for the events of `source`. Handlers are attached when
   * the controller starts; a source that already holds objects then reports
   * each as an add, so nothing is missed.
   */
  watch<T extends KubeObject>(source: EventSource<T>, options: WatchOptions<T> = {}): this {
    if (this.#started) throw new Error(`Controller "${this.name}" is started: add watches before start`);
    this.#watches.push({ source, options });
    return this;
  }

  /** Enqueues one request now, for triggers outside the watched sources. */
  enqueue(request: Request): void {
    this.queue.add(keyOf(request));
  }

  /**
   * Waits for the sources to sync, then reconciles until `signal` aborts;
   * resolves once the reconciles in flight have finished (their signal is
   * aborted too).
   *
   * @throws {Error} when the caches do not sync within `cacheSyncTimeoutMs`.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error(`Controller "${this.name}" was already started`);
    this.#started = true;
    // One handler per source: watches of the same source (the controller's own objects, and a map
    // over them) see each event together, so a key they both name is enqueued once.
    const bySource = new Map<Watch["source"], Watch["options"][]>();
    for (const { source, options } of this.#watches) {
      const list = bySource.get(source);
      if (list) list.push(options);
      else bySource.set(source, [options]);
    }
    const detach = [...bySource].map(([source, options]) => source.addEventHandler(this.#handlerFor(options)));
    try {
      await this.#waitForSources(signal);
      if (signal.aborted) return;
      const workers = this.#options.maxConcurrentReconciles ?? 1;
      this.#metrics.maxConcurrent.set(this.#labels, workers);
      this.#log.info({ workers }, "starting workers");
      const onAbort = () => this.queue.shutDown();
      signal.addEventListener("abort", onAbort, { once: true });
      const children = new ChildSignals(signal);
      await Promise.all(Array.from({ length: workers }, () => this.#worker(children)));
      children.close();
      signal.removeEventListener("abort", onAbort);
      this.#log.info("all workers finished");
    } finally {
      for (const d of detach) d();
      this.queue.shutDown();
    }
  }

  async #waitForSources(signal: AbortSignal): Promise<void> {
    const timeout = this.#options.cacheSyncTimeoutMs ?? 120_000;
    const giveUp = new AbortController();
    const both = AbortSignal.any([signal, giveUp.signal]);
    const timer = sleepUnlessAborted(this.#clock, timeout, both).then((elapsed) => {
      if (elapsed) giveUp.abort();
    });
    const synced = await Promise.all(this.#watches.map((w) => w.source.waitForSync(both)));
    giveUp.abort();
    await timer;
    if (!signal.aborted && synced.includes(false)) {
      throw new Error(`Controller "${this.name}" timed out after ${timeout} ms waiting for its caches to sync`);
    }
  }

  #handlerFor<T extends KubeObject>(watches: WatchOptions<T>[]) {
    // Each key once per event, over every watch of the source: an update maps both the old and
    // the new object, mostly to the same keys, and two watches of one source often name the same
    // key; a key handed to an idle worker at the first add would be marked for a second, needless
    // reconcile at the next.
    const enqueue = (keys: Set<string>) => {
      for (const key of keys) this.queue.add(key);
    };
    const collect = (keys: Set<string>, map: ((object: T) => Request[]) | undefined, objects: T[]) => {
      for (const object of objects) {
        if (map === undefined) keys.add(keyOf(refOf(object)));
        else for (const request of map(object)) keys.add(keyOf(request));
      }
    };
    return {
      add: (object: T) => {
        const keys = new Set<string>();
        for (const w of watches) if ((w.predicates ?? []).every((p) => p.add?.(object) ?? true)) collect(keys, w.map, [object]);
        enqueue(keys);
      },
      update: (old: T, object: T) => {
        const keys = new Set<string>();
        for (const w of watches) {
          if ((w.predicates ?? []).every((p) => p.update?.(old, object) ?? true)) collect(keys, w.map, w.map ? [old, object] : [object]);
        }
        enqueue(keys);
      },
      delete: (object: T) => {
        const keys = new Set<string>();
        for (const w of watches) if ((w.predicates ?? []).every((p) => p.delete?.(object) ?? true)) collect(keys, w.map, [object]);
        enqueue(keys);
      },
    };
  }

  async #worker(children: ChildSignals): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.#reconcileKey(key, children);
      } finally {
        this.queue.done(key);
      }
    }
  }

  async #reconcileKey(key: string, children: ChildSignals): Promise<void> {
    const request = parseKey(key);
    const reconcileID = randomUUID();
    // The child logger is made on first use: most reconciles find nothing to do and log nothing.
    let childLogger: Logger | undefined;
    const log = () => (childLogger ??= this.#log.child({ object: key, namespace: request.namespace, name: request.name, reconcileID }));
    // A signal of the reconcile's own, not the shared shutdown signal: the
    // listeners its requests add and remove then cost nothing (see ChildSignals).
    const child = children.open();
    const signal = child.signal;
    const timeoutMs = this.#options.reconcileTimeoutMs ?? 0;
    let timedOut = false;
    let timer: Timer | undefined;
    if (timeoutMs > 0) {
      timer = this.#clock.setTimer(() => {
        timedOut = true;
        child.abort(new Error(`Reconcile of ${key} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    }
    const context: ReconcileContext = {
      get logger() {
        return log();
      },
      signal,
      reconcileID,
      controller: this.name,
    };
    const started = this.#clock.now();
    this.#active++;
    try {
      const result: Result = (await this.#options.reconcile(request, context)) ?? {};
      if (result.requeueAfter !== undefined && result.requeueAfter > 0) {
        this.queue.forget(key);
        this.queue.addAfter(key, result.requeueAfter);
        this.#count("requeue_after");
      } else if (result.requeue) {
        this.queue.addRateLimited(key);
        this.#count("requeue");
      } else {
        this.queue.forget(key);
        this.#count("success");
      }
    } catch (error) {
      this.#metrics.errors.inc(this.#labels);
      this.#count("error");
      if (timedOut) this.#metrics.timeouts.inc(this.#labels);
      if (error instanceof TerminalError) {
        this.queue.forget(key);
        this.#metrics.terminal.inc(this.#labels);
        log().error({ err: error }, "Reconciler error (terminal, not requeued)");
      } else {
        if (isPanic(error)) {
          this.#metrics.panics.inc(this.#labels);
          log().error({ err: error }, "Observed a panic in reconciler (recovered)");
        } else {
          log().error({ err: error, retries: this.queue.numRequeues(key) }, "Reconciler error");
        }
        this.queue.addRateLimited(key);
      }
    } finally {
      timer?.cancel();
      child.close();
      this.#active--;
      this.#metrics.time.observe(this.#labels, (this.#clock.now() - started) / 1000);
    }
  }

  #count(result: "success" | "error" | "requeue" | "requeue_after"): void {
    this.#metrics.total.inc({ ...this.#labels, result });
  }
}

/**
 * An informer: keeps a {@link Store} in step with the API server and tells
 * handlers what changed, like client-go's shared informer.
 *
 * For each watched namespace (or once for all namespaces) a loop lists the
 * objects page by page, then watches from the list's resourceVersion with
 * bookmarks. A watch that ends or drops resumes from the last resourceVersion
 * seen; a 410 Expired re-lists and turns the difference into `delete` (for
 * objects gone) and `update` (for objects changed) notifications. Errors are
 * logged and counted, then retried with a jittered backoff until the informer
 * is stopped: it never stops on its own.
 *
 * @module
 */
import type { Registry } from "prom-client";
import { isGone } from "./api-error.ts";
import { Backoff, type BackoffOptions } from "./backoff.ts";
import type { CacheTransform } from "./cache-transform.ts";
import type { KubeClient } from "./client.ts";
import { type Clock, realClock, sleepUnlessAborted, type Timer } from "./clock.ts";
import type { Logger } from "./logger.ts";
import { silentLogger } from "./logger.ts";
import { counter, defaultRegistry, sampledGauge } from "./metrics.ts";
import { type KubeObject, type ObjectRef, objectKey, type Resource, resourceName } from "./resource.ts";
import { type IndexFunc, Store } from "./store.ts";

/** What an informer tells its handlers. Handlers run synchronously and should only enqueue work. */
export interface EventHandler<T> {
  /** An object appeared (in the initial list, a re-list or a watch). */
  add?(object: T): void;
  /** An object changed; on a periodic resync `old === object`. */
  update?(old: T, object: T): void;
  /** An object is gone; `object` is its last known state. */
  delete?(object: T): void;
}

/** Anything a controller can watch: an informer, or a test double. */
export interface EventSource<T> {
  /** Registers a handler; returns a function that removes it. */
  addEventHandler(handler: EventHandler<T>): () => void;
  /** Whether the initial list has been delivered. */
  hasSynced(): boolean;
  /** Resolves `true` once synced, `false` if `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean>;
}

/** Options of an {@link Informer}. */
export interface InformerOptions {
  /** Watched namespaces; all namespaces when unset or empty. One list-watch loop runs per namespace. */
  namespaces?: readonly string[];
  labelSelector?: string;
  fieldSelector?: string;
  /** Objects per list page. @default 500 */
  pageSize?: number;
  /** Re-delivers every cached object as an update this often, in ms, without calling the API; 0 disables. @default 0 */
  resyncPeriodMs?: number;
  /** The reconnect backoff. @default 800 ms doubling to 30 s, jitter 1.0 (client-go's reflector) */
  backoff?: BackoffOptions;
  /** Server-side timeout of each watch request, in seconds. @default random in [300, 600) */
  watchTimeoutSeconds?: number;
  /**
   * Applied to each object from the API before it is cached or handed to a
   * handler (client-go's `SetTransform`); it may change the object in place.
   * @default none
   */
  transform?: CacheTransform<KubeObject>;
  logger?: Logger;
  registry?: Registry;
  clock?: Clock;
}

function informerMetrics(registry: Registry) {
  return {
    lists: counter(registry, {
      name: "informer_lists_total",
      help: "Lists made by informers, by resource and reason (initial, expired, error).",
      labelNames: ["resource", "reason"] as const,
    }),
    errors: counter(registry, {
      name: "informer_errors_total",
      help: "Failed list or watch requests of informers, by resource and operation; each is retried.",
      labelNames: ["resource", "operation"] as const,
    }),
    objects: sampledGauge(registry, {
      name: "informer_cached_objects",
      help: "Objects held in the informer cache, by resource.",
      labelNames: ["resource"] as const,
    }),
  };
}

/**
 * A cache of one resource kept up to date by list and watch.
 *
 * @example
 * ```ts
 * const subs = new Informer(client, BMCEventSubscriptions, { namespaces: ["metal3"] });
 * subs.addIndex("host", (s) => [`${s.metadata.namespace}/${s.spec.hostName}`]);
 * subs.addEventHandler({ add: (s) => console.log("added", s.metadata.name) });
 * subs.start();
 * await subs.waitForSync();
 * ```
 */
export class Informer<T extends KubeObject> implements EventSource<T> {
  readonly resource: Resource<T>;
  /** The cache. Its objects are frozen: copy before changing. */
  readonly store = new Store<T>();
  /** `informer_cached_objects`, read when scraped. */
  readonly #sizeSource = { labels: {} as { resource: string }, sample: () => this.store.size };
  readonly #client: KubeClient;
  readonly #options: InformerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ReturnType<typeof informerMetrics>;
  readonly #label: string;
  readonly #handlers = new Set<EventHandler<T>>();
  readonly #synced = new Set<string | undefined>();
  readonly #scopes: (string | undefined)[];
  #syncWaiters: (() => void)[] = [];
  #abort: AbortController | undefined;
  #loops: Promise<void>[] = [];
  #resyncTimer: Timer | undefined;

  constructor(client: KubeClient, resource: Resource<T>, options: InformerOptions = {}) {
    this.resource = resource;
    this.#client = client;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#label = resourceName(resource);
    this.#sizeSource.labels.resource = this.#label;
    this.#log = (options.logger ?? silentLogger).child({ informer: this.#label });
    this.#metrics = informerMetrics(options.registry ?? defaultRegistry);
    this.#metrics.objects.add(this.#sizeSource);
    const namespaces = resource.namespaced ? [...new Set(options.namespaces ?? [])] : [];
    this.#scopes = namespaces.length > 0 ? namespaces : [undefined];
  }

  /** The watched namespaces; `undefined` means all. */
  get namespaces(): readonly string[] | undefined {
    return this.#scopes[0] === undefined ? undefined : (this.#scopes as string[]);
  }

  /**
   * Registers a handler. Added after the cache has objects, the handler is
   * first told about each of them as an `add`.
   */
  addEventHandler(handler: EventHandler<T>): () => void {
    this.#handlers.add(handler);
    for (const object of this.store.list()) this.#call(handler, "add", object);
    return () => this.#handlers.delete(handler);
  }

  /** Adds an index to the cache (see {@link Store.addIndex}). */
  addIndex(name: string, fn: IndexFunc<T>): void {
    this.store.addIndex(name, fn);
  }

  /** The cached objects whose index `name` holds `value`. */
  byIndex(name: string, value: string): T[] {
    return this.store.byIndex(name, value);
  }

  /** The cached object with this reference or key. */
  get(ref: ObjectRef | string): T | undefined {
    return this.store.get(ref);
  }

  /** The cached objects, of one namespace or all. */
  list(namespace?: string): T[] {
    return this.store.list(namespace);
  }

  /** Whether every watched namespace has been listed once. */
  hasSynced(): boolean {
    return this.#synced.size === this.#scopes.length;
  }

  /** Resolves `true` once synced, or `false` if `signal` aborts or the informer stops first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.hasSynced()) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => resolve(false);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#syncWaiters.push(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve(this.hasSynced());
      });
    });
  }

  /** Whether {@link start} was called and {@link stop} was not. */
  get running(): boolean {
    return this.#abort !== undefined;
  }

  /** Starts the list-watch loops; a no-op when running. */
  start(): void {
    if (this.#abort !== undefined) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#loops = this.#scopes.map((namespace) => this.#run(namespace, abort.signal));
    this.#scheduleResync();
  }

  /** Stops the loops and closes the watches; the cache keeps its objects. */
  async stop(): Promise<void> {
    const abort = this.#abort;
    if (abort === undefined) return;
    this.#abort = undefined;
    this.#resyncTimer?.cancel();
    abort.abort(new Error(`Informer for ${this.#label} stopped`));
    await Promise.all(this.#loops);
    this.#loops = [];
    for (const wake of this.#syncWaiters.splice(0)) wake();
  }

  async #run(namespace: string | undefined, signal: AbortSignal): Promise<void> {
    const log = namespace === undefined ? this.#log : this.#log.child({ namespace });
    const backoff = new Backoff(this.#options.backoff ?? { duration: 800, factor: 2, jitter: 1, cap: 30_000 });
    let resourceVersion: string | undefined;
    let listReason = "initial";
    while (!signal.aborted) {
      let operation = "list";
      try {
        if (resourceVersion === undefined) {
          this.#metrics.lists.inc({ resource: this.#label, reason: listReason });
          resourceVersion = await this.#relist(namespace, signal);
          this.#markSynced(namespace);
          backoff.reset();
          log.debug({ resourceVersion, objects: this.store.size }, "listed");
        }
        operation = "watch";
        const started = this.#clock.now();
        let events = 0;
        const timeoutSeconds = this.#options.watchTimeoutSeconds ?? Math.floor(300 + Math.random() * 300);
        for await (const event of this.#client.watch(this.resource, {
          namespace,
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds,
          labelSelector: this.#options.labelSelector,
          fieldSelector: this.#options.fieldSelector,
          signal,
        })) {
          events++;
          const version = event.object?.metadata?.resourceVersion;
          if (event.type !== "BOOKMARK") this.#apply(event.type, this.#transform(event.object));
          if (version) resourceVersion = version;
          backoff.reset();
        }
        // The server ended the watch (its timeout, or a restart): resume from resourceVersion.
        if (events === 0 && this.#clock.now() - started < 1000) {
          throw new Error(`Watch of ${this.#label} ended at once without events`);
        }
      } catch (error) {
        if (signal.aborted) break;
        if (isGone(error)) {
          log.info({ resourceVersion, operation }, "resourceVersion expired (410); re-listing");
          resourceVersion = undefined;
          listReason = "expired";
          if (operation === "watch") continue;
        } else {
          listReason = "error";
        }
        this.#metrics.errors.inc({ resource: this.#label, operation });
        const delay = backoff.next();
        log.warn(
          { err: error, operation, resourceVersion, attempt: backoff.attempts, retryInMs: Math.round(delay) },
          `${operation} of ${this.#label} failed; retrying`,
        );
        await sleepUnlessAborted(this.#clock, delay, signal);
      }
    }
  }

  /** Lists every page and reconciles the cache with it; returns the list's resourceVersion. */
  async #relist(namespace: string | undefined, signal: AbortSignal): Promise<string> {
    const { items, resourceVersion } = await this.#client.listAll(this.resource, {
      namespace,
      labelSelector: this.#options.labelSelector,
      fieldSelector: this.#options.fieldSelector,
      limit: this.#options.pageSize ?? 500,
      signal,
    });
    const listed = new Set<string>();
    for (const item of items) {
      listed.add(objectKey(item));
      this.#apply("ADDED", this.#transform(item));
    }
    for (const key of this.store.keys()) {
      if (listed.has(key)) continue;
      const cached = this.store.get(key)!;
      if (namespace !== undefined && cached.metadata?.namespace !== namespace) continue;
      this.#apply("DELETED", cached);
    }
    return resourceVersion;
  }

  #transform(object: T): T {
    const transform = this.#options.transform;
    return transform === undefined ? object : (transform(object) as T);
  }

  #apply(type: "ADDED" | "MODIFIED" | "DELETED", object: T): void {
    const key = objectKey(object);
    if (type === "DELETED") {
      const old = this.store.delete(key);
      if (old !== undefined) this.#notify("delete", object);
      return;
    }
    const old = this.store.get(key);
    if (old !== undefined && old.metadata?.resourceVersion === object.metadata?.resourceVersion) return;
    this.store.set(object);
    const stored = this.store.get(key)!;
    if (old === undefined) this.#notify("add", stored);
    else this.#notify("update", old, stored);
  }

  #notify(kind: "add" | "delete", object: T): void;
  #notify(kind: "update", old: T, object: T): void;
  #notify(kind: keyof EventHandler<T>, a: T, b?: T): void {
    for (const handler of this.#handlers) this.#call(handler, kind, a, b);
  }

  #call(handler: EventHandler<T>, kind: keyof EventHandler<T>, a: T, b?: T): void {
    try {
      if (kind === "update") handler.update?.(a, b!);
      else handler[kind]?.(a);
    } catch (error) {
      this.#log.error({ err: error, event: kind, object: objectKey(b ?? a) }, "event handler threw");
    }
  }

  #markSynced(namespace: string | undefined): void {
    if (this.#synced.has(namespace)) return;
    this.#synced.add(namespace);
    if (this.hasSynced()) {
      this.#log.info({ objects: this.store.size }, "cache synced");
      for (const wake of this.#syncWaiters.splice(0)) wake();
    }
  }

  #scheduleResync(): void {
    const period = this.#options.resyncPeriodMs ?? 0;
    if (!(period > 0)) return;
    this.#resyncTimer = this.#clock.setTimer(() => {
      if (this.#abort === undefined) return;
      for (const object of this.store.list()) this.#notify("update", object, object);
      this.#scheduleResync();
    }, period);
  }
}

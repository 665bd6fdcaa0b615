/**
 * An in-memory stand-in for the parts of {@link KubeClient} that informers
 * use (`listAll` and `watch`), for unit tests that need to script drops,
 * expiries and failures precisely. Integration tests use the Kubernetes API
 * emulator instead.
 *
 * @module
 */
import { ApiError } from "../api-error.ts";
import type { KubeClient, ListOptions, WatchEvent, WatchOptions } from "../client.ts";
import { type KubeObject, objectKey } from "../resource.ts";

interface Watcher {
  namespace: string | undefined;
  push(event: WatchEvent<KubeObject> | Error | "end"): void;
}

/** A scripted API server holding one resource's objects. */
export class FakeApi {
  #rv = 100;
  readonly #objects = new Map<string, KubeObject>();
  readonly #watchers = new Set<Watcher>();
  /** Requests made, as `list ns` / `watch ns@rv`. */
  readonly calls: string[] = [];
  /** Errors to throw from the next list calls, in order. */
  failLists: Error[] = [];
  /** Errors to throw from the next watch calls, in order. */
  failWatches: Error[] = [];

  /** The objects, sorted by key. */
  objects(): KubeObject[] {
    return [...this.#objects.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, o]) => o);
  }

  /** Creates or changes an object and tells the watches unless `silently`. */
  put(namespace: string, name: string, fields: Record<string, unknown> = {}, silently = false): KubeObject {
    const key = `${namespace}/${name}`;
    const exists = this.#objects.has(key);
    const object = { metadata: { namespace, name, resourceVersion: String(++this.#rv) }, ...fields } as KubeObject;
    this.#objects.set(key, object);
    if (!silently) this.#emit({ type: exists ? "MODIFIED" : "ADDED", object });
    return object;
  }

  /** Deletes an object and tells the watches unless `silently`. */
  remove(namespace: string, name: string, silently = false): void {
    const key = `${namespace}/${name}`;
    const object = this.#objects.get(key);
    if (object === undefined) return;
    this.#objects.delete(key);
    this.#rv++;
    if (!silently) this.#emit({ type: "DELETED", object });
  }

  /** Sends a bookmark with the current resourceVersion. */
  bookmark(): void {
    for (const w of this.#watchers) w.push({ type: "BOOKMARK", object: { metadata: { resourceVersion: String(this.#rv) } } });
  }

  /** Ends every open watch normally, as a server timeout would. */
  endWatches(): void {
    for (const w of this.#watchers) w.push("end");
  }

  /** Fails every open watch with an in-stream 410 Expired. */
  expireWatches(): void {
    for (const w of this.#watchers) w.push(gone());
  }

  /** How many watches are open. */
  get openWatches(): number {
    return this.#watchers.size;
  }

  /** The client to hand to an informer. */
  get client(): KubeClient {
    return { listAll: this.#listAll, watch: this.#watch } as unknown as KubeClient;
  }

  #emit(event: WatchEvent<KubeObject>): void {
    for (const w of this.#watchers) {
      if (w.namespace === undefined || w.namespace === event.object.metadata?.namespace) w.push(event);
    }
  }

  #listAll = (_resource: unknown, options: ListOptions = {}) => {
    this.calls.push(`list ${options.namespace ?? "*"}`);
    const failure = this.failLists.shift();
    if (failure) return Promise.reject(failure);
    const items = this.objects().filter((o) => options.namespace === undefined || o.metadata?.namespace === options.namespace);
    return Promise.resolve({ items: structuredClone(items), resourceVersion: String(this.#rv) });
  };

  #watch = (_resource: unknown, options: WatchOptions = {}): AsyncGenerator<WatchEvent<KubeObject>> => {
    this.calls.push(`watch ${options.namespace ?? "*"}@${options.resourceVersion}`);
    const failure = this.failWatches.shift();
    const watchers = this.#watchers;
    const namespace = options.namespace;
    const signal = options.signal;
    return (async function* () {
      if (failure) throw failure;
      const pending: (WatchEvent<KubeObject> | Error | "end")[] = [];
      let wake: (() => void) | undefined;
      const watcher: Watcher = {
        namespace,
        push(item) {
          pending.push(item);
          wake?.();
        },
      };
      const onAbort = () => watcher.push(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
      watchers.add(watcher);
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        for (;;) {
          const item = pending.shift();
          if (item === undefined) {
            await new Promise<void>((resolve) => (wake = resolve));
            continue;
          }
          if (item === "end") return;
          if (item instanceof Error) throw item;
          yield structuredClone(item);
        }
      } finally {
        watchers.delete(watcher);
        signal?.removeEventListener("abort", onAbort);
      }
    })();
  };
}

/** A 410 Expired error as an in-stream watch ERROR produces it. */
export function gone(): ApiError {
  return new ApiError("WATCH", "/fake", { kind: "Status", code: 410, reason: "Expired", message: "too old resource version" });
}

/** Keys of a list of objects, sorted. */
export function keysOf(objects: KubeObject[]): string[] {
  return objects.map(objectKey).sort();
}

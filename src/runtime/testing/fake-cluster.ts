/**
 * An in-memory API server and cache for reconcilers' unit tests, without
 * HTTP: a {@link KubeClient} stand-in (get, create, merge patch, status
 * patch, delete) with kube-apiserver's rules that the controllers rely on
 * (resourceVersion preconditions answered with 409 Conflict, generation
 * bumped by spec changes and by the start of a deletion, finalizers holding
 * a deletion), and caches that show the API's state only when the test says
 * the watch delivered it ({@link FakeCluster.deliver}), so that a lagging
 * cache is a line of the test, not a race.
 *
 * resourceVersions are opaque strings that do not grow, so that nothing that
 * orders them can pass.
 *
 * @module
 */
import { ApiError } from "../api-error.ts";
import type { EventInfo, EventRecorder } from "../event-recorder.ts";
import type { Informer } from "../informer.ts";
import type { KubeClient } from "../client.ts";
import { silentLogger } from "../logger.ts";
import type { ReconcileContext } from "../reconcile.ts";
import { type KubeObject, objectKey, type ObjectRef, type Resource } from "../resource.ts";
import { Store } from "../store.ts";

type Json = Record<string, unknown>;

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return structuredClone(patch);
  const result: Json = target !== null && typeof target === "object" && !Array.isArray(target) ? { ...(target as Json) } : {};
  for (const [key, value] of Object.entries(patch as Json)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** A write the fake API received, for tests that count or order them. */
export interface FakeWrite {
  verb: "create" | "patch" | "patchStatus" | "delete";
  resource: string;
  key: string;
  body?: unknown;
}

/** The cache of one resource: the API's objects as last delivered. */
class FakeCache<T extends KubeObject> {
  readonly store = new Store<T>();
  get(ref: ObjectRef | string): T | undefined {
    return this.store.get(ref);
  }
  list(namespace?: string): T[] {
    return this.store.list(namespace);
  }
  byIndex(name: string, value: string): T[] {
    return this.store.byIndex(name, value);
  }
  addIndex(name: string, fn: (object: T) => readonly string[]): void {
    this.store.addIndex(name, fn);
  }
  hasSynced(): boolean {
    return true;
  }
}

/** The fake API server and its caches. */
export class FakeCluster {
  readonly #objects = new Map<string, Map<string, KubeObject>>();
  readonly #caches = new Map<string, FakeCache<KubeObject>>();
  #uid = 0;
  /** The writes received, in order. */
  readonly writes: FakeWrite[] = [];
  /** Errors the next writes throw (`verb` only, or any when unset), in order. */
  readonly failures: { verb?: FakeWrite["verb"]; error: Error }[] = [];
  /** Runs before each write is applied: a concurrent writer's change can go here. */
  beforeWrite: ((write: FakeWrite) => void) | undefined;
  /** The wall clock of creation and deletion timestamps. */
  now: () => Date = () => new Date();

  /** The cache of `resource` (a stand-in for its informer): shows what {@link deliver} delivered. */
  cache<T extends KubeObject>(resource: Resource<T>): Informer<T> {
    let cache = this.#caches.get(resource.plural);
    if (!cache) {
      cache = new FakeCache<KubeObject>();
      this.#caches.set(resource.plural, cache);
    }
    return cache as unknown as Informer<T>;
  }

  /** Delivers the API's current state to every cache (or that of `resource`), as the watches would. */
  deliver(resource?: Resource<KubeObject>): void {
    for (const [plural, cache] of this.#caches) {
      if (resource && resource.plural !== plural) continue;
      const objects = this.#objects.get(plural) ?? new Map<string, KubeObject>();
      for (const key of cache.store.keys()) if (!objects.has(key)) cache.store.delete(key);
      for (const object of objects.values()) cache.store.set(structuredClone(object));
    }
  }

  /** The API's copy of an object, or undefined. */
  read<T extends KubeObject>(resource: Resource<T>, ref: ObjectRef): T | undefined {
    const object = this.#objects.get(resource.plural)?.get(objectKey({ metadata: ref }));
    return object === undefined ? undefined : (structuredClone(object) as T);
  }

  /** Puts an object straight into the API (as another client's create or update would), without a write record. */
  put<T extends KubeObject>(resource: Resource<T>, object: T): T {
    const objects = this.#of(resource);
    const key = objectKey(object);
    const old = objects.get(key);
    const stored = structuredClone(object) as KubeObject;
    stored.metadata = {
      ...stored.metadata,
      uid: old?.metadata?.uid ?? stored.metadata?.uid ?? `uid-${++this.#uid}`,
      creationTimestamp: old?.metadata?.creationTimestamp ?? stored.metadata?.creationTimestamp ?? this.now(),
      generation:
        stored.metadata?.generation ??
        (old ? (old.metadata?.generation ?? 1) + (JSON.stringify((old as Json).spec) === JSON.stringify((stored as Json).spec) ? 0 : 1) : 1),
      resourceVersion: this.#version(),
    };
    objects.set(key, stored);
    return structuredClone(stored) as T;
  }

  /** The client to hand to reconcilers. */
  get client(): KubeClient {
    return {
      get: (resource: Resource<KubeObject>, ref: ObjectRef) => {
        const object = this.read(resource, ref);
        return object ? Promise.resolve(object) : Promise.reject(notFound(resource, ref));
      },
      create: (resource: Resource<KubeObject>, object: KubeObject) =>
        this.#write({ verb: "create", resource: resource.plural, key: objectKey(object), body: object }, () => {
          if (this.#of(resource).has(objectKey(object))) throw status(409, "AlreadyExists", `${resource.plural} "${object.metadata?.name}" already exists`);
          return this.put(resource, { ...object, metadata: { ...object.metadata, generation: 1 } });
        }),
      patch: (resource: Resource<KubeObject>, ref: ObjectRef, patch: Json) =>
        this.#write({ verb: "patch", resource: resource.plural, key: objectKey({ metadata: ref }), body: patch }, () => this.#patch(resource, ref, patch, false)),
      patchStatus: (resource: Resource<KubeObject>, ref: ObjectRef, patch: Json) =>
        this.#write({ verb: "patchStatus", resource: resource.plural, key: objectKey({ metadata: ref }), body: patch }, () => this.#patch(resource, ref, patch, true)),
      delete: (resource: Resource<KubeObject>, ref: ObjectRef) =>
        this.#write({ verb: "delete", resource: resource.plural, key: objectKey({ metadata: ref }) }, () => this.delete(resource, ref)),
    } as unknown as KubeClient;
  }

  /** Deletes an object as kube-apiserver does: at once without finalizers, else by setting `deletionTimestamp`. */
  delete<T extends KubeObject>(resource: Resource<T>, ref: ObjectRef): T {
    const objects = this.#of(resource);
    const key = objectKey({ metadata: ref });
    const old = objects.get(key);
    if (!old) throw notFound(resource, ref);
    if ((old.metadata?.finalizers ?? []).length === 0) {
      objects.delete(key);
      return structuredClone(old) as T;
    }
    if (old.metadata?.deletionTimestamp) return structuredClone(old) as T;
    const deleting = structuredClone(old);
    deleting.metadata = {
      ...deleting.metadata,
      deletionTimestamp: this.now(),
      generation: (old.metadata?.generation ?? 1) + 1,
      resourceVersion: this.#version(),
    };
    objects.set(key, deleting);
    return structuredClone(deleting) as T;
  }

  #patch(resource: Resource<KubeObject>, ref: ObjectRef, patch: Json, statusOnly: boolean): KubeObject {
    const objects = this.#of(resource);
    const key = objectKey({ metadata: ref });
    const old = objects.get(key);
    if (!old) throw notFound(resource, ref);
    const precondition = (patch.metadata as Json | undefined)?.resourceVersion;
    if (precondition !== undefined && precondition !== old.metadata?.resourceVersion) {
      throw status(409, "Conflict", `Operation cannot be fulfilled on ${resource.plural} "${ref.name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    const body = statusOnly ? { status: patch.status } : { ...patch, status: undefined };
    const patched = mergePatch(old, body) as KubeObject;
    patched.metadata = { ...patched.metadata, resourceVersion: old.metadata?.resourceVersion };
    if (statusOnly) patched.metadata = old.metadata;
    if (JSON.stringify(patched) === JSON.stringify(old)) return structuredClone(old);
    const specChanged = JSON.stringify((patched as Json).spec) !== JSON.stringify((old as Json).spec);
    patched.metadata = {
      ...patched.metadata,
      generation: (old.metadata?.generation ?? 1) + (specChanged ? 1 : 0),
      resourceVersion: this.#version(),
    };
    if (patched.metadata.deletionTimestamp && (patched.metadata.finalizers ?? []).length === 0) {
      objects.delete(key);
    } else {
      objects.set(key, patched);
    }
    return structuredClone(patched);
  }

  async #write<T>(write: FakeWrite, apply: () => T): Promise<T> {
    await Promise.resolve();
    this.writes.push(write);
    const failure = this.failures.findIndex((f) => f.verb === undefined || f.verb === write.verb);
    if (failure >= 0) throw this.failures.splice(failure, 1)[0]!.error;
    this.beforeWrite?.(write);
    return apply();
  }

  #of(resource: Resource<KubeObject>): Map<string, KubeObject> {
    let objects = this.#objects.get(resource.plural);
    if (!objects) {
      objects = new Map();
      this.#objects.set(resource.plural, objects);
    }
    return objects;
  }

  /** A new opaque resourceVersion: random, so that versions do not sort in the order they were issued. */
  #version(): string {
    return crypto.randomUUID().slice(0, 8);
  }
}

function status(code: number, reason: string, message: string): ApiError {
  return new ApiError("PATCH", "/fake", { kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message });
}

function notFound(resource: Resource<KubeObject>, ref: ObjectRef): ApiError {
  return status(404, "NotFound", `${resource.plural} "${ref.name}" not found`);
}

/** An Event the {@link FakeEvents} recorder received. */
export interface RecordedEvent extends EventInfo {
  regarding: string;
}

/** An {@link EventRecorder} stand-in that keeps the Events in a list. */
export class FakeEvents {
  readonly events: RecordedEvent[] = [];

  get recorder(): EventRecorder {
    return { event: (regarding: KubeObject, info: EventInfo) => this.events.push({ ...info, regarding: objectKey(regarding) }) } as unknown as EventRecorder;
  }

  /** The reasons of the Events so far, in order. */
  get reasons(): string[] {
    return this.events.map((e) => e.reason);
  }
}

/** A reconcile context for a unit test. */
export function reconcileContext(controller = "test"): ReconcileContext {
  return { logger: silentLogger, signal: new AbortController().signal, reconcileID: "test", controller };
}

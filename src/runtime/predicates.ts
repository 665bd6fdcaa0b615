/**
 * Event filters for controller watches, as controller-runtime's `predicate`
 * package: a predicate decides whether an add, update or delete enqueues.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "./resource.ts";

/** Filters events; a missing method lets the event through. */
export interface Predicate<T extends KubeObject = KubeObject> {
  add?(object: T): boolean;
  update?(old: T, object: T): boolean;
  delete?(object: T): boolean;
}

/**
 * Passes updates that change `metadata.generation`: spec changes (and the
 * start of deletion), not status-only writes or resyncs. Adds and deletes pass.
 */
export const generationChanged: Predicate = {
  update: (old, object) => old.metadata?.generation !== object.metadata?.generation,
};

/** Passes updates that change `metadata.resourceVersion`: skips periodic resyncs. */
export const resourceVersionChanged: Predicate = {
  update: (old, object) => old.metadata?.resourceVersion !== object.metadata?.resourceVersion,
};

/** Passes updates that change the labels. */
export const labelsChanged: Predicate = {
  update: (old, object) => !isDeepStrictEqual(old.metadata?.labels ?? {}, object.metadata?.labels ?? {}),
};

/** Passes updates that change the annotations (all, or just the named ones). */
export function annotationsChanged(...names: string[]): Predicate {
  return {
    update(old, object) {
      const a = old.metadata?.annotations ?? {};
      const b = object.metadata?.annotations ?? {};
      if (names.length === 0) return !isDeepStrictEqual(a, b);
      return names.some((name) => a[name] !== b[name]);
    },
  };
}

/** Passes updates that change `metadata.finalizers` or `metadata.deletionTimestamp`. */
export const deletionChanged: Predicate = {
  update: (old, object) =>
    String(old.metadata?.deletionTimestamp ?? "") !== String(object.metadata?.deletionTimestamp ?? "") ||
    !isDeepStrictEqual(old.metadata?.finalizers ?? [], object.metadata?.finalizers ?? []),
};

/** Passes updates that set (or change) `metadata.deletionTimestamp`: the start of deletion. */
export const deletionStarted: Predicate = {
  update: (old, object) => String(old.metadata?.deletionTimestamp ?? "") !== String(object.metadata?.deletionTimestamp ?? ""),
};

/**
 * Passes updates that take a finalizer off: somebody removed a controller's
 * finalizer, which it may have to put back. Adding one does not pass, so a
 * controller is not woken by its own finalizer write.
 */
export const finalizerRemoved: Predicate = {
  update: (old, object) => {
    const now = object.metadata?.finalizers ?? [];
    return (old.metadata?.finalizers ?? []).some((f) => !now.includes(f));
  },
};

/**
 * Passes updates that change what other objects' controllers can read of
 * this one: anything but its bookkeeping — `resourceVersion`,
 * `managedFields` and a finalizer added (a controller's own write; one
 * taken off passes). A host's finalizer write then wakes none of the
 * indicators and subscriptions that watch the host, while its status, spec,
 * labels, annotations and deletion do.
 */
export const contentChanged: Predicate = {
  update: (old, object) => {
    if (finalizerRemoved.update!(old, object)) return true;
    const { metadata: oldMeta, ...oldContent } = old;
    const { metadata: newMeta, ...newContent } = object;
    return !isDeepStrictEqual(oldContent, newContent) || !isDeepStrictEqual(withoutBookkeeping(oldMeta), withoutBookkeeping(newMeta));
  },
};

function withoutBookkeeping(metadata: KubeObject["metadata"]): Record<string, unknown> {
  const { resourceVersion: _version, managedFields: _fields, finalizers: _finalizers, ...rest } = metadata ?? {};
  return rest;
}

/** Passes an event when any of the predicates does. */
export function or<T extends KubeObject>(...predicates: Predicate<T>[]): Predicate<T> {
  return {
    add: (o) => predicates.some((p) => p.add?.(o) ?? true),
    update: (old, o) => predicates.some((p) => p.update?.(old, o) ?? true),
    delete: (o) => predicates.some((p) => p.delete?.(o) ?? true),
  };
}

/** Passes an event when all of the predicates do. */
export function and<T extends KubeObject>(...predicates: Predicate<T>[]): Predicate<T> {
  return {
    add: (o) => predicates.every((p) => p.add?.(o) ?? true),
    update: (old, o) => predicates.every((p) => p.update?.(old, o) ?? true),
    delete: (o) => predicates.every((p) => p.delete?.(o) ?? true),
  };
}

/**
 * What an informer keeps of each object. An API object carries bookkeeping
 * that only writers need: `metadata.managedFields` (about half of a
 * BareMetalHost's JSON) and kubectl's last-applied-configuration annotation (a
 * copy of the whole manifest). The operator reads neither and writes only by
 * patch, which leaves both as they are on the server, so the cache drops them,
 * as controller-runtime's `cache.TransformStripManagedFields` does.
 *
 * @module
 */
import type { KubeObject } from "./resource.ts";

/** Turns an object from the API into the one an informer caches and hands to handlers. */
export type CacheTransform<T extends KubeObject> = (object: T) => T;

/** kubectl's client-side apply annotation. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

/**
 * Removes `metadata.managedFields` and the last-applied-configuration
 * annotation; returns the object, whose `metadata` is replaced by a copy
 * without them (deleting a property would turn it into a slower, larger
 * dictionary-mode object).
 */
export function stripManagedFieldsAndLastApplied<T extends KubeObject>(object: T): T {
  const metadata = object.metadata;
  if (metadata === undefined) return object;
  const { managedFields: _managedFields, annotations, ...rest } = metadata;
  if (annotations === undefined) {
    object.metadata = rest;
  } else {
    const { [LAST_APPLIED_ANNOTATION]: _lastApplied, ...kept } = annotations;
    object.metadata = { ...rest, annotations: kept };
  }
  return object;
}

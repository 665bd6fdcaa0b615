/**
 * Finalizers, added before any external state is created and removed after
 * cleanup, each with an optimistic-concurrency write (a merge patch carrying
 * `metadata.resourceVersion`, so a stale object gets 409 Conflict instead of
 * overwriting someone else's change).
 *
 * @module
 */
import type { KubeClient, WriteOptions } from "./client.ts";
import { type KubeObject, refOf, type Resource } from "./resource.ts";

/** Whether `object` carries `finalizer`. */
export function hasFinalizer(object: KubeObject, finalizer: string): boolean {
  return object.metadata?.finalizers?.includes(finalizer) ?? false;
}

/** Whether the object is being deleted (`metadata.deletionTimestamp` is set). */
export function isDeleting(object: KubeObject): boolean {
  return object.metadata?.deletionTimestamp !== undefined && object.metadata.deletionTimestamp !== null;
}

/**
 * Adds `finalizer` to the object as read (`object`); returns the updated
 * object, or `object` itself when the finalizer is there already.
 *
 * @throws {ApiError} 409 when the object changed since it was read; 422 when it is being deleted.
 */
export async function addFinalizer<T extends KubeObject>(client: KubeClient, resource: Resource<T>, object: T, finalizer: string, options: WriteOptions = {}): Promise<T> {
  if (hasFinalizer(object, finalizer)) return object;
  if (isDeleting(object)) {
    throw new Error(`Cannot add finalizer "${finalizer}" to ${resource.kind} "${object.metadata?.name}": it is being deleted`);
  }
  return writeFinalizers(client, resource, object, [...(object.metadata?.finalizers ?? []), finalizer], options);
}

/**
 * Removes `finalizer` from the object as read (`object`); returns the
 * updated object, or `object` itself when the finalizer is absent.
 *
 * @throws {ApiError} 409 when the object changed since it was read.
 */
export async function removeFinalizer<T extends KubeObject>(client: KubeClient, resource: Resource<T>, object: T, finalizer: string, options: WriteOptions = {}): Promise<T> {
  if (!hasFinalizer(object, finalizer)) return object;
  return writeFinalizers(client, resource, object, (object.metadata?.finalizers ?? []).filter((f) => f !== finalizer), options);
}

function writeFinalizers<T extends KubeObject>(
  client: KubeClient,
  resource: Resource<T>,
  object: T,
  finalizers: string[],
  options: WriteOptions,
): Promise<T> {
  const resourceVersion = object.metadata?.resourceVersion;
  if (!resourceVersion) {
    throw new TypeError(`${resource.kind} "${object.metadata?.name}" has no resourceVersion: read it from the API before changing its finalizers`);
  }
  return client.patch(resource, refOf(object), { metadata: { resourceVersion, finalizers } }, { ...options, type: "merge" });
}

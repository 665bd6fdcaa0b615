/**
 * Writes an object's status through the `/status` subresource as a JSON merge
 * patch of only what changed, and nothing at all when nothing changed.
 *
 * Every write is conditional: the patch carries the `metadata.resourceVersion`
 * of the copy the reconcile decided on, and the API server refuses it with
 * 409 Conflict when the object changed since (optimistic concurrency, as the
 * API contract defines it). A refused write is not retried blindly on a copy
 * the reconcile never looked at: the copy is marked superseded, and the
 * reconcile runs again on the newer one once the cache shows it.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import { isConflict, type KubeClient, type KubeObject, type Resource, refOf } from "../runtime/index.ts";
import type { StaleCacheGuard } from "./stale-cache-guard.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The RFC 7386 merge patch that turns `from` into `to` (removed keys become null; lists are replaced). */
export function mergePatchBetween(from: unknown, to: unknown): unknown {
  if (
    from === null ||
    to === null ||
    typeof from !== "object" ||
    typeof to !== "object" ||
    Array.isArray(from) ||
    Array.isArray(to)
  ) {
    return to === undefined ? null : to;
  }
  const patch: Record<string, unknown> = {};
  const a = from as Record<string, Json>;
  const b = to as Record<string, Json>;
  for (const key of Object.keys(a)) if (!(key in b) || b[key] === undefined) patch[key] = null;
  for (const [key, value] of Object.entries(b)) {
    if (value === undefined || isDeepStrictEqual(a[key], value)) continue;
    patch[key] = key in a ? mergePatchBetween(a[key], value) : value;
  }
  return patch;
}

/** Writes statuses of one resource, telling the guard of each write (and each conflict). */
export class StatusWriter<T extends KubeObject & { status?: object }> {
  readonly #client: KubeClient;
  readonly #resource: Resource<T>;
  readonly #guard: StaleCacheGuard;

  constructor(client: KubeClient, resource: Resource<T>, guard: StaleCacheGuard) {
    this.#client = client;
    this.#resource = resource;
    this.#guard = guard;
  }

  /**
   * Makes the object's status `status`, if the object is still at `object`'s
   * resourceVersion; returns the object as written, or `object` itself when
   * its status already was `status` (no API call).
   *
   * @throws {ApiError} 409 when the object changed since `object` was read.
   */
  async write(object: T, status: NonNullable<T["status"]>, signal?: AbortSignal): Promise<T> {
    const current = object.status ?? {};
    const cleaned = JSON.parse(JSON.stringify(status)) as object;
    if (isDeepStrictEqual(current, cleaned)) return object;
    const resourceVersion = object.metadata?.resourceVersion;
    if (!resourceVersion) {
      throw new TypeError(`${this.#resource.kind} "${object.metadata?.name}" has no resourceVersion: read it from the API before writing its status`);
    }
    const patch = { metadata: { resourceVersion }, status: mergePatchBetween(current, cleaned) };
    try {
      const written = await this.#client.patchStatus(this.#resource, refOf(object), patch, { type: "merge", signal });
      this.#guard.wrote(object, written);
      return written;
    } catch (error) {
      if (isConflict(error)) this.#guard.supersede(object);
      throw error;
    }
  }
}

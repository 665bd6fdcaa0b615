/**
 * Writes an object's status through the `/status` subresource as a JSON merge
 * patch of only what changed, and nothing at all when nothing changed.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import { type KubeClient, type KubeObject, type Resource, refOf, retryOnConflict } from "../runtime/index.ts";
import type { WrittenVersions } from "./written-versions.ts";

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

/** Writes statuses of one resource, recording each write so that stale cache reads are recognised. */
export class StatusWriter<T extends KubeObject & { status?: object }> {
  readonly #client: KubeClient;
  readonly #resource: Resource<T>;
  readonly #written: WrittenVersions;

  constructor(client: KubeClient, resource: Resource<T>, written: WrittenVersions) {
    this.#client = client;
    this.#resource = resource;
    this.#written = written;
  }

  /**
   * Makes the object's status `status`; returns the object as written, or
   * `object` itself when its status already was `status` (no API call).
   */
  async write(object: T, status: NonNullable<T["status"]>, signal?: AbortSignal): Promise<T> {
    const current = object.status ?? {};
    const cleaned = JSON.parse(JSON.stringify(status)) as object;
    if (isDeepStrictEqual(current, cleaned)) return object;
    const patch = { status: mergePatchBetween(current, cleaned) };
    const written = await retryOnConflict(() =>
      this.#client.patchStatus(this.#resource, refOf(object), patch, { type: "merge", signal }),
    );
    this.#written.record(written);
    return written;
  }
}

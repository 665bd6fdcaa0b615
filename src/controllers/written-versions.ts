/**
 * Remembers the resourceVersion of each object this process last wrote, so a
 * reconcile can tell that its cache has not caught up with its own write yet
 * (and must not act on the older state: that is how the Go operator created
 * duplicate subscriptions).
 *
 * resourceVersions are opaque in Kubernetes, but every API server in use
 * (etcd's revision, and the emulator's counter) issues increasing integers;
 * where a version is not an integer, nothing is judged stale.
 *
 * @module
 */
import { type KubeObject, objectKey } from "../runtime/index.ts";

function asNumber(version: string | undefined): number | undefined {
  if (!version || !/^\d+$/.test(version)) return undefined;
  return Number(version);
}

/** resourceVersions written by this process, by object key. */
export class WrittenVersions {
  readonly #versions = new Map<string, number>();

  /** Records the object a write returned. */
  record(object: KubeObject): void {
    const version = asNumber(object.metadata?.resourceVersion);
    if (version !== undefined) this.#versions.set(objectKey(object), version);
  }

  /** Whether `cached` is older than what this process last wrote for the same object. */
  isStale(cached: KubeObject): boolean {
    const key = objectKey(cached);
    const written = this.#versions.get(key);
    if (written === undefined) return false;
    const version = asNumber(cached.metadata?.resourceVersion);
    if (version === undefined || version >= written) {
      this.#versions.delete(key);
      return false;
    }
    return true;
  }

  /** Forgets an object (it was deleted). */
  forget(key: string): void {
    this.#versions.delete(key);
  }
}

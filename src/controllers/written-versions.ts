/**
 * Remembers the resourceVersion of each object this process last wrote, so a
 * reconcile can tell that its cache has not caught up with its own write yet
 * (and must not act on the older state: that is how the Go operator created
 * duplicate subscriptions), and so the reconcile it put off runs again as soon
 * as the cache has caught up, not after a fixed delay.
 *
 * Versions are compared as integers (see `resource-version.ts`); where a
 * version is not an integer, nothing is judged stale.
 *
 * @module
 */
import { type KubeObject, objectKey, type Predicate } from "../runtime/index.ts";
import { resourceVersionNumber } from "./resource-version.ts";

/**
 * How long a write may stay unseen by the cache before it is no longer waited
 * for, in ms; also the delay of the fallback requeue of a reconcile put off as
 * stale. A watch delivers a write within milliseconds; a version that never
 * arrives means the API server's versions went back (etcd restored from a
 * backup), and then the cache is the truth.
 */
export const STALE_CACHE_FALLBACK_MS = 30_000;

interface Written {
  version: number;
  /** When it was recorded, on `now`'s clock. */
  at: number;
}

/** resourceVersions written by this process, by object key. */
export class WrittenVersions {
  readonly #versions = new Map<string, Written>();
  /** Keys whose reconcile found the cache behind, put off until it catches up. */
  readonly #waiting = new Set<string>();
  readonly #now: () => number;

  /** @param now a monotonic clock in ms (tests pass their own). */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Records the object a write returned. */
  record(object: KubeObject): void {
    const version = resourceVersionNumber(object.metadata?.resourceVersion);
    if (version !== undefined) this.#versions.set(objectKey(object), { version, at: this.#now() });
  }

  /**
   * Whether `cached` is older than what this process last wrote for the same
   * object. When it is, the object's next update that reaches the written
   * version passes {@link caughtUp}.
   */
  isStale(cached: KubeObject): boolean {
    const key = objectKey(cached);
    const written = this.#versions.get(key);
    if (written === undefined) return false;
    const version = resourceVersionNumber(cached.metadata?.resourceVersion);
    if (version === undefined || version >= written.version || this.#now() - written.at > STALE_CACHE_FALLBACK_MS) {
      this.#versions.delete(key);
      this.#waiting.delete(key);
      return false;
    }
    this.#waiting.add(key);
    return true;
  }

  /**
   * Passes the update that brings the cache up to the version a stale
   * reconcile waits for: an own status write does not change the generation,
   * so the controller's spec-change predicates let it through only with this.
   * Adds and deletes are left to the other predicates.
   */
  readonly caughtUp: Predicate = {
    update: (_old, object) => {
      const key = objectKey(object);
      if (!this.#waiting.has(key)) return false;
      const written = this.#versions.get(key);
      const version = resourceVersionNumber(object.metadata?.resourceVersion);
      if (written !== undefined && version !== undefined && version < written.version) return false;
      this.#waiting.delete(key);
      return true;
    },
  };

  /** Forgets an object (it was deleted). */
  forget(key: string): void {
    this.#versions.delete(key);
    this.#waiting.delete(key);
  }
}

/**
 * Tells a reconcile that its cache has not caught up with this process's own
 * last write to the object yet (acting on the older copy is how the Go
 * operator created duplicate subscriptions), and lets the reconcile it put
 * off run again as soon as the cache shows the write, not after a fixed delay.
 *
 * resourceVersions are opaque: Kubernetes promises only that they change and
 * can be compared for equality, not that they grow. So the guard never orders
 * them. It remembers, per object, every version this process saw before a
 * write of its own (the copy the write was based on, and the copies earlier
 * writes returned): each of those is older than the write. A cached copy with
 * one of those versions is behind; any other version reached the cache after
 * one of them, so it is the write or newer.
 *
 * @module
 */
import { type KubeObject, objectKey, type Predicate } from "../runtime/index.ts";
import { SweepTimer } from "../runtime/sweep-timer.ts";

/**
 * How long a write may stay unseen by the cache before it is no longer waited
 * for, in ms; also the delay of the fallback requeue of a reconcile put off as
 * stale. A watch delivers a write within milliseconds; a write that never
 * shows means the object's history was rewritten (etcd restored from a
 * backup), and then the cache is the truth.
 */
export const STALE_CACHE_FALLBACK_MS = 30_000;

interface Superseded {
  /** Versions of the object known to be older than what the API server holds. */
  versions: Set<string>;
  /** When the last was added, on `now`'s clock. */
  at: number;
}

/** Versions superseded by this process's own writes (or by a write that beat one of them), by object key. */
export class StaleCacheGuard {
  readonly #superseded = new Map<string, Superseded>();
  /** Keys whose reconcile found the cache behind, put off until it catches up. */
  readonly #waiting = new Set<string>();
  readonly #now: () => number;
  readonly #sweeps = new SweepTimer(STALE_CACHE_FALLBACK_MS + 1, () => this.sweep(), () => this.#superseded.size > 0);

  /** @param now a monotonic clock in ms (tests pass their own). */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Records a write: `before` (the copy it was based on) is now older than what the API server holds. */
  wrote(before: KubeObject, written: KubeObject): void {
    if (written.metadata?.resourceVersion === before.metadata?.resourceVersion) return;
    this.supersede(before);
  }

  /**
   * Records that the API server holds a newer version than `object` (a write
   * of this process, or a 409 Conflict showed it).
   */
  supersede(object: KubeObject): void {
    const version = object.metadata?.resourceVersion;
    if (!version) return;
    const key = objectKey(object);
    const entry = this.#superseded.get(key) ?? { versions: new Set<string>(), at: 0 };
    entry.versions.add(version);
    entry.at = this.#now();
    this.#superseded.set(key, entry);
    this.#sweeps.schedule();
  }

  /** Objects it holds versions of. */
  get size(): number {
    return this.#superseded.size;
  }

  /**
   * Forgets the writes older than {@link STALE_CACHE_FALLBACK_MS}, which
   * {@link isStale} no longer waits for: the reconcile after a write's watch
   * event is mostly filtered out (it changes no spec), so without this the
   * guard would hold an entry for every object this process ever wrote.
   */
  sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#superseded) {
      if (now - entry.at > STALE_CACHE_FALLBACK_MS) this.forget(key);
    }
  }

  /**
   * Whether `cached` is a version this process knows to be superseded. When
   * it is, the object's next update to any other version passes
   * {@link caughtUp}.
   */
  isStale(cached: KubeObject): boolean {
    const key = objectKey(cached);
    const entry = this.#superseded.get(key);
    if (entry === undefined) return false;
    const version = cached.metadata?.resourceVersion;
    if (version === undefined || !entry.versions.has(version) || this.#now() - entry.at > STALE_CACHE_FALLBACK_MS) {
      this.forget(key);
      return false;
    }
    this.#waiting.add(key);
    return true;
  }

  /**
   * Passes the update that brings the cache past the versions a stale
   * reconcile waits out: an own status write does not change the generation,
   * so the controller's spec-change predicates let it through only with this.
   * Adds and deletes are left to the other predicates.
   */
  readonly caughtUp: Predicate = {
    update: (_old, object) => {
      const key = objectKey(object);
      if (!this.#waiting.has(key)) return false;
      const version = object.metadata?.resourceVersion;
      if (version !== undefined && this.#superseded.get(key)?.versions.has(version)) return false;
      this.#waiting.delete(key);
      return true;
    },
  };

  /** Forgets an object (it was deleted, or the cache caught up). */
  forget(key: string): void {
    this.#superseded.delete(key);
    this.#waiting.delete(key);
  }
}

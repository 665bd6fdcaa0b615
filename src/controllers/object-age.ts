/**
 * How old an object is, from its `creationTimestamp`.
 *
 * @module
 */
import type { KubeObject } from "../runtime/index.ts";

/**
 * How long a new resource whose host is not in the cache yet waits quietly
 * for it: when a host and its resources are applied together, the host's
 * watch event may arrive after theirs. After that, "host not found" is
 * reported.
 */
export const NEW_HOST_GRACE_MS = 2_000;

/** Objects younger than this are "young": see {@link isYoung}. */
export const YOUNG_OBJECT_MS = 60_000;

/**
 * Whether the object was created less than {@link YOUNG_OBJECT_MS} ago. While
 * young, a resource waiting for its host's first registration keeps quiet
 * rather than writing a transient "waiting" status.
 */
export function isYoung(object: KubeObject, now: Date): boolean {
  return ageMs(object, now) < YOUNG_OBJECT_MS;
}

/** Milliseconds since the object's `creationTimestamp`; infinite without one. */
export function ageMs(object: KubeObject, now: Date): number {
  const created = object.metadata?.creationTimestamp;
  if (!created) return Number.POSITIVE_INFINITY;
  return now.getTime() - new Date(created).getTime();
}

/**
 * While a resource is younger than {@link NEW_HOST_GRACE_MS} and its host is
 * not found: when to look again (the host's arrival requeues it sooner);
 * undefined once the grace is over.
 */
export function missingHostGrace(object: KubeObject, now: Date): number | undefined {
  const age = ageMs(object, now);
  return age < NEW_HOST_GRACE_MS ? Math.max(NEW_HOST_GRACE_MS - Math.max(age, 0), 1) : undefined;
}

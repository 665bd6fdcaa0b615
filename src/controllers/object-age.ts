/**
 * How old an object is, from its `creationTimestamp`.
 *
 * @module
 */
import type { KubeObject } from "../runtime/index.ts";

/** Objects younger than this are "young": see {@link isYoung}. */
export const YOUNG_OBJECT_MS = 60_000;

/**
 * Whether the object was created less than {@link YOUNG_OBJECT_MS} ago. While
 * young, a resource waiting for its host's first registration keeps quiet
 * rather than writing a transient "waiting" status.
 */
export function isYoung(object: KubeObject, now: Date): boolean {
  const created = object.metadata?.creationTimestamp;
  if (!created) return false;
  return now.getTime() - new Date(created).getTime() < YOUNG_OBJECT_MS;
}

/**
 * `metav1.Condition` helpers, as apimachinery's `meta.SetStatusCondition`
 * family: `lastTransitionTime` changes only when the status flips.
 *
 * @module
 */

/** `metav1.Condition`. */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  observedGeneration?: number;
  /** RFC 3339, set when the status last changed. */
  lastTransitionTime: string;
  /** CamelCase. */
  reason: string;
  message: string;
}

/** A condition to set; `lastTransitionTime` defaults to now when the status changes. */
export type NewCondition = Omit<Condition, "lastTransitionTime"> & { lastTransitionTime?: string };

/**
 * Sets `condition` in `conditions` (changing the array in place): adds it,
 * or updates reason, message and observedGeneration, and the status with its
 * `lastTransitionTime` only when the status changes. Returns whether anything changed.
 *
 * @example
 * ```ts
 * const status = structuredClone(sub.status ?? {});
 * status.conditions ??= [];
 * setStatusCondition(status.conditions, { type: "Ready", status: "True", reason: "Subscribed", message: "", observedGeneration: gen });
 * ```
 */
export function setStatusCondition(conditions: Condition[], condition: NewCondition, now: Date = new Date()): boolean {
  const stamp = condition.lastTransitionTime ?? rfc3339(now);
  const existing = conditions.find((c) => c.type === condition.type);
  if (existing === undefined) {
    conditions.push({ ...condition, lastTransitionTime: stamp });
    return true;
  }
  let changed = false;
  if (existing.status !== condition.status) {
    existing.status = condition.status;
    existing.lastTransitionTime = stamp;
    changed = true;
  }
  if (existing.reason !== condition.reason) {
    existing.reason = condition.reason;
    changed = true;
  }
  if (existing.message !== condition.message) {
    existing.message = condition.message;
    changed = true;
  }
  if (existing.observedGeneration !== condition.observedGeneration) {
    existing.observedGeneration = condition.observedGeneration;
    changed = true;
  }
  return changed;
}

/** The condition of `type`, if any. */
export function findStatusCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Whether the condition of `type` is `True`. */
export function isStatusConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findStatusCondition(conditions, type)?.status === "True";
}

/** Removes the condition of `type` (in place); returns whether it was there. */
export function removeStatusCondition(conditions: Condition[], type: string): boolean {
  const index = conditions.findIndex((c) => c.type === type);
  if (index < 0) return false;
  conditions.splice(index, 1);
  return true;
}

/** RFC 3339 with second precision, as `metav1.Time` serialises. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

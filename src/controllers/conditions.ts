/**
 * `metav1.Condition` handling with the semantics of apimachinery's
 * `meta.SetStatusCondition`: `lastTransitionTime` changes only when the
 * status flips.
 *
 * @module
 */
import type { Condition } from "../api/meta.ts";

/** A condition to set; `lastTransitionTime` is filled in. */
export type ConditionInput = Omit<Condition, "lastTransitionTime">;

/**
 * Returns `conditions` with `input` set: a new condition is appended, an
 * existing one of the same type is replaced, keeping its
 * `lastTransitionTime` unless the status changed.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  input: ConditionInput,
  now: Date = new Date(),
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === input.type);
  const existing = index >= 0 ? list[index] : undefined;
  const lastTransitionTime =
    existing && existing.status === input.status ? existing.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, "Z");
  const next: Condition = { ...input, lastTransitionTime };
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

/** The condition of the given type, if present. */
export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Whether the condition of the given type is `True`. */
export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === "True";
}

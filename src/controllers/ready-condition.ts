/**
 * The `Ready` condition every resource of the operator carries.
 *
 * @module
 */
import type { Condition } from "../api/meta.ts";
import { setStatusCondition } from "../runtime/index.ts";

/** A status with conditions. */
interface WithConditions {
  conditions?: Condition[];
}

/** Sets `Ready` in `status` (in place): True or False, with a CamelCase reason and a message, for `generation`. */
export function setReady(
  status: WithConditions,
  ready: boolean,
  reason: string,
  message: string,
  generation: number | undefined,
  now?: Date,
): void {
  status.conditions ??= [];
  setStatusCondition(
    status.conditions,
    { type: "Ready", status: ready ? "True" : "False", reason, message, observedGeneration: generation },
    now,
  );
}

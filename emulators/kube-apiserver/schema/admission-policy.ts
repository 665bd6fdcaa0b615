/**
 * Evaluates the validations of a ValidatingAdmissionPolicy, which see the
 * whole object, namespace included, as `object` (and `oldObject`).
 *
 * @module
 */
import { evaluateCel, toCelValue } from "./cel-environment.ts";

/** One `spec.validations` entry of a ValidatingAdmissionPolicy. */
export interface PolicyValidation {
  expression: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
}

/** The messages of every validation that does not hold; empty when the object is admitted. */
export function evaluatePolicy(
  validations: readonly PolicyValidation[],
  object: unknown,
  oldObject: unknown = null,
): string[] {
  const variables = { object: toCelValue(object), oldObject: toCelValue(oldObject) };
  const failures: string[] = [];
  for (const validation of validations) {
    let passed: boolean;
    try {
      passed = evaluateCel(validation.expression, variables) === true;
    } catch (error) {
      failures.push(
        `expression ${JSON.stringify(validation.expression)} failed: ${(error as Error).message}`,
      );
      continue;
    }
    if (passed) continue;
    let message = validation.message || `failed expression: ${validation.expression}`;
    if (validation.messageExpression) {
      try {
        const text = evaluateCel(validation.messageExpression, variables);
        if (typeof text === "string" && text !== "") message = text;
      } catch {
        // Fall back to the static message, as Kubernetes does.
      }
    }
    failures.push(message);
  }
  return failures;
}

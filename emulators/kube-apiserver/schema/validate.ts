/**
 * Validation of a custom resource against its CRD schema: the OpenAPI schema
 * first, then the CEL rules, as the Kubernetes API server does. As there,
 * CEL rules are not evaluated when the schema errors include one that makes
 * them meaningless (a missing required field, a wrong type, a value not in
 * the enum, too long or too many); a root error says so instead.
 *
 * @module
 */
import { validateCelRules } from "./cel-rules.ts";
import type { FieldError, FieldErrorType } from "./field-error.ts";
import { type Schema, validateOpenAPI } from "./openapi-validator.ts";

/** Schema errors that stop CEL evaluation (`hasBlockingErr` in kube-apiserver). */
const BLOCKING: ReadonlySet<FieldErrorType> = new Set([
  "FieldValueNotSupported",
  "FieldValueRequired",
  "FieldValueTooLong",
  "FieldValueTooMany",
  "FieldValueTypeInvalid",
]);

/** The error kube-apiserver adds when schema errors kept it from evaluating the CEL rules. */
export const CEL_NOT_CHECKED: FieldError = {
  type: "FieldValueInvalid",
  field: "<nil>",
  value: "null",
  detail: "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
};

/** Every problem with `object` under `schema`; pass `oldObject` on update. */
export function validateCustomResource(schema: Schema, object: unknown, oldObject?: unknown): FieldError[] {
  const errors = validateOpenAPI(schema, object);
  if (errors.some((error) => BLOCKING.has(error.type))) return [...errors, CEL_NOT_CHECKED];
  return [...errors, ...validateCelRules(schema, object, oldObject)];
}

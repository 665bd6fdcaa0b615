/**
 * Validation of a custom resource against its CRD schema: the OpenAPI schema
 * first, then the CEL rules, as the Kubernetes API server does.
 *
 * @module
 */
import { validateCelRules } from "./cel-rules.ts";
import type { FieldError } from "./field-error.ts";
import { type Schema, validateOpenAPI } from "./openapi-validator.ts";

/** Every problem with `object` under `schema`; pass `oldObject` on update. */
export function validateCustomResource(schema: Schema, object: unknown, oldObject?: unknown): FieldError[] {
  return [...validateOpenAPI(schema, object), ...validateCelRules(schema, object, oldObject)];
}

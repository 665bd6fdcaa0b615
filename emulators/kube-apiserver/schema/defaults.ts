/**
 * Defaulting of custom resources from the `default` values of their CRD
 * schema, as the Kubernetes API server does it: a missing property whose
 * schema has a default gets that default (inside objects that exist), and a
 * `null` in a field that is not `nullable` becomes the default, or is dropped
 * when there is none.
 *
 * @module
 */
import type { Schema } from "./openapi-validator.ts";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function apply(schema: Schema | undefined, value: unknown): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    const items = schema.items as Schema | undefined;
    if (!items) return;
    for (let index = 0; index < value.length; index++) {
      if (value[index] === null && items.nullable !== true && items.default !== undefined) {
        value[index] = structuredClone(items.default);
      }
      apply(items, value[index]);
    }
    return;
  }
  if (!isPlainObject(value)) return;
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  for (const [key, propertySchema] of Object.entries(properties)) {
    const current = value[key];
    if (current === undefined || (current === null && propertySchema.nullable !== true)) {
      if (propertySchema.default !== undefined) {
        value[key] = structuredClone(propertySchema.default);
      } else if (current === null) {
        delete value[key];
        continue;
      } else {
        continue;
      }
    }
    apply(propertySchema, value[key]);
  }
  const additional = schema.additionalProperties;
  if (isPlainObject(additional)) {
    for (const key of Object.keys(value)) {
      if (key in properties) continue;
      if (value[key] === null && additional.nullable !== true && additional.default !== undefined) {
        value[key] = structuredClone(additional.default);
      }
      apply(additional, value[key]);
    }
  }
}

/**
 * Fills in, in place, every default of `schema` that `value` lacks, top-down,
 * so defaults inside a defaulted object apply too. Returns `value`.
 */
export function applyDefaults<T>(schema: Schema, value: T): T {
  apply(schema, value);
  return value;
}

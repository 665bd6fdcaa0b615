/**
 * Evaluates the CEL rules of a CRD schema (`x-kubernetes-validations`),
 * including transition rules that compare with the old object (`oldSelf`).
 *
 * @module
 */
import { evaluateCel, toCelValue } from "./cel-environment.ts";
import { childPath, type FieldError, type FieldErrorType, indexPath } from "./field-error.ts";
import type { Schema } from "./openapi-validator.ts";

interface Rule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

const REASONS: Record<string, FieldErrorType> = {
  FieldValueInvalid: "FieldValueInvalid",
  FieldValueForbidden: "FieldValueForbidden",
  FieldValueRequired: "FieldValueRequired",
  FieldValueDuplicate: "FieldValueDuplicate",
};

const OLD_SELF = /\boldSelf\b/;

/** The JSON type Kubernetes names in a CEL error: `Invalid value: "string": …`. */
function schemaTypeName(schema: Schema): string {
  return typeof schema.type === "string" ? schema.type : "object";
}

function matchesType(schema: Schema, value: unknown): boolean {
  switch (schema.type) {
    case "object":
      return value !== null && typeof value === "object" && !Array.isArray(value);
    case "array":
      return Array.isArray(value);
    case "string":
      return typeof value === "string";
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "boolean":
      return typeof value === "boolean";
    default:
      return true;
  }
}

/** The root `self` sees only `metadata.name` and `metadata.generateName`, as in Kubernetes. */
function rootView(value: Record<string, unknown>): Record<string, unknown> {
  const metadata = (value.metadata ?? {}) as Record<string, unknown>;
  const visible: Record<string, unknown> = {};
  if (metadata.name !== undefined) visible.name = metadata.name;
  if (metadata.generateName !== undefined) visible.generateName = metadata.generateName;
  return { ...value, metadata: visible };
}

function evaluateRules(
  schema: Schema,
  value: unknown,
  oldValue: unknown,
  path: string,
  isRoot: boolean,
  errors: FieldError[],
): void {
  const rules = schema["x-kubernetes-validations"] as Rule[] | undefined;
  if (!rules?.length) return;
  const view = (v: unknown) =>
    toCelValue(isRoot && v && typeof v === "object" ? rootView(v as Record<string, unknown>) : v, schema);
  const variables: Record<string, unknown> = { self: view(value) };
  if (oldValue !== undefined) variables.oldSelf = view(oldValue);
  for (const rule of rules) {
    if (OLD_SELF.test(rule.rule) && oldValue === undefined) continue;
    let detail: string | undefined;
    try {
      const result = evaluateCel(rule.rule, variables);
      if (result === true) continue;
      detail = rule.message || `failed rule: ${rule.rule}`;
      if (rule.messageExpression) {
        try {
          const message = evaluateCel(rule.messageExpression, variables);
          if (typeof message === "string" && message.trim() !== "") detail = message;
        } catch {
          // Kubernetes falls back to the static message when the expression fails.
        }
      }
    } catch (error) {
      detail = `evaluation error of rule ${JSON.stringify(rule.rule)}: ${(error as Error).message.split("\n")[0]}`;
    }
    const field = rule.fieldPath ? path + rule.fieldPath.replace(/^\.?/, path ? "." : "") : path || "<root>";
    errors.push({
      type: REASONS[rule.reason ?? "FieldValueInvalid"] ?? "FieldValueInvalid",
      field,
      value: schemaTypeName(schema),
      detail,
    });
  }
}

function listKey(item: unknown, keys: string[]): string {
  const record = (item ?? {}) as Record<string, unknown>;
  return JSON.stringify(keys.map((key) => record[key]));
}

function walk(
  schema: Schema,
  value: unknown,
  oldValue: unknown,
  path: string,
  isRoot: boolean,
  errors: FieldError[],
): void {
  if (!matchesType(schema, value)) return;
  evaluateRules(schema, value, oldValue, path, isRoot, errors);
  if (Array.isArray(value)) {
    const items = schema.items as Schema | undefined;
    if (!items) return;
    const keys = schema["x-kubernetes-list-map-keys"] as string[] | undefined;
    const oldByKey = new Map<string, unknown>();
    if (schema["x-kubernetes-list-type"] === "map" && keys && Array.isArray(oldValue)) {
      for (const old of oldValue) oldByKey.set(listKey(old, keys), old);
    }
    value.forEach((item, index) => {
      const old = keys ? oldByKey.get(listKey(item, keys)) : undefined;
      walk(items, item, old, indexPath(path, index), false, errors);
    });
    return;
  }
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const oldRecord =
      oldValue && typeof oldValue === "object" ? (oldValue as Record<string, unknown>) : undefined;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    const additional = schema.additionalProperties;
    for (const [key, item] of Object.entries(record)) {
      const childSchema =
        properties[key] ?? (typeof additional === "object" ? (additional as Schema) : undefined);
      if (!childSchema || item === undefined) continue;
      walk(childSchema, item, oldRecord?.[key], childPath(path, key), false, errors);
    }
  }
}

/**
 * Every failed CEL rule of `schema` on `value`. Pass `oldValue` on update so
 * that transition rules (those using `oldSelf`) are evaluated.
 */
export function validateCelRules(schema: Schema, value: unknown, oldValue?: unknown): FieldError[] {
  const errors: FieldError[] = [];
  walk(schema, value, oldValue, "", true, errors);
  return errors;
}

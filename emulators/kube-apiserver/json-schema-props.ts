/**
 * The JSON types of a CRD schema's fields (`JSONSchemaProps`). A real API
 * server decodes a CustomResourceDefinition into typed Go structs before it
 * validates anything, so a schema whose `required` holds a boolean (what
 * `kubectl apply -f` makes of a bare YAML `on`) is a 400 decoding error. The
 * schema is recursive, so the CRD kind's own OpenAPI schema cannot say this.
 *
 * @module
 */
import type { FieldError } from "./schema/field-error.ts";
import { typeName } from "./schema/openapi-validator.ts";

type JsonType = "string" | "boolean" | "number" | "integer" | "array" | "object";

const STRING_FIELDS = ["id", "$schema", "$ref", "description", "type", "format", "title", "pattern", "x-kubernetes-list-type", "x-kubernetes-map-type"];
const BOOLEAN_FIELDS = ["exclusiveMaximum", "exclusiveMinimum", "uniqueItems", "nullable", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string"];
const NUMBER_FIELDS = ["maximum", "minimum", "multipleOf"];
const INTEGER_FIELDS = ["maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties"];
const STRING_LIST_FIELDS = ["required", "x-kubernetes-list-map-keys"];
const SCHEMA_FIELDS = ["not"];
const SCHEMA_LIST_FIELDS = ["allOf", "oneOf", "anyOf"];
const SCHEMA_MAP_FIELDS = ["properties", "patternProperties", "definitions"];
/** Fields that are a schema or a boolean. */
const SCHEMA_OR_BOOLEAN_FIELDS = ["additionalProperties", "additionalItems"];
const VALIDATION_RULE_STRING_FIELDS = ["rule", "message", "messageExpression", "reason", "fieldPath"];

function mismatch(field: string, value: unknown, expected: JsonType): FieldError {
  return { type: "FieldValueTypeInvalid", field, value: typeName(value), detail: `${field} must be of type ${expected}` };
}

function check(errors: FieldError[], field: string, value: unknown, expected: JsonType): boolean {
  const actual = typeName(value);
  const fits = actual === expected || (expected === "number" && actual === "integer");
  if (!fits && value !== null) errors.push(mismatch(field, value, expected));
  return fits;
}

/**
 * The fields of `schema` (at `field`, a path such as
 * `spec.versions[0].schema.openAPIV3Schema`), and of every schema in it, whose
 * JSON type is not the one `JSONSchemaProps` declares. `null` counts as unset.
 */
export function jsonSchemaPropsTypeErrors(schema: unknown, field: string): FieldError[] {
  const errors: FieldError[] = [];
  visit(schema, field, errors);
  return errors;
}

function visit(schema: unknown, field: string, errors: FieldError[]): void {
  if (schema === null || schema === undefined) return;
  if (!check(errors, field, schema, "object")) return;
  const node = schema as Record<string, unknown>;
  const at = (name: string) => `${field}.${name}`;
  for (const name of STRING_FIELDS) if (name in node) check(errors, at(name), node[name], "string");
  for (const name of BOOLEAN_FIELDS) if (name in node) check(errors, at(name), node[name], "boolean");
  for (const name of NUMBER_FIELDS) if (name in node) check(errors, at(name), node[name], "number");
  for (const name of INTEGER_FIELDS) if (name in node) check(errors, at(name), node[name], "integer");
  for (const name of STRING_LIST_FIELDS) {
    if (!(name in node) || !check(errors, at(name), node[name], "array")) continue;
    (node[name] as unknown[]).forEach((item, index) => check(errors, `${at(name)}[${index}]`, item, "string"));
  }
  if ("enum" in node) check(errors, at("enum"), node.enum, "array");
  for (const name of SCHEMA_FIELDS) if (name in node) visit(node[name], at(name), errors);
  for (const name of SCHEMA_LIST_FIELDS) {
    if (!(name in node) || !check(errors, at(name), node[name], "array")) continue;
    (node[name] as unknown[]).forEach((item, index) => visit(item, `${at(name)}[${index}]`, errors));
  }
  for (const name of SCHEMA_MAP_FIELDS) {
    if (!(name in node) || !check(errors, at(name), node[name], "object")) continue;
    for (const [key, child] of Object.entries(node[name] as Record<string, unknown>)) visit(child, `${at(name)}.${key}`, errors);
  }
  for (const name of SCHEMA_OR_BOOLEAN_FIELDS) {
    if (name in node && typeof node[name] !== "boolean") visit(node[name], at(name), errors);
  }
  if ("items" in node) {
    // A schema, or (JSON Schema's tuple form) a list of schemas.
    if (Array.isArray(node.items)) node.items.forEach((item, index) => visit(item, `${at("items")}[${index}]`, errors));
    else visit(node.items, at("items"), errors);
  }
  if ("x-kubernetes-validations" in node && check(errors, at("x-kubernetes-validations"), node["x-kubernetes-validations"], "array")) {
    (node["x-kubernetes-validations"] as unknown[]).forEach((rule, index) => {
      const ruleField = `${at("x-kubernetes-validations")}[${index}]`;
      if (!check(errors, ruleField, rule, "object")) return;
      const fields = rule as Record<string, unknown>;
      for (const name of VALIDATION_RULE_STRING_FIELDS) if (name in fields) check(errors, `${ruleField}.${name}`, fields[name], "string");
      if ("optionalOldSelf" in fields) check(errors, `${ruleField}.optionalOldSelf`, fields.optionalOldSelf, "boolean");
    });
  }
}

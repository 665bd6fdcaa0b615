/**
 * Validates objects against a CRD's OpenAPI v3 schema with Ajv, reporting
 * field errors with the paths and wording Kubernetes uses.
 *
 * @module
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { childPath, type FieldError, indexPath } from "./field-error.ts";

/** An OpenAPI v3 schema as found in a CRD (plain JSON). */
export type Schema = { [key: string]: unknown };

// ajv-formats is CommonJS; its default export arrives wrapped under Node's ESM loader.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as typeof addFormatsModule.default;

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
addFormats(ajv, [
  "date-time",
  "date",
  "uri",
  "email",
  "hostname",
  "ipv4",
  "ipv6",
  "uuid",
  "byte",
  "duration",
]);
ajv.addFormat("int32", {
  type: "number",
  validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31,
});
ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isInteger(n) });
ajv.addFormat("double", { type: "number", validate: () => true });
ajv.addFormat("float", { type: "number", validate: () => true });
ajv.addFormat("password", { type: "string", validate: () => true });

const compiled = new WeakMap<Schema, ValidateFunction>();

/**
 * Rewrites Kubernetes-only schema keywords into what Ajv understands:
 * `nullable` becomes a `null` type, and `x-kubernetes-int-or-string` a union.
 */
function toAjvSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toAjvSchema);
  if (schema === null || typeof schema !== "object") return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema as Schema)) {
    if (key === "x-kubernetes-validations" || key === "default" || key === "example") continue;
    out[key] = key === "enum" || key === "required" ? value : toAjvSchema(value);
  }
  if (out["x-kubernetes-int-or-string"] === true) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  if (out.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  delete out.nullable;
  return out;
}

function validatorFor(schema: Schema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(toAjvSchema(schema) as Schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/** Turns Ajv's JSON pointer into a Kubernetes field path, using the data to tell list indexes. */
function fieldPath(pointer: string, data: unknown): { path: string; value: unknown } {
  let path = "";
  let node: unknown = data;
  if (pointer === "") return { path, value: node };
  for (const raw of pointer.slice(1).split("/")) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) {
      path = indexPath(path, Number(segment));
      node = node[Number(segment)];
    } else {
      path = childPath(path, segment);
      node = node && typeof node === "object" ? (node as Schema)[segment] : undefined;
    }
  }
  return { path, value: node };
}

/** The JSON type of a value as OpenAPI names it: `integer` for whole numbers, `array`, `null`. */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function toFieldError(error: ErrorObject, data: unknown): FieldError | undefined {
  const { path, value } = fieldPath(error.instancePath, data);
  const where = path || "<root>";
  const params = error.params as Record<string, string | number>;
  switch (error.keyword) {
    case "required":
      return {
        type: "FieldValueRequired",
        field: childPath(path, String(params.missingProperty)),
        detail: "",
      };
    case "type":
      return {
        type: "FieldValueTypeInvalid",
        field: where,
        value: typeName(value),
        detail: `${where} in body must be of type ${String(params.type).replace(/,null$/, "")}: ${JSON.stringify(typeName(value))}`,
      };
    case "enum":
      return {
        type: "FieldValueNotSupported",
        field: where,
        value,
        detail: `supported values: ${((params as unknown as { allowedValues: unknown[] }).allowedValues).map((v) => JSON.stringify(v)).join(", ")}`,
      };
    case "maxLength":
      return {
        type: "FieldValueTooLong",
        field: where,
        value,
        detail: `may not be more than ${params.limit} bytes`,
      };
    case "minLength":
      return {
        type: "FieldValueInvalid",
        field: where,
        value,
        detail: `${where} in body should be at least ${params.limit} chars long`,
      };
    case "pattern":
      return {
        type: "FieldValueInvalid",
        field: where,
        value,
        detail: `${where} in body should match '${params.pattern}'`,
      };
    case "format":
      return {
        type: "FieldValueInvalid",
        field: where,
        value,
        detail: `${where} in body must be of type ${params.format}: ${JSON.stringify(value)}`,
      };
    case "maxItems":
      return {
        type: "FieldValueTooMany",
        field: where,
        value: Array.isArray(value) ? value.length : value,
        detail: `must have at most ${params.limit} items`,
      };
    case "minItems":
      return {
        type: "FieldValueInvalid",
        field: where,
        value: Array.isArray(value) ? value.length : value,
        detail: `${where} in body should have at least ${params.limit} items`,
      };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return {
        type: "FieldValueInvalid",
        field: where,
        value,
        detail: `${where} in body should be ${String(params.comparison).replace(">=", "greater than or equal to").replace("<=", "less than or equal to").replace(">", "greater than").replace("<", "less than")} ${params.limit}`,
      };
    case "anyOf":
    case "if":
      // Reported through the errors of the branches.
      return undefined;
    default:
      return { type: "FieldValueInvalid", field: where, value, detail: error.message ?? error.keyword };
  }
}

/** Every OpenAPI schema violation of `data`, as Kubernetes field errors. */
export function validateOpenAPI(schema: Schema, data: unknown): FieldError[] {
  const validate = validatorFor(schema);
  if (validate(data)) return [];
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const fieldError = toFieldError(error, data);
    if (!fieldError) continue;
    const key = `${fieldError.field}|${fieldError.type}|${fieldError.detail}`;
    if (seen.has(key)) continue;
    seen.add(key);
    errors.push(fieldError);
  }
  return errors;
}

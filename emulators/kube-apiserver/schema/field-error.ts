/**
 * Field errors as Kubernetes reports them (`k8s.io/apimachinery/pkg/util/validation/field`).
 *
 * @module
 */

/** The `reason` of a `metav1.StatusCause`, one per kind of field error. */
export type FieldErrorType =
  | "FieldValueRequired"
  | "FieldValueInvalid"
  | "FieldValueNotSupported"
  | "FieldValueTooLong"
  | "FieldValueTooMany"
  | "FieldValueForbidden"
  | "FieldValueDuplicate"
  | "FieldValueTypeInvalid";

/** One problem with one field of an object. */
export interface FieldError {
  type: FieldErrorType;
  /** The field, as a path like `spec.conditions[0].type`. */
  field: string;
  /** The offending value, where the error shows one. */
  value?: unknown;
  /** What is wrong. */
  detail: string;
}

const TYPE_TEXT: Record<FieldErrorType, string> = {
  FieldValueRequired: "Required value",
  FieldValueInvalid: "Invalid value",
  FieldValueNotSupported: "Unsupported value",
  FieldValueTooLong: "Too long",
  FieldValueTooMany: "Too many",
  FieldValueForbidden: "Forbidden",
  FieldValueDuplicate: "Duplicate value",
  FieldValueTypeInvalid: "Invalid value",
};

/** Types whose message shows no value, as in Kubernetes. */
const WITHOUT_VALUE = new Set<FieldErrorType>([
  "FieldValueRequired",
  "FieldValueForbidden",
  "FieldValueTooLong",
]);

function showValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return "null";
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return JSON.stringify(value) ?? String(typeof value);
}

/** The error body without the field: what goes in a `StatusCause.message`. */
export function fieldErrorBody(error: FieldError): string {
  let body = TYPE_TEXT[error.type];
  if (!WITHOUT_VALUE.has(error.type)) body += `: ${showValue(error.value)}`;
  if (error.detail) body += `: ${error.detail}`;
  return body;
}

/** The whole error, `<field>: <body>`, as Kubernetes prints it. */
export function formatFieldError(error: FieldError): string {
  return `${error.field}: ${fieldErrorBody(error)}`;
}

/** Joins a field path and a property name. */
export function childPath(parent: string, name: string): string {
  if (parent === "") return name;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `${parent}.${name}` : `${parent}[${JSON.stringify(name)}]`;
}

/** Joins a field path and a list index. */
export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

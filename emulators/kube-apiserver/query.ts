/**
 * Query parameters read as kube-apiserver decodes them into its option
 * structs (`ListOptions`, `CreateOptions`, `PatchOptions`, `DeleteOptions`)
 * with apimachinery's conversions: a boolean is false only when absent, `0`
 * or `false` in any case (`watch=True`, `watch=yes` and even `watch=` are
 * true); an integer is Go's `strconv.ParseInt` (base 10, optional sign,
 * 64 bits), and anything else is a 400 BadRequest naming the value; only the
 * first value of a repeated parameter counts. Options are then validated as
 * kube-apiserver validates them: a 422 Invalid `<Kind>.meta.k8s.io` naming
 * the parameter.
 *
 * @module
 */
import { badRequest, invalid } from "./status.ts";

/** A boolean parameter (`Convert_Slice_string_To_bool`): false when absent, `0` or `false` (any case); true otherwise. */
export function queryBool(query: URLSearchParams, name: string): boolean {
  return queryOptionalBool(query, name) ?? false;
}

/** A `*bool` parameter: undefined when absent, else as {@link queryBool}. */
export function queryOptionalBool(query: URLSearchParams, name: string): boolean | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  return !(value === "0" || value.toLowerCase() === "false");
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** An int64 parameter (`strconv.ParseInt(value, 10, 64)`): undefined when absent; a 400 naming the value when not an integer. */
export function queryInt(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (!/^[+-]?\d+$/.test(value)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  const parsed = BigInt(value);
  if (parsed < INT64_MIN || parsed > INT64_MAX) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(value)}: value out of range`);
  return Number(parsed);
}

/** `Unsupported value: "x": supported values: "a", "b"`, as Go's field.NotSupported words it. */
function notSupported(value: string, supported: readonly string[]): string {
  return `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(", ")}`;
}

/** The kind of options a write decodes, for the group kind of its 422. */
export type OptionsKind = "CreateOptions" | "UpdateOptions" | "PatchOptions" | "DeleteOptions";

/** The longest field manager name kube-apiserver accepts. */
export const MAX_FIELD_MANAGER_LENGTH = 128;

/**
 * Checks the options of a write as ValidateCreateOptions, ValidateUpdateOptions,
 * ValidatePatchOptions and ValidateDeleteOptions do (`fieldManager`,
 * `dryRun`, `fieldValidation`; `force` only and `fieldManager` always for an
 * apply patch); returns whether it is a dry run.
 */
export function validateWriteOptions(query: URLSearchParams, kind: OptionsKind, apply = false): boolean {
  const causes: Array<{ reason: string; message: string; field: string }> = [];
  if (kind === "PatchOptions") {
    if (!apply && query.has("force")) {
      causes.push({ reason: "FieldValueForbidden", message: "Forbidden: may not be specified for non-apply patch", field: "force" });
    }
    if (apply && !query.get("fieldManager")) {
      causes.push({ reason: "FieldValueRequired", message: "Required value: is required for apply patch", field: "fieldManager" });
    }
  }
  if (kind !== "DeleteOptions") {
    const manager = query.get("fieldManager") ?? "";
    if (Buffer.byteLength(manager) > MAX_FIELD_MANAGER_LENGTH) {
      causes.push({ reason: "FieldValueTooLong", message: `Too long: may not be more than ${MAX_FIELD_MANAGER_LENGTH} bytes`, field: "fieldManager" });
    }
  }
  const dryRun = query.getAll("dryRun");
  if (dryRun.some((value) => value !== "All")) {
    causes.push({
      reason: "FieldValueNotSupported",
      message: `Unsupported value: []string{${dryRun.map((v) => JSON.stringify(v)).join(", ")}}: supported values: "All"`,
      field: "dryRun",
    });
  }
  if (kind !== "DeleteOptions") {
    const fieldValidation = query.get("fieldValidation") ?? "";
    if (!["", "Ignore", "Strict", "Warn"].includes(fieldValidation)) {
      causes.push({ reason: "FieldValueNotSupported", message: notSupported(fieldValidation, ["", "Ignore", "Strict", "Warn"]), field: "fieldValidation" });
    }
  }
  if (causes.length) throw invalid({ group: "meta.k8s.io", kind }, "", causes);
  return dryRun.length > 0;
}

/** `propagationPolicy` of a delete (from its body or, without one, the query): Background unless said otherwise; a 422 for another value. */
export function propagationPolicy(fromBody: unknown, query: URLSearchParams): string {
  const value = typeof fromBody === "string" ? fromBody : query.get("propagationPolicy");
  if (value === null) return "Background";
  const supported = ["Foreground", "Background", "Orphan"];
  if (!supported.includes(value)) {
    throw invalid({ group: "meta.k8s.io", kind: "DeleteOptions" }, "", [
      { reason: "FieldValueNotSupported", message: notSupported(value, [...supported, "nil"]), field: "propagationPolicy" },
    ]);
  }
  return value;
}

/** The list options that decide which version of the collection a list reads. */
export interface ListVersionOptions {
  resourceVersion: string;
  resourceVersionMatch: string;
  limit: number;
  continueToken: string;
}

/** Decodes and validates the options of a list (not a watch), as ValidateListOptions does. */
export function listOptions(query: URLSearchParams): ListVersionOptions {
  const limit = queryInt(query, "limit") ?? 0;
  queryInt(query, "timeoutSeconds");
  const options: ListVersionOptions = {
    resourceVersion: query.get("resourceVersion") ?? "",
    resourceVersionMatch: query.get("resourceVersionMatch") ?? "",
    limit: limit > 0 ? limit : 0,
    continueToken: query.get("continue") ?? "",
  };
  const causes: Array<{ reason: string; message: string; field: string }> = [];
  const match = options.resourceVersionMatch;
  if (match) {
    if (!options.resourceVersion) {
      causes.push({ reason: "FieldValueForbidden", message: "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided", field: "resourceVersionMatch" });
    }
    if (options.continueToken) {
      causes.push({ reason: "FieldValueForbidden", message: "Forbidden: resourceVersionMatch is forbidden when continue is provided", field: "resourceVersionMatch" });
    }
    if (match !== "Exact" && match !== "NotOlderThan") {
      causes.push({ reason: "FieldValueNotSupported", message: notSupported(match, ["Exact", "NotOlderThan", ""]), field: "resourceVersionMatch" });
    }
    if (match === "Exact" && options.resourceVersion === "0") {
      causes.push({ reason: "FieldValueForbidden", message: 'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"', field: "resourceVersionMatch" });
    }
  }
  if (queryOptionalBool(query, "sendInitialEvents") !== undefined) {
    causes.push({ reason: "FieldValueForbidden", message: "Forbidden: sendInitialEvents is forbidden for list", field: "sendInitialEvents" });
  }
  if (causes.length) throw invalid({ group: "meta.k8s.io", kind: "ListOptions" }, "", causes);
  return options;
}

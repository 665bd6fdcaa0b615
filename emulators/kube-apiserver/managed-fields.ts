/**
 * Field ownership (`metadata.managedFields`): which manager set which field,
 * updated on every write, and server-side apply with its conflicts, as
 * kube-apiserver's field manager does it (structured-merge-diff's `Update`
 * and `Apply`).
 *
 * @module
 */
import type { Schema } from "./schema/openapi-validator.ts";
import {
  compareObjectFields,
  type FieldPathSet,
  fieldsOf,
  formatFieldPath,
  fromFieldsV1,
  mergeApplied,
  ownsPathOrBelow,
  removeFields,
  toFieldsV1,
} from "./field-set.ts";
import { StatusError } from "./status.ts";

/** One `metav1.ManagedFieldsEntry` as stored in an object. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: "Apply" | "Update";
  apiVersion?: string;
  time?: string;
  fieldsType?: "FieldsV1";
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

/** A manager's entry with its fields decoded. */
export interface Manager {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  subresource: string;
  time: string;
  fields: FieldPathSet;
}

/** Who is writing: the field manager, the API version and subresource of the request. */
export interface Writer {
  manager: string;
  apiVersion: string;
  /** `""` for the main resource, `"status"` for the status subresource. */
  subresource: string;
  /** The time to record, RFC 3339 with seconds. */
  time: string;
}

function identity(manager: string, operation: string, subresource: string): string {
  return JSON.stringify([manager, operation, subresource]);
}

/** Decodes `metadata.managedFields`. */
export function decodeManagers(entries: readonly ManagedFieldsEntry[] | undefined): Manager[] {
  return (entries ?? []).map((entry) => ({
    manager: entry.manager ?? "",
    operation: entry.operation === "Apply" ? "Apply" : "Update",
    apiVersion: entry.apiVersion ?? "",
    subresource: entry.subresource ?? "",
    time: entry.time ?? "",
    fields: fromFieldsV1(entry.fieldsV1),
  }));
}

/** Encodes managers as `metadata.managedFields`, dropping those that own nothing. */
export function encodeManagers(managers: readonly Manager[]): ManagedFieldsEntry[] {
  return managers
    .filter((m) => m.fields.size > 0)
    .map((m) => ({
      manager: m.manager,
      operation: m.operation,
      apiVersion: m.apiVersion,
      time: m.time,
      fieldsType: "FieldsV1" as const,
      fieldsV1: toFieldsV1(m.fields),
      ...(m.subresource ? { subresource: m.subresource } : {}),
    }));
}

/** Whether two manager lists own the same fields (times aside). */
export function sameOwnership(a: readonly Manager[], b: readonly Manager[]): boolean {
  const live = (list: readonly Manager[]) => list.filter((m) => m.fields.size > 0);
  const left = live(a);
  const right = live(b);
  if (left.length !== right.length) return false;
  return left.every((m, i) => {
    const other = right[i]!;
    if (identity(m.manager, m.operation, m.subresource) !== identity(other.manager, other.operation, other.subresource)) return false;
    if (m.fields.size !== other.fields.size) return false;
    for (const path of m.fields) if (!other.fields.has(path)) return false;
    return true;
  });
}

function without(set: FieldPathSet, remove: Iterable<string>): FieldPathSet {
  const out = new Set(set);
  for (const path of remove) out.delete(path);
  return out;
}

/** Fields that a write through `subresource` may not touch: `status` on the main resource, all else on `/status`. */
export function resetFilter(subresource: string, hasStatusSubresource: boolean): (path: string) => boolean {
  if (!hasStatusSubresource) return () => false;
  if (subresource === "status") return (path) => !path.startsWith("f:status");
  return (path) => path === "f:status" || path.startsWith("f:status\u0000");
}

function filtered(set: FieldPathSet, ignore: (path: string) => boolean): FieldPathSet {
  const out: FieldPathSet = new Set();
  for (const path of set) if (!ignore(path)) out.add(path);
  return out;
}

/**
 * The managers after an ordinary write (create, update or a non-apply patch)
 * by `writer`: it takes every field it changed, and the others lose them.
 */
export function recordUpdate(
  managers: readonly Manager[],
  oldObject: Record<string, unknown> | undefined,
  newObject: Record<string, unknown>,
  schema: Schema | undefined,
  writer: Writer,
): Manager[] {
  const comparison = compareObjectFields(oldObject, newObject, schema);
  const changed = new Set([...comparison.added, ...comparison.modified]);
  const out: Manager[] = [];
  let own: Manager | undefined;
  const id = identity(writer.manager, "Update", writer.subresource);
  for (const m of managers) {
    if (identity(m.manager, m.operation, m.subresource) === id) {
      own = { ...m, fields: new Set(m.fields) };
      out.push(own);
      continue;
    }
    out.push({ ...m, fields: without(without(m.fields, changed), comparison.removed) });
  }
  if (changed.size === 0 && comparison.removed.size === 0) return out;
  if (!own) {
    own = { manager: writer.manager, operation: "Update", apiVersion: writer.apiVersion, subresource: writer.subresource, time: writer.time, fields: new Set() };
    out.push(own);
  }
  own.fields = without(own.fields, comparison.removed);
  for (const path of changed) own.fields.add(path);
  own.time = writer.time;
  own.apiVersion = writer.apiVersion;
  return out.filter((m) => m.fields.size > 0);
}

/** The result of a server-side apply. */
export interface ApplyResult {
  object: Record<string, unknown>;
  managers: Manager[];
}

function describeManager(m: Manager): string {
  let text = JSON.stringify(m.manager);
  if (m.subresource) text += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === "Update") text += ` using ${m.apiVersion}`;
  return text;
}

function conflictError(conflicts: Array<{ manager: Manager; path: string }>): StatusError {
  const causes = conflicts.map(({ manager, path }) => ({
    reason: "FieldManagerConflict",
    message: `conflict with ${describeManager(manager)}`,
    field: formatFieldPath(path),
  }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${describeManager(conflicts[0]!.manager)}: ${formatFieldPath(conflicts[0]!.path)}`;
  } else {
    const byManager = new Map<string, { manager: Manager; paths: string[] }>();
    for (const { manager, path } of conflicts) {
      const key = describeManager(manager);
      const group = byManager.get(key) ?? { manager, paths: [] };
      group.paths.push(formatFieldPath(path));
      byManager.set(key, group);
    }
    const lines: string[] = [];
    for (const key of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${key}:`);
      for (const path of byManager.get(key)!.paths) lines.push(`- ${path}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
  }
  return new StatusError(409, "Conflict", message, { causes });
}

/**
 * Server-side apply of `config` by `writer` onto `live` (`undefined` when the
 * object does not exist yet). Fields the writer applied before and no longer
 * applies are removed unless someone else owns them. Throws a 409 listing the
 * conflicting fields and their managers, unless `force`, which takes them.
 */
export function applyConfiguration(
  managers: readonly Manager[],
  live: Record<string, unknown> | undefined,
  config: Record<string, unknown>,
  schema: Schema | undefined,
  writer: Writer,
  options: { force: boolean; ignore: (path: string) => boolean },
): ApplyResult {
  const id = identity(writer.manager, "Apply", writer.subresource);
  const previous = managers.find((m) => identity(m.manager, m.operation, m.subresource) === id);
  const applied = filtered(fieldsOf(config, schema), options.ignore);
  const base = live ?? {};
  let merged = mergeApplied(base, config, schema);

  // Fields this manager applied before and has dropped go, unless another manager owns them.
  if (previous) {
    const others = managers.filter((m) => m !== previous);
    const dropped = [...previous.fields].filter(
      (path) => !applied.has(path) && !others.some((m) => ownsPathOrBelow(m.fields, path)),
    );
    if (dropped.length) merged = removeFields(merged, dropped, schema);
  }

  const comparison = compareObjectFields(live, merged, schema);
  const changed = filtered(new Set([...comparison.added, ...comparison.modified]), options.ignore);
  const removed = filtered(comparison.removed, options.ignore);
  const conflicts: Array<{ manager: Manager; path: string }> = [];
  for (const m of managers) {
    if (m === previous) continue;
    for (const path of m.fields) if (changed.has(path)) conflicts.push({ manager: m, path });
  }
  if (conflicts.length && !options.force) throw conflictError(conflicts);

  const out: Manager[] = [];
  for (const m of managers) {
    if (m === previous) continue;
    let fields = m.fields;
    if (options.force) fields = without(fields, changed);
    fields = without(fields, removed);
    out.push({ ...m, fields });
  }
  const mine: Manager = {
    manager: writer.manager,
    operation: "Apply",
    apiVersion: writer.apiVersion,
    subresource: writer.subresource,
    time: writer.time,
    fields: applied,
  };
  // Keep the entry's position so that managedFields do not reorder on every apply.
  const position = previous ? managers.indexOf(previous) : out.length;
  out.splice(Math.min(position, out.length), 0, mine);
  return { object: merged, managers: out.filter((m) => m.fields.size > 0) };
}

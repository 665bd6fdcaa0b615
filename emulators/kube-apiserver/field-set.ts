/**
 * Sets of field paths as server-side apply tracks them
 * (sigs.k8s.io/structured-merge-diff): the `FieldsV1` encoding of
 * `managedFields`, the fields an object sets, the difference between two
 * objects, and the merge of an applied configuration into a live object.
 * The schema decides how each node merges: structs and maps field by field,
 * `x-kubernetes-list-type: map` lists by key, `set` lists by value, and
 * atomic lists, atomic maps and scalars as a whole.
 *
 * A path is a string of FieldsV1 elements (`f:spec`, `k:{"type":"Ready"}`,
 * `v:"a"`) joined by NUL characters; a set holds the paths of its members.
 *
 * @module
 */
import type { Schema } from "./schema/openapi-validator.ts";

/** A set of member paths. */
export type FieldPathSet = Set<string>;

const SEPARATOR = "\u0000";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Joins a path and one element. */
export function joinPath(path: string, element: string): string {
  return path === "" ? element : `${path}${SEPARATOR}${element}`;
}

/** The elements of a path. */
export function splitPath(path: string): string[] {
  return path === "" ? [] : path.split(SEPARATOR);
}

type ListType = "atomic" | "set" | "map";

function listTypeOf(schema: Schema | undefined): ListType {
  const type = schema?.["x-kubernetes-list-type"];
  return type === "set" || type === "map" ? type : "atomic";
}

function isAtomicMap(schema: Schema | undefined): boolean {
  return schema?.["x-kubernetes-map-type"] === "atomic" || schema?.["x-kubernetes-int-or-string"] === true;
}

/** The schema of field `key` of an object node; `undefined` when the node has no schema for it. */
export function propertySchema(schema: Schema | undefined, key: string): Schema | undefined {
  if (!schema) return undefined;
  const properties = schema.properties as Record<string, Schema> | undefined;
  if (properties?.[key]) return properties[key];
  const additional = schema.additionalProperties;
  return isPlainObject(additional) ? (additional) : undefined;
}

function itemsSchema(schema: Schema | undefined): Schema | undefined {
  return schema?.items as Schema | undefined;
}

function mapKeys(schema: Schema | undefined): string[] {
  return (schema?.["x-kubernetes-list-map-keys"] as string[] | undefined) ?? [];
}

/** The `k:` element of a list-map item: its key fields as JSON, sorted by name. */
function keyElement(item: unknown, keys: readonly string[]): string {
  const record = isPlainObject(item) ? item : {};
  const sorted = [...keys].sort();
  const parts = sorted.filter((key) => record[key] !== undefined).map((key) => `${JSON.stringify(key)}:${JSON.stringify(record[key])}`);
  return `k:{${parts.join(",")}}`;
}

function valueElement(value: unknown): string {
  return `v:${JSON.stringify(value)}`;
}

/** Whether two JSON values are equal. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ak = Object.keys(a);
  const bo = b as Record<string, unknown>;
  if (ak.length !== Object.keys(bo).length) return false;
  for (const key of ak) {
    if (!(key in bo) || !jsonEqual((a as Record<string, unknown>)[key], bo[key])) return false;
  }
  return true;
}

function addFields(value: unknown, schema: Schema | undefined, path: string, out: FieldPathSet): void {
  if (Array.isArray(value)) {
    const type = listTypeOf(schema);
    if (type === "atomic") {
      out.add(path);
      return;
    }
    const items = itemsSchema(schema);
    if (type === "set") {
      if (value.length === 0) out.add(path);
      for (const item of value) out.add(joinPath(path, valueElement(item)));
      return;
    }
    if (value.length === 0) out.add(path);
    const keys = mapKeys(schema);
    for (const item of value) {
      const itemPath = joinPath(path, keyElement(item, keys));
      out.add(itemPath);
      if (isPlainObject(item)) addObjectFields(item, items, itemPath, out);
    }
    return;
  }
  if (isPlainObject(value) && !isAtomicMap(schema)) {
    if (Object.keys(value).length === 0) {
      out.add(path);
      return;
    }
    addObjectFields(value, schema, path, out);
    return;
  }
  out.add(path);
}

function addObjectFields(value: Record<string, unknown>, schema: Schema | undefined, path: string, out: FieldPathSet): void {
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined) continue;
    addFields(child, propertySchema(schema, key), joinPath(path, `f:${key}`), out);
  }
}

/** Metadata fields that field management tracks; the rest are the server's. */
const TRACKED_METADATA = new Set(["labels", "annotations", "finalizers", "ownerReferences", "generateName"]);

/** The top-level view of an object that field management sees: no apiVersion, kind or server-owned metadata. */
function trackedView(object: Record<string, unknown>): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (key === "apiVersion" || key === "kind") continue;
    if (key === "metadata" && isPlainObject(value)) {
      const metadata: Record<string, unknown> = {};
      for (const [field, fieldValue] of Object.entries(value)) {
        if (TRACKED_METADATA.has(field)) metadata[field] = fieldValue;
      }
      if (Object.keys(metadata).length) view.metadata = metadata;
      continue;
    }
    view[key] = value;
  }
  return view;
}

/** The member paths of every field that `object` (a whole resource) sets. */
export function fieldsOf(object: Record<string, unknown>, schema: Schema | undefined): FieldPathSet {
  const out: FieldPathSet = new Set();
  addObjectFields(trackedView(object), schema, "", out);
  return out;
}

/** What changed between two versions of an object. */
export interface Comparison {
  added: FieldPathSet;
  modified: FieldPathSet;
  removed: FieldPathSet;
}

function compareValues(
  oldValue: unknown,
  newValue: unknown,
  schema: Schema | undefined,
  path: string,
  result: Comparison,
): void {
  if (oldValue === undefined && newValue === undefined) return;
  if (oldValue === undefined) {
    addFields(newValue, schema, path, result.added);
    return;
  }
  if (newValue === undefined) {
    addFields(oldValue, schema, path, result.removed);
    return;
  }
  if (Array.isArray(oldValue) && Array.isArray(newValue)) {
    const type = listTypeOf(schema);
    if (type === "set") {
      const before = new Map(oldValue.map((v) => [valueElement(v), v]));
      const after = new Map(newValue.map((v) => [valueElement(v), v]));
      for (const element of after.keys()) if (!before.has(element)) result.added.add(joinPath(path, element));
      for (const element of before.keys()) if (!after.has(element)) result.removed.add(joinPath(path, element));
      return;
    }
    if (type === "map") {
      const keys = mapKeys(schema);
      const items = itemsSchema(schema);
      const before = new Map(oldValue.map((v) => [keyElement(v, keys), v]));
      const after = new Map(newValue.map((v) => [keyElement(v, keys), v]));
      for (const [element, item] of after) {
        const itemPath = joinPath(path, element);
        const old = before.get(element);
        if (old === undefined) {
          result.added.add(itemPath);
          if (isPlainObject(item)) addObjectFields(item, items, itemPath, result.added);
        } else if (isPlainObject(old) && isPlainObject(item)) {
          compareObjects(old, item, items, itemPath, result);
        } else if (!jsonEqual(old, item)) {
          result.modified.add(itemPath);
        }
      }
      for (const [element, item] of before) {
        if (after.has(element)) continue;
        const itemPath = joinPath(path, element);
        result.removed.add(itemPath);
        if (isPlainObject(item)) addObjectFields(item, items, itemPath, result.removed);
      }
      return;
    }
  }
  if (isPlainObject(oldValue) && isPlainObject(newValue) && !isAtomicMap(schema)) {
    const oldEmpty = Object.keys(oldValue).length === 0;
    const newEmpty = Object.keys(newValue).length === 0;
    if (oldEmpty && newEmpty) return;
    if (oldEmpty) result.removed.add(path);
    if (newEmpty) result.added.add(path);
    compareObjects(oldValue, newValue, schema, path, result);
    return;
  }
  if (!jsonEqual(oldValue, newValue)) {
    // A value that changed type or an atomic value that changed: drop the old member paths and add the new.
    if (Array.isArray(oldValue) !== Array.isArray(newValue) || isPlainObject(oldValue) !== isPlainObject(newValue)) {
      addFields(oldValue, schema, path, result.removed);
      addFields(newValue, schema, path, result.added);
      result.removed.delete(path);
      result.added.delete(path);
    }
    result.modified.add(path);
  }
}

function compareObjects(
  oldValue: Record<string, unknown>,
  newValue: Record<string, unknown>,
  schema: Schema | undefined,
  path: string,
  result: Comparison,
): void {
  for (const key of new Set([...Object.keys(oldValue), ...Object.keys(newValue)])) {
    compareValues(oldValue[key], newValue[key], propertySchema(schema, key), joinPath(path, `f:${key}`), result);
  }
}

/** The fields added, modified and removed from `oldObject` to `newObject` (whole resources). */
export function compareObjectFields(
  oldObject: Record<string, unknown> | undefined,
  newObject: Record<string, unknown>,
  schema: Schema | undefined,
): Comparison {
  const result: Comparison = { added: new Set(), modified: new Set(), removed: new Set() };
  compareObjects(oldObject ? trackedView(oldObject) : {}, trackedView(newObject), schema, "", result);
  return result;
}

function mergeValues(live: unknown, config: unknown, schema: Schema | undefined): unknown {
  if (config === undefined) return live;
  if (live === undefined) return structuredClone(config);
  if (Array.isArray(live) && Array.isArray(config)) {
    const type = listTypeOf(schema);
    if (type === "set") {
      const seen = new Set(live.map(valueElement));
      const out = [...live];
      for (const item of config) if (!seen.has(valueElement(item))) out.push(structuredClone(item));
      return out;
    }
    if (type === "map") {
      const keys = mapKeys(schema);
      const items = itemsSchema(schema);
      const configByKey = new Map(config.map((item) => [keyElement(item, keys), item]));
      const out: unknown[] = [];
      const used = new Set<string>();
      for (const item of live) {
        const element = keyElement(item, keys);
        const applied = configByKey.get(element);
        out.push(applied === undefined ? item : mergeValues(item, applied, items));
        used.add(element);
      }
      for (const [element, item] of configByKey) if (!used.has(element)) out.push(structuredClone(item));
      return out;
    }
    return structuredClone(config);
  }
  if (isPlainObject(live) && isPlainObject(config) && !isAtomicMap(schema)) {
    const out: Record<string, unknown> = { ...live };
    for (const [key, value] of Object.entries(config)) {
      out[key] = mergeValues(live[key], value, propertySchema(schema, key));
    }
    return out;
  }
  return structuredClone(config);
}

/** Merges an applied configuration into a live object: what server-side apply starts from. */
export function mergeApplied(
  live: Record<string, unknown>,
  config: Record<string, unknown>,
  schema: Schema | undefined,
): Record<string, unknown> {
  return mergeValues(live, config, schema) as Record<string, unknown>;
}

/** Removes the member at `elements` from `value`. A list or map left empty by the removal goes too (`undefined`), as in structured-merge-diff. */
function removeAt(value: unknown, elements: string[], index: number, schema: Schema | undefined): unknown {
  const element = elements[index]!;
  const last = index === elements.length - 1;
  if (element.startsWith("f:") && isPlainObject(value)) {
    const key = element.slice(2);
    if (!(key in value)) return value;
    const child = last ? undefined : removeAt(value[key], elements, index + 1, propertySchema(schema, key));
    const out = { ...value };
    if (child === undefined) delete out[key];
    else out[key] = child;
    return Object.keys(out).length === 0 ? undefined : out;
  }
  if (Array.isArray(value)) {
    let out: unknown[] = value;
    if (element.startsWith("v:")) {
      if (!last) return value;
      out = value.filter((item) => valueElement(item) !== element);
    } else if (element.startsWith("k:")) {
      const keys = mapKeys(schema);
      out = last
        ? value.filter((item) => keyElement(item, keys) !== element)
        : value.map((item) => (keyElement(item, keys) === element ? (removeAt(item, elements, index + 1, itemsSchema(schema)) ?? {}) : item));
    }
    return out.length === 0 ? undefined : out;
  }
  return value;
}

/** A copy of `object` without the members at `paths`. */
export function removeFields(
  object: Record<string, unknown>,
  paths: Iterable<string>,
  schema: Schema | undefined,
): Record<string, unknown> {
  let out: unknown = object;
  for (const path of paths) out = removeAt(out, splitPath(path), 0, schema) ?? {};
  return out as Record<string, unknown>;
}

/** Whether `path` or any path below it is in `set`. */
export function ownsPathOrBelow(set: FieldPathSet, path: string): boolean {
  if (set.has(path)) return true;
  const prefix = path + SEPARATOR;
  for (const member of set) if (member.startsWith(prefix)) return true;
  return false;
}

/** The FieldsV1 JSON of a set (`{"f:spec":{"f:on":{}}}`). */
export function toFieldsV1(set: FieldPathSet): Record<string, unknown> {
  const root: Record<string, Record<string, unknown>> = {};
  for (const path of [...set].sort()) {
    let node: Record<string, unknown> = root;
    const elements = splitPath(path);
    elements.forEach((element, i) => {
      node[element] ??= {};
      node = node[element] as Record<string, unknown>;
      if (i === elements.length - 1) node["."] = {};
    });
  }
  // A member without children is written as {} rather than {".": {}}.
  const tidy = (node: Record<string, unknown>): Record<string, unknown> => {
    const keys = Object.keys(node);
    if (keys.length === 1 && keys[0] === ".") return {};
    const out: Record<string, unknown> = {};
    for (const key of keys) out[key] = key === "." ? {} : tidy(node[key] as Record<string, unknown>);
    return out;
  };
  return tidy(root);
}

/** The set that a FieldsV1 JSON value describes. */
export function fromFieldsV1(fields: unknown): FieldPathSet {
  const out: FieldPathSet = new Set();
  const walk = (node: unknown, path: string): void => {
    if (!isPlainObject(node)) return;
    const keys = Object.keys(node);
    if (path !== "" && (keys.length === 0 || "." in node)) out.add(path);
    for (const key of keys) if (key !== ".") walk(node[key], joinPath(path, key));
  };
  walk(fields, "");
  return out;
}

/** A path as server-side apply prints it in conflicts: `.spec.on`, `.status.conditions[type="Ready"]`. */
export function formatFieldPath(path: string): string {
  return splitPath(path)
    .map((element) => {
      const body = element.slice(2);
      if (element.startsWith("f:")) return `.${body}`;
      if (element.startsWith("v:")) return `[=${body}]`;
      if (element.startsWith("i:")) return `[${body}]`;
      const fields = JSON.parse(body) as Record<string, unknown>;
      return `[${Object.entries(fields).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",")}]`;
    })
    .join("");
}

/**
 * Structural pruning of custom resources, as the Kubernetes API server does
 * it before validation: fields that the schema does not specify are dropped,
 * unless a node says `x-kubernetes-preserve-unknown-fields: true`. The pruned
 * paths are returned so that `fieldValidation=Strict` can reject them and
 * `fieldValidation=Warn` can report them.
 *
 * @module
 */
import { childPath, indexPath } from "./field-error.ts";
import type { Schema } from "./openapi-validator.ts";

/** The fields of `metav1.ObjectMeta`; anything else under a resource's `metadata` is unknown. */
export const OBJECT_META_FIELDS: ReadonlySet<string> = new Set([
  "name",
  "generateName",
  "namespace",
  "selfLink",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "labels",
  "annotations",
  "ownerReferences",
  "finalizers",
  "managedFields",
]);

/** Options of {@link pruneUnknownFields}. */
export interface PruneOptions {
  /**
   * Whether `value` is a whole resource: `apiVersion`, `kind` and `metadata`
   * are then always known, and `metadata` keeps only the ObjectMeta fields.
   * @default true
   */
  isResourceRoot?: boolean;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function pruneMetadata(metadata: unknown, path: string, unknown: string[]): void {
  if (!isPlainObject(metadata)) return;
  for (const key of Object.keys(metadata)) {
    if (!OBJECT_META_FIELDS.has(key)) {
      unknown.push(childPath(path, key));
      delete metadata[key];
    }
  }
}

/** An embedded resource (`x-kubernetes-embedded-resource`) keeps apiVersion, kind and metadata. */
function isEmbeddedResource(schema: Schema): boolean {
  return schema["x-kubernetes-embedded-resource"] === true;
}

function prune(schema: Schema | undefined, value: unknown, path: string, isRoot: boolean, unknown: string[]): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    const items = schema.items as Schema | undefined;
    if (items) value.forEach((item, index) => prune(items, item, indexPath(path, index), false, unknown));
    return;
  }
  if (!isPlainObject(value)) return;
  if (schema["x-kubernetes-int-or-string"] === true) return;
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const additional = schema.additionalProperties;
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
  const resourceLike = isRoot || isEmbeddedResource(schema);
  for (const key of Object.keys(value)) {
    const child = childPath(path, key);
    if (resourceLike && key === "metadata") {
      pruneMetadata(value[key], child, unknown);
      continue;
    }
    if (resourceLike && (key === "apiVersion" || key === "kind")) continue;
    const childSchema = properties[key];
    if (childSchema) {
      prune(childSchema, value[key], child, false, unknown);
    } else if (isPlainObject(additional)) {
      prune(additional, value[key], child, false, unknown);
    } else if (additional === true || preserve) {
      continue;
    } else {
      unknown.push(child);
      delete value[key];
    }
  }
}

/**
 * Removes from `value`, in place, every field that `schema` does not specify
 * and returns their paths (`spec.foo`, `spec.items[0].bar`), in document order.
 */
export function pruneUnknownFields(schema: Schema, value: unknown, options: PruneOptions = {}): string[] {
  const unknown: string[] = [];
  prune(schema, value, "", options.isResourceRoot ?? true, unknown);
  return unknown;
}

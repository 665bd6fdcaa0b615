/**
 * What the emulator knows about one served resource (a group, version and
 * plural name): names for discovery, scope, schema, printer columns,
 * selectable fields, and the hooks of its kind. Built-in kinds and
 * CustomResourceDefinitions both become `ResourceType`s.
 *
 * @module
 */
import type { FieldError } from "./schema/field-error.ts";
import type { Schema } from "./schema/openapi-validator.ts";
import type { Decision, PolicyRule, RequestAttributes, UserInfo } from "./access-types.ts";
import type { KubeObject, NameRule } from "./object-meta.ts";
import type { FieldGetter } from "./selectors.ts";

/** One column of `kubectl get` (a CRD's `additionalPrinterColumns`, or a built-in's). */
export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  /** A JSONPath into the object. */
  jsonPath?: string;
  /** A computed cell, for built-ins whose columns are not plain JSONPaths. */
  cell?: (object: KubeObject) => unknown;
}

/** Type-specific behaviour of a kind. */
export interface KindHooks {
  /** Adjusts a new or updated object before validation (server-set fields, normalisation). */
  prepare?(object: KubeObject, old: KubeObject | undefined): void;
  /** Kind-specific problems beyond the schema. */
  validate?(object: KubeObject, old: KubeObject | undefined): FieldError[];
  /**
   * Values of the wrong JSON type that the kind's schema cannot describe
   * (recursive types); like the schema's own type errors they are 400
   * decoding errors, reported before anything is validated.
   */
  decode?(object: KubeObject): FieldError[];
}

/** A served resource. */
export interface ResourceType {
  group: string;
  version: string;
  /** The plural name, as in URLs. */
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: readonly string[];
  categories: readonly string[];
  verbs: readonly string[];
  /** Whether `/status` is served; main-resource writes then keep status and status writes keep the rest. */
  statusSubresource: boolean;
  /** The OpenAPI schema of the whole object (root `metadata` may be a bare object). */
  schema: Schema;
  /** A custom resource: structural pruning, CRD validation, no strategic merge patch. */
  custom: boolean;
  /** Where objects are stored; several served versions may share it. */
  storage: string;
  /** The `apiVersion` objects are stored with. */
  storageApiVersion: string;
  /** Whether `metadata.generation` counts spec changes. */
  generation: boolean;
  /** Whether PUT without `metadata.resourceVersion` is allowed. */
  allowUnconditionalUpdate: boolean;
  /** Whether DELETE answers with the object rather than a Success status. */
  returnDeletedObject: boolean;
  nameRule: NameRule;
  printerColumns: readonly PrinterColumn[];
  /** Whether `printerColumns` already hold the Name column (as core Events do, last and at priority 1); otherwise Name comes first. */
  printerColumnsIncludeName?: boolean;
  /** Field selectors beyond `metadata.name` and `metadata.namespace`; the getters read the stored form. */
  fieldSelectors: ReadonlyMap<string, FieldGetter>;
  /** Converts a stored object into this version, when the stored form differs by more than `apiVersion`. */
  toServed?(stored: KubeObject): KubeObject;
  /** Converts an object of this version into the stored form. */
  toStored?(served: KubeObject): KubeObject;
  hooks: KindHooks;
  /** Subresources beyond `status` that discovery lists (as `serviceaccounts/token`). */
  subresources?: readonly { name: string; group: string; version: string; kind: string; verbs: readonly string[] }[];
  /**
   * For a create-only review kind (SelfSubjectAccessReview, SelfSubjectReview):
   * the answer to a POST, computed for the requesting user and never stored.
   */
  review?: (body: KubeObject, context: ReviewContext) => KubeObject;
}

/** What a review kind answers from: who asks, and what they may do. */
export interface ReviewContext {
  user: UserInfo;
  authorize(attributes: RequestAttributes): Decision;
  /** The RBAC rules that apply to the user in a namespace, and the bindings that name missing roles. */
  rulesFor(namespace: string): { rules: PolicyRule[]; errors: string[] };
}

/** `group/version`, or `version` for the core group. */
export function apiVersionOf(type: Pick<ResourceType, "group" | "version">): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** Whether objects of `type` are served exactly as stored. */
export function servesStoredForm(type: ResourceType): boolean {
  return !type.toServed && type.storageApiVersion === apiVersionOf(type);
}

/** A stored object as `type` serves it. The stored object is never modified. */
export function toServed(type: ResourceType, stored: KubeObject): KubeObject {
  if (type.toServed) return type.toServed(stored);
  if (type.storageApiVersion === apiVersionOf(type)) return stored;
  return { ...stored, apiVersion: apiVersionOf(type) };
}

/** An object of `type`'s version in its stored form. */
export function toStored(type: ResourceType, served: KubeObject): KubeObject {
  if (type.toStored) return type.toStored(served);
  if (type.storageApiVersion === apiVersionOf(type)) return served;
  return { ...served, apiVersion: type.storageApiVersion };
}

/** The selectable fields of `type`, `metadata.name` and `metadata.namespace` included. */
export function fieldSelectorsOf(type: ResourceType): ReadonlyMap<string, FieldGetter> {
  const out = new Map<string, FieldGetter>([
    ["metadata.name", (o) => o.metadata?.name as string | undefined],
    ["metadata.namespace", (o) => o.metadata?.namespace as string | undefined],
  ]);
  for (const [key, getter] of type.fieldSelectors) out.set(key, getter);
  return out;
}

/** Reads a dotted path of strings from an object, for field selectors. */
export function pathGetter(path: string): FieldGetter {
  const parts = path.split(".");
  return (object) => {
    let value: unknown = object;
    for (const part of parts) {
      if (value === null || typeof value !== "object") return undefined;
      value = (value as Record<string, unknown>)[part];
    }
    if (value === undefined || value === null) return undefined;
    if (typeof value === "string") return value;
    return typeof value === "number" || typeof value === "boolean" ? String(value) : JSON.stringify(value);
  };
}

/** The verbs of an ordinary read-write resource. */
export const ALL_VERBS: readonly string[] = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

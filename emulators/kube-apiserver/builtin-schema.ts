/**
 * Helpers to describe built-in kinds: schema shorthands and the defaults
 * most built-ins share.
 *
 * @module
 */
import type { Schema } from "./schema/openapi-validator.ts";
import { ALL_VERBS, type PrinterColumn, type ResourceType } from "./resource-type.ts";

export const str = (description: string): Schema => ({ type: "string", description });
export const int = (description: string, format = "int32"): Schema => ({ type: "integer", format, description });
export const bool = (description: string): Schema => ({ type: "boolean", description });
export const time = (description: string): Schema => ({ type: "string", format: "date-time", description });
export const stringMap = (description: string): Schema => ({ type: "object", additionalProperties: { type: "string" }, description });
export const preserved = (description: string): Schema => ({ type: "object", "x-kubernetes-preserve-unknown-fields": true, description });

export function objectSchema(description: string, properties: Record<string, Schema>, required: string[] = []): Schema {
  return {
    type: "object",
    description,
    ...(required.length ? { required } : {}),
    properties: {
      apiVersion: str("APIVersion defines the versioned schema of this representation of an object."),
      kind: str("Kind is a string value representing the REST resource this object represents."),
      metadata: { type: "object", description: "Standard object's metadata." },
      ...properties,
    },
  };
}

export const objectReference: Schema = {
  type: "object",
  description: "ObjectReference contains enough information to let you inspect or modify the referred object.",
  "x-kubernetes-map-type": "atomic",
  properties: {
    apiVersion: str("API version of the referent."),
    fieldPath: str("If referring to a piece of an object instead of an entire object, the path to that piece."),
    kind: str("Kind of the referent."),
    name: str("Name of the referent."),
    namespace: str("Namespace of the referent."),
    resourceVersion: str("Specific resourceVersion to which this reference is made, if any."),
    uid: str("UID of the referent."),
  },
};

export const ageColumn: PrinterColumn = {
  name: "Age",
  type: "date",
  description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
  jsonPath: ".metadata.creationTimestamp",
};

/** Fills the fields most built-ins share. */
export function builtin(
  spec: Pick<ResourceType, "group" | "version" | "resource" | "kind" | "namespaced" | "schema"> & Partial<ResourceType>,
): ResourceType {
  const apiVersion = spec.group ? `${spec.group}/${spec.version}` : spec.version;
  return {
    singular: spec.kind.toLowerCase(),
    listKind: `${spec.kind}List`,
    shortNames: [],
    categories: [],
    verbs: ALL_VERBS,
    statusSubresource: false,
    custom: false,
    storage: spec.group ? `${spec.group}/${spec.resource}` : spec.resource,
    storageApiVersion: apiVersion,
    generation: false,
    allowUnconditionalUpdate: true,
    returnDeletedObject: false,
    nameRule: "subdomain",
    printerColumns: [ageColumn],
    fieldSelectors: new Map(),
    hooks: {},
    ...spec,
  };
}

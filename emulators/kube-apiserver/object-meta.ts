/**
 * Kubernetes objects and their `metadata` (`metav1.ObjectMeta`): the types,
 * the OpenAPI schema (for discovery documents and field management), and the
 * validation that every kind shares (names, labels, annotations, finalizers,
 * owner references).
 *
 * @module
 */
import type { FieldError } from "./schema/field-error.ts";
import type { Schema } from "./schema/openapi-validator.ts";
import type { ManagedFieldsEntry } from "./managed-fields.ts";
import { isLabelValue, isQualifiedName } from "./selectors.ts";

/** A `metav1.OwnerReference`. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** A `metav1.ObjectMeta`. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  selfLink?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
}

/** Any Kubernetes object. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

const string = (description: string): Schema => ({ type: "string", description });

/** The OpenAPI schema of `metav1.ObjectMeta`, with the list and map types that field management needs. */
export const OBJECT_META_SCHEMA: Schema = {
  type: "object",
  description:
    "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
  properties: {
    name: string("Name must be unique within a namespace. Cannot be updated."),
    generateName: string("An optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided."),
    namespace: string("Namespace defines the space within which each name must be unique. Cannot be updated."),
    selfLink: string("Deprecated: selfLink is a legacy read-only field that is no longer populated by the system."),
    uid: string("UID is the unique in time and space value for this object. Populated by the system. Read-only."),
    resourceVersion: string("An opaque value that represents the internal version of this object, used for optimistic concurrency and watches. Populated by the system. Read-only."),
    generation: { type: "integer", format: "int64", description: "A sequence number representing a specific generation of the desired state. Populated by the system. Read-only." },
    creationTimestamp: { type: "string", format: "date-time", description: "The time this object was created. Populated by the system. Read-only." },
    deletionTimestamp: { type: "string", format: "date-time", description: "The time after which this resource will be deleted; set by the server when a graceful deletion is requested. Read-only." },
    deletionGracePeriodSeconds: { type: "integer", format: "int64", description: "Seconds allowed for this object to gracefully terminate before it is removed from the system. Read-only." },
    labels: { type: "object", additionalProperties: { type: "string" }, description: "Map of string keys and values that can be used to organize and categorize (scope and select) objects." },
    annotations: { type: "object", additionalProperties: { type: "string" }, description: "An unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata." },
    ownerReferences: {
      type: "array",
      description: "List of objects depended by this object. If ALL objects in the list have been deleted, this object will be garbage collected.",
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["uid"],
      items: {
        type: "object",
        description: "OwnerReference contains enough information to let you identify an owning object.",
        required: ["apiVersion", "kind", "name", "uid"],
        properties: {
          apiVersion: string("API version of the referent."),
          kind: string("Kind of the referent."),
          name: string("Name of the referent."),
          uid: string("UID of the referent."),
          controller: { type: "boolean", description: "If true, this reference points to the managing controller." },
          blockOwnerDeletion: { type: "boolean", description: "If true, the owner cannot be deleted from the key-value store until this reference is removed." },
        },
      },
    },
    finalizers: {
      type: "array",
      items: { type: "string" },
      "x-kubernetes-list-type": "set",
      description: "Must be empty before the object is deleted from the registry. Each entry is an identifier for the responsible component that will remove the entry from the list.",
    },
    managedFields: {
      type: "array",
      description: "Maps workflow-id and version to the set of fields that are managed by that workflow.",
      items: {
        type: "object",
        properties: {
          apiVersion: string("The version of the resource that this field set applies to."),
          fieldsType: string("The type of the fields field: FieldsV1."),
          fieldsV1: { type: "object", "x-kubernetes-preserve-unknown-fields": true, description: "The field set in FieldsV1 format." },
          manager: string("An identifier of the workflow managing these fields."),
          operation: string("The type of operation which lead to this entry: Apply or Update."),
          subresource: string("The name of the subresource used to update that object, or empty for the main resource."),
          time: { type: "string", format: "date-time", description: "When the entry was last changed." },
        },
      },
    },
  },
};

/** `schema` with its root `metadata` replaced by the full ObjectMeta schema. */
export function withObjectMeta(schema: Schema): Schema {
  const properties = { ...((schema.properties ?? {}) as Record<string, Schema>), metadata: OBJECT_META_SCHEMA };
  return { ...schema, properties };
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** How the names of a kind are checked. */
export type NameRule = "subdomain" | "label" | "path-segment";

/** Why `name` is not a valid name under `rule`, or `undefined` when it is. */
export function nameProblem(name: string, rule: NameRule): string | undefined {
  if (rule === "label") {
    if (name.length > 63) return "must be no more than 63 characters";
    if (!DNS1123_LABEL.test(name)) {
      return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    }
    return undefined;
  }
  if (rule === "path-segment") {
    if (name === "." || name === "..") return `may not be '${name}'`;
    if (/[/%]/.test(name)) return "may not contain '/' or '%'";
    return undefined;
  }
  if (name.length > 253) return "must be no more than 253 characters";
  if (!DNS1123_SUBDOMAIN.test(name)) {
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  }
  return undefined;
}

const TOTAL_ANNOTATION_BYTES = 256 * 1024;

/** The problems with an object's metadata that every kind shares. */
export function validateObjectMeta(metadata: ObjectMeta, nameRule: NameRule): FieldError[] {
  const errors: FieldError[] = [];
  if (!metadata.name) {
    errors.push({ type: "FieldValueRequired", field: "metadata.name", detail: "name or generateName is required" });
  } else {
    const problem = nameProblem(metadata.name, nameRule);
    if (problem) errors.push({ type: "FieldValueInvalid", field: "metadata.name", value: metadata.name, detail: problem });
  }
  for (const [key, value] of Object.entries(metadata.labels ?? {})) {
    if (!isQualifiedName(key)) {
      errors.push({ type: "FieldValueInvalid", field: "metadata.labels", value: key, detail: "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')" });
    }
    if (typeof value !== "string" || !isLabelValue(value)) {
      errors.push({ type: "FieldValueInvalid", field: "metadata.labels", value, detail: "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')" });
    }
  }
  let annotationBytes = 0;
  for (const [key, value] of Object.entries(metadata.annotations ?? {})) {
    if (!isQualifiedName(key.toLowerCase())) {
      errors.push({ type: "FieldValueInvalid", field: "metadata.annotations", value: key, detail: "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/'" });
    }
    if (typeof value !== "string") {
      errors.push({ type: "FieldValueTypeInvalid", field: `metadata.annotations[${JSON.stringify(key)}]`, value: typeof value, detail: "annotation values must be strings" });
    } else {
      annotationBytes += Buffer.byteLength(key) + Buffer.byteLength(value);
    }
  }
  if (annotationBytes > TOTAL_ANNOTATION_BYTES) {
    errors.push({ type: "FieldValueTooLong", field: "metadata.annotations", detail: `may not be more than ${TOTAL_ANNOTATION_BYTES} bytes` });
  }
  (metadata.finalizers ?? []).forEach((finalizer, index) => {
    if (typeof finalizer !== "string" || !isQualifiedName(finalizer)) {
      errors.push({ type: "FieldValueInvalid", field: `metadata.finalizers[${index}]`, value: finalizer, detail: "a finalizer must be a qualified name: an optional DNS subdomain prefix and '/', then at most 63 alphanumeric characters, '-', '_' or '.'" });
    }
  });
  (metadata.ownerReferences ?? []).forEach((owner, index) => {
    for (const field of ["apiVersion", "kind", "name", "uid"] as const) {
      if (!owner?.[field]) {
        errors.push({ type: "FieldValueRequired", field: `metadata.ownerReferences[${index}].${field}`, detail: "" });
      }
    }
  });
  if ((metadata.ownerReferences ?? []).filter((owner) => owner?.controller === true).length > 1) {
    errors.push({ type: "FieldValueInvalid", field: "metadata.ownerReferences", value: "multiple controllers", detail: "Only one reference can have Controller set to true" });
  }
  return errors;
}

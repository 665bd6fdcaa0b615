/**
 * CustomResourceDefinitions: the `apiextensions.k8s.io/v1` resource itself,
 * and the resource types each served version of a CRD becomes.
 *
 * @module
 */
import type { FieldError } from "./schema/field-error.ts";
import type { Schema } from "./schema/openapi-validator.ts";
import { jsonSchemaPropsTypeErrors } from "./json-schema-props.ts";
import type { KubeObject } from "./object-meta.ts";
import { ALL_VERBS, type PrinterColumn, type ResourceType, pathGetter } from "./resource-type.ts";

/** The finalizer that keeps a CRD until its custom resources are gone. */
export const CRD_CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io";

/** The parts of a CRD the emulator reads. */
export interface CustomResourceDefinition extends KubeObject {
  spec: {
    group: string;
    names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[]; categories?: string[] };
    scope: "Namespaced" | "Cluster";
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      deprecated?: boolean;
      schema?: { openAPIV3Schema?: Schema };
      subresources?: { status?: object; scale?: object };
      additionalPrinterColumns?: Array<{ name: string; type: string; format?: string; description?: string; priority?: number; jsonPath: string }>;
      selectableFields?: Array<{ jsonPath: string }>;
    }>;
  };
  status?: Record<string, unknown>;
}

const str = (description: string): Schema => ({ type: "string", description });

/** apiextensions.k8s.io/v1 CustomResourceDefinition. */
export const customResourceDefinitions: ResourceType = {
  group: "apiextensions.k8s.io",
  version: "v1",
  resource: "customresourcedefinitions",
  singular: "customresourcedefinition",
  kind: "CustomResourceDefinition",
  listKind: "CustomResourceDefinitionList",
  namespaced: false,
  shortNames: ["crd", "crds"],
  categories: ["api-extensions"],
  verbs: ALL_VERBS,
  statusSubresource: true,
  custom: false,
  storage: "apiextensions.k8s.io/customresourcedefinitions",
  storageApiVersion: "apiextensions.k8s.io/v1",
  generation: true,
  allowUnconditionalUpdate: true,
  returnDeletedObject: true,
  nameRule: "subdomain",
  schema: {
    type: "object",
    description: "CustomResourceDefinition represents a resource that should be exposed on the API server. Its name MUST be in the format <.spec.name>.<.spec.group>.",
    required: ["spec"],
    properties: {
      apiVersion: str("APIVersion defines the versioned schema of this representation of an object."),
      kind: str("Kind is a string value representing the REST resource this object represents."),
      metadata: { type: "object", description: "Standard object's metadata." },
      spec: {
        type: "object",
        description: "spec describes how the user wants the resources to appear.",
        "x-kubernetes-preserve-unknown-fields": true,
        required: ["group", "names", "scope", "versions"],
        properties: {
          group: str("group is the API group of the defined custom resource."),
          names: {
            type: "object",
            description: "names specify the resource and kind names for the custom resource.",
            required: ["plural", "kind"],
            properties: {
              plural: str("plural is the plural name of the resource to serve."),
              singular: str("singular is the singular name of the resource."),
              kind: str("kind is the serialized kind of the resource."),
              listKind: str("listKind is the serialized kind of the list for this resource."),
              shortNames: { type: "array", items: { type: "string" }, description: "shortNames are short names for the resource." },
              categories: { type: "array", items: { type: "string" }, description: "categories is a list of grouped resources this custom resource belongs to (e.g. 'all')." },
            },
          },
          scope: { type: "string", enum: ["Namespaced", "Cluster"], description: "scope indicates whether the defined custom resource is cluster- or namespace-scoped." },
          versions: {
            type: "array",
            description: "versions is the list of all API versions of the defined custom resource.",
            items: { type: "object", "x-kubernetes-preserve-unknown-fields": true, required: ["name", "served", "storage"], properties: { name: str("name is the version name."), served: { type: "boolean", description: "served is a flag enabling/disabling this version from being served via REST APIs" }, storage: { type: "boolean", description: "storage indicates this version should be used when persisting custom resources to storage." } } },
          },
        },
      },
      status: { type: "object", "x-kubernetes-preserve-unknown-fields": true, description: "status indicates the actual state of the CustomResourceDefinition" },
    },
  },
  printerColumns: [
    { name: "Created At", type: "string", format: "date-time", description: "The time the CustomResourceDefinition was created", cell: (o) => o.metadata.creationTimestamp },
  ],
  fieldSelectors: new Map(),
  hooks: {
    prepare(object) {
      const crd = object as CustomResourceDefinition;
      const names = crd.spec?.names;
      if (names) {
        names.singular ||= names.plural?.toLowerCase();
        names.listKind ||= `${names.kind}List`;
      }
      for (const version of crd.spec?.versions ?? []) {
        if (!version.additionalPrinterColumns?.length) {
          version.additionalPrinterColumns = [{ name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" }];
        }
      }
      const finalizers = (object.metadata.finalizers ??= []);
      if (!object.metadata.deletionTimestamp && !finalizers.includes(CRD_CLEANUP_FINALIZER)) finalizers.push(CRD_CLEANUP_FINALIZER);
    },
    validate: validateCustomResourceDefinition,
    decode(object) {
      const versions = (object as CustomResourceDefinition).spec?.versions;
      if (!Array.isArray(versions)) return [];
      return versions.flatMap((version, index) => jsonSchemaPropsTypeErrors(version?.schema?.openAPIV3Schema, `spec.versions[${index}].schema.openAPIV3Schema`));
    },
  },
};

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function validateCustomResourceDefinition(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const crd = object as CustomResourceDefinition;
  const errors: FieldError[] = [];
  const spec = crd.spec;
  if (!spec) return errors;
  if (typeof spec.group !== "string" || !spec.group.includes(".") || !DNS_SUBDOMAIN.test(spec.group)) {
    errors.push({ type: "FieldValueInvalid", field: "spec.group", value: spec.group, detail: "should be a domain with at least one dot" });
  }
  const names = spec.names ?? ({} as CustomResourceDefinition["spec"]["names"]);
  if (typeof names.plural === "string" && !DNS_LABEL.test(names.plural)) {
    errors.push({ type: "FieldValueInvalid", field: "spec.names.plural", value: names.plural, detail: "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character" });
  }
  if (typeof names.kind === "string" && !/^[A-Za-z][A-Za-z0-9]*$/.test(names.kind)) {
    errors.push({ type: "FieldValueInvalid", field: "spec.names.kind", value: names.kind, detail: "may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?" });
  }
  const expectedName = `${names.plural}.${spec.group}`;
  if (crd.metadata.name !== expectedName) {
    errors.push({ type: "FieldValueInvalid", field: "metadata.name", value: crd.metadata.name, detail: `must be spec.names.plural+"."+spec.group` });
  }
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  if (versions.length === 0) errors.push({ type: "FieldValueRequired", field: "spec.versions", detail: "must have exactly one version marked as storage version" });
  const storage = versions.filter((v) => v.storage === true);
  if (versions.length > 0 && storage.length !== 1) {
    errors.push({ type: "FieldValueInvalid", field: "spec.versions", value: versions.map((v) => v.name), detail: "must have exactly one version marked as storage version" });
  }
  const seen = new Set<string>();
  versions.forEach((version, index) => {
    if (seen.has(version.name)) errors.push({ type: "FieldValueDuplicate", field: `spec.versions[${index}].name`, value: version.name, detail: "" });
    seen.add(version.name);
    if (!/^v[0-9]+((alpha|beta)[0-9]+)?$/.test(version.name ?? "") && !DNS_LABEL.test(version.name ?? "")) {
      errors.push({ type: "FieldValueInvalid", field: `spec.versions[${index}].name`, value: version.name, detail: "must be a DNS-1035 label" });
    }
    const schema = version.schema?.openAPIV3Schema;
    if (!schema) {
      errors.push({ type: "FieldValueRequired", field: `spec.versions[${index}].schema.openAPIV3Schema`, detail: "schemas are required" });
    } else if (schema.type !== "object") {
      errors.push({ type: "FieldValueInvalid", field: `spec.versions[${index}].schema.openAPIV3Schema.type`, value: schema.type, detail: "must be object at the root" });
    }
  });
  if (old) {
    const before = (old as CustomResourceDefinition).spec;
    if (before?.group !== spec.group) errors.push({ type: "FieldValueInvalid", field: "spec.group", value: spec.group, detail: "field is immutable" });
    if (before?.scope !== spec.scope) errors.push({ type: "FieldValueInvalid", field: "spec.scope", value: spec.scope, detail: "field is immutable" });
    if (before?.names?.plural !== names.plural) errors.push({ type: "FieldValueInvalid", field: "spec.names.plural", value: names.plural, detail: "field is immutable" });
  }
  return errors;
}

/** A CRD's status once its names are accepted and it is served. */
export function establishedStatus(crd: CustomResourceDefinition, now: string, previous?: Record<string, unknown>): Record<string, unknown> {
  const conditions = (previous?.conditions as Array<Record<string, unknown>> | undefined) ?? [];
  const transition = (type: string) =>
    (conditions.find((c) => c.type === type && c.status === "True")?.lastTransitionTime as string | undefined) ?? now;
  const storedVersions = new Set<string>((previous?.storedVersions as string[] | undefined) ?? []);
  for (const version of crd.spec.versions) if (version.storage) storedVersions.add(version.name);
  const status: Record<string, unknown> = {
    acceptedNames: {
      plural: crd.spec.names.plural,
      singular: crd.spec.names.singular,
      kind: crd.spec.names.kind,
      listKind: crd.spec.names.listKind,
      ...(crd.spec.names.shortNames ? { shortNames: crd.spec.names.shortNames } : {}),
      ...(crd.spec.names.categories ? { categories: crd.spec.names.categories } : {}),
    },
    conditions: [
      { type: "NamesAccepted", status: "True", lastTransitionTime: transition("NamesAccepted"), reason: "NoConflicts", message: "no conflicts found" },
      { type: "Established", status: "True", lastTransitionTime: transition("Established"), reason: "InitialNamesAccepted", message: "the initial names have been accepted" },
    ],
    storedVersions: [...storedVersions],
  };
  if (crd.metadata.deletionTimestamp) {
    (status.conditions as unknown[]).push({
      type: "Terminating",
      status: "True",
      lastTransitionTime: now,
      reason: "InstanceDeletionInProgress",
      message: "CustomResource deletion is in progress",
    });
  }
  return status;
}

/** The resource types a CRD serves, one per served version. */
export function resourceTypesOf(crd: CustomResourceDefinition): ResourceType[] {
  const { spec } = crd;
  const storageVersion = spec.versions.find((v) => v.storage)?.name ?? spec.versions[0]?.name ?? "v1";
  return spec.versions
    .filter((version) => version.served)
    .map((version): ResourceType => {
      const columns: PrinterColumn[] = (version.additionalPrinterColumns ?? []).map((column) => ({
        name: column.name,
        type: column.type,
        ...(column.format ? { format: column.format } : {}),
        ...(column.description ? { description: column.description } : {}),
        priority: column.priority ?? 0,
        jsonPath: column.jsonPath,
      }));
      return {
        group: spec.group,
        version: version.name,
        resource: spec.names.plural,
        singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
        kind: spec.names.kind,
        listKind: spec.names.listKind ?? `${spec.names.kind}List`,
        namespaced: spec.scope !== "Cluster",
        shortNames: spec.names.shortNames ?? [],
        categories: spec.names.categories ?? [],
        verbs: ALL_VERBS,
        statusSubresource: version.subresources?.status !== undefined,
        schema: version.schema?.openAPIV3Schema ?? { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        custom: true,
        storage: `${spec.group}/${spec.names.plural}`,
        storageApiVersion: `${spec.group}/${storageVersion}`,
        generation: true,
        allowUnconditionalUpdate: false,
        returnDeletedObject: true,
        nameRule: "subdomain",
        printerColumns: columns,
        fieldSelectors: new Map((version.selectableFields ?? []).map((field) => [field.jsonPath.replace(/^\./, ""), pathGetter(field.jsonPath.replace(/^\./, ""))])),
        hooks: {},
      };
    });
}

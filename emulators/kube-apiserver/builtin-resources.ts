/**
 * The built-in kinds the emulator serves: core `v1` Namespaces, Secrets,
 * ConfigMaps and Events, `events.k8s.io/v1` Events (stored once with core
 * Events, as in Kubernetes), `coordination.k8s.io/v1` Leases, and
 * `admissionregistration.k8s.io/v1` ValidatingAdmissionPolicies and their
 * bindings. CustomResourceDefinitions are in `crd.ts`.
 *
 * @module
 */
import type { FieldError } from "./schema/field-error.ts";
import { compileCel } from "./schema/cel-environment.ts";
import { ageColumn, bool, builtin, int, objectReference, objectSchema, preserved, str, stringMap, time } from "./builtin-schema.ts";
import type { KubeObject } from "./object-meta.ts";
import { type PrinterColumn, type ResourceType, pathGetter } from "./resource-type.ts";
import { age } from "./table.ts";

const DATA_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function validateDataKeys(data: unknown, field: string, errors: FieldError[]): void {
  if (!data || typeof data !== "object") return;
  for (const key of Object.keys(data)) {
    if (key.length > 253 || !DATA_KEY.test(key) || key === "." || key === "..") {
      errors.push({
        type: "FieldValueInvalid",
        field: `${field}[${JSON.stringify(key)}]`,
        value: key,
        detail: "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      });
    }
  }
}

/** Rejects changes to `data` (and `binaryData`) of an object marked `immutable`. */
function validateImmutable(object: KubeObject, old: KubeObject | undefined, fields: string[], errors: FieldError[]): void {
  if (old?.immutable !== true) return;
  if (object.immutable !== true) {
    errors.push({ type: "FieldValueForbidden", field: "immutable", detail: "field is immutable when `immutable` is set" });
  }
  for (const field of fields) {
    if (JSON.stringify(object[field] ?? {}) !== JSON.stringify(old[field] ?? {})) {
      errors.push({ type: "FieldValueForbidden", field, detail: "field is immutable when `immutable` is set" });
    }
  }
}

/** core/v1 Namespace. */
export const namespaces: ResourceType = builtin({
  group: "",
  version: "v1",
  resource: "namespaces",
  kind: "Namespace",
  namespaced: false,
  shortNames: ["ns"],
  verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
  statusSubresource: true,
  nameRule: "label",
  schema: objectSchema("Namespace provides a scope for Names. Use of multiple namespaces is optional.", {
    spec: {
      type: "object",
      description: "Spec defines the behavior of the Namespace.",
      properties: {
        finalizers: { type: "array", items: { type: "string" }, "x-kubernetes-list-type": "atomic", description: "Finalizers is an opaque list of values that must be empty to permanently remove object from storage." },
      },
    },
    status: {
      type: "object",
      description: "Status describes the current status of a Namespace.",
      properties: {
        phase: str("Phase is the current lifecycle phase of the namespace: Active or Terminating."),
        conditions: { type: "array", items: preserved("A namespace condition."), "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"], description: "Represents the latest available observations of a namespace's current state." },
      },
    },
  }),
  printerColumns: [
    { name: "Status", type: "string", description: "The status of the namespace", jsonPath: ".status.phase" },
    ageColumn,
  ],
  fieldSelectors: new Map([["status.phase", pathGetter("status.phase")]]),
  hooks: {
    prepare(object, old) {
      const spec = (object.spec ??= {}) as Record<string, unknown>;
      if (!old && spec.finalizers === undefined) spec.finalizers = ["kubernetes"];
      const status = (object.status ??= {}) as Record<string, unknown>;
      status.phase = object.metadata.deletionTimestamp ? "Terminating" : "Active";
      object.metadata.labels = { ...object.metadata.labels, "kubernetes.io/metadata.name": object.metadata.name ?? "" };
    },
  },
});

/** core/v1 Secret. */
export const secrets: ResourceType = builtin({
  group: "",
  version: "v1",
  resource: "secrets",
  kind: "Secret",
  namespaced: true,
  schema: objectSchema("Secret holds secret data of a certain type.", {
    data: { type: "object", additionalProperties: { type: "string", format: "byte" }, description: "Data contains the secret data. Each value must be base64 encoded." },
    stringData: stringMap("stringData allows specifying non-binary secret data in string form; it is merged into data on write and never output when reading."),
    type: str("Used to facilitate programmatic handling of secret data."),
    immutable: bool("Immutable, if set to true, ensures that data stored in the Secret cannot be updated."),
  }),
  printerColumns: [
    { name: "Type", type: "string", description: "The type of the secret", jsonPath: ".type" },
    { name: "Data", type: "string", description: "The number of entries in the secret", cell: (o) => Object.keys((o.data ?? {})).length },
    ageColumn,
  ],
  fieldSelectors: new Map([["type", pathGetter("type")]]),
  hooks: {
    prepare(object) {
      if (object.stringData && typeof object.stringData === "object") {
        const data = { ...((object.data ?? {}) as Record<string, string>) };
        for (const [key, value] of Object.entries(object.stringData as Record<string, unknown>)) {
          data[key] = Buffer.from(String(value), "utf8").toString("base64");
        }
        object.data = data;
      }
      delete object.stringData;
      object.type ??= "Opaque";
    },
    validate(object, old) {
      const errors: FieldError[] = [];
      validateDataKeys(object.data, "data", errors);
      for (const [key, value] of Object.entries((object.data ?? {}) as Record<string, unknown>)) {
        if (typeof value !== "string" || !BASE64.test(value)) {
          // The value is secret: the error names the key only.
          errors.push({ type: "FieldValueInvalid", field: `data[${JSON.stringify(key)}]`, value: "<secret value>", detail: "must be base64 encoded" });
        }
      }
      if (old && old.type !== object.type) {
        errors.push({ type: "FieldValueInvalid", field: "type", value: object.type, detail: "field is immutable" });
      }
      validateImmutable(object, old, ["data"], errors);
      return errors;
    },
  },
});

/** core/v1 ConfigMap. */
export const configMaps: ResourceType = builtin({
  group: "",
  version: "v1",
  resource: "configmaps",
  kind: "ConfigMap",
  namespaced: true,
  shortNames: ["cm"],
  schema: objectSchema("ConfigMap holds configuration data for pods to consume.", {
    data: stringMap("Data contains the configuration data."),
    binaryData: { type: "object", additionalProperties: { type: "string", format: "byte" }, description: "BinaryData contains the binary data." },
    immutable: bool("Immutable, if set to true, ensures that data stored in the ConfigMap cannot be updated."),
  }),
  printerColumns: [
    { name: "Data", type: "string", description: "The number of entries in the config map", cell: (o) => Object.keys((o.data ?? {})).length + Object.keys((o.binaryData ?? {})).length },
    ageColumn,
  ],
  hooks: {
    validate(object, old) {
      const errors: FieldError[] = [];
      validateDataKeys(object.data, "data", errors);
      validateDataKeys(object.binaryData, "binaryData", errors);
      validateImmutable(object, old, ["data", "binaryData"], errors);
      return errors;
    },
  },
});

const coreEventSchema = objectSchema("Event is a report of an event somewhere in the cluster.", {
  involvedObject: objectReference,
  reason: str("A short, machine understandable string that gives the reason for the transition into the object's current status."),
  message: str("A human-readable description of the status of this operation."),
  source: { type: "object", description: "The component reporting this event.", properties: { component: str("Component from which the event is generated."), host: str("Node name on which the event is generated.") } },
  firstTimestamp: time("The time at which the event was first recorded."),
  lastTimestamp: time("The time at which the most recent occurrence of this event was recorded."),
  count: int("The number of times this event has occurred."),
  type: str("Type of this event (Normal, Warning)."),
  eventTime: { type: "string", format: "date-time", description: "Time when this Event was first observed (MicroTime)." },
  series: { type: "object", description: "Data about the Event series this event represents.", properties: { count: int("Number of occurrences in this series up to the last heartbeat time."), lastObservedTime: time("Time of the last occurrence observed.") } },
  action: str("What action was taken/failed regarding to the Regarding object."),
  related: objectReference,
  reportingComponent: str("Name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`."),
  reportingInstance: str("ID of the controller instance, e.g. `kubelet-xyzf`."),
}, ["involvedObject"]);

const eventColumns: PrinterColumn[] = [
  {
    name: "Last Seen",
    type: "string",
    description: "The time the event was last observed",
    cell: (o) => {
      const series = o.series as { lastObservedTime?: string } | undefined;
      return age(series?.lastObservedTime ?? (o.lastTimestamp) ?? (o.eventTime));
    },
  },
  { name: "Type", type: "string", description: "Type of this event (Normal, Warning)", jsonPath: ".type" },
  { name: "Reason", type: "string", description: "Why the action was taken", jsonPath: ".reason" },
  {
    name: "Object",
    type: "string",
    description: "The object this event is about",
    cell: (o) => {
      const ref = (o.involvedObject ?? o.regarding ?? {}) as { kind?: string; name?: string };
      return `${(ref.kind ?? "").toLowerCase()}/${ref.name ?? ""}`;
    },
  },
  { name: "Message", type: "string", description: "A human-readable description of the status of this operation", cell: (o) => o.message ?? o.note ?? "" },
  { name: "Name", type: "string", format: "name", priority: 1, description: "The name of the event", cell: (o) => o.metadata.name ?? "" },
];

const eventFieldSelectors = new Map([
  ["involvedObject.kind", pathGetter("involvedObject.kind")],
  ["involvedObject.namespace", pathGetter("involvedObject.namespace")],
  ["involvedObject.name", pathGetter("involvedObject.name")],
  ["involvedObject.uid", pathGetter("involvedObject.uid")],
  ["involvedObject.apiVersion", pathGetter("involvedObject.apiVersion")],
  ["involvedObject.resourceVersion", pathGetter("involvedObject.resourceVersion")],
  ["involvedObject.fieldPath", pathGetter("involvedObject.fieldPath")],
  ["reason", pathGetter("reason")],
  ["reportingComponent", pathGetter("reportingComponent")],
  ["source", pathGetter("source.component")],
  ["type", pathGetter("type")],
]);

/** core/v1 Event, the storage form of both Event APIs. */
export const coreEvents: ResourceType = builtin({
  group: "",
  version: "v1",
  resource: "events",
  kind: "Event",
  namespaced: true,
  shortNames: ["ev"],
  schema: coreEventSchema,
  printerColumns: eventColumns,
  printerColumnsIncludeName: true,
  fieldSelectors: eventFieldSelectors,
});

/** Renames the fields of an object, dropping those mapped to `undefined`. */
function rename(object: KubeObject, mapping: Record<string, string>, apiVersion: string): KubeObject {
  const out: KubeObject = { apiVersion, kind: "Event", metadata: object.metadata };
  for (const [key, value] of Object.entries(object)) {
    if (key === "apiVersion" || key === "kind" || key === "metadata") continue;
    out[mapping[key] ?? key] = value;
  }
  return out;
}

const CORE_TO_EVENTS: Record<string, string> = {
  involvedObject: "regarding",
  message: "note",
  reportingComponent: "reportingController",
  source: "deprecatedSource",
  firstTimestamp: "deprecatedFirstTimestamp",
  lastTimestamp: "deprecatedLastTimestamp",
  count: "deprecatedCount",
};
const EVENTS_TO_CORE = Object.fromEntries(Object.entries(CORE_TO_EVENTS).map(([a, b]) => [b, a]));

/** events.k8s.io/v1 Event, stored as a core Event. */
export const eventsV1: ResourceType = builtin({
  group: "events.k8s.io",
  version: "v1",
  resource: "events",
  kind: "Event",
  namespaced: true,
  shortNames: ["ev"],
  storage: "events",
  storageApiVersion: "v1",
  schema: objectSchema("Event is a report of an event somewhere in the cluster.", {
    eventTime: { type: "string", format: "date-time", description: "The time at which the event was first observed (MicroTime). Required." },
    series: { type: "object", description: "Data about the Event series this event represents.", properties: { count: int("Number of occurrences in this series up to the last heartbeat time."), lastObservedTime: time("Time of the last occurrence observed.") } },
    reportingController: str("The name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`. Required."),
    reportingInstance: str("The ID of the controller instance, e.g. `kubelet-xyzf`. Required."),
    action: str("What action was taken/failed regarding to the regarding object. Required."),
    reason: str("Why the action was taken. Required."),
    regarding: objectReference,
    related: objectReference,
    note: str("A human-readable description of the status of this operation. At most 1kB."),
    type: str("The type of this event (Normal, Warning)."),
    deprecatedSource: { type: "object", description: "Deprecated field assuring backward compatibility with core.v1 Event type.", properties: { component: str("Component from which the event is generated."), host: str("Node name on which the event is generated.") } },
    deprecatedFirstTimestamp: time("Deprecated field assuring backward compatibility with core.v1 Event type."),
    deprecatedLastTimestamp: time("Deprecated field assuring backward compatibility with core.v1 Event type."),
    deprecatedCount: int("Deprecated field assuring backward compatibility with core.v1 Event type."),
  }),
  printerColumns: eventColumns,
  printerColumnsIncludeName: true,
  fieldSelectors: new Map([
    ["regarding.kind", pathGetter("involvedObject.kind")],
    ["regarding.namespace", pathGetter("involvedObject.namespace")],
    ["regarding.name", pathGetter("involvedObject.name")],
    ["regarding.uid", pathGetter("involvedObject.uid")],
    ["reason", pathGetter("reason")],
    ["reportingController", pathGetter("reportingComponent")],
    ["type", pathGetter("type")],
  ]),
  toServed: (stored) => rename(stored, CORE_TO_EVENTS, "events.k8s.io/v1"),
  toStored: (served) => rename(served, EVENTS_TO_CORE, "v1"),
  hooks: {
    validate(object, old) {
      if (old) return [];
      // Strict validation applies to events created through events.k8s.io/v1.
      const errors: FieldError[] = [];
      const required = (field: string, value: unknown) => {
        if (value === undefined || value === null || value === "") errors.push({ type: "FieldValueRequired", field, detail: "" });
      };
      required("eventTime", object.eventTime);
      required("reportingController", object.reportingController);
      required("reportingInstance", object.reportingInstance);
      required("action", object.action);
      required("reason", object.reason);
      if (object.type !== "Normal" && object.type !== "Warning") {
        errors.push({ type: "FieldValueInvalid", field: "type", value: object.type ?? "", detail: `has invalid value: ${JSON.stringify(object.type ?? "")}` });
      }
      if (typeof object.note === "string" && Buffer.byteLength(object.note) > 1024) {
        errors.push({ type: "FieldValueTooLong", field: "note", detail: "may not be more than 1024 bytes" });
      }
      return errors;
    },
  },
});

/** coordination.k8s.io/v1 Lease. */
export const leases: ResourceType = builtin({
  group: "coordination.k8s.io",
  version: "v1",
  resource: "leases",
  kind: "Lease",
  namespaced: true,
  schema: objectSchema("Lease defines a lease concept.", {
    spec: {
      type: "object",
      description: "spec contains the specification of the Lease.",
      properties: {
        holderIdentity: str("holderIdentity contains the identity of the holder of a current lease."),
        leaseDurationSeconds: int("leaseDurationSeconds is a duration that candidates for a lease need to wait to force acquire it."),
        acquireTime: { type: "string", format: "date-time", description: "acquireTime is a time when the current lease was acquired (MicroTime)." },
        renewTime: { type: "string", format: "date-time", description: "renewTime is a time when the current holder of a lease has last updated the lease (MicroTime)." },
        leaseTransitions: int("leaseTransitions is the number of transitions of a lease between holders."),
        strategy: str("Strategy indicates the strategy for picking the leader for coordinated leader election."),
        preferredHolder: str("PreferredHolder signals to a lease holder that the lease has a more optimal holder and should be given up."),
      },
    },
  }),
  printerColumns: [
    { name: "Holder", type: "string", description: "The holder of the lease", jsonPath: ".spec.holderIdentity" },
    ageColumn,
  ],
});

function celErrors(expressions: Array<{ field: string; expression: unknown }>): FieldError[] {
  const errors: FieldError[] = [];
  for (const { field, expression } of expressions) {
    if (typeof expression !== "string" || expression === "") {
      errors.push({ type: "FieldValueRequired", field, detail: "" });
      continue;
    }
    try {
      compileCel(expression);
    } catch (error) {
      errors.push({ type: "FieldValueInvalid", field, value: expression, detail: `compilation failed: ${(error as Error).message.split("\n")[0]}` });
    }
  }
  return errors;
}

/** admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy. */
export const validatingAdmissionPolicies: ResourceType = builtin({
  group: "admissionregistration.k8s.io",
  version: "v1",
  resource: "validatingadmissionpolicies",
  kind: "ValidatingAdmissionPolicy",
  namespaced: false,
  shortNames: ["vap"],
  categories: ["api-extensions"],
  statusSubresource: true,
  generation: true,
  schema: objectSchema("ValidatingAdmissionPolicy describes the definition of an admission validation policy that accepts or rejects an object without changing it.", {
    spec: {
      type: "object",
      description: "Specification of the desired behavior of the ValidatingAdmissionPolicy.",
      "x-kubernetes-preserve-unknown-fields": true,
      properties: {
        failurePolicy: { type: "string", enum: ["Ignore", "Fail"], description: "How to handle failures of the admission policy: Ignore or Fail (default)." },
        matchConstraints: preserved("The resources this policy is designed to validate: resourceRules with apiGroups, apiVersions, resources and operations."),
        validations: {
          type: "array",
          "x-kubernetes-list-type": "atomic",
          description: "The CEL expressions used to validate a resource.",
          items: {
            type: "object",
            required: ["expression"],
            properties: {
              expression: str("A CEL expression that must evaluate to true for the request to be admitted."),
              message: str("The message displayed when validation fails."),
              messageExpression: str("A CEL expression evaluated for the message when validation fails."),
              reason: str("The machine-readable reason for the failure: Unauthorized, Forbidden (default), Invalid or RequestEntityTooLarge."),
            },
          },
        },
      },
    },
    status: preserved("The status of the ValidatingAdmissionPolicy."),
  }),
  printerColumns: [
    { name: "Validations", type: "integer", description: "The number of validations", cell: (o) => ((o.spec as { validations?: unknown[] } | undefined)?.validations ?? []).length },
    { name: "ParamKind", type: "string", description: "The kind of the parameter resource", cell: (o) => { const kind = (o.spec as { paramKind?: { apiVersion?: string; kind?: string } } | undefined)?.paramKind; return kind ? `${kind.apiVersion}/${kind.kind}` : "<unset>"; } },
    ageColumn,
  ],
  hooks: {
    prepare(object) {
      const spec = (object.spec ??= {}) as Record<string, unknown>;
      spec.failurePolicy ??= "Fail";
    },
    validate(object) {
      const spec = (object.spec ?? {}) as { validations?: Array<{ expression?: unknown; messageExpression?: unknown }> };
      const errors: FieldError[] = [];
      if (!spec.validations?.length) {
        errors.push({ type: "FieldValueRequired", field: "spec.validations", detail: "validations or auditAnnotations must contain at least one item" });
      }
      errors.push(...celErrors((spec.validations ?? []).map((v, i) => ({ field: `spec.validations[${i}].expression`, expression: v.expression }))));
      errors.push(
        ...celErrors(
          (spec.validations ?? []).flatMap((v, i) =>
            v.messageExpression === undefined ? [] : [{ field: `spec.validations[${i}].messageExpression`, expression: v.messageExpression }],
          ),
        ),
      );
      return errors;
    },
  },
});

/** admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding. */
export const validatingAdmissionPolicyBindings: ResourceType = builtin({
  group: "admissionregistration.k8s.io",
  version: "v1",
  resource: "validatingadmissionpolicybindings",
  kind: "ValidatingAdmissionPolicyBinding",
  namespaced: false,
  shortNames: ["vapb"],
  categories: ["api-extensions"],
  generation: true,
  schema: objectSchema("ValidatingAdmissionPolicyBinding binds the ValidatingAdmissionPolicy with paramerized resources.", {
    spec: {
      type: "object",
      description: "Specification of the desired behavior of the ValidatingAdmissionPolicyBinding.",
      "x-kubernetes-preserve-unknown-fields": true,
      properties: {
        policyName: str("The name of the ValidatingAdmissionPolicy this binding binds to."),
        validationActions: { type: "array", items: { type: "string", enum: ["Deny", "Warn", "Audit"] }, "x-kubernetes-list-type": "set", description: "How validations of the policy are enforced: Deny, Warn and/or Audit." },
        matchResources: preserved("Which resources the binding applies to, within the policy's constraints."),
        paramRef: preserved("The parameter resource (not supported by this emulator)."),
      },
    },
  }),
  printerColumns: [
    { name: "PolicyName", type: "string", description: "The policy this binding binds", jsonPath: ".spec.policyName" },
    { name: "ParamRef", type: "string", description: "The parameter resource", cell: (o) => ((o.spec as { paramRef?: unknown } | undefined)?.paramRef ? "set" : "<unset>") },
    ageColumn,
  ],
  hooks: {
    validate(object) {
      const spec = (object.spec ?? {}) as { policyName?: unknown; validationActions?: unknown[] };
      const errors: FieldError[] = [];
      if (!spec.policyName) errors.push({ type: "FieldValueRequired", field: "spec.policyName", detail: "" });
      if (!spec.validationActions?.length) errors.push({ type: "FieldValueRequired", field: "spec.validationActions", detail: "at least one validation action is required" });
      return errors;
    },
  },
});

/** Every built-in resource except CustomResourceDefinitions. */
export const BUILTIN_RESOURCES: readonly ResourceType[] = [
  namespaces,
  secrets,
  configMaps,
  coreEvents,
  eventsV1,
  leases,
  validatingAdmissionPolicies,
  validatingAdmissionPolicyBindings,
];

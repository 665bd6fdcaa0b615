/**
 * Schema building blocks shared by every kind of the metal3.io/v1alpha1 API.
 *
 * The schemas are written with TypeBox: each one is at once a JSON Schema (the
 * OpenAPI v3 schema that goes into the CRD) and, through `Static`, the
 * TypeScript type of the same data. They are the single source of truth for
 * both.
 *
 * @module
 */
import type { V1ObjectMeta } from "@kubernetes/client-node";
import { type SchemaOptions, type Static, type TSchema, type TUnsafe, Type, type TProperties } from "@sinclair/typebox";

import type { API_VERSION } from "./names.ts";

export { API_VERSION, GROUP, VERSION } from "./names.ts";

/** A DNS-1123 subdomain: the form of most Kubernetes object names. */
export const DNS1123_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/** A DNS-1123 label: the form of a namespace name. */
export const DNS1123_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

/** One CEL rule of `x-kubernetes-validations`. */
export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

/** Attaches CEL rules to a schema, as the `x-kubernetes-validations` extension. */
export function withRules<T extends TSchema>(schema: T, ...rules: ValidationRule[]): T {
  const existing = (schema as Record<string, unknown>)["x-kubernetes-validations"] as
    | ValidationRule[]
    | undefined;
  return Object.assign(schema, { "x-kubernetes-validations": [...(existing ?? []), ...rules] });
}

/**
 * A regular expression (RE2) matching a URL with user information
 * (`scheme://user:password@host`): the part before `@` in its authority.
 */
export const URL_USERINFO = "^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@";

/**
 * CEL giving the string `expr` quoted for a message, or a note that it was
 * left out when it is a URL with user information (which may hold a password).
 */
export function quotedUnlessUserinfo(expr: string): string {
  return `(${expr}.matches('${URL_USERINFO}') ? '(a URL with user information, not shown)' : '\\'' + ${expr} + '\\'')`;
}

/**
 * A CEL rule that makes the value immutable once the object exists. With
 * `show` (CEL quoting a value for a message), the message names the old and
 * the new value.
 */
export function immutable(field: string, advice: string, show?: (value: string) => string): ValidationRule {
  const rule: ValidationRule = { rule: "self == oldSelf", message: `${field} is immutable: ${advice}` };
  if (show) rule.messageExpression = `'${field} is immutable (was ' + ${show("oldSelf")} + ', now ' + ${show("self")} + '): ${advice.replaceAll("'", "\\'")}'`;
  return rule;
}

/** CEL quoting the string `expr` for a message. */
export const quoted = (expr: string): string => `'\\'' + ${expr} + '\\''`;

/** A CEL rule requiring a DNS-1123 subdomain name, with a message naming the field and the value. */
export function dns1123SubdomainRule(field: string, what: string): ValidationRule {
  return {
    rule: `self.matches('${DNS1123_SUBDOMAIN}')`,
    messageExpression: `'${field} must be ${what}: a DNS-1123 subdomain (lowercase letters, digits, \\'-\\' and \\'.\\', starting and ending with a letter or digit), got \\'' + self + '\\''`,
  };
}

/**
 * The optional `namespace` of a reference (`field`, e.g. `hostRef`) to a
 * `kind` that must be in the referring object's own namespace: empty, or a
 * namespace name (the admission policy checks that it is the object's own).
 */
export function ReferenceNamespace(field: string, kind: string, owner: string) {
  return Type.Optional(
    withRules(Type.String({ maxLength: 63, description: `Namespace of the ${kind}; empty or the ${owner}'s own namespace.` }), {
      rule: `self == '' || self.matches('${DNS1123_LABEL}')`,
      messageExpression: `'${field}.namespace must be empty or a namespace name, got \\'' + self + '\\''`,
    }),
  );
}

/**
 * A string restricted to a list of values, as a structural `enum` (a TypeBox
 * union of literals would produce `anyOf`/`const`, which a CRD cannot hold).
 */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: SchemaOptions = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: "string", enum: [...values] });
}

/** A string holding an RFC 3339 timestamp. */
export const Timestamp = (description: string) => Type.String({ format: "date-time", description });

/** `metav1.Condition`, with the same constraints as the upstream type. */
export const ConditionSchema = Type.Object(
  {
    type: Type.String({
      maxLength: 316,
      pattern:
        "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
      description: "Type of condition in CamelCase, for example Ready.",
    }),
    status: StringEnum(["True", "False", "Unknown"], {
      description: "Status of the condition: True, False or Unknown.",
    }),
    observedGeneration: Type.Optional(
      Type.Integer({
        format: "int64",
        minimum: 0,
        description: "The .metadata.generation that the condition was set based upon.",
      }),
    ),
    lastTransitionTime: Timestamp("The last time the condition changed from one status to another."),
    reason: Type.String({
      minLength: 1,
      maxLength: 1024,
      pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
      description: "A CamelCase reason for the condition's last transition.",
    }),
    message: Type.String({
      maxLength: 32768,
      description: "A human readable message with details about the transition.",
    }),
  },
  {
    description: "Condition contains details for one aspect of the current state of this resource.",
  },
);
export type Condition = Static<typeof ConditionSchema>;

/** The `conditions` list of a status, a map list keyed by `type`. */
export const Conditions = () =>
  Type.Array(ConditionSchema, {
    maxItems: 32,
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["type"],
    description: "Conditions of the resource; Ready summarises them.",
  });

/**
 * The status schema of a resource that converges: `fields`, then
 * `observedGeneration` and the `conditions` (with `Ready`).
 */
export function ConvergenceStatus<T extends TProperties>(description: string, fields: T) {
  return Type.Object({ ...fields, observedGeneration: Type.Optional(ObservedGeneration()), conditions: Type.Optional(Conditions()) }, { description });
}

/** The generation of the spec that the status describes. */
export const ObservedGeneration = () =>
  Type.Integer({
    format: "int64",
    minimum: 0,
    description: "The metadata.generation of the spec that this status describes.",
  });

/** An error message as shown in status: the real cause, bounded in size. */
export const ErrorMessage = (what: string) =>
  Type.String({
    maxLength: 4096,
    description: `The last error met while ${what}; empty when the last attempt succeeded.`,
  });

/** Fields every object of a kind carries, with the kind's spec and status. */
export interface KubernetesObject<Kind extends string, Spec, Status> {
  apiVersion: typeof API_VERSION;
  kind: Kind;
  metadata: V1ObjectMeta;
  spec: Spec;
  status?: Status;
}

/** One additional printer column of a CRD version. */
export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

/**
 * A CEL validation evaluated at admission with the object's namespace at hand,
 * which CRD rules cannot see (CRD rules reach only `metadata.name` and
 * `metadata.generateName`). It is shipped as a ValidatingAdmissionPolicy.
 */
export interface AdmissionRule {
  /** CEL expression over `object` (and `oldObject`, null on create); true when valid. */
  expression: string;
  /** What is wrong, naming the field; shown when `messageExpression` is absent or fails. */
  message: string;
  /** CEL over `object` giving the message with the value given (never a secret). */
  messageExpression?: string;
  /** Where the error points, as a dotted path. */
  field: string;
}

/** Everything needed to serve a kind as a CustomResourceDefinition. */
export interface KindDefinition {
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  description: string;
  spec: TSchema;
  status: TSchema;
  /** Rules on the whole object (CRD `x-kubernetes-validations` at the root). */
  rootRules?: ValidationRule[];
  /** Rules that need the object's namespace (see {@link AdmissionRule}). */
  admissionRules?: AdmissionRule[];
  printerColumns: PrinterColumn[];
}

/**
 * A {@link KindDefinition} with the usual names derived: `<Kind>List`, the
 * singular as the plural without its last "s", and the `metal3` category.
 */
export function defineKind(
  def: Omit<KindDefinition, "listKind" | "singular" | "categories"> & Partial<Pick<KindDefinition, "singular" | "categories">>,
): KindDefinition {
  return { listKind: `${def.kind}List`, singular: def.plural.replace(/s$/, ""), categories: ["metal3"], ...def };
}

/** A printer column: `kubectl get` shows `jsonPath` under `name`. */
export function column(name: string, type: PrinterColumn["type"], jsonPath: string, description: string): PrinterColumn {
  return { name, type, jsonPath, description };
}

/** The printer column showing the last error. */
export const ERROR_COLUMN: PrinterColumn = column("Error", "string", ".status.errorMessage", "The last error");

/** The printer column showing the status of the `Ready` condition. */
export const READY_COLUMN: PrinterColumn = {
  name: "Ready",
  type: "string",
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: "Whether the resource has converged",
};

/** The printer column showing the object's age. */
export const AGE_COLUMN: PrinterColumn = {
  name: "Age",
  type: "date",
  jsonPath: ".metadata.creationTimestamp",
};

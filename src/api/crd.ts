/**
 * Turns a {@link KindDefinition} into its CustomResourceDefinition, and its
 * admission rules into a ValidatingAdmissionPolicy.
 *
 * @module
 */
import type { TSchema } from "@sinclair/typebox";
import { GROUP, type KindDefinition, VERSION } from "./meta.ts";

import { GENERATED_FROM_ANNOTATION, OWN_CRD_LABEL } from "./names.ts";

export { GENERATED_FROM_ANNOTATION, OWN_CRD_LABEL } from "./names.ts";

/** An OpenAPI v3 schema as a CRD holds it (plain JSON, no TypeBox symbols). */
export type OpenAPISchema = { [key: string]: unknown };

/** The plain JSON form of a TypeBox schema. */
export function toOpenAPISchema(schema: TSchema): OpenAPISchema {
  return JSON.parse(JSON.stringify(schema)) as OpenAPISchema;
}

/** The full `openAPIV3Schema` of a kind: apiVersion, kind, metadata, spec and status. */
export function objectSchema(def: KindDefinition): OpenAPISchema {
  const schema: OpenAPISchema = {
    description: def.description,
    type: "object",
    required: ["spec"],
    properties: {
      apiVersion: {
        type: "string",
        description: "APIVersion defines the versioned schema of this representation of an object.",
      },
      kind: { type: "string", description: "Kind is a string value representing the REST resource." },
      metadata: { type: "object" },
      spec: toOpenAPISchema(def.spec),
      status: toOpenAPISchema(def.status),
    },
  };
  if (def.rootRules?.length) schema["x-kubernetes-validations"] = def.rootRules;
  return schema;
}

/** The CustomResourceDefinition of a kind, as `apiextensions.k8s.io/v1`. */
export function customResourceDefinition(def: KindDefinition) {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { [OWN_CRD_LABEL]: "true" },
      annotations: { [GENERATED_FROM_ANNOTATION]: "src/api" },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: def.listKind,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: def.categories,
      },
      scope: "Namespaced",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: { openAPIV3Schema: objectSchema(def) },
        },
      ],
    },
  };
}

/** The name of the ValidatingAdmissionPolicy of a kind's admission rules. */
export function admissionPolicyName(def: KindDefinition): string {
  return `${def.singular}.${GROUP}`;
}

/**
 * The ValidatingAdmissionPolicy and its binding that enforce a kind's
 * admission rules, or nothing when the kind has none.
 */
export function admissionPolicy(def: KindDefinition) {
  if (!def.admissionRules?.length) return [];
  const name = admissionPolicyName(def);
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: [GROUP],
              apiVersions: [VERSION],
              operations: ["CREATE", "UPDATE"],
              resources: [def.plural],
            },
          ],
        },
        validations: def.admissionRules.map((rule) => ({
          expression: rule.expression,
          message: rule.message,
          ...(rule.messageExpression ? { messageExpression: rule.messageExpression } : {}),
          reason: "Invalid",
        })),
      },
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name },
      spec: { policyName: name, validationActions: ["Deny"] },
    },
  ];
}

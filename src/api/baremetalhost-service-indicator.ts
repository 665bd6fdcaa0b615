/**
 * `BareMetalHostServiceIndicator`: one service indicator light of a host,
 * switched on or off. Only lights that have such a resource are ever touched.
 *
 * @module
 */
import { type Static, Type } from "@sinclair/typebox";
import {
  AGE_COLUMN,
  Conditions,
  DNS1123_LABEL,
  dns1123SubdomainRule,
  ErrorMessage,
  immutable,
  type KindDefinition,
  type KubernetesObject,
  ObservedGeneration,
  quoted,
  READY_COLUMN,
  Timestamp,
  withRules,
} from "./meta.ts";

/** The finalizer that keeps an indicator resource until its light is off. */
export const SERVICE_INDICATOR_FINALIZER = "baremetalhostserviceindicator.metal3.io";

/** The components an indicator ID can name (`<name>@<component>`), as Ironic names them. */
export const INDICATOR_COMPONENTS = ["system", "chassis", "disk"] as const;
export type IndicatorComponent = (typeof INDICATOR_COMPONENTS)[number];

/** A reference to the BareMetalHost the light belongs to. */
export const HostReferenceSchema = Type.Object(
  {
    name: withRules(
      Type.String({ maxLength: 253, description: "Name of the BareMetalHost." }),
      dns1123SubdomainRule("hostRef.name", "the name of a BareMetalHost"),
    ),
    namespace: Type.Optional(
      withRules(
        Type.String({
          maxLength: 63,
          description: "Namespace of the BareMetalHost; empty or the indicator's own namespace.",
        }),
        {
          rule: `self == '' || self.matches('${DNS1123_LABEL}')`,
          messageExpression: `'hostRef.namespace must be empty or a namespace name, got \\'' + self + '\\''`,
        },
      ),
    ),
  },
  { "x-kubernetes-map-type": "atomic", description: "The BareMetalHost the light belongs to." },
);

/** Desired state of a {@link BareMetalHostServiceIndicator}. */
export const ServiceIndicatorSpecSchema = Type.Object(
  {
    hostRef: withRules(
      HostReferenceSchema,
      immutable("hostRef", "delete this resource (which turns its light off) and create a new one", (ref) =>
        `'BareMetalHost ' + ${quoted(`(has(${ref}.namespace) && ${ref}.namespace != '' ? ${ref}.namespace + '/' : '') + ${ref}.name`)}`,
      ),
    ),
    id: withRules(
      Type.String({
        maxLength: 255,
        description:
          "The indicator's ID, <name>@<component> with component system, chassis or disk, " +
          "as listed in the BareMetalHost's status.hardware.indicators.",
      }),
      {
        rule: "self.matches('^[^@]+@(system|chassis|disk)$')",
        messageExpression:
          "'id must have the form <name>@<component> with component system, chassis or disk " +
          "(see the BareMetalHost\\'s status.hardware.indicators), got \\'' + self + '\\''",
      },
      immutable("id", "delete this resource (which turns its light off) and create one for the other light", quoted),
    ),
    on: Type.Boolean({ description: "Whether the light should be on." }),
  },
  { description: "ServiceIndicatorSpec says which light, and whether it should be on." },
);
export type ServiceIndicatorSpec = Static<typeof ServiceIndicatorSpecSchema>;

/** Observed state of a {@link BareMetalHostServiceIndicator}. */
export const ServiceIndicatorStatusSchema = Type.Object(
  {
    on: Type.Optional(Type.Boolean({ description: "Whether the light was on when last set or read." })),
    lastUpdated: Type.Optional(Timestamp("When the light's state was last observed or set.")),
    errorMessage: Type.Optional(ErrorMessage("reading or setting the light")),
    observedGeneration: Type.Optional(ObservedGeneration()),
    conditions: Type.Optional(Conditions()),
  },
  { description: "ServiceIndicatorStatus is the observed state of the light." },
);
export type ServiceIndicatorStatus = Static<typeof ServiceIndicatorStatusSchema>;

/** One service indicator light and whether it should be on. */
export type BareMetalHostServiceIndicator = KubernetesObject<
  "BareMetalHostServiceIndicator",
  ServiceIndicatorSpec,
  ServiceIndicatorStatus
>;

/** The CRD definition of {@link BareMetalHostServiceIndicator}. */
export const serviceIndicatorKind: KindDefinition = {
  kind: "BareMetalHostServiceIndicator",
  listKind: "BareMetalHostServiceIndicatorList",
  plural: "baremetalhostserviceindicators",
  singular: "baremetalhostserviceindicator",
  shortNames: ["bmhsi", "indicator"],
  categories: ["metal3"],
  description:
    "BareMetalHostServiceIndicator switches one service indicator light of a BareMetalHost on or off. " +
    "Deleting it turns the light off.",
  spec: ServiceIndicatorSpecSchema,
  status: ServiceIndicatorStatusSchema,
  admissionRules: [
    {
      field: "spec.hostRef.namespace",
      expression:
        "!has(object.spec.hostRef.namespace) || object.spec.hostRef.namespace == '' || " +
        "object.spec.hostRef.namespace == object.metadata.namespace",
      message:
        "spec.hostRef.namespace must be empty or the BareMetalHostServiceIndicator's own namespace: " +
        "a light may only be switched for a host of the same namespace",
      messageExpression:
        "'spec.hostRef.namespace must be empty or the BareMetalHostServiceIndicator\\'s own namespace \\'' + " +
        "object.metadata.namespace + '\\', got \\'' + object.spec.hostRef.namespace + " +
        "'\\': a light may only be switched for a host of the same namespace'",
    },
  ],
  printerColumns: [
    { name: "Host", type: "string", jsonPath: ".spec.hostRef.name", description: "The BareMetalHost" },
    { name: "Indicator", type: "string", jsonPath: ".spec.id", description: "The indicator's ID" },
    { name: "Desired", type: "boolean", jsonPath: ".spec.on", description: "Whether the light should be on" },
    { name: "Actual", type: "boolean", jsonPath: ".status.on", description: "Whether the light is on" },
    READY_COLUMN,
    AGE_COLUMN,
  ],
};

/**
 * `BareMetalHostServiceIndicator`: one service indicator light of a host,
 * switched on or off. Only lights that have such a resource are ever touched.
 *
 * @module
 */
import { type Static, Type } from "@sinclair/typebox";
import {
  AGE_COLUMN, column,
  ConvergenceStatus,
  dns1123SubdomainRule,
  ReferenceNamespace,
  ErrorMessage,
  immutable,
  defineKind, type KindDefinition,
  type KubernetesObject,
  quoted,
  READY_COLUMN,
  Timestamp,
  withRules,
} from "./meta.ts";

export { INDICATOR_COMPONENTS, type IndicatorComponent, SERVICE_INDICATOR_FINALIZER } from "./names.ts";

/** A reference to the BareMetalHost the light belongs to. */
export const HostReferenceSchema = Type.Object(
  {
    name: withRules(
      Type.String({ maxLength: 253, description: "Name of the BareMetalHost." }),
      dns1123SubdomainRule("hostRef.name", "the name of a BareMetalHost"),
    ),
    namespace: ReferenceNamespace("hostRef", "BareMetalHost", "indicator"),
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
export const ServiceIndicatorStatusSchema = ConvergenceStatus("ServiceIndicatorStatus is the observed state of the light.", {
  on: Type.Optional(Type.Boolean({ description: "Whether the light was on when last set or read." })),
  lastUpdated: Type.Optional(Timestamp("When the light's state was last observed or set.")),
  errorMessage: Type.Optional(ErrorMessage("reading or setting the light")),
});
export type ServiceIndicatorStatus = Static<typeof ServiceIndicatorStatusSchema>;

/** The CRD definition of {@link BareMetalHostServiceIndicator}. */
export const serviceIndicatorKind: KindDefinition = defineKind({
  kind: "BareMetalHostServiceIndicator", plural: "baremetalhostserviceindicators", shortNames: ["bmhsi", "indicator"],
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
    column("Host", "string", ".spec.hostRef.name", "The BareMetalHost"), column("Indicator", "string", ".spec.id", "The indicator's ID"),
    column("Desired", "boolean", ".spec.on", "Whether the light should be on"), column("Actual", "boolean", ".status.on", "Whether the light is on"),
    READY_COLUMN, AGE_COLUMN,
  ],
});

/** One service indicator light and whether it should be on. */
export type BareMetalHostServiceIndicator = KubernetesObject<"BareMetalHostServiceIndicator", ServiceIndicatorSpec, ServiceIndicatorStatus>;

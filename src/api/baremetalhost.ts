/**
 * `BareMetalHost`: the subset of the Metal3 resource that bmc-operator reads
 * and writes, plus the list of the host's indicator lights. Unknown fields are
 * preserved, so upstream BareMetalHost manifests apply unchanged.
 *
 * @module
 */
import { type Static, Type } from "@sinclair/typebox";
import { INDICATOR_COMPONENTS } from "./baremetalhost-service-indicator.ts";
import {
  AGE_COLUMN, ERROR_COLUMN, column,
  Conditions,
  ErrorMessage,
  defineKind, type KindDefinition,
  type KubernetesObject,
  READY_COLUMN,
  StringEnum,
  withRules,
} from "./meta.ts";

/** How to reach and log in to the host's BMC. */
export const BMCDetailsSchema = Type.Object(
  {
    address: Type.String({
      maxLength: 2048,
      description:
        "The BMC's address, for example redfish://10.0.0.5/redfish/v1/Systems/1 or " +
        "redfish+http://10.0.0.5:8000/redfish/v1/Systems/1.",
    }),
    credentialsName: Type.String({
      maxLength: 253,
      description: "Name of the Secret, in the host's namespace, with the BMC's username and password.",
    }),
    disableCertificateVerification: Type.Optional(
      Type.Boolean({ description: "Skip verifying the BMC's TLS certificate." }),
    ),
  },
  { description: "How to reach the host's BMC." },
);

/** Desired state of a {@link BareMetalHost} (the fields bmc-operator uses). */
export const BareMetalHostSpecSchema = Type.Object(
  {
    bmc: Type.Optional(BMCDetailsSchema),
    bootMACAddress: Type.Optional(
      withRules(Type.String({ maxLength: 17, description: "MAC address of the NIC the host boots from." }), {
        rule: "self.matches('^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$')",
        messageExpression:
          "'bootMACAddress must be a MAC address like 52:54:00:12:34:56, got \\'' + self + '\\''",
      }),
    ),
    online: Type.Optional(Type.Boolean({ description: "Whether the host should be powered on." })),
  },
  {
    "x-kubernetes-preserve-unknown-fields": true,
    description: "BareMetalHostSpec is the desired state of the host; fields not listed are kept as written.",
  },
);
export type BareMetalHostSpec = Static<typeof BareMetalHostSpecSchema>;

/** The drive behind a disk indicator light, so a failed disk can be matched to its light. */
export const IndicatorDriveSchema = Type.Object(
  {
    storage: Type.Optional(Type.String({ description: "ID of the storage subsystem holding the drive." })),
    id: Type.Optional(Type.String({ description: "The drive's ID on the BMC." })),
    name: Type.Optional(Type.String({ description: "The drive's name." })),
    model: Type.Optional(Type.String({ description: "The drive's model." })),
    serialNumber: Type.Optional(Type.String({ description: "The drive's serial number." })),
  },
  { description: "The drive a disk light belongs to." },
);

/** One indicator light a host offers. */
export const HostIndicatorSchema = Type.Object(
  {
    id: Type.String({
      maxLength: 255,
      description: "The ID to use in a BareMetalHostServiceIndicator, <name>@<component>.",
    }),
    component: StringEnum(INDICATOR_COMPONENTS, { description: "What the light belongs to." }),
    readonly: Type.Boolean({ description: "True when the light cannot be switched." }),
    states: Type.Array(Type.String(), { description: "The states the light can be put in." }),
    drive: Type.Optional(IndicatorDriveSchema),
  },
  { description: "An indicator light the host offers." },
);
export type HostIndicator = Static<typeof HostIndicatorSchema>;

/** Operational statuses, as in Metal3 (whose schema also accepts "", the status of a host not yet looked at). */
export const OPERATIONAL_STATUSES = [
  "",
  "OK",
  "discovered",
  "error",
  "delayed",
  "detached",
  "servicing",
] as const;

/** Observed state of a {@link BareMetalHost} (the fields bmc-operator uses). */
export const BareMetalHostStatusSchema = Type.Object(
  {
    operationalStatus: Type.Optional(StringEnum(OPERATIONAL_STATUSES, { description: "The host's status." })),
    errorMessage: Type.Optional(ErrorMessage("registering the host or reading its inventory")),
    provisioning: Type.Optional(
      Type.Object(
        {
          ID: Type.Optional(
            Type.String({ description: "The provisioner's ID for the host (Ironic node UUID)." }),
          ),
        },
        { "x-kubernetes-preserve-unknown-fields": true, description: "Provisioning state." },
      ),
    ),
    goodCredentials: Type.Optional(
      Type.Object(
        {
          credentials: Type.Optional(
            Type.Object(
              { name: Type.Optional(Type.String()), namespace: Type.Optional(Type.String()) },
              { description: "The credentials Secret." },
            ),
          ),
          credentialsVersion: Type.Optional(Type.String({ description: "The Secret's resourceVersion." })),
        },
        { description: "The credentials last used successfully to read the BMC, as in Metal3." },
      ),
    ),
    hardware: Type.Optional(
      Type.Object(
        {
          indicators: Type.Optional(
            Type.Array(HostIndicatorSchema, {
              "x-kubernetes-list-type": "map",
              "x-kubernetes-list-map-keys": ["id"],
              description: "The indicator lights of the host, with the drive behind each disk light.",
            }),
          ),
        },
        { "x-kubernetes-preserve-unknown-fields": true, description: "Hardware inventory." },
      ),
    ),
    conditions: Type.Optional(Conditions()),
  },
  {
    "x-kubernetes-preserve-unknown-fields": true,
    description: "BareMetalHostStatus is the observed state of the host.",
  },
);
export type BareMetalHostStatus = Static<typeof BareMetalHostStatusSchema>;

/** The CRD definition of {@link BareMetalHost}. */
export const bareMetalHostKind: KindDefinition = defineKind({
  kind: "BareMetalHost", plural: "baremetalhosts", shortNames: ["bmh", "bmhost"],
  description: "BareMetalHost is a bare-metal server managed through its BMC.",
  spec: BareMetalHostSpecSchema,
  status: BareMetalHostStatusSchema,
  printerColumns: [
    column("Status", "string", ".status.operationalStatus", "Operational status"), column("BMC", "string", ".spec.bmc.address", "The BMC's address"),
    column("Online", "boolean", ".spec.online", "Whether the host should be on"), READY_COLUMN, ERROR_COLUMN, AGE_COLUMN,
  ],
});

/** A bare-metal host, as far as bmc-operator knows it. */
export type BareMetalHost = KubernetesObject<"BareMetalHost", BareMetalHostSpec, BareMetalHostStatus>;

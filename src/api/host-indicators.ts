/**
 * `HostIndicators`: the indicator lights of one BareMetalHost, published by
 * bmc-operator where the Metal3 baremetal-operator (BMO) owns the
 * BareMetalHost. BMO writes a host's status as a whole and its schema prunes
 * fields it does not know, so a light list kept in the host's status would be
 * lost on BMO's next write. This object has the host's name and namespace,
 * belongs to bmc-operator alone, and records what the list was read from (the
 * Ironic node and a fingerprint of the host), so neither a restart nor BMO's
 * periodic status rewrite costs an Ironic request or an API write.
 *
 * Named like Metal3's one-per-host kinds (`HostFirmwareSettings`,
 * `HostFirmwareComponents`): `kubectl get hostindicators <host> -o yaml`.
 *
 * @module
 */
import { type Static, Type } from "@sinclair/typebox";
import { HostIndicatorSchema } from "./baremetalhost.ts";
import { AGE_COLUMN, ERROR_COLUMN, column, ErrorMessage, defineKind, type KindDefinition, type KubernetesObject, Timestamp } from "./meta.ts";

export { REFRESH_INDICATORS_ANNOTATION } from "./names.ts";

/** Desired state of {@link HostIndicators}: nothing, the object's name is its host's. */
export const HostIndicatorsSpecSchema = Type.Object(
  {},
  { description: "Empty: the object describes the BareMetalHost of the same name and namespace." },
);
export type HostIndicatorsSpec = Static<typeof HostIndicatorsSpecSchema>;

/** Observed state of {@link HostIndicators}. */
export const HostIndicatorsStatusSchema = Type.Object(
  {
    indicators: Type.Optional(
      Type.Array(HostIndicatorSchema, {
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["id"],
        description: "The host's indicator lights, with the drive behind each disk light.",
      }),
    ),
    nodeID: Type.Optional(Type.String({ description: "The Ironic node the lights were read from." })),
    fingerprint: Type.Optional(
      Type.String({
        description:
          "A hash of what the list was read for (the host's node, BMC address, hardware and the refresh " +
          "annotation); the lights are read again only when it changes.",
      }),
    ),
    lastRead: Type.Optional(Timestamp("When the lights were last read from Ironic.")),
    errorMessage: Type.Optional(ErrorMessage("reading the host's lights")),
  },
  { description: "HostIndicatorsStatus lists the host's lights as Ironic reported them." },
);
export type HostIndicatorsStatus = Static<typeof HostIndicatorsStatusSchema>;

/** The CRD definition of {@link HostIndicators}. */
export const hostIndicatorsKind: KindDefinition = defineKind({
  kind: "HostIndicators", plural: "hostindicators", singular: "hostindicators", shortNames: ["hind"],
  description:
    "HostIndicators lists the service indicator lights of the BareMetalHost of the same name, as Ironic " +
    "reports them. Written by bmc-operator in metal3 mode; read it to find a light's ID.",
  spec: HostIndicatorsSpecSchema,
  status: HostIndicatorsStatusSchema,
  printerColumns: [
    column("Node", "string", ".status.nodeID", "The Ironic node the lights were read from"),
    column("Read", "date", ".status.lastRead", "When the lights were last read"), ERROR_COLUMN, AGE_COLUMN,
  ],
});

/** The lights of one BareMetalHost. */
export type HostIndicators = KubernetesObject<"HostIndicators", HostIndicatorsSpec, HostIndicatorsStatus>;

/**
 * What makes one vendor's BMC differ from the tidy default: its resource
 * IDs and shapes, how it answers a PATCH, what its lights mean and how it
 * judges and keeps event subscriptions. A profile is data (plus message
 * builders for the vendor's own error messages); the parts of a BMC read it,
 * so that one emulator serves every vendor. The profiles themselves, each
 * with the sources of its facts, are in `profiles/`; docs/vendor-profiles.md
 * lists them side by side.
 *
 * @module
 */
import type { LedState } from "./led-state.ts";
import type { RedfishMessage } from "./redfish-errors.ts";

/** The names `--profile` accepts. */
export const PROFILE_NAMES = ["generic", "dell-idrac9", "hpe-ilo5", "hpe-ilo6", "lenovo-xcc", "supermicro", "openbmc"] as const;
/** One profile name. */
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** The Redfish properties a light can be read and written through. */
export type LightProperty = "IndicatorLED" | "LocationIndicatorActive";

/** How one light (the system's, the chassis's or a drive's) looks and behaves on this vendor. */
export interface LightModel {
  /** The properties the resource shows; empty when the light is not in Redfish at all. */
  properties: readonly LightProperty[];
  /** Its state when nobody asked it to identify (Dell's chassis: `Lit`, the normal health light). */
  normal: LedState;
  /** What `LocationIndicatorActive: true` switches it to (Dell's chassis: `Blinking`). */
  identify: LedState;
  /**
   * Where a write must go: `self`, or `system` when the resource shows the
   * light but refuses the write and the linked System accepts it (some
   * Lenovo XCC chassis: the chassis shows the system's light).
   */
  writableAt: "self" | "system";
  /**
   * An OEM action that switches the light instead of a PATCH (some
   * Supermicro firmware's drive `Indicate`): the action's name under
   * `Actions.Oem`; the body is `{"Active": true|false}`.
   */
  oemAction?: string;
}

/** How a BMC answers a successful PATCH. */
export type PatchAnswer =
  /** 200 with the changed resource (DSP0266's first choice). */
  | "resource"
  /** 204 without a body. */
  | "no-content"
  /** 200 with `@Message.ExtendedInfo` holding `Base.x.Success` (Dell iDRAC). */
  | "extended-info"
  /** 200 with an `error` object whose `@Message.ExtendedInfo` holds `Base.x.Success` (HPE iLO). */
  | "error-envelope"
  /** 200 with a `Success` object (Supermicro). */
  | "success-object";

/** How a BMC answers a subscription it created. */
export type CreatedAnswer =
  /** 201 with the new EventDestination. */
  | "resource"
  /** 201 with `@Message.ExtendedInfo` holding `Base.x.Created` (bmcweb). */
  | "extended-info"
  /** 201 with an `error` object whose `@Message.ExtendedInfo` holds `Base.x.Created` (HPE iLO). */
  | "error-envelope";

/** What happens to a subscription once its delivery retries are used up. */
export type AfterFailedDeliveries =
  /** As its `DeliveryRetryPolicy` says (DSP0266). */
  | "policy"
  /** Suspended (`Status.State: Disabled`), resumable with `ResumeSubscription`, whatever the policy. */
  | "suspend"
  /** Deleted, whatever the policy. */
  | "delete";

/** How a BMC judges and keeps event subscriptions. */
export interface SubscriptionRules {
  /** Subscriptions held at most (a fleet's `maxSubscriptions` overrides it). */
  limit: number;
  /** The error when the limit is reached: status and message. */
  limitError: (limit: number) => { status: number; message: RedfishMessage };
  /** When set, only these create properties are accepted; any other is refused with {@link unknownProperty}. */
  accepted?: readonly string[];
  /** Create properties refused with {@link unknownProperty} although the schema has them. */
  refused?: readonly string[];
  /** Properties a create request must carry (each missing one: `PropertyMissing`). */
  required: readonly string[];
  /** The vendor's message for a refused or unknown property. */
  unknownProperty: (property: string) => RedfishMessage;
  /** Only `https://` destinations; an `http://` one gets this message (400). */
  httpsOnly?: (destination: string) => RedfishMessage;
  /** A second subscription to the same destination gets this message (400). */
  duplicateDestination?: (destination: string) => RedfishMessage;
  /** How a successful create is answered. */
  created: CreatedAnswer;
  /** What happens once a subscription's delivery retries are used up. */
  afterFailedDeliveries: AfterFailedDeliveries;
  /** Listener statuses that count as delivered: any 2xx, or only 200 (HPE iLO counts a 204 as a failure). */
  delivered: "2xx" | "200";
}

/** The EventService properties that tell a client which filters the BMC supports. */
export interface EventServiceAdvert {
  /** `EventTypesForSubscription`; absent when undefined. */
  eventTypesForSubscription?: readonly string[];
  /** `RegistryPrefixes`; absent when undefined. */
  registryPrefixes?: readonly string[];
  /** `ResourceTypes`; absent when undefined. */
  resourceTypes?: readonly string[];
  /** The default `DeliveryRetryAttempts` and `DeliveryRetryIntervalSeconds`, unless the fleet sets them. */
  retryAttempts: number;
  retryIntervalSeconds: number;
}

/** Who the BMC says it is and what its resources are called. */
export interface ProfileIdentity {
  /** The service root's `Vendor`. */
  vendor: string;
  manufacturer: string;
  model: string;
  /** The service root's `Product`. */
  product: string;
  firmwareVersion: string;
  systemId: string;
  chassisId: string;
  managerId: string;
  storageId: string;
  storageName: string;
  /** The `Id` of drive `n`. */
  driveId: (n: number) => string;
  /** The `Name` of drive `n`. */
  driveName: (n: number) => string;
  /**
   * Drives live under `/redfish/v1/Chassis/<this>/Drives/` (Supermicro's
   * backplane) instead of under the Storage resource that links them.
   */
  drivesChassisId?: string;
  /** The serial number of the system with this fleet tag. */
  serialNumber: (tag: string) => string;
}

/** The shape of the resources the BMC serves. */
export interface ResourceShape {
  /** Every `@odata.id` and `Location` ends in `/` (HPE iLO 5). */
  trailingSlash: boolean;
  /** The System has a `UUID`. */
  systemUUID: boolean;
  /** The Chassis has a `UUID`. */
  chassisUUID: boolean;
  /** `ETag` response headers: strong, weak (`W/"…"`), or none (then `If-Match` is not checked). */
  etag: "strong" | "weak" | "none";
  /** Resources also carry `@odata.etag` in their body (HPE iLO, Supermicro). */
  odataEtag: boolean;
  /** A PATCH without `If-Match` is refused with 428 (Lenovo XCC). */
  requireIfMatch: boolean;
}

/** One vendor's BMC. */
export interface VendorProfile {
  name: ProfileName;
  /** One line on what is modelled. */
  summary: string;
  identity: ProfileIdentity;
  shape: ResourceShape;
  lights: { system: LightModel; chassis: LightModel; drive: LightModel };
  patch: PatchAnswer;
  /**
   * The vendor's one message for a PATCH property it will not write, read-only
   * or unknown alike (iLO's `PropertyNotWritableOrUnknown`); undefined: the Base
   * registry's `PropertyNotWritable` and `PropertyUnknown`.
   */
  refusedProperty?: (property: string) => RedfishMessage;
  subscriptions: SubscriptionRules;
  eventService: EventServiceAdvert;
  /**
   * Where each fact comes from, one line each, "fact — source". Facts without
   * a public source are marked "assumption".
   */
  sources: readonly string[];
}

/** True when `LocationIndicatorActive` reads true for a light in `state`: it shows neither its normal state nor off. */
export function lightActive(model: LightModel, state: LedState): boolean {
  return state !== model.normal && state !== "Off";
}

/** The state a write of `LocationIndicatorActive` asks for, given the current one. */
export function lightStateFor(model: LightModel, active: boolean, current: LedState): LedState {
  if (!active) return model.normal;
  return lightActive(model, current) ? current : model.identify;
}

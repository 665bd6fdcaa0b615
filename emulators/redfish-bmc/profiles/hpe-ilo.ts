/**
 * `hpe-ilo5` and `hpe-ilo6`: HPE ProLiant with iLO 5 (Gen10) or iLO 6
 * (Gen11). IDs are `1`, iLO 5's `@odata.id`s end in `/`, the chassis has no
 * UUID, the system and chassis lights are `IndicatorLED` (plus
 * `LocationIndicatorActive` on iLO 6), drive lights `LocationIndicatorActive`.
 * Every success comes back in an `error` envelope (`iLO.2.x.ExtendedInfo`
 * holding `Base.1.4.Success` or `Created`). Subscriptions filter by
 * `EventTypes` (iLO 5, which requires it) or `RegistryPrefixes` (iLO 6),
 * `DeliveryRetryPolicy` is refused, a listener must answer 200, and a
 * subscription whose deliveries keep failing is deleted.
 *
 * @module
 */
import { registryMessage } from "../redfish-errors.ts";
import type { VendorProfile } from "../vendor-profile.ts";
import { INDICATOR_ONLY_LIGHT, LOCATION_ONLY_LIGHT, PLAIN_LIGHT, createLimitReached } from "./common.ts";

/** iLO's message for a property it refuses, read-only or unknown alike. */
function propertyNotWritableOrUnknown(property: string) {
  return registryMessage(
    "iLO.2.15.PropertyNotWritableOrUnknown",
    `The property ${property} is a read-only property and cannot be assigned a value, or not valid for this resource.`,
    [property],
    "Warning",
    "If the operation did not complete, remove the property from the request body and resubmit the request.",
    property,
  );
}

const SOURCES = [
  "IDs 1, storage DE07A000 with drives 0 and 3, trailing / on every @odata.id, no chassis UUID, IndicatorLED on system and chassis, LocationIndicatorActive on drives, @odata.etag in bodies, EventTypesForSubscription, DeliveryRetryAttempts 3 and DeliveryRetryIntervalSeconds 30 — the iLO 5 capture in ../shared/redfish-vendor-trees/hpe-ilo5 (Cray-HPE/csm-redfish-interface-emulator mockups/XL675d_A100)",
  "success in an error envelope, code iLO.2.x.ExtendedInfo ('See @Message.ExtendedInfo for more information.'); refused properties as iLO.2.x.PropertyNotWritableOrUnknown — HPE iLO 5 message registry (HPEDevCom/redfishdocs ilo5_msgregs)",
  "EventTypes (iLO 5) or RegistryPrefixes (iLO 6) filters, DeliveryRetryPolicy refused on POST, EventTypes required by some iLO 5 firmware, Base.x.Created in an error envelope, 204 from a listener counts as a failure, deletion after repeated failures — issue 18 (from HPE's iLO RESTful API docs and public bug reports; ironcore-dev/metal-operator#754/#755 work around the same)",
  "iLO 6 without trailing slashes and with LocationIndicatorActive on system and chassis — assumption",
  "subscription limit — not documented publicly; the emulator's default 64",
];

export const HPE_ILO5: VendorProfile = {
  name: "hpe-ilo5",
  summary: "iLO 5: trailing slashes, IndicatorLED only on system and chassis, success in an error envelope, EventTypes required.",
  identity: {
    vendor: "HPE",
    manufacturer: "HPE",
    model: "ProLiant DL380 Gen10",
    product: "ProLiant DL380 Gen10",
    firmwareVersion: "iLO 5 v2.90",
    systemId: "1",
    chassisId: "1",
    managerId: "1",
    storageId: "DE07A000",
    storageName: "HPE Smart Array P408i-a SR Gen10",
    driveId: (n) => String(n),
    driveName: () => "960GB 6G SATA SSD",
    serialNumber: (tag) => `MXQ${tag}P0`,
  },
  shape: { trailingSlash: true, systemUUID: true, chassisUUID: false, etag: "weak", odataEtag: true, requireIfMatch: false },
  lights: { system: INDICATOR_ONLY_LIGHT, chassis: INDICATOR_ONLY_LIGHT, drive: LOCATION_ONLY_LIGHT },
  patch: "error-envelope",
  refusedProperty: propertyNotWritableOrUnknown,
  subscriptions: {
    limit: 64,
    limitError: createLimitReached,
    refused: ["DeliveryRetryPolicy"],
    required: ["Destination", "EventTypes"],
    unknownProperty: propertyNotWritableOrUnknown,
    created: "error-envelope",
    afterFailedDeliveries: "delete",
    delivered: "200",
  },
  eventService: {
    eventTypesForSubscription: ["StatusChange", "ResourceUpdated", "ResourceAdded", "ResourceRemoved", "Alert"],
    retryAttempts: 3,
    retryIntervalSeconds: 30,
  },
  sources: SOURCES,
};

export const HPE_ILO6: VendorProfile = {
  ...HPE_ILO5,
  name: "hpe-ilo6",
  summary: "iLO 6: as iLO 5, without trailing slashes, with LocationIndicatorActive, filtering by RegistryPrefixes.",
  identity: { ...HPE_ILO5.identity, model: "ProLiant DL380 Gen11", product: "ProLiant DL380 Gen11", firmwareVersion: "iLO 6 v1.59" },
  shape: { ...HPE_ILO5.shape, trailingSlash: false },
  lights: { system: PLAIN_LIGHT, chassis: PLAIN_LIGHT, drive: LOCATION_ONLY_LIGHT },
  subscriptions: { ...HPE_ILO5.subscriptions, required: ["Destination"] },
  eventService: { registryPrefixes: ["Base", "ResourceEvent", "StorageDevice", "SensorEvent", "iLOEvents"], retryAttempts: 3, retryIntervalSeconds: 30 },
};

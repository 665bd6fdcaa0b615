/**
 * `supermicro`: a Supermicro X12 board. Drives live under a backplane
 * chassis (`/redfish/v1/Chassis/<backplane>/Drives/<id>`), linked from the
 * System's Storage; their light has no Redfish property, only an OEM
 * `Indicate` action. A PATCH answers 200 with a `Success` object.
 *
 * @module
 */
import { baseMessages } from "../redfish-errors.ts";
import type { VendorProfile } from "../vendor-profile.ts";
import { EVENT_TYPES_FOR_SUBSCRIPTION, INDICATOR_ONLY_LIGHT, PLAIN_LIGHT, createLimitReached } from "./common.ts";

export const SUPERMICRO: VendorProfile = {
  name: "supermicro",
  summary: "X12: drives under a backplane chassis with an OEM Indicate action for their light, 200 with a Success object on PATCH.",
  identity: {
    vendor: "Supermicro",
    manufacturer: "Supermicro",
    model: "SYS-510T-MR",
    product: "SYS-510T-MR",
    firmwareVersion: "01.01.06",
    systemId: "1",
    chassisId: "1",
    managerId: "1",
    storageId: "NVMeSSD",
    storageName: "NVMe Storage System",
    drivesChassisId: "NVMeSSD.0.Group.0.StorageBackplane",
    driveId: (n) => `Disk.Bay.${n}`,
    driveName: (n) => `Disk.Bay.${n}`,
    serialNumber: (tag) => `S${tag}X2814218`,
  },
  shape: { trailingSlash: false, systemUUID: true, chassisUUID: true, etag: "strong", odataEtag: true, requireIfMatch: false },
  lights: {
    system: PLAIN_LIGHT,
    chassis: INDICATOR_ONLY_LIGHT,
    drive: { ...PLAIN_LIGHT, properties: [], oemAction: "Drive.Indicate" },
  },
  patch: "success-object",
  subscriptions: {
    limit: 64,
    limitError: createLimitReached,
    required: ["Destination", "Protocol"],
    unknownProperty: baseMessages.propertyUnknown,
    created: "resource",
    afterFailedDeliveries: "policy",
    delivered: "2xx",
  },
  eventService: { eventTypesForSubscription: EVENT_TYPES_FOR_SUBSCRIPTION, retryAttempts: 3, retryIntervalSeconds: 5 },
  sources: [
    "IDs 1, Storage NVMeSSD linking drives under /redfish/v1/Chassis/NVMeSSD.0.Group.0.StorageBackplane/Drives/Disk.Bay.N, drive Name equal to its Id, system with UUID, IndicatorLED and LocationIndicatorActive, @odata.etag in the body — the capture in ../shared/redfish-vendor-trees/supermicro (bmc-toolbox/bmclib redfishwrapper fixtures)",
    "drive light through an OEM Indicate action on some firmware; parts of the API licence-gated (not modelled) — issue 18",
    "PATCH answers 200 with a Success object — assumption recorded in ../shared/redfish-vendor-trees/SOURCES.md",
    "chassis light as IndicatorLED only, subscription limit — assumption (the capture has no chassis)",
  ],
};

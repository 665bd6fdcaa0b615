/**
 * `generic`: the tidy BMC every test used before vendor profiles, and still
 * the default. Its IDs follow a common vendor's style (not `1`, so clients
 * must follow links), every resource has a UUID, both light properties and a
 * strong ETag, a PATCH answers 200 with the resource, and subscriptions
 * follow DSP0266 to the letter.
 *
 * @module
 */
import { baseMessages } from "../redfish-errors.ts";
import type { VendorProfile } from "../vendor-profile.ts";
import { EVENT_TYPES_FOR_SUBSCRIPTION, PLAIN_LIGHT, createLimitReached } from "./common.ts";

export const GENERIC: VendorProfile = {
  name: "generic",
  summary: "DSP0266 as written: UUIDs everywhere, both light properties, strong ETags, 200 with the resource on PATCH.",
  identity: {
    vendor: "Emulated Systems",
    manufacturer: "Emulated Systems",
    model: "EMU-R650",
    product: "EMU-R650 BMC emulator",
    firmwareVersion: "7.00.00.00",
    systemId: "System.Embedded.1",
    chassisId: "System.Embedded.1",
    managerId: "iDRAC.Embedded.1",
    storageId: "RAID.Integrated.1-1",
    storageName: "PERC H755 Front",
    driveId: (n) => `Disk.Bay.${n}`,
    driveName: (n) => `Physical Disk 0:1:${n}`,
    serialNumber: (tag) => `EMU${tag}`,
  },
  shape: { trailingSlash: false, systemUUID: true, chassisUUID: true, etag: "strong", odataEtag: false, requireIfMatch: false },
  lights: { system: PLAIN_LIGHT, chassis: PLAIN_LIGHT, drive: PLAIN_LIGHT },
  patch: "resource",
  subscriptions: {
    limit: 64,
    limitError: createLimitReached,
    required: ["Destination", "Protocol"],
    unknownProperty: baseMessages.propertyUnknown,
    created: "resource",
    afterFailedDeliveries: "policy",
    delivered: "2xx",
  },
  eventService: {
    eventTypesForSubscription: EVENT_TYPES_FOR_SUBSCRIPTION,
    registryPrefixes: ["Base", "ResourceEvent", "StorageDevice", "SensorEvent"],
    resourceTypes: ["ComputerSystem", "Chassis", "Drive", "Storage", "Thermal", "Manager", "EventService"],
    retryAttempts: 3,
    retryIntervalSeconds: 5,
  },
  sources: ["DMTF DSP0266 (Redfish specification) and DSP2046 (schema guide); no vendor."],
};

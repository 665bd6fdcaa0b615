/**
 * `lenovo-xcc`: a Lenovo ThinkSystem with XClarity Controller. A PATCH
 * without `If-Match` is refused (428). The chassis shows the system's light
 * but refuses to switch it: the write goes to the linked System. At most 12
 * subscriptions.
 *
 * @module
 */
import { baseMessages } from "../redfish-errors.ts";
import type { VendorProfile } from "../vendor-profile.ts";
import { EVENT_TYPES_FOR_SUBSCRIPTION, INDICATOR_ONLY_LIGHT, PLAIN_LIGHT, createLimitReached } from "./common.ts";

export const LENOVO_XCC: VendorProfile = {
  name: "lenovo-xcc",
  summary: "XCC: If-Match required on PATCH, chassis light shown but written through the System, 12 subscriptions.",
  identity: {
    vendor: "Lenovo",
    manufacturer: "Lenovo",
    model: "ThinkSystem SR650 V2",
    product: "ThinkSystem SR650 V2",
    firmwareVersion: "XCC2 3.10",
    systemId: "1",
    chassisId: "1",
    managerId: "1",
    storageId: "RAID_Slot3",
    storageName: "ThinkSystem RAID 940-8i 4GB Flash PCIe Gen4 12Gb Adapter",
    driveId: (n) => `Disk_${n}`,
    driveName: (n) => `Drive ${n}`,
    serialNumber: (tag) => `J30${tag}`,
  },
  shape: { trailingSlash: false, systemUUID: true, chassisUUID: true, etag: "weak", odataEtag: true, requireIfMatch: true },
  lights: {
    system: PLAIN_LIGHT,
    chassis: { ...INDICATOR_ONLY_LIGHT, writableAt: "system" },
    drive: PLAIN_LIGHT,
  },
  patch: "resource",
  subscriptions: {
    limit: 12,
    limitError: createLimitReached,
    required: ["Destination", "Protocol"],
    unknownProperty: baseMessages.propertyUnknown,
    created: "resource",
    afterFailedDeliveries: "policy",
    delivered: "2xx",
  },
  eventService: { eventTypesForSubscription: EVENT_TYPES_FOR_SUBSCRIPTION, retryAttempts: 3, retryIntervalSeconds: 5 },
  sources: [
    "LED PATCH needs If-Match; the chassis shows the LED but accepts the write only on the linked System; at most 12 subscriptions (AMI-based ThinkSystem TSM: 5) — Lenovo XCC Redfish user guide and public reports, as summarised in issue 18",
    "IDs 1, storage RAID_SlotN, drives Disk_N, weak ETags with @odata.etag, 200 with the resource on PATCH — assumption (no capture in ../shared/redfish-vendor-trees)",
  ],
};

/**
 * `dell-idrac9`: a Dell PowerEdge with iDRAC9. The chassis's `IndicatorLED`
 * is its health light: `Lit` is normal and `Blinking` identifies. Drive
 * lights only through `LocationIndicatorActive`. No chassis UUID. A PATCH
 * answers 200 with `Base.x.Success`. Subscriptions: HTTPS destinations only,
 * at most 20, one per destination, and a subscription whose deliveries keep
 * failing is suspended (resumable), not deleted.
 *
 * @module
 */
import { baseMessages, registryMessage } from "../redfish-errors.ts";
import type { VendorProfile } from "../vendor-profile.ts";
import { LOCATION_ONLY_LIGHT, PLAIN_LIGHT, createLimitReached } from "./common.ts";

const STORAGE = "RAID.Integrated.1-1";

export const DELL_IDRAC9: VendorProfile = {
  name: "dell-idrac9",
  summary: "iDRAC9: chassis light Lit when normal and Blinking to identify, HTTPS-only subscriptions suspended after failed deliveries.",
  identity: {
    vendor: "Dell",
    manufacturer: "Dell Inc.",
    model: "PowerEdge R650",
    product: "Integrated Dell Remote Access Controller",
    firmwareVersion: "7.00.00.173",
    systemId: "System.Embedded.1",
    chassisId: "System.Embedded.1",
    managerId: "iDRAC.Embedded.1",
    storageId: STORAGE,
    storageName: "PERC H755 Front",
    driveId: (n) => `Disk.Bay.${n}:Enclosure.Internal.0-1:${STORAGE}`,
    driveName: (n) => `Physical Disk 0:1:${n}`,
    serialNumber: (tag) => `D${tag}R2`,
  },
  shape: { trailingSlash: false, systemUUID: true, chassisUUID: false, etag: "none", odataEtag: false, requireIfMatch: false },
  lights: {
    system: PLAIN_LIGHT,
    chassis: { ...PLAIN_LIGHT, normal: "Lit", identify: "Blinking" },
    drive: { ...LOCATION_ONLY_LIGHT, identify: "Blinking" },
  },
  patch: "extended-info",
  subscriptions: {
    limit: 20,
    limitError: createLimitReached,
    required: ["Destination", "Protocol"],
    unknownProperty: baseMessages.propertyUnknown,
    httpsOnly: (destination) =>
      baseMessages.propertyValueFormatError("Destination", destination, "this iDRAC accepts only https:// event destinations"),
    duplicateDestination: (destination) =>
      registryMessage(
        "Base.1.12.PropertyValueModified",
        `The property Destination was not assigned the value '${destination}': a subscription to that destination already exists.`,
        ["Destination", destination],
        "Warning",
        "Use the existing subscription, or delete it and resubmit the request.",
        "Destination",
      ),
    created: "resource",
    afterFailedDeliveries: "suspend",
    delivered: "2xx",
  },
  eventService: {
    eventTypesForSubscription: ["Alert", "MetricReport", "Other"],
    retryAttempts: 3,
    retryIntervalSeconds: 5,
  },
  sources: [
    "IDs System.Embedded.1, iDRAC.Embedded.1, drive IDs Disk.Bay.N:Enclosure.Internal.0-1:<controller>, no chassis UUID — the iDRAC 8 capture in ../shared/redfish-vendor-trees/dell-idrac8 (eb4x/dellfish static/r820)",
    "chassis IndicatorLED Lit is the normal state, Blinking identifies; drive light through LocationIndicatorActive — Dell iDRAC9 Redfish API guide, as summarised in issue 18",
    "at most 20 subscriptions; HTTPS destinations only; suspension (Status.State Disabled, ResumeSubscription) after 3 failed deliveries — Dell iDRAC9 Redfish API guide, as summarised in issue 18; a public report (dell/iDRAC-Redfish-Scripting#370, R470) shows a Disabled subscription offering only ResumeSubscription, and an http:// destination accepted, so HTTPS-only holds for older iDRAC9 firmware only",
    "a duplicate destination answers PropertyValueModified — issue 18; the emulator answers 400 with that message (assumption: status unverified)",
    "PATCH answers 200 with @Message.ExtendedInfo Base.x.Success — assumption recorded in ../shared/redfish-vendor-trees/SOURCES.md",
    "no ETag header (If-Match not checked) — assumption: the capture carries no @odata.etag",
  ],
};

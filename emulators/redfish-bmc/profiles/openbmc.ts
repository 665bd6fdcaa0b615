/**
 * `openbmc`: bmcweb as built today. No UUID on the system or chassis of the
 * stock build, lights only through `LocationIndicatorActive` (`IndicatorLED`
 * is compiled out), `If-Match` honoured, a PATCH answers 204. A subscription
 * create accepts only the properties bmcweb reads (`EventTypes` is refused
 * with `PropertyUnknown`), needs `Destination` and `Protocol`, refuses
 * `http://` destinations (the default build), and stops at 20 with
 * `EventSubscriptionLimitExceeded`.
 *
 * @module
 */
import { baseMessages } from "../redfish-errors.ts";
import type { VendorProfile } from "../vendor-profile.ts";
import { LOCATION_ONLY_LIGHT } from "./common.ts";

export const OPENBMC: VendorProfile = {
  name: "openbmc",
  summary: "bmcweb: no UUIDs, LocationIndicatorActive only, 204 on PATCH, an allow-list of subscription properties, 20 subscriptions.",
  identity: {
    vendor: "OpenBMC",
    manufacturer: "OpenBMC",
    model: "Romulus",
    product: "OpenBMC",
    firmwareVersion: "2.17.0",
    systemId: "system",
    chassisId: "chassis",
    managerId: "bmc",
    storageId: "1",
    storageName: "Storage",
    driveId: (n) => `drive${n}`,
    driveName: (n) => `drive${n}`,
    serialNumber: (tag) => `OBMC${tag}`,
  },
  shape: { trailingSlash: false, systemUUID: false, chassisUUID: false, etag: "strong", odataEtag: false, requireIfMatch: false },
  lights: { system: LOCATION_ONLY_LIGHT, chassis: LOCATION_ONLY_LIGHT, drive: LOCATION_ONLY_LIGHT },
  patch: "no-content",
  subscriptions: {
    limit: 20,
    limitError: () => ({ status: 503, message: baseMessages.eventSubscriptionLimitExceeded() }),
    accepted: [
      "Destination",
      "Context",
      "Protocol",
      "SubscriptionType",
      "EventFormatType",
      "HttpHeaders",
      "RegistryPrefixes",
      "MessageIds",
      "DeliveryRetryPolicy",
      "ResourceTypes",
      "OriginResources",
      "VerifyCertificate",
    ],
    required: ["Destination", "Protocol"],
    unknownProperty: baseMessages.propertyUnknown,
    httpsOnly: (destination) =>
      baseMessages.propertyValueFormatError("Destination", destination, "http:// push-style events are disabled in this build"),
    created: "extended-info",
    afterFailedDeliveries: "policy",
    delivered: "2xx",
  },
  eventService: {
    registryPrefixes: ["Base", "OpenBMC", "TaskEvent"],
    resourceTypes: ["Task"],
    retryAttempts: 3,
    retryIntervalSeconds: 30,
  },
  sources: [
    "IDs system, chassis, bmc; no UUID on system or chassis; LocationIndicatorActive on the system; EventService RegistryPrefixes Base, OpenBMC, TaskEvent, ResourceTypes Task, no EventTypesForSubscription, retries 3 every 30 s — the stock capture in ../shared/redfish-vendor-trees/openbmc (Cray-HPE/csm-redfish-interface-emulator mockups/OpenBMC-stock)",
    "subscription POST reads only its listed properties (others 400 PropertyUnknown), requires Destination and Protocol, at most 20 (503 EventSubscriptionLimitExceeded, bmcweb error_messages.cpp), HttpHeaders [] on GET, If-Match honoured, IndicatorLED compiled out by default since mid-2025 — bmcweb source, as summarised in issue 18",
    "http:// destinations refused unless built with insecure push-style notification — bmcweb's eventservice POST handler (meson option off by default)",
    "201 with Base.x.Created in @Message.ExtendedInfo, 204 on PATCH — bmcweb's messages::created and the assumption recorded in ../shared/redfish-vendor-trees/SOURCES.md",
  ],
};

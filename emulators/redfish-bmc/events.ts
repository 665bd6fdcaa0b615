/**
 * Redfish events: the records a BMC raises (test events, light and power
 * changes, hardware faults) and the `Event` payload POSTed to a subscriber.
 *
 * @module
 */

/** The deprecated `EventType` values (EventDestination v1_0 to v1_4), still sent by Ironic as `["Alert"]`. */
export const EVENT_TYPES = [
  "StatusChange",
  "ResourceUpdated",
  "ResourceAdded",
  "ResourceRemoved",
  "Alert",
  "MetricReport",
  "Other",
] as const;
/** One deprecated `EventType` value. */
export type EventType = (typeof EVENT_TYPES)[number];

/** Message severities, as in the Redfish `Resource.Health` enumeration. */
export const SEVERITIES = ["OK", "Warning", "Critical"] as const;
/** One message severity. */
export type Severity = (typeof SEVERITIES)[number];

/** One event record, as it appears in the `Events` array of an `Event` payload (without `MemberId`). */
export interface EventRecord {
  EventType: EventType;
  EventId: string;
  EventTimestamp: string;
  /** Deprecated twin of `MessageSeverity`, sent for older clients. */
  Severity: Severity;
  MessageSeverity: Severity;
  Message: string;
  MessageId: string;
  MessageArgs: string[];
  OriginOfCondition: { "@odata.id": string };
  EventGroupId?: number;
}

/** An event raised by a BMC, with what subscription filters match on. */
export interface RaisedEvent {
  record: EventRecord;
  /** The Redfish type of the resource the event is about (`ComputerSystem`, `Drive`, …), for `ResourceTypes` filters. */
  resourceType: string;
}

/** The `Event` payload delivered to one subscription: the root carries the subscription's `Context`. */
export function eventPayload(event: RaisedEvent, context: string | null): Record<string, unknown> {
  return {
    "@odata.type": "#Event.v1_7_0.Event",
    Id: event.record.EventId,
    Name: "Event Array",
    Context: context ?? "",
    Events: [{ ...event.record, MemberId: "0" }],
  };
}

/** Splits a message ID `Registry.Major.Minor.Key` (or `Registry.Major.Minor.Patch.Key`) into registry name and key. */
export function parseMessageId(messageId: string): { registry: string; key: string } {
  const parts = messageId.split(".");
  return { registry: parts[0] ?? "", key: parts.length > 1 ? parts[parts.length - 1]! : "" };
}

/** True when two message IDs name the same message, whatever the registry versions. */
export function sameMessage(a: string, b: string): boolean {
  if (a === b) return true;
  const pa = parseMessageId(a);
  const pb = parseMessageId(b);
  return pa.registry === pb.registry && pa.key === pb.key && pa.key !== "";
}

/** The Redfish resource type of a resource path the emulator serves, for `ResourceTypes` filters. */
export function resourceTypeOf(path: string): string {
  if (/\/Drives\/[^/]+$/.test(path)) return "Drive";
  if (/\/Storage\/[^/]+$/.test(path)) return "Storage";
  if (/\/Thermal$/.test(path)) return "Thermal";
  if (/^\/redfish\/v1\/Systems\/[^/]+$/.test(path)) return "ComputerSystem";
  if (/^\/redfish\/v1\/Chassis\/[^/]+$/.test(path)) return "Chassis";
  if (/^\/redfish\/v1\/Managers\/[^/]+$/.test(path)) return "Manager";
  if (path.startsWith("/redfish/v1/EventService")) return "EventService";
  return "Resource";
}

/** Message texts of the registry messages the emulator raises on its own. */
export const RAISED_MESSAGES = {
  resourceChanged: {
    MessageId: "ResourceEvent.1.0.ResourceChanged",
    Message: "One or more resource properties have changed.",
    MessageSeverity: "OK",
  },
  driveFailure: {
    MessageId: "StorageDevice.1.0.DriveFailure",
    message: (location: string) => `A failure condition for the drive located in '${location}' has been detected.`,
    MessageSeverity: "Critical",
  },
  driveFailureCleared: {
    MessageId: "StorageDevice.1.0.DriveFailureCleared",
    message: (location: string) => `A failure condition for the drive located in '${location}' has been cleared.`,
    MessageSeverity: "OK",
  },
  aboveUpperCaution: {
    MessageId: "SensorEvent.1.0.ReadingAboveUpperCautionThreshold",
    message: (sensor: string, reading: number, threshold: number) =>
      `Sensor '${sensor}' reading of ${reading} (Cel) is above the ${threshold} upper caution threshold.`,
    MessageSeverity: "Warning",
  },
  aboveUpperCritical: {
    MessageId: "SensorEvent.1.0.ReadingAboveUpperCriticalThreshold",
    message: (sensor: string, reading: number, threshold: number) =>
      `Sensor '${sensor}' reading of ${reading} (Cel) is above the ${threshold} upper critical threshold.`,
    MessageSeverity: "Critical",
  },
  readingNormal: {
    MessageId: "SensorEvent.1.0.ReadingNormalRange",
    message: (sensor: string, reading: number) =>
      `Sensor '${sensor}' reading of ${reading} (Cel) is within normal operating range.`,
    MessageSeverity: "OK",
  },
} as const;

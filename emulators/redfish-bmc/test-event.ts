/**
 * Test events (`#EventService.SubmitTestEvent` and the control API's
 * `POST /bmcs/{i}/events`): their parameters and how they are validated.
 *
 * @module
 */
import { EVENT_TYPES, SEVERITIES } from "./events.ts";
import type { EventType, Severity } from "./events.ts";

/** The parameters of a test event, as for `#EventService.SubmitTestEvent`; only `MessageId` is required. */
export interface TestEventParameters {
  MessageId: string;
  EventType?: EventType;
  EventId?: string;
  EventTimestamp?: string;
  Message?: string;
  MessageArgs?: string[];
  MessageSeverity?: Severity;
  Severity?: Severity;
  /** A resource path, such as `/redfish/v1/Systems/System.Embedded.1`. */
  OriginOfCondition?: string;
  EventGroupId?: number;
}

/**
 * Validates the parameters of a test event (SubmitTestEvent or the control
 * API). Throws a RangeError naming the first bad parameter and its value.
 */
export function validateTestEvent(p: unknown): TestEventParameters {
  if (typeof p !== "object" || p === null || Array.isArray(p)) {
    throw new RangeError("test event parameters must be a JSON object");
  }
  const o = p as Record<string, unknown>;
  const known = new Set([
    "MessageId",
    "EventType",
    "EventId",
    "EventTimestamp",
    "Message",
    "MessageArgs",
    "MessageSeverity",
    "Severity",
    "OriginOfCondition",
    "EventGroupId",
  ]);
  for (const key of Object.keys(o)) {
    if (!known.has(key)) throw new TestEventError(key, o[key], `unknown parameter; known: ${[...known].join(", ")}`);
  }
  if (o.MessageId === undefined) throw new TestEventError("MessageId", undefined, "it is required");
  if (typeof o.MessageId !== "string" || !/^[A-Za-z0-9]+\.\d+\.\d+(\.\d+)?\.[A-Za-z0-9]+$/.test(o.MessageId)) {
    throw new TestEventError("MessageId", o.MessageId, "expected Registry.Major.Minor.Key");
  }
  for (const key of ["EventId", "EventTimestamp", "Message", "OriginOfCondition"] as const) {
    if (o[key] !== undefined && typeof o[key] !== "string") throw new TestEventError(key, o[key], "expected a string");
  }
  if (o.OriginOfCondition !== undefined && !(o.OriginOfCondition as string).startsWith("/redfish/v1")) {
    throw new TestEventError("OriginOfCondition", o.OriginOfCondition, "expected a resource path under /redfish/v1");
  }
  if (o.EventTimestamp !== undefined && Number.isNaN(Date.parse(o.EventTimestamp as string))) {
    throw new TestEventError("EventTimestamp", o.EventTimestamp, "expected an ISO 8601 date and time");
  }
  if (o.MessageArgs !== undefined && !(Array.isArray(o.MessageArgs) && o.MessageArgs.every((a) => typeof a === "string"))) {
    throw new TestEventError("MessageArgs", o.MessageArgs, "expected an array of strings");
  }
  if (o.EventType !== undefined && !EVENT_TYPES.includes(o.EventType as EventType)) {
    throw new TestEventError("EventType", o.EventType, `expected one of ${EVENT_TYPES.join(", ")}`);
  }
  for (const key of ["MessageSeverity", "Severity"] as const) {
    if (o[key] !== undefined && !SEVERITIES.includes(o[key] as Severity)) {
      throw new TestEventError(key, o[key], `expected one of ${SEVERITIES.join(", ")}`);
    }
  }
  if (o.EventGroupId !== undefined && !Number.isInteger(o.EventGroupId)) {
    throw new TestEventError("EventGroupId", o.EventGroupId, "expected an integer");
  }
  return { EventType: "Alert", ...(o as unknown as TestEventParameters) };
}

/** A bad test event parameter: names the parameter and its value. */
export class TestEventError extends RangeError {
  readonly parameter: string;
  readonly value: unknown;
  constructor(parameter: string, value: unknown, why: string) {
    super(`test event parameter ${parameter} ${value === undefined ? "is missing" : `= ${JSON.stringify(value)} is invalid`}: ${why}`);
    this.name = "TestEventError";
    this.parameter = parameter;
    this.value = value;
  }
}

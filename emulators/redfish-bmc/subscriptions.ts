/**
 * Event subscriptions (Redfish `EventDestination`): validating a create
 * request, the stored record, its JSON rendering (`HttpHeaders` always `[]`,
 * since header values are secrets) and which events it receives.
 *
 * @module
 */
import { EVENT_TYPES, SEVERITIES, sameMessage } from "./events.ts";
import type { RaisedEvent } from "./events.ts";
import { RedfishError, baseMessages } from "./redfish-errors.ts";
import type { RedfishMessage } from "./redfish-errors.ts";

/** Every `Protocol` value of the EventDestination schema; the emulator delivers only `Redfish`. */
export const PROTOCOLS = [
  "Redfish",
  "Kafka",
  "SNMPv1",
  "SNMPv2c",
  "SNMPv3",
  "SMTP",
  "SyslogTLS",
  "SyslogTCP",
  "SyslogUDP",
  "SyslogRELP",
  "OEM",
] as const;

/** What happens after the last retry of a failed delivery. */
export const DELIVERY_RETRY_POLICIES = [
  "TerminateAfterRetries",
  "SuspendRetries",
  "RetryForever",
  "RetryForeverWithBackoff",
] as const;
/** One `DeliveryRetryPolicy` value. */
export type DeliveryRetryPolicy = (typeof DELIVERY_RETRY_POLICIES)[number];

/** A subscription as the BMC stores it. `httpHeaders` holds secrets: never log or return the values. */
export interface SubscriptionRecord {
  id: string;
  destination: string;
  context: string | null;
  protocol: "Redfish";
  /** Deprecated filter; null when the client sent none (then every event type matches). */
  eventTypes: string[] | null;
  registryPrefixes: string[] | null;
  resourceTypes: string[] | null;
  messageIds: string[] | null;
  excludeMessageIds: string[] | null;
  /** Resource paths events must originate from. */
  originResources: string[] | null;
  subordinateResources: boolean;
  severities: string[] | null;
  /** Header name and value pairs, in the order given. */
  httpHeaders: [string, string][];
  deliveryRetryPolicy: DeliveryRetryPolicy;
  verifyCertificate: boolean;
  /** `Enabled`, or `Disabled` once suspended. */
  state: "Enabled" | "Disabled";
}

/** The properties a subscription create request may carry. */
const CREATE_PROPERTIES = new Set([
  "Destination",
  "Protocol",
  "Context",
  "EventTypes",
  "HttpHeaders",
  "DeliveryRetryPolicy",
  "VerifyCertificate",
  "SubscriptionType",
  "EventFormatType",
  "RegistryPrefixes",
  "ResourceTypes",
  "MessageIds",
  "ExcludeMessageIds",
  "OriginResources",
  "SubordinateResources",
  "Severities",
  "Name",
  "Description",
]);

/** Headers a subscription may not set, since they would break the delivery request itself. */
const RESERVED_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer"]);

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Header values: visible ASCII, space, tab and obs-text; no CR, LF or NUL.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function stringList(
  body: Record<string, unknown>,
  property: string,
  errors: RedfishMessage[],
  allowed?: readonly string[],
): string[] | null {
  const value = body[property];
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    errors.push(baseMessages.propertyValueTypeError(property, value));
    return null;
  }
  if (allowed) {
    for (const v of value) {
      if (!allowed.includes(v)) errors.push(baseMessages.propertyValueNotInList(property, v));
    }
  }
  return value;
}

/** Checks that `destination` is an absolute http(s) URL with a host; returns why not, or null. */
export function destinationProblem(destination: string): string | null {
  let url: URL;
  try {
    url = new URL(destination);
  } catch {
    return "it is not an absolute URI";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `scheme ${url.protocol.slice(0, -1)} is not http or https`;
  if (url.hostname === "") return "it has no host";
  if (url.username !== "" || url.password !== "") return "it carries credentials in its authority; use HttpHeaders";
  return null;
}

/** How a BMC judges a subscription create request (a vendor profile's rules; see vendor-profile.ts). */
export interface SubscriptionRequestOptions {
  /**
   * Refuse the deprecated `EventTypes` property as unknown (400
   * `PropertyUnknown`), as OpenBMC's bmcweb does: its create handler does not
   * read `EventTypes`. Ironic always sends it (`["Alert"]` by default).
   */
  refuseEventTypes?: boolean;
  /** When set, only these properties are accepted; any other is refused with `unknownProperty`. */
  accepted?: readonly string[];
  /** Properties refused with `unknownProperty` although the schema has them (iLO: `DeliveryRetryPolicy`). */
  refused?: readonly string[];
  /** Properties the request must carry; default `Destination` and `Protocol`. */
  required?: readonly string[];
  /** The message for a refused or unknown property; default the Base registry's `PropertyUnknown`. */
  unknownProperty?: (property: string) => RedfishMessage;
}

/**
 * Validates a subscription create request and returns the record to store
 * (without its ID). Throws a 400 {@link RedfishError} listing every problem,
 * each naming the property; header values are never echoed.
 */
export function parseSubscriptionRequest(
  body: unknown,
  options: SubscriptionRequestOptions = {},
): Omit<SubscriptionRecord, "id"> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new RedfishError(400, [baseMessages.malformedJSON("the request body must be a JSON object")]);
  }
  const b = body as Record<string, unknown>;
  const errors: RedfishMessage[] = [];
  const unknown = options.unknownProperty ?? baseMessages.propertyUnknown;
  const required = options.required ?? ["Destination", "Protocol"];
  for (const key of Object.keys(b)) {
    if (key.startsWith("@odata.")) continue;
    const known =
      CREATE_PROPERTIES.has(key) &&
      (options.accepted === undefined || options.accepted.includes(key)) &&
      !(options.refused ?? []).includes(key) &&
      !(key === "EventTypes" && options.refuseEventTypes === true);
    if (!known) errors.push(unknown(key));
  }
  for (const key of required) {
    if (key !== "Destination" && key !== "Protocol" && (b[key] === undefined || b[key] === null)) {
      errors.push(baseMessages.propertyMissing(key));
    }
  }

  let destination = "";
  if (b.Destination === undefined || b.Destination === null) {
    errors.push(baseMessages.propertyMissing("Destination"));
  } else if (typeof b.Destination !== "string") {
    errors.push(baseMessages.propertyValueTypeError("Destination", b.Destination));
  } else {
    const problem = destinationProblem(b.Destination);
    if (problem) errors.push(baseMessages.propertyValueFormatError("Destination", b.Destination, problem));
    else if (b.Destination.length > 2048) {
      errors.push(baseMessages.propertyValueFormatError("Destination", b.Destination, "it is longer than 2048 characters"));
    }
    destination = b.Destination;
  }

  if (b.Protocol === undefined || b.Protocol === null) {
    if (required.includes("Protocol")) errors.push(baseMessages.propertyMissing("Protocol"));
  } else if (typeof b.Protocol !== "string") {
    errors.push(baseMessages.propertyValueTypeError("Protocol", b.Protocol));
  } else if (b.Protocol !== "Redfish") {
    // In the schema or not (FTP), only Redfish delivery is implemented.
    errors.push(baseMessages.propertyValueNotInList("Protocol", b.Protocol));
  }

  let context: string | null = null;
  if (b.Context !== undefined && b.Context !== null) {
    if (typeof b.Context !== "string") errors.push(baseMessages.propertyValueTypeError("Context", b.Context));
    else if (b.Context.length > 256) {
      errors.push(baseMessages.propertyValueFormatError("Context", b.Context, "it is longer than 256 characters"));
    } else context = b.Context;
  }

  if (b.SubscriptionType !== undefined && b.SubscriptionType !== "RedfishEvent") {
    errors.push(baseMessages.propertyValueNotInList("SubscriptionType", b.SubscriptionType));
  }
  if (b.EventFormatType !== undefined && b.EventFormatType !== "Event") {
    errors.push(baseMessages.propertyValueNotInList("EventFormatType", b.EventFormatType));
  }

  let deliveryRetryPolicy: DeliveryRetryPolicy = "TerminateAfterRetries";
  if (b.DeliveryRetryPolicy !== undefined) {
    if (DELIVERY_RETRY_POLICIES.includes(b.DeliveryRetryPolicy as DeliveryRetryPolicy)) {
      deliveryRetryPolicy = b.DeliveryRetryPolicy as DeliveryRetryPolicy;
    } else errors.push(baseMessages.propertyValueNotInList("DeliveryRetryPolicy", b.DeliveryRetryPolicy));
  }

  let verifyCertificate = false;
  if (b.VerifyCertificate !== undefined) {
    if (typeof b.VerifyCertificate === "boolean") verifyCertificate = b.VerifyCertificate;
    else errors.push(baseMessages.propertyValueTypeError("VerifyCertificate", b.VerifyCertificate));
  }

  let subordinateResources = false;
  if (b.SubordinateResources !== undefined) {
    if (typeof b.SubordinateResources === "boolean") subordinateResources = b.SubordinateResources;
    else errors.push(baseMessages.propertyValueTypeError("SubordinateResources", b.SubordinateResources));
  }

  const httpHeaders = parseHttpHeaders(b.HttpHeaders, errors);

  let originResources: string[] | null = null;
  if (b.OriginResources !== undefined && b.OriginResources !== null) {
    const value = b.OriginResources;
    if (
      Array.isArray(value) &&
      value.every((v) => typeof v === "object" && v !== null && typeof (v as Record<string, unknown>)["@odata.id"] === "string")
    ) {
      originResources = value.map((v) => (v as Record<string, string>)["@odata.id"]!);
    } else errors.push(baseMessages.propertyValueTypeError("OriginResources", value));
  }

  const record: Omit<SubscriptionRecord, "id"> = {
    destination,
    context,
    protocol: "Redfish",
    eventTypes: stringList(b, "EventTypes", errors, EVENT_TYPES),
    registryPrefixes: stringList(b, "RegistryPrefixes", errors),
    resourceTypes: stringList(b, "ResourceTypes", errors),
    messageIds: stringList(b, "MessageIds", errors),
    excludeMessageIds: stringList(b, "ExcludeMessageIds", errors),
    originResources,
    subordinateResources,
    severities: stringList(b, "Severities", errors, SEVERITIES),
    httpHeaders,
    deliveryRetryPolicy,
    verifyCertificate,
    state: "Enabled",
  };
  if (errors.length > 0) throw new RedfishError(400, errors);
  return record;
}

/** Parses the Redfish `HttpHeaders` form, `[{"Name": "value"}, …]`, never echoing a value in an error. */
function parseHttpHeaders(value: unknown, errors: RedfishMessage[]): [string, string][] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    errors.push(baseMessages.propertyValueTypeErrorHidden("HttpHeaders", "an array of objects of header names to string values"));
    return [];
  }
  const headers: [string, string][] = [];
  for (const entry of value) {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      errors.push(baseMessages.propertyValueTypeErrorHidden("HttpHeaders", "each element an object of header names to string values"));
      continue;
    }
    for (const [name, headerValue] of Object.entries(entry as Record<string, unknown>)) {
      if (!HEADER_NAME.test(name)) {
        errors.push(baseMessages.propertyValueFormatError("HttpHeaders", name, "a header name must be an HTTP token"));
      } else if (RESERVED_HEADERS.has(name.toLowerCase())) {
        errors.push(
          baseMessages.propertyValueFormatError("HttpHeaders", name, "the delivery request sets this header itself"),
        );
      } else if (typeof headerValue !== "string") {
        errors.push(baseMessages.propertyValueTypeErrorHidden(`HttpHeaders/${name}`, "a string"));
      } else if (!HEADER_VALUE.test(headerValue)) {
        errors.push(baseMessages.propertyValueTypeErrorHidden(`HttpHeaders/${name}`, "a header value without control characters"));
      } else headers.push([name, headerValue]);
    }
  }
  return headers;
}

/**
 * The `EventDestination` resource of a subscription. `HttpHeaders` is always
 * `[]`. `resumable: false` leaves `ResumeSubscription` out of its `Actions`,
 * as a BMC that cannot resume a suspended subscription shows it.
 */
export function renderSubscription(record: SubscriptionRecord, collectionPath: string, resumable = true): Record<string, unknown> {
  const path = `${collectionPath}/${record.id}`;
  const body: Record<string, unknown> = {
    "@odata.id": path,
    "@odata.type": "#EventDestination.v1_13_0.EventDestination",
    Id: record.id,
    Name: `Event Subscription ${record.id}`,
    Destination: record.destination,
    Context: record.context,
    Protocol: record.protocol,
    SubscriptionType: "RedfishEvent",
    EventFormatType: "Event",
    HttpHeaders: [],
    DeliveryRetryPolicy: record.deliveryRetryPolicy,
    VerifyCertificate: record.verifyCertificate,
    SubordinateResources: record.subordinateResources,
    Status: { State: record.state, Health: record.state === "Enabled" ? "OK" : "Warning" },
    Actions: {
      ...(resumable ? { "#EventDestination.ResumeSubscription": { target: `${path}/Actions/EventDestination.ResumeSubscription` } } : {}),
      "#EventDestination.SuspendSubscription": { target: `${path}/Actions/EventDestination.SuspendSubscription` },
    },
  };
  if (record.eventTypes) body.EventTypes = record.eventTypes;
  if (record.registryPrefixes) body.RegistryPrefixes = record.registryPrefixes;
  if (record.resourceTypes) body.ResourceTypes = record.resourceTypes;
  if (record.messageIds) body.MessageIds = record.messageIds;
  if (record.excludeMessageIds) body.ExcludeMessageIds = record.excludeMessageIds;
  if (record.originResources) body.OriginResources = record.originResources.map((p) => ({ "@odata.id": p }));
  if (record.severities) body.Severities = record.severities;
  return body;
}

/** True when the subscription is enabled and its filters let the event through. */
export function subscriptionMatches(record: SubscriptionRecord, event: RaisedEvent): boolean {
  if (record.state !== "Enabled") return false;
  const r = event.record;
  if (record.eventTypes && record.eventTypes.length > 0 && !record.eventTypes.includes(r.EventType)) return false;
  if (record.registryPrefixes && record.registryPrefixes.length > 0) {
    const registry = r.MessageId.split(".")[0];
    if (!record.registryPrefixes.some((p) => p === registry)) return false;
  }
  if (record.messageIds && record.messageIds.length > 0 && !record.messageIds.some((m) => sameMessage(m, r.MessageId))) {
    return false;
  }
  if (record.excludeMessageIds?.some((m) => sameMessage(m, r.MessageId))) return false;
  if (record.resourceTypes && record.resourceTypes.length > 0 && !record.resourceTypes.includes(event.resourceType)) {
    return false;
  }
  if (record.severities && record.severities.length > 0 && !record.severities.includes(r.MessageSeverity)) return false;
  if (record.originResources && record.originResources.length > 0) {
    const origin = r.OriginOfCondition["@odata.id"];
    const ok = record.originResources.some(
      (p) => origin === p || (record.subordinateResources && origin.startsWith(`${p}/`)),
    );
    if (!ok) return false;
  }
  return true;
}

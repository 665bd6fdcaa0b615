/**
 * Redfish `Event` payloads (Event v1, as BMCs POST them to a subscription's
 * destination): parsed and checked before anything is recorded, so that a
 * malformed delivery is refused whole (400) and never half-recorded.
 *
 * @module
 */

/** Severities, as in `Resource.Health` (`MessageSeverity`, or the deprecated `Severity`). */
export type EventSeverity = "OK" | "Warning" | "Critical" | "Unknown";

/** One record of an `Events[]` array, reduced to what the receiver uses. */
export interface BmcEventRecord {
  messageId: string;
  message: string;
  severity: EventSeverity;
  /** `OriginOfCondition["@odata.id"]`, when given. */
  origin?: string;
  eventId?: string;
  /** `EventTimestamp`, when it is a valid date. */
  timestamp?: string;
  /** The record as received, for forwarding. */
  raw: Record<string, unknown>;
}

/** A parsed payload. */
export interface BmcEventPayload {
  /** The payload's `Id`, when given. */
  id?: string;
  /** The subscription's `Context` the BMC echoes. */
  context?: string;
  events: BmcEventRecord[];
}

/** A payload that is not a Redfish Event; the message names the field and what it held. */
export class MalformedEventError extends Error {
  override name = "MalformedEventError";
}

/** Records one payload may carry at most; a BMC batches a few, never thousands. */
export const MAX_EVENTS_PER_PAYLOAD = 256;

function text(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new MalformedEventError(`${field} must be a string, got ${JSON.stringify(value)?.slice(0, 80)}`);
  return value.slice(0, max);
}

function severityOf(record: Record<string, unknown>, field: string): EventSeverity {
  const value = text(record.MessageSeverity, `${field}.MessageSeverity`, 32) ?? text(record.Severity, `${field}.Severity`, 32);
  return value === "OK" || value === "Warning" || value === "Critical" ? value : "Unknown";
}

/** Parses the body of a delivery. Throws {@link MalformedEventError} naming the first bad field. */
export function parseEventPayload(body: string): BmcEventPayload {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new MalformedEventError(`the body is not JSON: ${(error as Error).message}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new MalformedEventError("the body must be a JSON object (a Redfish Event)");
  }
  const root = json as Record<string, unknown>;
  const events = root.Events;
  if (!Array.isArray(events) || events.length === 0) {
    throw new MalformedEventError(`Events must be a non-empty array, got ${JSON.stringify(events)?.slice(0, 80) ?? "nothing"}`);
  }
  if (events.length > MAX_EVENTS_PER_PAYLOAD) {
    throw new MalformedEventError(`Events holds ${events.length} records, more than ${MAX_EVENTS_PER_PAYLOAD}`);
  }
  const records = events.map((event, i): BmcEventRecord => {
    const field = `Events[${i}]`;
    if (typeof event !== "object" || event === null || Array.isArray(event)) {
      throw new MalformedEventError(`${field} must be an object, got ${JSON.stringify(event)?.slice(0, 80)}`);
    }
    const record = event as Record<string, unknown>;
    const messageId = text(record.MessageId, `${field}.MessageId`, 256);
    if (!messageId) throw new MalformedEventError(`${field}.MessageId is missing`);
    const originValue = record.OriginOfCondition;
    let origin: string | undefined;
    if (originValue !== undefined && originValue !== null) {
      if (typeof originValue === "string") origin = originValue.slice(0, 512);
      else if (typeof originValue === "object") origin = text((originValue as Record<string, unknown>)["@odata.id"], `${field}.OriginOfCondition["@odata.id"]`, 512);
      else throw new MalformedEventError(`${field}.OriginOfCondition must be a link object, got ${JSON.stringify(originValue)}`);
    }
    const timestamp = text(record.EventTimestamp, `${field}.EventTimestamp`, 64);
    const eventId = text(record.EventId, `${field}.EventId`, 128);
    return {
      messageId,
      message: text(record.Message, `${field}.Message`, 512) ?? "",
      severity: severityOf(record, field),
      ...(origin ? { origin } : {}),
      ...(eventId ? { eventId } : {}),
      ...(timestamp && !Number.isNaN(Date.parse(timestamp)) ? { timestamp } : {}),
      raw: record,
    };
  });
  const id = text(root.Id, "Id", 128);
  const context = text(root.Context, "Context", 256);
  return { ...(id ? { id } : {}), ...(context ? { context } : {}), events: records };
}

/** The last part of a message ID (`StorageDevice.1.0.DriveFailure` → `DriveFailure`). */
export function messageKey(messageId: string): string {
  return messageId.split(".").at(-1) ?? messageId;
}

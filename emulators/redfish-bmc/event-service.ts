/**
 * The EventService of one BMC: its settings (`ServiceEnabled` and the
 * delivery retries, PATCHable, restored by a reset), raising events (numbered
 * from 1, kept in a short log for the control API) and handing them to the
 * subscriptions they match. Lights, power and sensors raise through it.
 *
 * @module
 */
import { EventSubscriptions } from "./event-subscriptions.ts";
import type { SubscriptionSettings } from "./event-subscriptions.ts";
import { RAISED_MESSAGES, resourceTypeOf } from "./events.ts";
import type { EventRecord, EventType, Severity } from "./events.ts";
import { validateTestEvent } from "./test-event.ts";
import type { TestEventParameters } from "./test-event.ts";

/** The EventService's own settings. */
export interface EventServiceSettings {
  serviceEnabled: boolean;
  retryAttempts: number;
  retryIntervalSeconds: number;
}

/** An event to raise: what the BMC fills in itself (ID, time, severity default) is optional. */
export interface EventToRaise {
  EventType: EventType;
  MessageId: string;
  Message?: string;
  MessageArgs?: string[];
  MessageSeverity?: Severity;
  Severity?: Severity;
  EventId?: string;
  EventTimestamp?: string;
  /** The resource path the event is about. */
  OriginOfCondition: string;
  EventGroupId?: number;
}

/** What raises events: the lights, the machine, the Redfish service and the control API. */
export interface EventRaiser {
  /** Raises an event; returns the record sent. */
  raise(event: EventToRaise): EventRecord;
  /** Raises the `ResourceEvent.1.0.ResourceChanged` event of the resource at `path`. */
  resourceChanged(path: string): void;
}

/** What the EventService of one BMC needs. */
export interface EventServiceOptions extends Omit<SubscriptionSettings, "retry"> {
  /** The retry settings a reset restores. */
  defaults: { retryAttempts: number; retryIntervalSeconds: number };
  /** Where a test event without `OriginOfCondition` comes from (the system). */
  defaultOrigin: string;
}

/** At most this many raised events are kept for {@link EventService.events}. */
const EVENT_LOG_SIZE = 100;

/** The EventService of one BMC. */
export class EventService implements EventRaiser {
  /** The subscriptions events go to. */
  readonly subscriptions: EventSubscriptions;
  /** The settings now; the Redfish service replaces them on PATCH. */
  settings: EventServiceSettings;
  readonly #defaults: EventServiceSettings;
  readonly #defaultOrigin: string;
  #nextEventId = 1;
  readonly #log: EventRecord[] = [];

  constructor(options: EventServiceOptions) {
    this.#defaults = { serviceEnabled: true, ...options.defaults };
    this.settings = { ...this.#defaults };
    this.#defaultOrigin = options.defaultOrigin;
    this.subscriptions = new EventSubscriptions({ ...options, retry: () => this.settings });
  }

  /** Raises a test event, as `#EventService.SubmitTestEvent` does; returns the record sent. */
  submit(parameters: TestEventParameters): EventRecord {
    const p = validateTestEvent(parameters);
    return this.raise({ ...p, EventType: p.EventType ?? "Alert", OriginOfCondition: p.OriginOfCondition ?? this.#defaultOrigin });
  }

  /** Raises an event: records it and, while the service is enabled, queues it for every matching subscription. */
  raise(event: EventToRaise): EventRecord {
    const severity = event.MessageSeverity ?? event.Severity ?? "OK";
    const record: EventRecord = {
      EventType: event.EventType,
      EventId: event.EventId ?? String(this.#nextEventId++),
      EventTimestamp: event.EventTimestamp ?? new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      Severity: severity,
      MessageSeverity: severity,
      Message: event.Message ?? "",
      MessageId: event.MessageId,
      MessageArgs: event.MessageArgs ?? [],
      OriginOfCondition: { "@odata.id": event.OriginOfCondition },
    };
    if (event.EventGroupId !== undefined) record.EventGroupId = event.EventGroupId;
    this.#log.push(record);
    if (this.#log.length > EVENT_LOG_SIZE) this.#log.shift();
    if (this.settings.serviceEnabled) {
      this.subscriptions.deliver({ record, resourceType: resourceTypeOf(event.OriginOfCondition) });
    }
    return record;
  }

  resourceChanged(path: string): void {
    const m = RAISED_MESSAGES.resourceChanged;
    this.raise({
      EventType: "ResourceUpdated",
      MessageId: m.MessageId,
      Message: m.Message,
      MessageArgs: [],
      MessageSeverity: m.MessageSeverity,
      OriginOfCondition: path,
    });
  }

  /** The events raised so far (the last 100), oldest first. */
  events(): EventRecord[] {
    return [...this.#log];
  }

  /** As a BMC reset: every subscription and queued delivery is gone, the settings return to their defaults. */
  reset(): void {
    this.subscriptions.clear();
    this.settings = { ...this.#defaults };
  }
}

/**
 * The event subscriptions of one BMC (the EventService's `Subscriptions`
 * collection) and the delivery of raised events to them: IDs from 1, a limit,
 * suspend and resume, what happens when a subscription's retries run out, and
 * the record of delivery attempts the control API shows. Header values are
 * secrets: they are sent, never logged or shown.
 *
 * @module
 */
import type { Dispatcher } from "undici";
import type { BmcLogger } from "./bmc-settings.ts";
import { EventDeliveryQueues } from "./event-delivery.ts";
import type { DeliveryAttempt } from "./event-delivery.ts";
import { eventPayload } from "./events.ts";
import type { RaisedEvent } from "./events.ts";
import { subscriptionMatches } from "./subscriptions.ts";
import type { SubscriptionRecord } from "./subscriptions.ts";
import type { AfterFailedDeliveries } from "./vendor-profile.ts";

/** A subscription as the control API shows it: header names only, never values. */
export interface SubscriptionInfo {
  id: string;
  destination: string;
  context: string | null;
  protocol: string;
  eventTypes: string[] | null;
  httpHeaderNames: string[];
  deliveryRetryPolicy: string;
  state: "Enabled" | "Disabled";
}

/** What the subscriptions of one BMC need. */
export interface SubscriptionSettings {
  /** Subscriptions held at most. */
  maxSubscriptions: number;
  /** The dispatcher for destinations whose certificate is verified. */
  verifyingDispatcher: Dispatcher;
  /** The dispatcher for destinations whose certificate is not verified. */
  trustingDispatcher: Dispatcher;
  /** Milliseconds before a delivery without response headers counts as failed. */
  deliveryTimeoutMs: number;
  /** Listener statuses that count as delivered (default any 2xx). */
  delivered?: "2xx" | "200";
  /** Called when the BMC changes a subscription on its own (suspends or deletes it after failed deliveries). */
  onChange?: () => void;
  /** What happens once a subscription's retries are used up (default: as its `DeliveryRetryPolicy` says). */
  afterFailedDeliveries?: AfterFailedDeliveries;
  /** The EventService's retry settings now (they can be PATCHed). */
  retry(): { retryAttempts: number; retryIntervalSeconds: number };
  /** Where to log; its lines name the BMC. */
  logger: BmcLogger;
}

/** At most this many delivery attempts are kept for {@link EventSubscriptions.deliveries}. */
const DELIVERY_LOG_SIZE = 100;

/** The subscriptions of one BMC and the delivery of events to them. */
export class EventSubscriptions {
  readonly #settings: SubscriptionSettings;
  /** Subscriptions by ID, in creation order. */
  readonly #records = new Map<string, SubscriptionRecord>();
  #nextId = 1;
  readonly #delivery: EventDeliveryQueues;
  readonly #deliveryLog: DeliveryAttempt[] = [];

  constructor(settings: SubscriptionSettings) {
    this.#settings = settings;
    this.#delivery = new EventDeliveryQueues({
      verifyingDispatcher: settings.verifyingDispatcher,
      trustingDispatcher: settings.trustingDispatcher,
      timeoutMs: settings.deliveryTimeoutMs,
      delivered: settings.delivered ?? "2xx",
      retriesAlwaysBounded: (settings.afterFailedDeliveries ?? "policy") !== "policy",
      retryAttempts: () => settings.retry().retryAttempts,
      retryIntervalMs: () => settings.retry().retryIntervalSeconds * 1000,
      onRetriesExhausted: (subscription) => this.#retriesExhausted(subscription),
      onAttempt: (attempt) => this.#recordAttempt(attempt),
    });
  }

  /** Subscriptions held at most. */
  get limit(): number {
    return this.#settings.maxSubscriptions;
  }

  /** The IDs of the current subscriptions, in creation order. */
  ids(): string[] {
    return [...this.#records.keys()];
  }

  /** The subscription with this ID, as stored (PATCH changes it in place). */
  get(id: string): SubscriptionRecord | undefined {
    return this.#records.get(id);
  }

  /** The current subscriptions as stored, header values included, in creation order. */
  records(): SubscriptionRecord[] {
    return [...this.#records.values()];
  }

  /** The current subscriptions, with header names only. */
  list(): SubscriptionInfo[] {
    return [...this.#records.values()].map((s) => ({
      id: s.id,
      destination: s.destination,
      context: s.context,
      protocol: s.protocol,
      eventTypes: s.eventTypes,
      httpHeaderNames: s.httpHeaders.map(([name]) => name),
      deliveryRetryPolicy: s.deliveryRetryPolicy,
      state: s.state,
    }));
  }

  /** Stores a validated subscription under the next ID; returns it, or undefined when the limit is reached. */
  add(request: Omit<SubscriptionRecord, "id">): SubscriptionRecord | undefined {
    if (this.#records.size >= this.#settings.maxSubscriptions) return undefined;
    const record: SubscriptionRecord = { ...request, id: String(this.#nextId++) };
    this.#records.set(record.id, record);
    this.#settings.logger.info(
      { subscription: record.id, destination: record.destination, headers: record.httpHeaders.map(([name]) => name) },
      "subscription created",
    );
    return record;
  }

  /** Deletes a subscription and its queued deliveries; false when there was none. */
  delete(id: string): boolean {
    const existed = this.#records.delete(id);
    if (existed) {
      this.#delivery.cancel(id);
      this.#settings.logger.info({ subscription: id }, "subscription deleted");
    }
    return existed;
  }

  /** Suspends (`Disabled`) or resumes (`Enabled`) a subscription. */
  setState(record: SubscriptionRecord, state: "Enabled" | "Disabled"): void {
    record.state = state;
    if (state === "Disabled") this.#delivery.cancel(record.id);
  }

  /** Queues `event` for every subscription it matches. */
  deliver(event: RaisedEvent): void {
    for (const subscription of this.#records.values()) {
      if (!subscriptionMatches(subscription, event)) continue;
      this.#delivery.enqueue(subscription, event.record.EventId, eventPayload(event, subscription.context));
    }
  }

  /** The delivery attempts so far (the last 100), oldest first. */
  deliveries(): DeliveryAttempt[] {
    return [...this.#deliveryLog];
  }

  /** Resolves once no delivery is in progress (retries included). */
  settled(): Promise<void> {
    return this.#delivery.idle();
  }

  /** The ID the next subscription gets (kept with the subscriptions, so a restored BMC does not reuse an ID). */
  get nextId(): number {
    return this.#nextId;
  }

  /** Puts back subscriptions kept from an earlier run (no deliveries are queued); `nextId` continues the numbering. */
  restore(records: readonly SubscriptionRecord[], nextId: number): void {
    this.#delivery.cancelAll();
    this.#records.clear();
    for (const record of records) this.#records.set(record.id, { ...record });
    this.#nextId = Math.max(nextId, ...records.map((r) => Number(r.id) + 1).filter(Number.isInteger), 1);
  }

  /** Forgets every subscription and drops its queued deliveries, as a BMC reset does: IDs start again at 1. */
  clear(): void {
    this.#delivery.cancelAll();
    this.#records.clear();
    this.#nextId = 1;
  }

  /** Drops every queued delivery and aborts those in progress (the subscriptions stay). */
  cancelDeliveries(): void {
    this.#delivery.cancelAll();
  }

  #recordAttempt(attempt: DeliveryAttempt): void {
    this.#deliveryLog.push(attempt);
    if (this.#deliveryLog.length > DELIVERY_LOG_SIZE) this.#deliveryLog.shift();
    if (attempt.outcome === "failed") {
      this.#settings.logger.warn(
        {
          subscription: attempt.subscriptionId,
          destination: attempt.destination,
          attempt: attempt.attempt,
          status: attempt.status,
          error: attempt.error,
        },
        "event delivery failed",
      );
    }
  }

  #retriesExhausted(subscription: SubscriptionRecord): void {
    if (this.#records.get(subscription.id) !== subscription) return;
    const after = this.#settings.afterFailedDeliveries ?? "policy";
    const suspend = after === "suspend" || (after === "policy" && subscription.deliveryRetryPolicy === "SuspendRetries");
    if (suspend) {
      subscription.state = "Disabled";
      this.#settings.logger.warn({ subscription: subscription.id }, "subscription suspended after its delivery retries");
    } else {
      this.#records.delete(subscription.id);
      this.#settings.logger.warn({ subscription: subscription.id }, "subscription terminated after its delivery retries");
    }
    this.#settings.onChange?.();
  }
}

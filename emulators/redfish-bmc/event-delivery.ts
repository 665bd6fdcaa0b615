/**
 * Event delivery: POSTs `Event` payloads to subscription destinations, one
 * queue per subscription so events arrive in order, retrying a failed POST
 * (4xx, 5xx, connection error or timeout) `DeliveryRetryAttempts` times,
 * `DeliveryRetryIntervalSeconds` apart, then applying the subscription's
 * `DeliveryRetryPolicy`. Header values are sent, never logged or recorded.
 *
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";
import { request } from "undici";
import type { Dispatcher } from "undici";
import type { SubscriptionRecord } from "./subscriptions.ts";

/** One delivery attempt, as recorded for tests and the control API. */
export interface DeliveryAttempt {
  subscriptionId: string;
  destination: string;
  eventId: string;
  /** 1 for the first try, 2 for the first retry, and so on. */
  attempt: number;
  outcome: "delivered" | "failed";
  /** The destination's HTTP status, when it answered. */
  status?: number;
  /** Why the attempt failed, when it did not get a status (connection refused, timeout). */
  error?: string;
  /** When the attempt ended, ISO 8601. */
  at: string;
}

/** What the queue asks of its owner. */
export interface DeliverySettings {
  /** The dispatcher for destinations whose certificate is verified. */
  verifyingDispatcher: Dispatcher;
  /** The dispatcher for destinations whose certificate is not verified (`VerifyCertificate: false`). */
  trustingDispatcher: Dispatcher;
  /** Milliseconds before an attempt that got no response headers counts as failed. */
  timeoutMs: number;
  /** Listener statuses that count as delivered: any 2xx, or only 200 (HPE iLO). Default any 2xx. */
  delivered?: "2xx" | "200";
  /** Retries stop after `retryAttempts` whatever the subscription's `RetryForever…` policy (a BMC that ignores it). */
  retriesAlwaysBounded?: boolean;
  /** Retries after a failed first attempt (`DeliveryRetryAttempts`), read at each failure. */
  retryAttempts(): number;
  /** Milliseconds between attempts (`DeliveryRetryIntervalSeconds` × 1000), read at each failure. */
  retryIntervalMs(): number;
  /** Called once the retries of a subscription with a terminating or suspending policy are used up. */
  onRetriesExhausted(subscription: SubscriptionRecord): void;
  /** Called after every attempt. */
  onAttempt(attempt: DeliveryAttempt): void;
}

interface Queue {
  subscription: SubscriptionRecord;
  payloads: { eventId: string; body: string }[];
  running: boolean;
  abort: AbortController;
}

/** At most this many events wait per subscription; older ones are dropped, as a BMC's buffer would. */
export const MAX_QUEUED_EVENTS = 1000;
/** The longest wait of `RetryForeverWithBackoff`, as a multiple of the retry interval. */
const MAX_BACKOFF_FACTOR = 32;

/** Delivers events to the subscriptions of one BMC. */
export class EventDeliveryQueues {
  readonly #settings: DeliverySettings;
  readonly #queues = new Map<string, Queue>();
  #idle: Promise<void> = Promise.resolve();
  #pending = 0;
  #resolveIdle: (() => void) | undefined;

  constructor(settings: DeliverySettings) {
    this.#settings = settings;
  }

  /** Queues one event payload for one subscription. */
  enqueue(subscription: SubscriptionRecord, eventId: string, payload: unknown): void {
    let queue = this.#queues.get(subscription.id);
    if (!queue || queue.subscription !== subscription) {
      queue?.abort.abort();
      queue = { subscription, payloads: [], running: false, abort: new AbortController() };
      this.#queues.set(subscription.id, queue);
    }
    queue.payloads.push({ eventId, body: JSON.stringify(payload) });
    if (queue.payloads.length > MAX_QUEUED_EVENTS) queue.payloads.shift();
    if (!queue.running) this.#run(queue);
  }

  /** Drops the queue of a subscription and aborts its delivery in progress. */
  cancel(subscriptionId: string): void {
    const queue = this.#queues.get(subscriptionId);
    if (!queue) return;
    queue.abort.abort();
    queue.payloads.length = 0;
    this.#queues.delete(subscriptionId);
  }

  /** Drops every queue and aborts every delivery in progress. */
  cancelAll(): void {
    for (const id of [...this.#queues.keys()]) this.cancel(id);
  }

  /** Resolves once no delivery is running (used by close). */
  idle(): Promise<void> {
    return this.#pending === 0 ? Promise.resolve() : this.#idle;
  }

  #run(queue: Queue): void {
    queue.running = true;
    if (this.#pending++ === 0) {
      this.#idle = new Promise((resolve) => {
        this.#resolveIdle = resolve;
      });
    }
    this.#drain(queue)
      .catch(() => {
        // #drain handles its own failures; an abort ends it early.
      })
      .finally(() => {
        queue.running = false;
        if (--this.#pending === 0) this.#resolveIdle?.();
      });
  }

  async #drain(queue: Queue): Promise<void> {
    const { signal } = queue.abort;
    while (queue.payloads.length > 0 && !signal.aborted) {
      const next = queue.payloads[0]!;
      const delivered = await this.#deliverWithRetries(queue.subscription, next.eventId, next.body, signal);
      if (signal.aborted) return;
      if (!delivered) {
        // Retries used up: the policy ends or suspends the subscription, and what was queued is dropped.
        queue.payloads.length = 0;
        if (this.#queues.get(queue.subscription.id) === queue) this.#queues.delete(queue.subscription.id);
        this.#settings.onRetriesExhausted(queue.subscription);
        return;
      }
      queue.payloads.shift();
    }
  }

  async #deliverWithRetries(subscription: SubscriptionRecord, eventId: string, body: string, signal: AbortSignal) {
    const policy = subscription.deliveryRetryPolicy;
    for (let attempt = 1; ; attempt++) {
      if (await this.#attempt(subscription, eventId, body, attempt, signal)) return true;
      if (signal.aborted) return false;
      const forever =
        this.#settings.retriesAlwaysBounded !== true && (policy === "RetryForever" || policy === "RetryForeverWithBackoff");
      if (!forever && attempt > this.#settings.retryAttempts()) return false;
      const factor = policy === "RetryForeverWithBackoff" ? Math.min(2 ** (attempt - 1), MAX_BACKOFF_FACTOR) : 1;
      try {
        await delay(this.#settings.retryIntervalMs() * factor, undefined, { signal });
      } catch {
        return false;
      }
    }
  }

  async #attempt(
    subscription: SubscriptionRecord,
    eventId: string,
    body: string,
    attempt: number,
    signal: AbortSignal,
  ): Promise<boolean> {
    const headers: Record<string, string> = {};
    for (const [name, value] of subscription.httpHeaders) headers[name] = value;
    headers["content-type"] = "application/json";
    headers["odata-version"] = "4.0";
    const base = { subscriptionId: subscription.id, destination: subscription.destination, eventId, attempt };
    try {
      const response = await request(subscription.destination, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.#settings.timeoutMs)]),
        headersTimeout: this.#settings.timeoutMs,
        bodyTimeout: this.#settings.timeoutMs,
        dispatcher: subscription.verifyCertificate
          ? this.#settings.verifyingDispatcher
          : this.#settings.trustingDispatcher,
      });
      await response.body.dump();
      const ok =
        this.#settings.delivered === "200"
          ? response.statusCode === 200
          : response.statusCode >= 200 && response.statusCode < 300;
      this.#settings.onAttempt({
        ...base,
        outcome: ok ? "delivered" : "failed",
        status: response.statusCode,
        at: new Date().toISOString(),
      });
      return ok;
    } catch (error) {
      if (signal.aborted) return false;
      this.#settings.onAttempt({ ...base, outcome: "failed", error: describeError(error), at: new Date().toISOString() });
      return false;
    }
  }
}

/** A short reason for a failed attempt: the error code and message, which never hold header values. */
function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
    return `${typeof code === "string" ? `${code}: ` : ""}${error.message}${cause}`;
  }
  return String(error);
}

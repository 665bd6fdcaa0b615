/**
 * Fan-out: events recorded on a host are also forwarded, as CloudEvents 1.0
 * in binary mode (the Redfish event record as the JSON body, the attributes
 * as `ce-` headers), to the sinks its namespace lists in a ConfigMap labelled
 * `bmc-operator.metal3.io/event-sinks=true` (data key `sinks`: URLs, one a
 * line). Each sink has its own bounded queue and worker: a POST is retried
 * with backoff, then dropped and counted; when the queue is full the oldest
 * event is dropped and counted. Forwarding never waits for a sink: enqueueing
 * is synchronous, so a slow or dead sink never delays recording on the host.
 *
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";
import { Agent, request } from "../runtime/http-dispatch.ts";
import { defineResource, type KubeObject, type Logger } from "../runtime/index.ts";
import type { BmcEventRecord } from "./redfish-event.ts";

/** A ConfigMap. */
export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

/** Core `v1` configmaps. */
export const CONFIGMAPS = defineResource<ConfigMap>({ group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true });

/** The label that marks a ConfigMap as its namespace's list of CloudEvents sinks. */
export const EVENT_SINKS_LABEL = "bmc-operator.metal3.io/event-sinks";
/** The label selector of the sinks' informer. */
export const EVENT_SINKS_SELECTOR = `${EVENT_SINKS_LABEL}=true`;
/** The ConfigMap key that lists the sinks. */
export const EVENT_SINKS_KEY = "sinks";
/** The CloudEvents `type` of a forwarded BMC event. */
export const CLOUDEVENT_TYPE = "io.metal3.bmc.event.v1";

/** The sink URLs a ConfigMap lists, one a line (`#` starts a comment line); http and https only, others come back as invalid. */
export function sinkUrls(configMap: ConfigMap): { urls: string[]; invalid: string[] } {
  const urls: string[] = [];
  const invalid: string[] = [];
  for (const raw of (configMap.data?.[EVENT_SINKS_KEY] ?? "").split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    if (URL.canParse(line) && /^https?:$/.test(new URL(line).protocol)) urls.push(line);
    else invalid.push(line);
  }
  return { urls, invalid };
}

/** One event to forward. */
export interface ForwardedEvent {
  namespace: string;
  host: string;
  record: BmcEventRecord;
  /** The delivery's payload Id, to make the CloudEvent id unique with the record's index. */
  id: string;
}

/** Options of {@link CloudEventForwarder}. */
export interface ForwarderOptions {
  /** The sink URLs of a namespace, now. */
  sinksOf(namespace: string): string[];
  /** Events waiting per sink before the oldest is dropped. @default 1000 */
  maxQueued?: number;
  /** Retries after a failed POST. @default 3 */
  retries?: number;
  /** The first retry's wait in ms, doubled at each retry. @default 500 */
  retryDelayMs?: number;
  /** Timeout of one POST in ms. @default 5000 */
  timeoutMs?: number;
  /** Called with each outcome, for the metrics. */
  onResult?: (namespace: string, result: "delivered" | "failed" | "dropped") => void;
  logger?: Logger;
}

interface SinkQueue {
  url: string;
  events: ForwardedEvent[];
  running: boolean;
}

/** Forwards events to their namespace's sinks. */
export class CloudEventForwarder {
  readonly #o: Required<Omit<ForwarderOptions, "onResult" | "logger">> & Pick<ForwarderOptions, "onResult" | "logger">;
  readonly #queues = new Map<string, SinkQueue>();
  readonly #abort = new AbortController();
  readonly #dispatcher = new Agent({ connections: 4, keepAliveTimeout: 4_000 });
  #idle: (() => void)[] = [];

  constructor(options: ForwarderOptions) {
    this.#o = { maxQueued: 1000, retries: 3, retryDelayMs: 500, timeoutMs: 5_000, ...options };
  }

  /** Queues `event` for each sink of its namespace; returns at once. */
  forward(event: ForwardedEvent): void {
    if (this.#abort.signal.aborted) return;
    for (const url of this.#o.sinksOf(event.namespace)) {
      let queue = this.#queues.get(url);
      if (!queue) {
        queue = { url, events: [], running: false };
        this.#queues.set(url, queue);
      }
      queue.events.push(event);
      if (queue.events.length > this.#o.maxQueued) {
        const dropped = queue.events.shift()!;
        this.#o.onResult?.(dropped.namespace, "dropped");
      }
      if (!queue.running) this.#run(queue);
    }
  }

  /** Resolves once every queue is empty (for tests). */
  idle(): Promise<void> {
    if ([...this.#queues.values()].every((q) => !q.running)) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Drops what is queued and stops. */
  async close(): Promise<void> {
    this.#abort.abort();
    for (const queue of this.#queues.values()) queue.events.length = 0;
    await this.#dispatcher.close().catch(() => {});
  }

  #run(queue: SinkQueue): void {
    queue.running = true;
    void this.#drain(queue).finally(() => {
      queue.running = false;
      if (queue.events.length === 0) this.#queues.delete(queue.url);
      if ([...this.#queues.values()].every((q) => !q.running)) for (const wake of this.#idle.splice(0)) wake();
    });
  }

  async #drain(queue: SinkQueue): Promise<void> {
    const signal = this.#abort.signal;
    while (queue.events.length > 0 && !signal.aborted) {
      const event = queue.events.shift()!;
      let delivered = false;
      for (let attempt = 0; attempt <= this.#o.retries && !signal.aborted; attempt++) {
        if (attempt > 0) await delay(this.#o.retryDelayMs * 2 ** (attempt - 1), undefined, { signal }).catch(() => {});
        delivered = await this.#post(queue.url, event);
        if (delivered) break;
      }
      if (signal.aborted) return;
      this.#o.onResult?.(event.namespace, delivered ? "delivered" : "failed");
      if (!delivered) this.#o.logger?.warn({ sink: redactSink(queue.url), namespace: event.namespace, retries: this.#o.retries }, "a CloudEvents sink did not accept a BMC event; dropped");
    }
  }

  async #post(url: string, event: ForwardedEvent): Promise<boolean> {
    const { record } = event;
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": event.id,
      "ce-source": `/apis/metal3.io/v1alpha1/namespaces/${event.namespace}/baremetalhosts/${event.host}`,
      "ce-type": CLOUDEVENT_TYPE,
      "ce-messageid": record.messageId,
      "ce-severity": record.severity,
    };
    if (record.origin) headers["ce-subject"] = record.origin;
    headers["ce-time"] = new Date(record.timestamp ?? Date.now()).toISOString();
    try {
      const target = new URL(url);
      const response = await request(this.#dispatcher, {
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: "POST",
        headers,
        body: JSON.stringify(record.raw),
        signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#o.timeoutMs)]),
        headersTimeout: this.#o.timeoutMs,
        bodyTimeout: this.#o.timeoutMs,
      });
      await response.body.dump();
      return response.statusCode >= 200 && response.statusCode < 300;
    } catch {
      return false;
    }
  }
}

/** A sink URL for logs: without user information, query or fragment (they may hold credentials). */
function redactSink(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/**
 * The event receiver's HTTPS endpoint: where BMCs POST Redfish events.
 *
 * A delivery is checked in this order, cheapest first, and refused whole or
 * recorded whole: the method (405), the path (404), the caches (503 until
 * they are synced, so a BMC retries), the token header (401, before the body
 * is read), the size (413, from `Content-Length` or while reading), the JSON
 * (400). A good delivery gets 200 with an empty body (some BMCs, iLO among
 * them, count 204 as a failure) as soon as it is parsed: recording on the
 * host, auto-locate and forwarding run after, and never hold the answer.
 *
 * Requests have header and body timeouts, so a slow or stalled client cannot
 * hold a connection for long, and nothing a delivery holds can crash the
 * receiver: every handler error becomes a 500 and is logged without the body.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { BareMetalHost, HostIndicator } from "../api/baremetalhost.ts";
import type { Logger } from "../runtime/index.ts";
import { describeOrigin, driveLightOf } from "./drive-origin.ts";
import { sha256, TOKEN_HEADER } from "./event-token.ts";
import type { ReceiverMetrics, RefusedReason } from "./receiver-metrics.ts";
import { type BmcEventPayload, type BmcEventRecord, MalformedEventError, messageKey, parseEventPayload } from "./redfish-event.ts";

/** The host a token belongs to, or why none is known. */
export type TokenLookup = { host: BareMetalHost; subscription: string } | "unknown" | "not_ready";

/** What the receiver does with a good delivery's events. */
export interface ReceivedEventHandlers {
  /** Records one event on its host (synchronous, never throws: it queues). */
  record(host: BareMetalHost, event: BmcEventRecord, light: HostIndicator | undefined): void;
  /** Lights a failed drive (may be asynchronous; failures are its own to log). */
  autoLocate?(host: BareMetalHost, event: BmcEventRecord, light: HostIndicator): Promise<void>;
  /** Forwards one event (synchronous: it queues). */
  forward?(host: BareMetalHost, event: BmcEventRecord, id: string): void;
}

/** Options of {@link EventReceiver}. */
export interface EventReceiverOptions {
  /** The host of a token, by the token's SHA-256. */
  lookup(tokenHash: string): TokenLookup;
  /** The light list of a host (its status, or in metal3 mode its published HostIndicators). */
  lightsOf(host: BareMetalHost): readonly HostIndicator[] | undefined;
  handlers: ReceivedEventHandlers;
  metrics: ReceiverMetrics;
  logger: Logger;
  /** The path deliveries are POSTed to, and under. @default "/events" */
  path?: string;
  /** Largest body accepted, in bytes. @default 262144 (256 KiB; a BMC's payload is a few kB) */
  maxBodyBytes?: number;
  /** Ms to receive a request's headers, and its whole body. @default 10000 */
  requestTimeoutMs?: number;
}

/** The Event `reason` of a received event: the message's key when it is CamelCase, else `BMCEvent`. */
export function eventReason(messageId: string): string {
  const key = messageKey(messageId);
  return /^[A-Z][A-Za-z0-9]{0,127}$/.test(key) ? key : "BMCEvent";
}

/** The Event note of a received event: MessageId, message and origin (the drive's details when known). */
export function eventNote(event: BmcEventRecord, light: HostIndicator | undefined): string {
  return `${event.messageId} (${event.severity}): ${event.message || "(no message)"}; ${describeOrigin(event.origin, light)}`;
}

class Refusal extends Error {
  readonly status: number;
  readonly reason: RefusedReason;
  constructor(status: number, reason: RefusedReason, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

/** The receiver. */
export class EventReceiver {
  readonly #o: EventReceiverOptions & { path: string; maxBodyBytes: number; requestTimeoutMs: number };

  constructor(options: EventReceiverOptions) {
    const path = (options.path ?? "/events").replace(/\/+$/, "") || "/";
    this.#o = { maxBodyBytes: 256 * 1024, requestTimeoutMs: 10_000, ...options, path };
  }

  /** Starts serving HTTPS on `host:port` with the PEM certificate and key. */
  async listen(bind: { host?: string; port: number }, tls: { cert: string | Buffer; key: string | Buffer }): Promise<RunningReceiver> {
    const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => this.handle(req, res));
    server.headersTimeout = this.#o.requestTimeoutMs;
    server.requestTimeout = this.#o.requestTimeoutMs;
    server.keepAliveTimeout = 5_000;
    server.on("tlsClientError", () => {}); // a client that fails the handshake is not our error
    server.on("clientError", (_error, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error) => reject(new Error(`the event receiver cannot listen on ${bind.host ?? "*"}:${bind.port}: ${error.message}`, { cause: error })));
      server.listen(bind.port, bind.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return {
      url: `https://${shown}:${address.port}${this.#o.path === "/" ? "" : this.#o.path}`,
      port: address.port,
      setCertificate: (next) => server.setSecureContext({ cert: next.cert, key: next.key }),
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  /** Handles one request (exported for in-process benchmarks). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const started = process.hrtime.bigint();
    this.#receive(req)
      .then(({ host, payload, subscription }) => {
        res.writeHead(200, { "content-length": "0" }).end();
        this.#o.metrics.handling.observe(Number(process.hrtime.bigint() - started) / 1e9);
        this.#dispatch(host, payload, subscription);
      })
      .catch((error: unknown) => {
        if (error instanceof Refusal) {
          this.#o.metrics.refused.inc({ reason: error.reason });
          const headers: Record<string, string> = { "content-type": "text/plain; charset=utf-8", connection: "close" };
          if (error.status === 405) headers.allow = "POST";
          if (error.status === 503) headers["retry-after"] = "5";
          if (error.status === 401) headers["www-authenticate"] = `Token header="${TOKEN_HEADER}"`;
          if (!res.headersSent) res.writeHead(error.status, headers).end(`${error.message}\n`);
          // Do not read what is left of a refused body; close the connection after the answer.
          req.resume();
          return;
        }
        this.#o.logger.error({ err: error }, "the event receiver failed to handle a delivery");
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain", connection: "close" }).end("internal error\n");
      });
  }

  async #receive(req: IncomingMessage): Promise<{ host: BareMetalHost; payload: BmcEventPayload; subscription: string }> {
    if (req.method !== "POST") throw new Refusal(405, "method_not_allowed", `method ${req.method} not allowed: deliver events with POST`);
    const path = new URL(req.url ?? "/", "https://receiver").pathname.replace(/\/+$/, "") || "/";
    if (this.#o.path !== "/" && path !== this.#o.path && !path.startsWith(`${this.#o.path}/`)) {
      throw new Refusal(404, "not_found", `no event receiver at ${JSON.stringify(path)}; deliver to ${this.#o.path}`);
    }
    const header = req.headers[TOKEN_HEADER.toLowerCase()];
    const token = Array.isArray(header) ? header[0] : header;
    if (!token) throw new Refusal(401, "missing_token", `the ${TOKEN_HEADER} header is missing: aim the BMCEventSubscription at the receiver's URL, which adds it`);
    const found = this.#o.lookup(sha256(token));
    if (found === "not_ready") throw new Refusal(503, "not_ready", "the event receiver is starting (its caches are not synced yet); retry");
    if (found === "unknown") throw new Refusal(401, "invalid_token", `the ${TOKEN_HEADER} header holds no current subscription's token`);
    const length = Number(req.headers["content-length"] ?? "0");
    if (length > this.#o.maxBodyBytes) throw new Refusal(413, "too_large", `the body has ${length} bytes, more than the ${this.#o.maxBodyBytes} accepted`);
    const body = await this.#readBody(req);
    try {
      return { host: found.host, subscription: found.subscription, payload: parseEventPayload(body) };
    } catch (error) {
      if (error instanceof MalformedEventError) throw new Refusal(400, "malformed", `not a Redfish Event: ${error.message}`);
      throw error;
    }
  }

  #readBody(req: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.#o.maxBodyBytes) {
          req.off("data", onData);
          reject(new Refusal(413, "too_large", `the body is larger than the ${this.#o.maxBodyBytes} bytes accepted`));
          return;
        }
        chunks.push(chunk);
      };
      req.on("data", onData);
      req.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      req.once("error", reject);
      req.once("aborted", () => reject(new Error("the client aborted the delivery")));
    });
  }

  #dispatch(host: BareMetalHost, payload: BmcEventPayload, _subscription: string): void {
    const lights = this.#o.lightsOf(host);
    const namespace = host.metadata?.namespace ?? "";
    const name = host.metadata?.name ?? "";
    payload.events.forEach((event, index) => {
      const light = driveLightOf(event.origin, lights);
      this.#o.metrics.received.inc({ namespace, host: name, severity: event.severity, message_id: event.messageId });
      this.#o.handlers.record(host, event, light);
      this.#o.handlers.forward?.(host, event, `${payload.id ?? event.eventId ?? "event"}-${index}`);
      if (light && this.#o.handlers.autoLocate) {
        void this.#o.handlers.autoLocate(host, event, light).catch((error: unknown) => {
          this.#o.logger.warn({ err: error }, "auto-locate failed");
        });
      }
    });
  }
}

/** A listening receiver. */
export interface RunningReceiver {
  /** `https://<address>:<port>/events`, where it listens (not necessarily what BMCs reach). */
  url: string;
  port: number;
  /** Serves new connections with another certificate (a renewed one); connections open keep theirs. */
  setCertificate(tls: { cert: string | Buffer; key: string | Buffer }): void;
  close(): Promise<void>;
}

/**
 * A webhook destination for Redfish events: it accepts the Event payloads a
 * BMC POSTs, keeps them, and can print each one. It stands in for the user's
 * webhook in `npm start`, in tests and in benchmarks.
 *
 * @module
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** One delivery received from a BMC. */
export interface ReceivedEvent {
  /** When it arrived. */
  receivedAt: Date;
  /** The request path, for example `/webhook`. */
  path: string;
  /** The request headers, as received (the destination may see the subscription's headers). */
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (a Redfish `Event`), or the raw text when it is not JSON; `any` so that tests can dig in. */
  body: any;
  /** The root `Context` of the payload, if any. */
  context: string | undefined;
  /** `MessageId`s of the payload's `Events[]`. */
  messageIds: string[];
  /** The status the sink answered with. */
  status: number;
}

/** Options of {@link startEventSink}. */
export interface EventSinkOptions {
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Called with each event as it arrives. */
  onEvent?: (event: ReceivedEvent) => void;
  /** Status code to answer with; 200 by default. Change it later with `respondWith`. */
  status?: number;
}

/** A running event sink. */
export interface RunningEventSink {
  /** Base URL, `http://127.0.0.1:<port>`. */
  url: string;
  /** Every event received so far, oldest first. */
  readonly events: readonly ReceivedEvent[];
  /** Resolves with the first received event (past or future) that matches, or rejects after `timeoutMs`. */
  waitFor(predicate: (event: ReceivedEvent) => boolean, timeoutMs?: number): Promise<ReceivedEvent>;
  /** Resolves with the first `count` events once that many arrived, or rejects after `timeoutMs` saying how many did. */
  waitForCount(count: number, timeoutMs?: number): Promise<ReceivedEvent[]>;
  /** Forgets the events received so far. */
  clear(): void;
  /** Answers later deliveries with this status (for example 503 to exercise BMC retries). */
  respondWith(status: number): void;
  close(): Promise<void>;
}

/** Body size above which a delivery is refused, so a misbehaving sender cannot exhaust memory. */
const MAX_BODY_BYTES = 1 << 20;

function summarize(body: unknown): { context: string | undefined; messageIds: string[] } {
  if (!body || typeof body !== "object") return { context: undefined, messageIds: [] };
  const record = body as { Context?: unknown; Events?: unknown };
  const events = Array.isArray(record.Events) ? (record.Events as { MessageId?: unknown }[]) : [];
  return {
    context: typeof record.Context === "string" ? record.Context : undefined,
    messageIds: events.map((e) => (typeof e.MessageId === "string" ? e.MessageId : "")).filter(Boolean),
  };
}

/** Starts an event sink on 127.0.0.1. */
export async function startEventSink(options: EventSinkOptions = {}): Promise<RunningEventSink> {
  const events: ReceivedEvent[] = [];
  const waiters = new Set<{ predicate: (e: ReceivedEvent) => boolean; resolve: (e: ReceivedEvent) => void }>();
  let status = options.status ?? 200;

  const server = createServer((req, res) => {
    if (req.method !== "POST") {
      res.writeHead(405, { allow: "POST" }).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Keep the raw text; a destination accepts what it is sent.
      }
      const event: ReceivedEvent = {
        receivedAt: new Date(),
        path: req.url ?? "/",
        headers: req.headers,
        body,
        ...summarize(body),
        status,
      };
      events.push(event);
      options.onEvent?.(event);
      for (const waiter of waiters) {
        if (waiter.predicate(event)) {
          waiters.delete(waiter);
          waiter.resolve(event);
        }
      }
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    events,
    waitFor(predicate, timeoutMs = 10_000) {
      const found = events.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (event: ReceivedEvent) => {
            clearTimeout(timer);
            resolve(event);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`No matching event arrived at the sink within ${timeoutMs} ms (${events.length} received)`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    async waitForCount(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`The event sink got ${events.length} deliveries within ${timeoutMs} ms, expected ${count}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return events.slice(0, count);
    },
    clear() {
      events.length = 0;
    },
    respondWith(next) {
      status = next;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A header value as printed: its first characters and its length, never the whole secret. */
export function maskHeaderValue(value: string): string {
  return value.length <= 8 ? `*** (${value.length} chars)` : `${value.slice(0, 4)}… (${value.length} chars)`;
}

/** A one-line, human-readable summary of an event, for printing; header values are masked. */
export function describeEvent(event: ReceivedEvent, showHeaders: readonly string[] = []): string {
  const records = ((event.body as { Events?: { MessageId?: string; Message?: string; MessageSeverity?: string; OriginOfCondition?: { "@odata.id"?: string } }[] })?.Events ?? []);
  const parts = records.map((r) =>
    [r.MessageSeverity, r.MessageId, r.Message ? JSON.stringify(r.Message) : undefined, r.OriginOfCondition?.["@odata.id"]]
      .filter(Boolean)
      .join(" "),
  );
  const headers = showHeaders
    .filter((name) => event.headers[name.toLowerCase()] !== undefined)
    .map((name) => `${name}: ${maskHeaderValue(String(event.headers[name.toLowerCase()]))}`);
  return [
    `${event.receivedAt.toISOString()} ${event.path}`,
    `context=${JSON.stringify(event.context ?? "")}`,
    headers.length ? `headers={${headers.join(", ")}}` : "",
    parts.join("; "),
  ]
    .filter(Boolean)
    .join(" ");
}

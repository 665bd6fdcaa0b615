/**
 * Test helpers for code that drives the emulated BMCs: an event sink that
 * records what BMCs POST to it, and a small authenticated Redfish client.
 *
 * @module
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import type { EmulatedBmcInfo } from "./emulated-bmc.ts";

/** One request an {@link EventSink} received. */
export interface ReceivedEvent {
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: any;
  /** The status the sink answered with. */
  status: number;
}

/** A local HTTP listener that records event deliveries. */
export interface EventSink {
  /** `http://127.0.0.1:PORT`; deliveries may go to any path under it. */
  url: string;
  /** Every request so far, oldest first. */
  received: ReceivedEvent[];
  /** Makes the sink answer the next requests with `status` (default 204). */
  respondWith(status: number): void;
  /** Waits until `count` requests arrived (or `timeoutMs` passed, then throws saying how many did). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedEvent[]>;
  close(): Promise<void>;
}

/** Starts an {@link EventSink} on 127.0.0.1 at a free port. */
export async function startEventSink(): Promise<EventSink> {
  const received: ReceivedEvent[] = [];
  let status = 204;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        body = undefined;
      }
      received.push({ path: req.url ?? "/", headers: req.headers, body, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    respondWith(next: number) {
      status = next;
    },
    async waitFor(count: number, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`event sink got ${received.length} requests within ${timeoutMs} ms, expected ${count}`);
        }
        await delay(10);
      }
      return received.slice(0, count);
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** The HTTP Basic `Authorization` header for a BMC. */
export function basicAuth(bmc: Pick<EmulatedBmcInfo, "username" | "password">): string {
  return `Basic ${Buffer.from(`${bmc.username}:${bmc.password}`).toString("base64")}`;
}

/** A fetch against a BMC with its credentials; `body` is sent as JSON. */
export async function redfishFetch(
  bmc: Pick<EmulatedBmcInfo, "url" | "username" | "password">,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { authorization: basicAuth(bmc), ...init.headers };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${bmc.url}${path}`, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body),
  });
  const text = await response.text();
  let body: unknown = undefined;
  if (text !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: response.status, headers: response.headers, body };
}

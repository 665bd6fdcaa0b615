/**
 * The HTTP layer of one emulated BMC: counts every request (in flight from
 * its headers to the end of its response), applies injected faults (latency,
 * then a dropped connection or an error response), reads the body and writes
 * what the Redfish service answers.
 *
 * @module
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import { decideFault } from "./faults.ts";
import type { InjectedFaults } from "./faults.ts";
import { RedfishError, baseMessages } from "./redfish-errors.ts";
import type { ServiceRequest, ServiceResponse } from "./redfish-service.ts";
import type { RequestCounter } from "./request-stats.ts";

/** The largest request body a BMC accepts. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** What the HTTP layer of one BMC works with. */
export interface HttpBackend {
  /** Where every request is counted. */
  counter: RequestCounter;
  /** The faults to inject and the downtime after a reset. */
  faults: InjectedFaults;
  /** A signal that aborts when the BMC closes, for the injected latency's timer; call `done` when the timer is over. */
  timerSignal(): { signal: AbortSignal; done: () => void };
  /** The Redfish service: answers a parsed request. */
  handle(request: ServiceRequest): ServiceResponse;
  /**
   * Asked once a request has been served: true to hold its answer (never
   * sent; the connection stays open until the client goes away).
   */
  holdAnswer?(method: string, path: string): boolean;
}

/** The request listener of one BMC's HTTP server. */
export function createRequestListener(backend: HttpBackend): RequestListener {
  return (req, res) => {
    serve(backend, req, res).catch(() => {
      if (!res.headersSent) write(res, errorResponse(500));
      else res.destroy();
    });
  };
}

async function serve(backend: HttpBackend, req: IncomingMessage, res: ServerResponse) {
  const method = req.method ?? "GET";
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  res.once("close", backend.counter.begin(method, path));

  if (backend.faults.isDown()) {
    req.socket.destroy();
    return;
  }
  const faults = backend.faults.settings();
  const decision = decideFault(faults, method);

  const body = await readBody(req);
  if (body === undefined) {
    const error = new RedfishError(413, [baseMessages.generalError(`The request body is larger than ${MAX_BODY_BYTES} bytes.`)]);
    write(res, errorBody(413, error, { Connection: "close" }));
    return;
  }

  if (faults.latencyMs > 0) {
    const timer = backend.timerSignal();
    try {
      await delay(faults.latencyMs, undefined, { signal: timer.signal });
    } catch {
      req.socket.destroy();
      return;
    } finally {
      timer.done();
    }
    if (req.socket.destroyed) return;
  }
  if (decision === "drop") {
    req.socket.destroy();
    return;
  }
  if (decision === "error") {
    write(res, errorResponse(faults.errorStatus));
    return;
  }

  const response = backend.handle({
    method,
    path,
    query: new URLSearchParams(q === -1 ? "" : url.slice(q + 1)),
    headers: req.headers,
    body,
  });
  if (backend.holdAnswer?.(method, path)) return;
  write(res, response);
}

/** The Redfish error an injected fault answers with. */
function errorResponse(status: number): ServiceResponse {
  const message =
    status === 503
      ? baseMessages.serviceTemporarilyUnavailable(1)
      : status === 500
        ? baseMessages.internalError()
        : baseMessages.generalError(`Injected error: HTTP ${status}.`);
  return errorBody(status, new RedfishError(status, [message]), status === 503 ? { "Retry-After": "1" } : {});
}

function errorBody(status: number, error: RedfishError, headers: Record<string, string>): ServiceResponse {
  return {
    status,
    headers: { ...headers, "Content-Type": "application/json; charset=utf-8" },
    body: JSON.stringify(error.body()),
  };
}

/** Reads the whole body; undefined when it is larger than {@link MAX_BODY_BYTES}. */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const length = Number(req.headers["content-length"] ?? 0);
  if (length > MAX_BODY_BYTES) {
    req.resume();
    return undefined;
  }
  if (length === 0 && req.headers["transfer-encoding"] === undefined) {
    req.resume();
    return Buffer.alloc(0);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      req.resume();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function write(res: ServerResponse, response: ServiceResponse): void {
  if (res.destroyed) return;
  const headers: Record<string, string> = { "OData-Version": "4.0", "Cache-Control": "no-cache", ...response.headers };
  if (response.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(response.body));
  res.writeHead(response.status, headers);
  if (response.afterSend) res.once("finish", response.afterSend);
  res.end(response.body);
}

/**
 * The HTTP(S) server of one BMC on 127.0.0.1: listening, the request count,
 * cutting connections (a reset, a downtime), and closing with every timer of
 * the requests under way. What a request gets is up to the HTTP layer
 * (`bmc-http.ts`) and the Redfish service behind it.
 *
 * @module
 */
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { createRequestListener } from "./bmc-http.ts";
import type { InjectedFaults } from "./faults.ts";
import type { ServiceRequest, ServiceResponse } from "./redfish-service.ts";
import { RequestCounter } from "./request-stats.ts";

/** What one BMC's server serves. */
export interface BmcServerOptions {
  /** The BMC's position in the fleet, for error messages. */
  index: number;
  /** A certificate and key to serve HTTPS with; plain HTTP without. */
  tls?: { cert: string; key: string };
  /** The faults to inject and the downtime after a reset. */
  faults: InjectedFaults;
  /** The Redfish service: answers a parsed request. */
  handle: (request: ServiceRequest) => ServiceResponse;
  /** Whether to hold the answer of a request just served (its effect applied, its answer never sent). */
  holdAnswer?: (method: string, path: string) => boolean;
}

/** The server of one BMC. */
export class BmcServer {
  /** Counts every request the server receives. */
  readonly counter = new RequestCounter();
  readonly #options: BmcServerOptions;
  readonly #timers = new Set<AbortController>();
  #server: http.Server | undefined;
  #url = "";
  #closed = false;

  constructor(options: BmcServerOptions) {
    this.#options = options;
  }

  /** `http://127.0.0.1:PORT` (or `https://`) once listening; empty before. */
  get url(): string {
    return this.#url;
  }

  /** Starts serving on 127.0.0.1 at `port` (0 for a free one); resolves with the base URL. */
  async listen(port: number): Promise<string> {
    const { tls, faults, handle, holdAnswer, index } = this.#options;
    const listener = createRequestListener({ counter: this.counter, faults, timerSignal: () => this.#timerSignal(), handle, ...(holdAnswer ? { holdAnswer } : {}) });
    const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, listener) : http.createServer(listener);
    server.keepAliveTimeout = 5_000;
    server.on("connection", (socket) => {
      if (faults.isDown()) socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        reject(new Error(`BMC ${index} cannot listen on 127.0.0.1:${port}: ${error.message}`, { cause: error }));
      };
      server.once("error", onError);
      server.listen({ host: "127.0.0.1", port, backlog: 511 }, () => {
        server.off("error", onError);
        resolve();
      });
    });
    this.#server = server;
    const address = server.address() as AddressInfo;
    this.#url = `${tls ? "https" : "http"}://127.0.0.1:${address.port}`;
    return this.#url;
  }

  /** Cuts every open connection (the server keeps listening). */
  cutConnections(): void {
    this.#server?.closeAllConnections();
  }

  /** Stops serving, drops every connection and aborts the timers of the requests under way. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) timer.abort();
    this.#timers.clear();
    const server = this.#server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** An AbortSignal that fires when the server closes, for timers such as injected latency. */
  #timerSignal(): { signal: AbortSignal; done: () => void } {
    const controller = new AbortController();
    if (this.#closed) controller.abort();
    else this.#timers.add(controller);
    return { signal: controller.signal, done: () => this.#timers.delete(controller) };
  }
}

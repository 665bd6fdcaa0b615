/**
 * One HTTP exchange with Ironic, over `node:http`/`node:https`: JSON in and
 * out, HTTP Basic auth, TLS (CA, client certificate, an explicit insecure
 * switch), a timeout per request, and abort signals. It uses `node:http`
 * rather than `fetch` because Ironic's `get_subscription` passthru is a GET
 * with a JSON body, which `fetch` refuses to send.
 *
 * @module
 */
import type { Agent as HttpAgentType, IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { IronicError } from "./errors.ts";

// Not `import … from "node:http"`, whose ES module facade loads Node.js's own undici (see src/runtime/http-endpoint.ts).
const { Agent: HttpAgent, request: httpRequest } = process.getBuiltinModule("node:http");

/** How to reach Ironic. Holds secrets (password, key): never log it whole. */
export interface IronicConnection {
  /** Ironic's base URL, `http(s)://host:6385` (a trailing `/` or `/v1` is ignored). */
  endpoint: string;
  /** HTTP Basic credentials, when Ironic requires them (`auth_strategy = http_basic`). */
  username?: string;
  password?: string;
  /** PEM CA certificate(s) to verify Ironic's certificate with, instead of the system's. */
  ca?: string | Buffer;
  /** PEM client certificate and key, when Ironic requires one (mutual TLS). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Skip verifying Ironic's certificate. Only for tests and trusted networks. */
  insecure?: boolean;
  /** Per-request timeout in milliseconds. Default 30 s. */
  timeoutMs?: number;
}

/** A request to send. */
export interface TransportRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** The path below the endpoint, with its query string: `/v1/nodes/x`. */
  path: string;
  /** Sent as JSON, on any method (GET included). */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
}

/** What Ironic answered. */
export interface TransportResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The raw body. */
  text: string;
}

/** Default per-request timeout. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Ironic never needs to send more than this; anything larger is cut off as a protocol error. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** Connection errors that mean a kept-alive socket was already closed by the server. */
const STALE_SOCKET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);

/** Sends requests to one Ironic, keeping connections alive between them. */
export class IronicTransport {
  /** The base URL, without a trailing `/` or `/v1`. */
  readonly baseUrl: URL;
  readonly timeoutMs: number;
  readonly #authorization: string | undefined;
  readonly #agent: HttpAgentType;
  readonly #https: boolean;
  /** The endpoint's path, without a trailing `/`: empty, or a prefix such as `/baremetal`. */
  readonly #prefix: string;

  constructor(connection: IronicConnection) {
    let base: URL;
    try {
      base = new URL(connection.endpoint);
    } catch {
      throw new TypeError(`Ironic endpoint is not a URL: ${JSON.stringify(connection.endpoint)}`);
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new TypeError(`Ironic endpoint must be http or https, got ${JSON.stringify(connection.endpoint)}`);
    }
    if (base.username || base.password) {
      throw new TypeError("Ironic endpoint must not hold credentials; pass username and password separately");
    }
    this.#prefix = base.pathname.replace(/\/+$/, "").replace(/\/v1$/, "");
    base.pathname = this.#prefix === "" ? "/" : this.#prefix;
    base.search = "";
    base.hash = "";
    this.baseUrl = base;
    this.#https = base.protocol === "https:";
    this.timeoutMs = connection.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(this.timeoutMs > 0)) throw new RangeError(`Ironic request timeout must be positive, got ${this.timeoutMs}`);
    if ((connection.username === undefined) !== (connection.password === undefined)) {
      throw new TypeError("Ironic HTTP Basic auth needs both a username and a password");
    }
    if (connection.username !== undefined) {
      if (connection.username.includes(":")) throw new TypeError("Ironic HTTP Basic username must not contain ':'");
      this.#authorization = `Basic ${Buffer.from(`${connection.username}:${connection.password}`).toString("base64")}`;
    }
    if ((connection.cert === undefined) !== (connection.key === undefined)) {
      throw new TypeError("an Ironic client certificate needs both cert and key");
    }
    if (!this.#https && (connection.ca !== undefined || connection.cert !== undefined || connection.insecure)) {
      throw new TypeError(`TLS options were given but the Ironic endpoint ${base.origin} is plain http`);
    }
    this.#agent = this.#https
      ? new HttpsAgent({
          keepAlive: true,
          ...(connection.ca !== undefined ? { ca: connection.ca } : {}),
          ...(connection.cert !== undefined ? { cert: connection.cert, key: connection.key } : {}),
          rejectUnauthorized: connection.insecure !== true,
        })
      : new HttpAgent({ keepAlive: true });
  }

  /** `GET /v1/nodes/x`, for messages. */
  describe(request: Pick<TransportRequest, "method" | "path">): string {
    return `${request.method} ${this.#prefix}${request.path}`;
  }

  /**
   * Sends one request and returns Ironic's answer, whatever its status.
   * Rejects with an {@link IronicError} (`timeout`, `connection`) when there is
   * no answer, or with the signal's reason when aborted.
   */
  async send(request: TransportRequest): Promise<TransportResponse> {
    try {
      return await this.#sendOnce(request);
    } catch (error) {
      // A kept-alive socket the server had closed (Ironic restarted): the request
      // never reached Ironic, so sending it again on a fresh socket is safe,
      // except for POST, whose effect cannot be known.
      if (error instanceof StaleSocketError && request.method !== "POST") return await this.#sendOnce(request);
      if (error instanceof StaleSocketError) throw error.ironicError;
      throw error;
    }
  }

  #sendOnce(request: TransportRequest): Promise<TransportResponse> {
    const described = this.describe(request);
    const { signal } = request;
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const url = new URL(this.#prefix + request.path, this.baseUrl.origin);
    const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
    const headers: Record<string, string> = {
      Accept: "application/json",
      ...request.headers,
    };
    if (payload !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = String(payload.length);
    }
    if (this.#authorization !== undefined) headers.Authorization = this.#authorization;

    return new Promise<TransportResponse>((resolve, reject) => {
      const send = this.#https ? httpsRequest : httpRequest;
      let settled = false;
      const finish = (error: Error | undefined, response?: TransportResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else resolve(response!);
      };
      const req = send(url, { method: request.method, headers, agent: this.#agent });
      const timer = setTimeout(() => {
        const error = new IronicError("timeout", 0, described, `no answer within ${this.timeoutMs} ms`);
        req.destroy(error);
        finish(error);
      }, this.timeoutMs);
      const onAbort = (): void => {
        req.destroy();
        finish(signal?.reason as Error);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      req.once("error", (cause: NodeJS.ErrnoException) => {
        const error = new IronicError("connection", 0, described, cause.message, { cause });
        if (req.reusedSocket && cause.code !== undefined && STALE_SOCKET_CODES.has(cause.code)) {
          finish(new StaleSocketError(error));
        } else {
          finish(error);
        }
      });
      req.once("response", (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            const error = new IronicError("protocol", res.statusCode ?? 0, described, `answer larger than ${MAX_RESPONSE_BYTES} bytes`);
            res.destroy(error);
            req.destroy(error);
            finish(error);
            return;
          }
          chunks.push(chunk);
        });
        res.once("error", (cause) => finish(new IronicError("connection", 0, described, cause.message, { cause })));
        res.once("end", () =>
          finish(undefined, {
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      });
      req.end(payload);
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }
}

/** A request that failed on a reused socket before any answer. */
class StaleSocketError extends Error {
  readonly ironicError: IronicError;
  constructor(ironicError: IronicError) {
    super(ironicError.message);
    this.ironicError = ironicError;
  }
}

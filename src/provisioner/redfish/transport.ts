/**
 * HTTP to Redfish BMCs: one undici Agent per BMC (certificate checks off only
 * when the host asks), HTTP Basic auth, a timeout per request, every request
 * through the shared {@link BmcCallLimiter}, and failures turned into
 * {@link ProvisionerError}s whose messages name the BMC and the operation,
 * quote the BMC's own Redfish error text, and hold no secret.
 *
 * @module
 */
import { Agent } from "../../runtime/http-dispatch.ts";
import { exchange, ResponseTooLargeError } from "../../runtime/http-exchange.ts";
import type { BmcCallLimiter } from "../limiter.ts";
import { type HostAccess, ProvisionerError, type ProvisionerErrorKind } from "../provisioner.ts";
import { redactSecrets, secretsOf } from "../redact.ts";
import type { RedfishAddress } from "./address.ts";

/** The largest response body read from a BMC. */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** The longest piece of a BMC's error text quoted in a message. */
const MAX_QUOTED_ERROR = 600;

/** One request to a BMC. */
export interface RedfishRequest {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** A path on the BMC, such as `/redfish/v1/Systems/1`. */
  path: string;
  body?: unknown;
  /** Sent as `If-Match`. */
  ifMatch?: string;
  /** What the provisioner was doing, for messages: `set indicator X@system`. */
  operation: string;
}

/** A BMC's answer, of any status. */
export interface RedfishResponse {
  status: number;
  /** The parsed JSON body, or `undefined` when there was none or it was not JSON. */
  body: any;
  etag: string | undefined;
  location: string | undefined;
}

/** Who is calling which BMC: the host's access, its parsed address, and the secrets to keep out of messages. */
export interface RedfishTarget {
  host: HostAccess;
  address: RedfishAddress;
  secrets: readonly string[];
  /** The `Authorization` header: HTTP Basic with the host's credentials. */
  authorization: string;
}

/** Options of {@link RedfishTransport}. */
export interface RedfishTransportOptions {
  limiter: BmcCallLimiter;
  /** Milliseconds one request may take, from sending it to the end of the body. */
  requestTimeoutMs: number;
  /** Most BMC Agents kept; the least recently used one is closed beyond this. */
  maxAgents?: number;
}

/** Sends requests to BMCs. One instance serves every host of a provisioner. */
export class RedfishTransport {
  readonly #limiter: BmcCallLimiter;
  readonly #timeoutMs: number;
  readonly #maxAgents: number;
  readonly #agents = new Map<string, Agent>();

  constructor(options: RedfishTransportOptions) {
    this.#limiter = options.limiter;
    this.#timeoutMs = options.requestTimeoutMs;
    this.#maxAgents = options.maxAgents ?? 1024;
  }

  /** Builds the target of a host's calls. */
  static target(host: HostAccess, address: RedfishAddress, extraSecrets: readonly string[] = []): RedfishTarget {
    const authorization = `Basic ${Buffer.from(`${host.username}:${host.password}`).toString("base64")}`;
    return { host, address, secrets: [...secretsOf(host), ...extraSecrets], authorization };
  }

  /**
   * Sends one request, waiting for the BMC's slot in the limiter first. Returns
   * the response whatever its status; throws a `ProvisionerError` (`Transient`
   * or `Rejected`) when there is no response, or the caller's abort reason.
   */
  send(target: RedfishTarget, req: RedfishRequest, signal?: AbortSignal): Promise<RedfishResponse> {
    return this.#limiter.run(target.address.key, () => this.#sendRetryingStale(target, req, signal), signal);
  }

  /** A `ProvisionerError` for a response with a status that was not expected. */
  failure(target: RedfishTarget, req: RedfishRequest, response: RedfishResponse, kind?: ProvisionerErrorKind): ProvisionerError {
    const text = redfishErrorText(response.body);
    const detail = text === "" ? "" : `: ${text.length > MAX_QUOTED_ERROR ? `${text.slice(0, MAX_QUOTED_ERROR)}…` : text}`;
    return this.#error(
      target,
      kind ?? kindForStatus(response.status),
      req,
      `${req.method} ${req.path} returned HTTP ${response.status}${detail}`,
    );
  }

  /** Closes every Agent, waiting for requests in flight. */
  async close(): Promise<void> {
    const agents = [...this.#agents.values()];
    this.#agents.clear();
    await Promise.all(agents.map((a) => a.close()));
  }

  /**
   * Sends once; a GET or DELETE whose kept-alive connection the BMC had
   * already closed (a reboot, an idle timeout) is sent once more on a new one.
   * Other methods are not repeated: the first may have reached the BMC.
   */
  async #sendRetryingStale(target: RedfishTarget, req: RedfishRequest, signal?: AbortSignal): Promise<RedfishResponse> {
    try {
      return await this.#send(target, req, signal);
    } catch (error) {
      const idempotent = req.method === "GET" || req.method === "DELETE";
      if (!idempotent || !(error instanceof ProvisionerError) || !STALE_CONNECTION_CODES.has(errorCode(error.cause) ?? "")) {
        throw error;
      }
      return this.#send(target, req, signal);
    }
  }

  async #send(target: RedfishTarget, req: RedfishRequest, signal?: AbortSignal): Promise<RedfishResponse> {
    const { host, address } = target;
    const headers: Record<string, string> = {
      accept: "application/json",
      "odata-version": "4.0",
      authorization: target.authorization,
    };
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers["content-type"] = "application/json";
    }
    if (req.ifMatch !== undefined) headers["if-match"] = req.ifMatch;
    try {
      // undici's own connect, headers and body timers, not an AbortSignal.timeout
      // combined with the caller's signal: two signals and a timer fewer per request.
      // The whole answer gathered by undici's handler, no stream per response (src/runtime/http-exchange.ts).
      const response = await exchange(
        this.#agent(address, host.disableCertificateVerification),
        {
          origin: address.origin,
          path: req.path,
          method: req.method,
          headers,
          body,
          headersTimeout: this.#timeoutMs,
          bodyTimeout: this.#timeoutMs,
          ...(signal === undefined ? {} : { signal }),
        },
        MAX_RESPONSE_BYTES,
      );
      return {
        status: response.statusCode,
        body: parseJson(response.body),
        etag: header(response.headers.etag),
        location: header(response.headers.location),
      };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (TIMEOUT_CODES.has(errorCode(error) ?? "")) {
        throw this.#error(target, "Transient", req, `${req.method} ${req.path} timed out after ${this.#timeoutMs} ms`, error);
      }
      if (error instanceof ResponseTooLargeError) throw this.#error(target, "Rejected", req, error.message);
      const code = errorCode(error);
      if (code !== undefined && TLS_VERIFY_CODES.has(code)) {
        throw this.#error(
          target,
          "Rejected",
          req,
          `the BMC's TLS certificate could not be verified (${code}); set spec.bmc.disableCertificateVerification to skip the check`,
          error,
        );
      }
      const why = error instanceof Error ? `${error.message}${code === undefined ? "" : ` (${code})`}` : String(error);
      throw this.#error(target, "Transient", req, `${req.method} ${req.path} failed: ${why}`, error);
    }
  }

  #error(target: RedfishTarget, kind: ProvisionerErrorKind, req: RedfishRequest, what: string, cause?: unknown): ProvisionerError {
    const message = `redfish BMC ${target.address.display}: ${req.operation}: ${what}`;
    return new ProvisionerError(kind, redactSecrets(message, target.secrets), cause === undefined ? undefined : { cause });
  }

  #agent(address: RedfishAddress, insecure: boolean): Agent {
    const key = `${address.origin} ${insecure ? "insecure" : "verified"}`;
    let agent = this.#agents.get(key);
    if (agent !== undefined) {
      // Refresh its place as most recently used.
      this.#agents.delete(key);
      this.#agents.set(key, agent);
      return agent;
    }
    agent = new Agent({
      connections: Math.max(this.#limiter.perKey, 1),
      connect: { timeout: this.#timeoutMs, ...(address.protocol === "https:" && insecure ? { rejectUnauthorized: false } : {}) },
    });
    this.#agents.set(key, agent);
    if (this.#agents.size > this.#maxAgents) {
      const [oldestKey, oldest] = this.#agents.entries().next().value!;
      this.#agents.delete(oldestKey);
      void oldest.close();
    }
    return agent;
  }
}

/** The ProvisionerError kind for an HTTP status that the operation did not expect. */
export function kindForStatus(status: number): ProvisionerErrorKind {
  if (status === 401 || status === 403) return "Unauthorized";
  if (status === 408 || status === 429 || status >= 500) return "Transient";
  return "Rejected";
}

/** The text of a Redfish error body: `error.message` and each `@Message.ExtendedInfo` message. */
export function redfishErrorText(body: unknown): string {
  if (typeof body !== "object" || body === null) return "";
  const error = (body as { error?: unknown }).error;
  if (typeof error !== "object" || error === null) return "";
  const parts: string[] = [];
  const { message, code } = error as { message?: unknown; code?: unknown };
  const info = (error as Record<string, unknown>)["@Message.ExtendedInfo"];
  if (Array.isArray(info)) {
    for (const entry of info) {
      if (typeof entry !== "object" || entry === null) continue;
      const { MessageId, Message } = entry as { MessageId?: unknown; Message?: unknown };
      if (typeof Message === "string") parts.push(typeof MessageId === "string" ? `${MessageId}: ${Message}` : Message);
    }
  }
  if (parts.length === 0 && typeof message === "string") parts.push(message);
  if (parts.length === 0 && typeof code === "string") parts.push(code);
  return parts.join("; ");
}

/** undici's codes for a connect, response-headers or body timeout. */
const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

/** Codes of a connection the other side closed before answering. */
const STALE_CONNECTION_CODES = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE"]);

/** Node's codes for a certificate that failed verification. */
const TLS_VERIFY_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** The most specific error code in an error's cause chain (a system code rather than undici's wrapper code). */
function errorCode(error: unknown): string | undefined {
  let wrapper: string | undefined;
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== "string") continue;
    if (!code.startsWith("UND_ERR")) return code;
    wrapper ??= code;
  }
  return wrapper;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseJson(text: string): unknown {
  // Blank text is no JSON either: JSON.parse throws on it, without a trimmed copy made first.
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

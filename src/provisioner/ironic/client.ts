/**
 * A client for the parts of Ironic's API that bmc-operator uses: nodes
 * (look-up, enrolment, `driver_info` patches), indicator lights
 * (`/management/indicators`) and the Redfish vendor passthru for BMC event
 * subscriptions. It negotiates the microversion from the server's headers,
 * decodes Ironic's nested error messages, retries 409 NodeLocked and 503 with
 * backoff, and keeps secrets out of every error.
 *
 * ```ts
 * const ironic = new IronicClient({ endpoint: "http://127.0.0.1:6385" });
 * const node = await ironic.getNode("default~host-0");
 * await ironic.setIndicatorState(node.uuid, "led@system", "on");
 * ```
 *
 * @module
 */
import { sleep, realClock, type Clock } from "../../runtime/clock.ts";
import { Backoff } from "../../runtime/backoff.ts";
import { redactSecrets } from "../redact.ts";
import { decodeIronicFault, IronicError, redactHttpHeaders } from "./errors.ts";
import {
  formatMicroversion,
  type Microversion,
  negotiateMicroversion,
  parseMicroversion,
} from "./microversion.ts";
import {
  type IronicConnection,
  IronicTransport,
  type TransportRequest,
  type TransportResponse,
} from "./transport.ts";

/** An Ironic node, as far as the client reads it. */
export interface IronicNode {
  uuid: string;
  name: string | null;
  driver: string;
  /** Ironic masks passwords in it (`******`). */
  driver_info: Record<string, unknown>;
  provision_state?: string;
  maintenance?: boolean;
  [field: string]: unknown;
}

/** The fields of a node to enroll. */
export interface NodeCreate {
  name: string;
  driver: string;
  driver_info: Record<string, unknown>;
  [field: string]: unknown;
}

/** One JSON-patch operation on a node. */
export interface JsonPatchOperation {
  op: "add" | "replace" | "remove";
  /** `/driver_info/redfish_address`. */
  path: string;
  value?: unknown;
}

/** An indicator light as Ironic lists it. */
export interface IronicIndicator {
  /** `<name>@<component>`. */
  name: string;
  component: string;
  readonly: boolean;
  /** Lowercase: `on`, `off`, `blinking`. */
  states: string[];
}

/** An indicator state on the wire: lowercase, as Ironic requires. */
export type IronicIndicatorState = "on" | "off" | "blinking" | "unknown";

/** A subscription to create. Holds secrets (header values). */
export interface IronicSubscriptionCreate {
  destination: string;
  /** Sent only when not empty. */
  context: string;
  /** Header name to value; sent only when not empty. */
  httpHeaders: Record<string, string>;
}

/** A subscription as Ironic returns it from the BMC. */
export interface IronicSubscription {
  id: string;
  destination: string;
  context: string;
  protocol: string;
  eventTypes: string[];
}

/** How the client retries 409 NodeLocked and 503. */
export interface IronicRetry {
  /** Tries in all, the first included. Default 5. */
  attempts: number;
  /** First delay, in milliseconds. Default 500. */
  initialDelayMs: number;
  /** Longest delay, in milliseconds. Default 8000. */
  maxDelayMs: number;
}

/** What the client needs. */
export interface IronicClientOptions extends IronicConnection {
  retry?: Partial<IronicRetry>;
  /** Time source for the retry delays. */
  clock?: Clock;
}

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Values to remove from any error text (passwords, header values). */
  secrets?: readonly string[];
}

const VERSION_HEADER = "X-OpenStack-Ironic-API-Version";
const DEFAULT_RETRY: IronicRetry = { attempts: 5, initialDelayMs: 500, maxDelayMs: 8_000 };

/** Encodes a path segment, leaving `@` and `:` (valid in a segment, and in indicator IDs) as they are. */
function segment(value: string): string {
  return encodeURIComponent(value).replace(/%40/g, "@").replace(/%3A/gi, ":");
}

function nodePath(node: string): string {
  return `/v1/nodes/${segment(node)}`;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `promise`, or a rejection with the signal's reason as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.finally(() => signal.removeEventListener("abort", onAbort)).then(resolve, reject);
  });
}

/** A client for one Ironic. */
export class IronicClient {
  readonly #transport: IronicTransport;
  readonly #retry: IronicRetry;
  readonly #clock: Clock;
  readonly #ownSecrets: string[];
  #version: Promise<Microversion> | undefined;

  constructor(options: IronicClientOptions) {
    this.#transport = new IronicTransport(options);
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    if (!(Number.isInteger(this.#retry.attempts) && this.#retry.attempts >= 1)) {
      throw new RangeError(`Ironic retry attempts must be a whole number of at least 1, got ${this.#retry.attempts}`);
    }
    this.#clock = options.clock ?? realClock;
    this.#ownSecrets = options.password !== undefined ? [options.password] : [];
  }

  /** Ironic's base URL. */
  get endpoint(): string {
    return this.#transport.baseUrl.href.replace(/\/$/, "");
  }

  /** The microversion the client speaks, negotiated on first use from `GET /v1`. */
  async apiVersion(signal?: AbortSignal): Promise<string> {
    return formatMicroversion(await this.#negotiated(signal));
  }

  /**
   * The negotiated version. One negotiation serves every caller, so it runs
   * without any caller's signal (bounded by the request timeout); each caller
   * stops waiting when its own signal aborts.
   */
  #negotiated(signal?: AbortSignal): Promise<Microversion> {
    if (this.#version === undefined) {
      const pending = this.#negotiate();
      this.#version = pending;
      // A failed negotiation is tried again by the next call.
      pending.catch(() => {
        if (this.#version === pending) this.#version = undefined;
      });
    }
    return untilAborted(this.#version, signal);
  }

  async #negotiate(): Promise<Microversion> {
    const request: TransportRequest = { method: "GET", path: "/v1" };
    const response = await this.#transport.send(request);
    const described = this.#transport.describe(request);
    if (response.status !== 200) {
      throw new IronicError("http", response.status, described, this.#scrub(decodeIronicFault(response.text), []));
    }
    let min = headerValue(response.headers["x-openstack-ironic-api-minimum-version"]);
    let max = headerValue(response.headers["x-openstack-ironic-api-maximum-version"]);
    if (min === undefined || max === undefined) {
      // Headers stripped by a proxy: the body says the same.
      try {
        const body = JSON.parse(response.text) as { version?: { min_version?: string; version?: string } };
        min ??= body.version?.min_version;
        max ??= body.version?.version;
      } catch {
        // handled below
      }
    }
    if (min === undefined || max === undefined) {
      throw new IronicError("protocol", 200, described, "the answer gives no API version range; is this Ironic?");
    }
    try {
      return negotiateMicroversion(parseMicroversion(min), parseMicroversion(max));
    } catch (error) {
      throw new IronicError("protocol", 200, described, (error as Error).message);
    }
  }

  #scrub(text: string, secrets: readonly string[]): string {
    return redactSecrets(redactHttpHeaders(text), [...this.#ownSecrets, ...secrets]);
  }

  /**
   * Sends a request at the negotiated version and returns the answer when its
   * status is one of `ok`. Retries 409 NodeLocked and 503 with backoff, and
   * renegotiates once on 406 (the server's range changed).
   */
  async #call(
    request: Omit<TransportRequest, "headers" | "signal">,
    ok: readonly number[],
    options: CallOptions = {},
  ): Promise<TransportResponse> {
    const { signal, secrets = [] } = options;
    const backoff = new Backoff({
      duration: this.#retry.initialDelayMs,
      factor: 2,
      cap: this.#retry.maxDelayMs,
      jitter: 0.2,
    });
    let renegotiated = false;
    for (let attempt = 1; ; attempt++) {
      const version = await this.#negotiated(signal);
      const sent = { ...request, signal, headers: { [VERSION_HEADER]: formatMicroversion(version) } };
      const response = await this.#transport.send(sent);
      if (ok.includes(response.status)) return response;
      if (response.status === 406 && !renegotiated) {
        renegotiated = true;
        this.#version = undefined;
        attempt--;
        continue;
      }
      const error = new IronicError(
        "http",
        response.status,
        this.#transport.describe(sent),
        this.#scrub(decodeIronicFault(response.text), secrets),
      );
      const retryable = error.nodeLocked || response.status === 503;
      if (!retryable || attempt >= this.#retry.attempts) throw error;
      await sleep(this.#clock, backoff.next(), signal);
    }
  }

  #json<T>(response: TransportResponse, request: Pick<TransportRequest, "method" | "path">): T {
    try {
      return JSON.parse(response.text) as T;
    } catch {
      throw new IronicError(
        "protocol",
        response.status,
        this.#transport.describe(request),
        `the answer is not JSON: ${response.text.slice(0, 200)}`,
      );
    }
  }

  async #callJson<T>(
    request: Omit<TransportRequest, "headers" | "signal">,
    ok: readonly number[],
    options?: CallOptions,
  ): Promise<T> {
    return this.#json<T>(await this.#call(request, ok, options), request);
  }

  // --- nodes ---

  /** The node with this UUID or name. Throws an {@link IronicError} with status 404 when there is none. */
  async getNode(node: string, options?: CallOptions): Promise<IronicNode> {
    return await this.#callJson<IronicNode>({ method: "GET", path: nodePath(node) }, [200], options);
  }

  /** The node with this UUID or name, or `undefined` when there is none. */
  async findNode(node: string, options?: CallOptions): Promise<IronicNode | undefined> {
    try {
      return await this.getNode(node, options);
    } catch (error) {
      if (error instanceof IronicError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Enrolls a node. A name already taken gives an {@link IronicError} with status 409. */
  async createNode(node: NodeCreate, options?: CallOptions): Promise<IronicNode> {
    return await this.#callJson<IronicNode>({ method: "POST", path: "/v1/nodes", body: node }, [201], options);
  }

  /** Applies a JSON patch to a node. */
  async patchNode(node: string, patch: readonly JsonPatchOperation[], options?: CallOptions): Promise<IronicNode> {
    return await this.#callJson<IronicNode>({ method: "PATCH", path: nodePath(node), body: patch }, [200], options);
  }

  /** Deletes a node. */
  async deleteNode(node: string, options?: CallOptions): Promise<void> {
    await this.#call({ method: "DELETE", path: nodePath(node) }, [204], options);
  }

  // --- indicators ---

  /** The node's indicator lights. */
  async listIndicators(node: string, options?: CallOptions): Promise<IronicIndicator[]> {
    const request = { method: "GET", path: `${nodePath(node)}/management/indicators` } as const;
    const body = await this.#callJson<{ indicators?: unknown }>(request, [200], options);
    if (!Array.isArray(body.indicators)) {
      throw new IronicError("protocol", 200, this.#transport.describe(request), "the answer has no indicators list");
    }
    return body.indicators.flatMap((entry: unknown): IronicIndicator[] => {
      if (typeof entry !== "object" || entry === null) return [];
      const { name, component, readonly, states } = entry as Record<string, unknown>;
      if (typeof name !== "string" || typeof component !== "string") return [];
      return [
        {
          name,
          component,
          readonly: readonly === true,
          states: Array.isArray(states) ? states.filter((s) => typeof s === "string").map((s) => s.toLowerCase()) : [],
        },
      ];
    });
  }

  /** One light's state, lowercase. */
  async getIndicatorState(node: string, indicator: string, options?: CallOptions): Promise<IronicIndicatorState> {
    const request = { method: "GET", path: `${nodePath(node)}/management/indicators/${segment(indicator)}` } as const;
    const body = await this.#callJson<{ state?: unknown }>(request, [200], options);
    const state = typeof body.state === "string" ? body.state.toLowerCase() : undefined;
    if (state !== "on" && state !== "off" && state !== "blinking" && state !== "unknown") {
      throw new IronicError(
        "protocol",
        200,
        this.#transport.describe(request),
        `unexpected indicator state ${JSON.stringify(body.state)}`,
      );
    }
    return state;
  }

  /** Sets one light's state (sent lowercase: Ironic fails with 500 on `ON`). */
  async setIndicatorState(
    node: string,
    indicator: string,
    state: IronicIndicatorState,
    options?: CallOptions,
  ): Promise<void> {
    await this.#call(
      {
        method: "PUT",
        path: `${nodePath(node)}/management/indicators/${segment(indicator)}`,
        body: { state: state.toLowerCase() },
      },
      [200, 204],
      options,
    );
  }

  // --- event subscriptions (Redfish vendor passthru) ---

  #passthru(node: string, method: string): string {
    return `${nodePath(node)}/vendor_passthru?method=${encodeURIComponent(method)}`;
  }

  /**
   * Creates a subscription on the node's BMC. Sends `Destination`, and
   * `Context` and `HttpHeaders` when not empty; never `EventTypes`, which
   * Ironic with sushy ≥ 4 rejects whatever its value.
   */
  async createSubscription(
    node: string,
    subscription: IronicSubscriptionCreate,
    options: CallOptions = {},
  ): Promise<IronicSubscription> {
    const body: Record<string, unknown> = { Destination: subscription.destination };
    if (subscription.context !== "") body.Context = subscription.context;
    const headers = Object.entries(subscription.httpHeaders);
    if (headers.length > 0) body.HttpHeaders = headers.map(([name, value]) => ({ [name]: value }));
    const secrets = [...(options.secrets ?? []), ...headers.map(([, value]) => value)];
    const request = { method: "POST", path: this.#passthru(node, "create_subscription"), body } as const;
    const created = await this.#callJson<Record<string, unknown>>(request, [200, 201], { ...options, secrets });
    return this.#subscription(created, request);
  }

  #subscription(raw: Record<string, unknown>, request: Pick<TransportRequest, "method" | "path">): IronicSubscription {
    if (typeof raw.Id !== "string" || raw.Id === "") {
      throw new IronicError("protocol", 200, this.#transport.describe(request), "the subscription has no Id");
    }
    return {
      id: raw.Id,
      destination: typeof raw.Destination === "string" ? raw.Destination : "",
      context: typeof raw.Context === "string" ? raw.Context : "",
      protocol: typeof raw.Protocol === "string" ? raw.Protocol : "",
      eventTypes: Array.isArray(raw.EventTypes) ? raw.EventTypes.filter((t) => typeof t === "string") : [],
    };
  }

  /** The IDs of the subscriptions the node's BMC holds (`get_all_subscriptions`). */
  async listSubscriptionIds(node: string, options?: CallOptions): Promise<string[]> {
    const request = { method: "GET", path: this.#passthru(node, "get_all_subscriptions") } as const;
    const collection = await this.#callJson<{ Members?: unknown }>(request, [200], options);
    if (!Array.isArray(collection.Members)) {
      throw new IronicError("protocol", 200, this.#transport.describe(request), "the collection has no Members");
    }
    return collection.Members.flatMap((member: unknown) => {
      const uri = (member as Record<string, unknown> | null)?.["@odata.id"];
      if (typeof uri !== "string") return [];
      const last = uri.replace(/\/+$/, "").split("/").pop();
      return last ? [decodeURIComponent(last)] : [];
    });
  }

  /**
   * One subscription (`get_subscription`, a GET with the ID in a JSON body).
   * Ironic answers 500, not 404, for an ID the BMC does not hold.
   */
  async getSubscription(node: string, id: string, options?: CallOptions): Promise<IronicSubscription> {
    const request = { method: "GET", path: this.#passthru(node, "get_subscription"), body: { id } } as const;
    return this.#subscription(await this.#callJson<Record<string, unknown>>(request, [200], options), request);
  }

  /**
   * Deletes a subscription (`delete_subscription`, the ID in a JSON body).
   * Ironic answers 404 for any failure of the BMC's delete, so a 404 counts as
   * `"gone"` only when the BMC's list confirms the ID is absent; otherwise the
   * 404 is thrown.
   */
  async deleteSubscription(node: string, id: string, options?: CallOptions): Promise<"deleted" | "gone"> {
    if (id === "") throw new TypeError("a subscription ID is required to delete a subscription");
    const request = { method: "DELETE", path: this.#passthru(node, "delete_subscription"), body: { id } } as const;
    try {
      await this.#call(request, [200, 202, 204], options);
      return "deleted";
    } catch (error) {
      if (!(error instanceof IronicError) || error.status !== 404) throw error;
      const present = await this.listSubscriptionIds(node, options);
      if (present.includes(id)) throw error;
      return "gone";
    }
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.#transport.close();
  }
}

/**
 * The HTTP layer of the Kubernetes client: undici dispatchers with the
 * kubeconfig's TLS settings (requests share a bounded pool of kept-alive
 * connections, `maxConnections`; watches get connections of their own, so a
 * long-running stream never holds a request up), the kubeconfig's credentials
 * as headers (made once when fixed, from a service-account token file once a
 * minute, from exec plugins and other auth providers on every request, by
 * client-node, loaded only for those),
 * `metav1.Status` errors as {@link ApiError}, and client-go's `rest_client_*`
 * metrics.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import type { Registry } from "prom-client";
import type { Dispatcher } from "undici";
import { ApiError, type Status } from "./api-error.ts";
import { Agent, request } from "./http-dispatch.ts";
import { exchange, type ExchangeOptions } from "./http-exchange.ts";
import { clientNodeConfigOf, type KubeConfigLike, needsClientNode, tokenFileOf } from "./kube-config.ts";
import { counter, defaultRegistry, histogram } from "./metrics.ts";

/** Options of a {@link Transport}. */
export interface TransportOptions {
  /** Where the `rest_client_*` metrics go. @default defaultRegistry */
  registry?: Registry;
  /** @default "bmc-operator" */
  userAgent?: string;
  /** Longest wait for the response headers and between body chunks of a non-watch request, in ms. @default 30_000 */
  timeoutMs?: number;
  /**
   * Connections that requests (not watches) share; more requests wait for one
   * to be free. A burst of thousands of writes then reuses warm connections
   * instead of opening one each, which costs the API server and this process
   * a TCP (and TLS) handshake per request. Behind an HTTP proxy the proxy
   * agent's own pooling applies. @default 32
   */
  maxConnections?: number;
}

/** How long the headers made from a service account's token file are used before the file is read again, in ms. */
const TOKEN_FILE_REFRESH_MS = 60_000;

/** Default of {@link TransportOptions.maxConnections}. */
export const DEFAULT_MAX_CONNECTIONS = 32;

/** One request. */
export interface TransportRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** The path under the server, for example `/apis/metal3.io/v1alpha1/namespaces/ns/baremetalhosts`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** A JSON value, sent as the body. */
  body?: unknown;
  /** @default "application/json" when there is a body */
  contentType?: string;
  signal?: AbortSignal;
  /** Longest silence between body chunks, in ms (for watches). @default timeoutMs */
  bodyTimeoutMs?: number;
  /** A watch or other long-running stream: sent on a connection of its own, outside the request pool. */
  longRunning?: boolean;
}

/** A 2xx response whose body has not been read yet. */
export interface StreamingResponse {
  statusCode: number;
  body: AsyncIterable<Uint8Array | string> & { destroy(error?: Error): void };
}

function transportMetrics(registry: Registry) {
  return {
    requests: counter(registry, {
      name: "rest_client_requests_total",
      help: "Number of HTTP requests, partitioned by status code, method, and host.",
      labelNames: ["code", "method", "host"] as const,
    }),
    duration: histogram(registry, {
      name: "rest_client_request_duration_seconds",
      help: "Request latency in seconds. Broken down by verb, and host.",
      labelNames: ["verb", "host"] as const,
      buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
    }),
  };
}

/**
 * Sends requests to the API server of a kubeconfig.
 *
 * @example
 * ```ts
 * const transport = new Transport(loadKubeConfig());
 * const ns = await transport.json({ method: "GET", path: "/api/v1/namespaces/default" });
 * await transport.close();
 * ```
 */
export class Transport {
  /** The API server's URL, without a trailing slash. */
  readonly server: string;
  readonly #kc: KubeConfigLike;
  readonly #host: string;
  /** The server's origin, and the path it is served under (`""` at the root). */
  readonly #origin: string;
  readonly #basePath: string;
  readonly #userAgent: string;
  readonly #timeoutMs: number;
  readonly #metrics: ReturnType<typeof transportMetrics>;
  readonly #maxConnections: number;
  #dispatcher: Promise<Dispatcher> | undefined;
  #streamDispatcher: Promise<Dispatcher> | undefined;
  #staticHeaders: Promise<Record<string, string>> | undefined;
  #tokenFile: { readAt: number; headers: Promise<Record<string, string>> } | undefined;

  constructor(kc: KubeConfigLike, options: TransportOptions = {}) {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error(`The Kubernetes configuration has no cluster for context "${kc.getCurrentContext()}"`);
    this.#kc = kc;
    this.server = cluster.server.replace(/\/+$/, "");
    const url = new URL(this.server);
    this.#host = url.host;
    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/+$/, "");
    this.#userAgent = options.userAgent ?? "bmc-operator";
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (!Number.isInteger(maxConnections) || maxConnections < 1) {
      throw new RangeError(`Transport: maxConnections must be a whole number of at least 1, got ${maxConnections}`);
    }
    this.#maxConnections = maxConnections;
    this.#metrics = transportMetrics(options.registry ?? defaultRegistry);
  }

  /** Sends a request and returns its JSON body; a non-2xx answer throws {@link ApiError}. */
  async json<T>(req: TransportRequest): Promise<T> {
    // The whole answer gathered by the handler: no stream per response (src/runtime/http-exchange.ts).
    const { path, response } = await this.#send(req, exchange);
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw new ApiError(req.method, path, statusFromBody(response.statusCode, response.body));
    }
    return (response.body === "" ? undefined : JSON.parse(response.body)) as T;
  }

  /**
   * Sends a request and returns the response once its headers arrive; the
   * caller reads (or destroys) the body. A non-2xx answer throws {@link ApiError}.
   */
  async stream(req: TransportRequest): Promise<StreamingResponse> {
    const { path, response } = await this.#send(req, request);
    if (response.statusCode >= 200 && response.statusCode < 300) {
      return { statusCode: response.statusCode, body: response.body };
    }
    const text = await readText(response.body).catch(() => "");
    throw new ApiError(req.method, path, statusFromBody(response.statusCode, text));
  }

  /** Sends `req` through `send` on the dispatcher it belongs to, counting it in the `rest_client_*` metrics. */
  async #send<R extends { statusCode: number }>(
    req: TransportRequest,
    send: (dispatcher: Dispatcher, options: ExchangeOptions) => Promise<R>,
  ): Promise<{ path: string; response: R }> {
    const { path, headers, body } = await this.#prepare(req);
    const started = performance.now();
    let response: R;
    try {
      const dispatcher = await (req.longRunning ? this.#getStreamDispatcher() : this.#getDispatcher());
      response = await send(dispatcher, {
        origin: this.#origin,
        path,
        method: req.method,
        headers,
        body,
        ...(req.signal === undefined ? {} : { signal: req.signal }),
        headersTimeout: this.#timeoutMs,
        bodyTimeout: req.bodyTimeoutMs ?? this.#timeoutMs,
      });
    } catch (error) {
      this.#observe(req.method, "<error>", started);
      throw error;
    }
    this.#observe(req.method, String(response.statusCode), started);
    return { path, response };
  }

  /** A request's path with its query, its headers and its body as sent. */
  async #prepare(req: TransportRequest): Promise<{ path: string; headers: Record<string, string>; body: string | undefined }> {
    // The origin and the path go to the dispatcher as they are: no URL object is parsed per request.
    let path = this.#basePath + req.path;
    if (req.query !== undefined) {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(req.query)) {
        if (value !== undefined) params.set(name, String(value));
      }
      const search = params.toString();
      if (search !== "") path += `?${search}`;
    }
    const headers: Record<string, string> = {
      ...(await this.#authHeaders()),
      accept: "application/json",
      "user-agent": this.#userAgent,
    };
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers["content-type"] = req.contentType ?? "application/json";
    }
    return { path, headers, body };
  }

  #observe(method: string, code: string, started: number): void {
    this.#metrics.requests.inc({ code, method, host: this.#host });
    this.#metrics.duration.observe({ verb: method, host: this.#host }, (performance.now() - started) / 1000);
  }

  /** Closes the connections of this transport. */
  async close(): Promise<void> {
    const made = [this.#dispatcher, this.#streamDispatcher];
    this.#dispatcher = undefined;
    this.#streamDispatcher = undefined;
    await Promise.all(
      made.map(async (pending) => {
        const dispatcher = await pending?.catch(() => undefined);
        await dispatcher?.close();
      }),
    );
  }

  /**
   * The kubeconfig's credentials as headers. A user with a fixed token,
   * password or client certificate has the same headers for every request:
   * they are made once. A service account's token file (in-cluster) is read
   * again once a minute, as client-go does. An exec plugin or other auth
   * provider is asked on every request, through client-node (it caches its
   * own tokens).
   */
  #authHeaders(): Promise<Record<string, string>> {
    const user = this.#kc.getCurrentUser();
    if (needsClientNode(this.#kc)) return this.#clientNodeHeaders();
    if (tokenFileOf(user) !== undefined) return this.#tokenFileHeaders();
    this.#staticHeaders ??= Promise.resolve(fixedHeaders(user));
    return this.#staticHeaders;
  }

  /** The headers of a token-file user, made again when a minute old (client-node's reader keeps the token a minute too). */
  #tokenFileHeaders(): Promise<Record<string, string>> {
    const now = performance.now();
    if (this.#tokenFile === undefined || now - this.#tokenFile.readAt > TOKEN_FILE_REFRESH_MS) {
      const user = this.#kc.getCurrentUser();
      const read = {
        readAt: now,
        headers: readFile(tokenFileOf(user)!, "utf8").then((token) => ({ ...fixedHeaders(user), authorization: `Bearer ${token}` })),
      };
      this.#tokenFile = read;
      read.headers.catch(() => {
        if (this.#tokenFile === read) this.#tokenFile = undefined;
      });
    }
    return this.#tokenFile.headers;
  }

  /** The headers client-node makes for an exec plugin or auth provider (asked each time: it caches its tokens). */
  async #clientNodeHeaders(): Promise<Record<string, string>> {
    const kc = await clientNodeConfigOf(this.#kc);
    const options: { headers?: Record<string, unknown>; auth?: string } = {};
    await kc.applyToHTTPSOptions(options);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = String(value);
    if (options.auth) headers.authorization = `Basic ${Buffer.from(options.auth).toString("base64")}`;
    return headers;
  }

  /** The pooled dispatcher of requests, made once. */
  #getDispatcher(): Promise<Dispatcher> {
    this.#dispatcher ??= this.#makeDispatcher(this.#maxConnections);
    return this.#dispatcher;
  }

  /** The dispatcher of watches (a connection each), made once. */
  #getStreamDispatcher(): Promise<Dispatcher> {
    this.#streamDispatcher ??= this.#makeDispatcher(undefined);
    return this.#streamDispatcher;
  }

  /**
   * A dispatcher with the kubeconfig's TLS settings and at most `connections`
   * connections (unbounded when undefined), with client-node's settings:
   * TCP keep-alive probes after 30 s, as client-go, and plain HTTP only with
   * `insecure-skip-tls-verify`. Proxies keep client-node's own agent; with an
   * exec plugin or auth provider the TLS settings come from client-node (a
   * plugin may hand out a client certificate).
   */
  async #makeDispatcher(connections: number | undefined): Promise<Dispatcher> {
    const limit = connections === undefined ? {} : { connections };
    const cluster = this.#kc.getCurrentCluster();
    if (needsClientNode(this.#kc)) {
      const kc = await clientNodeConfigOf(this.#kc);
      if (cluster?.proxyUrl) {
        const { HttpMethod, RequestContext } = await import("@kubernetes/client-node");
        const context = new RequestContext(this.server, HttpMethod.GET);
        await kc.applySecurityAuthentication(context);
        const dispatcher = context.getDispatcher();
        if (!dispatcher) throw new Error(`client-node made no dispatcher for the proxy of cluster ${this.server}`);
        return dispatcher;
      }
      const tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean; servername?: string } = {};
      await kc.applyToHTTPSOptions(tls);
      const { ca, cert, key, rejectUnauthorized, servername } = tls;
      return new Agent({ ...limit, connect: { ...defined({ ca, cert, key, rejectUnauthorized, servername }), ...KEEP_ALIVE } });
    }
    if (cluster?.server.startsWith("http:") && !cluster.skipTLSVerify) {
      throw new Error(`HTTP protocol is not allowed when skipTLSVerify is not set or false (cluster ${cluster.name}, server ${cluster.server})`);
    }
    const user = this.#kc.getCurrentUser();
    const [ca, cert, key] = await Promise.all([
      fileOrData(cluster?.caFile, cluster?.caData),
      fileOrData(user?.certFile, user?.certData),
      fileOrData(user?.keyFile, user?.keyData),
    ]);
    const tls = defined({
      ca,
      cert,
      key,
      rejectUnauthorized: cluster?.skipTLSVerify ? false : undefined,
      servername: cluster?.tlsServerName || undefined,
    });
    return new Agent({ ...limit, connect: { ...tls, ...KEEP_ALIVE } });
  }
}

/** TCP keep-alive as client-node sets it (30 s, as client-go; undici's 60 s can race cloud load balancers' idle timeouts). */
const KEEP_ALIVE = { keepAlive: true, keepAliveInitialDelay: 30_000 } as const;

/** The headers a user's fixed credentials make: a bearer token, a user name and password, impersonation. */
function fixedHeaders(user: ReturnType<KubeConfigLike["getCurrentUser"]>): Record<string, string> {
  const headers: Record<string, string> = {};
  if (user?.impersonateUser) headers["impersonate-user"] = user.impersonateUser;
  if (user?.token) headers.authorization = `Bearer ${user.token}`;
  // As client-node: a user name and password win over a token.
  if (user?.username) headers.authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ""}`).toString("base64")}`;
  return headers;
}

/** A file's bytes, else base64 data decoded, else undefined (client-node's `bufferFromFileOrString`). */
async function fileOrData(file: string | undefined | null, data: string | undefined | null): Promise<Buffer | undefined> {
  if (file) return readFile(file);
  if (data) return Buffer.from(data, "base64");
  return undefined;
}

/** `options` without its undefined entries. */
function defined<T extends Record<string, unknown>>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

async function readText(body: AsyncIterable<Uint8Array | string>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of body) text += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/** The `metav1.Status` of an error response, or one made up from the code and text. */
function statusFromBody(code: number, text: string): Status {
  try {
    const parsed = JSON.parse(text) as Status;
    if (parsed && typeof parsed === "object" && parsed.kind === "Status") return { ...parsed, code: parsed.code ?? code };
  } catch {
    // not JSON: fall through
  }
  return { kind: "Status", status: "Failure", code, message: text.slice(0, 512) || `HTTP ${code}` };
}

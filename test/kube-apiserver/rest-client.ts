/**
 * A small raw HTTP client for the Kubernetes API, for tests that need to see
 * status codes, headers and watch streams exactly. It takes the server,
 * TLS and credentials from a kubeconfig through `@kubernetes/client-node`,
 * so the same tests run against the emulator and against a real cluster.
 *
 * @module
 */
import type { HttpMethod} from "@kubernetes/client-node";
import { KubeConfig, RequestContext } from "@kubernetes/client-node";
import { fetch, type Dispatcher } from "undici";

/** A response: status, headers, and the body parsed as JSON when it is JSON. */
export interface RestResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** Options of one request. */
export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Defaults to `application/json` when there is a body. */
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
}

/** One watch event. */
export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: any;
}

/** An open watch: read events one by one, with a timeout. */
export interface WatchStream {
  status: number;
  /** The next event, or `undefined` when the stream ended. Throws when none arrives within `timeoutMs`. */
  next(timeoutMs?: number): Promise<WatchEvent | undefined>;
  /** Whether the server ended the stream and every event was read. */
  readonly ended: boolean;
  close(): void;
}

function withQuery(path: string, query: RequestOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}${path.includes("?") ? "&" : "?"}${text}` : path;
}

/** Talks to the cluster of a kubeconfig. */
export class RestClient {
  readonly kubeConfig: KubeConfig;
  readonly server: string;

  constructor(kubeconfig: string) {
    this.kubeConfig = new KubeConfig();
    this.kubeConfig.loadFromString(kubeconfig);
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("The kubeconfig has no current cluster");
    this.server = cluster.server.replace(/\/$/, "");
  }

  async #prepare(method: string, url: string): Promise<{ headers: Record<string, string>; dispatcher: Dispatcher | undefined }> {
    const context = new RequestContext(url, method as HttpMethod);
    await this.kubeConfig.applySecurityAuthentication(context);
    return { headers: { ...(context.getHeaders() as Record<string, string>) }, dispatcher: context.getDispatcher() };
  }

  /** Sends one request and reads the whole response. */
  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<RestResponse<T>> {
    const url = this.server + withQuery(path, options.query);
    const { headers, dispatcher } = await this.#prepare(method, url);
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
      headers["Content-Type"] = options.contentType ?? "application/json";
    }
    headers.Accept = options.accept ?? "application/json";
    const response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), ...(dispatcher ? { dispatcher } : {}), ...(options.signal ? { signal: options.signal } : {}) });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get("content-type") ?? "").includes("json")) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: response.status, headers: response.headers as unknown as Headers, body: parsed as T, text };
  }

  /** A client of the same cluster that authenticates with a bearer `token` instead. */
  withToken(token: string): RestClient {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("The kubeconfig has no current cluster");
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [cluster],
      users: [{ name: "token-user", token }],
      contexts: [{ name: "token-user", cluster: cluster.name, user: "token-user" }],
      currentContext: "token-user",
    });
    return new RestClient(kc.exportConfig());
  }

  get<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>("GET", path, options);
  }
  post<T = any>(path: string, body: unknown, options?: RequestOptions) {
    return this.request<T>("POST", path, { ...options, body });
  }
  put<T = any>(path: string, body: unknown, options?: RequestOptions) {
    return this.request<T>("PUT", path, { ...options, body });
  }
  patch<T = any>(path: string, body: unknown, contentType: string, options?: RequestOptions) {
    return this.request<T>("PATCH", path, { ...options, body, contentType });
  }
  delete<T = any>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>("DELETE", path, { ...options, ...(body !== undefined ? { body } : {}) });
  }

  /** Opens a watch (`?watch=true` is added unless `query` says how) and returns once the response headers arrive. */
  async watch(path: string, query: RequestOptions["query"] = {}, accept = "application/json"): Promise<WatchStream> {
    const controller = new AbortController();
    const url = this.server + withQuery(path, { watch: true, ...query });
    const { headers, dispatcher } = await this.#prepare("GET", url);
    headers.Accept = accept;
    const response = await fetch(url, { headers, signal: controller.signal, ...(dispatcher ? { dispatcher } : {}) });
    const queue: WatchEvent[] = [];
    const waiters: Array<() => void> = [];
    let ended = false;
    let failure: Error | undefined;
    const wake = () => {
      for (const waiter of waiters.splice(0)) waiter();
    };
    if (response.status !== 200 || !response.body) {
      const text = await response.text();
      queue.push({ type: "ERROR", object: text ? (JSON.parse(text) as unknown) : { code: response.status } });
      ended = true;
    } else {
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      void (async () => {
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            buffer += decoder.decode(value, { stream: true });
            let newline: number;
            while ((newline = buffer.indexOf("\n")) >= 0) {
              const line = buffer.slice(0, newline).trim();
              buffer = buffer.slice(newline + 1);
              if (line) queue.push(JSON.parse(line) as WatchEvent);
            }
            wake();
          }
        } catch (error) {
          if (!controller.signal.aborted) failure = error as Error;
        } finally {
          ended = true;
          wake();
        }
      })();
    }
    return {
      status: response.status,
      get ended() {
        return ended && queue.length === 0;
      },
      async next(timeoutMs = 5000) {
        const deadline = Date.now() + timeoutMs;
        while (queue.length === 0) {
          if (failure) throw failure;
          if (ended) return undefined;
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`No watch event within ${timeoutMs} ms on ${path}`);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, left);
            waiters.push(() => {
              clearTimeout(timer);
              resolve();
            });
          });
        }
        return queue.shift();
      },
      close() {
        controller.abort();
      },
    };
  }
}

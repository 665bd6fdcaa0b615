/**
 * Watch streams: newline-delimited JSON events over a chunked HTTP response
 * whose headers are flushed at once. Supports resuming from a
 * resourceVersion (an in-stream 410 `Expired` ERROR event when it is too old,
 * as kube-apiserver's watch cache answers), synthetic ADDED events when
 * starting from now, the WatchList form (`sendInitialEvents=true`, ending
 * the initial events with a `k8s.io/initial-events-end` bookmark),
 * periodic bookmarks, `timeoutSeconds`, selectors (objects that stop
 * matching are reported DELETED, objects that start matching ADDED), Table
 * output for `kubectl get -w` and metadata-only objects.
 *
 * Each change is encoded once per served form and the same bytes are written
 * to every watcher that wants them. Events for one watcher that arise in the
 * same turn of the event loop leave in one write (one system call instead of
 * one per event), at the end of that turn.
 *
 * @module
 */
import type { ServerResponse } from "node:http";
import type { ApiRequest, ApiServer } from "./api-server.ts";
import type { KubeObject } from "./object-meta.ts";
import { apiVersionOf } from "./resource-type.ts";
import type { Selector } from "./selectors.ts";
import { badRequest, invalid, type StatusError } from "./status.ts";
import type { ChangeEvent, ChangeType, StoredEntry } from "./storage.ts";
import { type Presentation, presentObject } from "./presentation.ts";
import { queryBool, queryInt, queryOptionalBool } from "./query.ts";

/** Watch options beyond those of the request. */
export interface WatchHubOptions {
  /** How often watchers that allow bookmarks get one, in milliseconds. @default 60000 */
  bookmarkIntervalMs?: number;
  /** The longest a watch lasts without `timeoutSeconds`, in seconds. @default 1800 */
  defaultTimeoutSeconds?: number;
  /** A watcher whose unsent output exceeds this many bytes is disconnected, as kube-apiserver drops slow watchers. @default 64 MiB */
  maxBufferedBytes?: number;
}

interface Stream {
  request: ApiRequest;
  response: ServerResponse;
  selectors: { labels: Selector; fields: Selector };
  bookmarks: boolean;
  presentation: Presentation | undefined;
  lastVersion: number;
  /** Lines waiting for the end of this turn of the event loop. */
  pending: (string | Buffer)[];
  close(): void;
}

/** The open watch streams of a server. */
export class WatchHub {
  readonly #api: ApiServer;
  readonly #streams = new Set<Stream>();
  readonly #options: Required<WatchHubOptions>;
  readonly #bookmarkTimer: NodeJS.Timeout;
  /** Streams with pending lines. */
  readonly #dirty = new Set<Stream>();
  #flushScheduled = false;
  #eventsSent = 0;
  #writes = 0;

  constructor(api: ApiServer, options: WatchHubOptions = {}) {
    this.#api = api;
    this.#options = {
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
      defaultTimeoutSeconds: options.defaultTimeoutSeconds ?? 1800,
      maxBufferedBytes: options.maxBufferedBytes ?? 64 * 1024 * 1024,
    };
    this.#bookmarkTimer = setInterval(() => this.#sendBookmarks(), this.#options.bookmarkIntervalMs);
    this.#bookmarkTimer.unref();
  }

  /** How many watches are open. */
  get size(): number {
    return this.#streams.size;
  }

  /** Watch events and bookmarks queued for watchers, and the writes that carried them, since the last reset. */
  counters(): { events: number; writes: number } {
    return { events: this.#eventsSent, writes: this.#writes };
  }

  /** Sets {@link counters} back to zero. */
  resetCounters(): void {
    this.#eventsSent = 0;
    this.#writes = 0;
  }

  /** Ends every open watch; clients see the stream end and reconnect. */
  dropAll(): void {
    for (const stream of [...this.#streams]) stream.close();
  }

  /** Ends every watch and stops the bookmark timer. */
  close(): void {
    clearInterval(this.#bookmarkTimer);
    this.dropAll();
  }

  #sendBookmarks(): void {
    for (const stream of this.#streams) {
      if (!stream.bookmarks) continue;
      this.#enqueue(stream, this.#bookmarkLine(stream, this.#api.storage.resourceVersion, false));
    }
  }

  #bookmarkLine(stream: Stream, resourceVersion: number, initialEventsEnd: boolean): string {
    const { type } = stream.request;
    const metadata: Record<string, unknown> = { resourceVersion: String(resourceVersion), creationTimestamp: null };
    if (initialEventsEnd) metadata.annotations = { "k8s.io/initial-events-end": "true" };
    return `${JSON.stringify({ type: "BOOKMARK", object: { kind: type.kind, apiVersion: apiVersionOf(type), metadata } })}\n`;
  }

  #line(stream: Stream, type: ChangeType, entry: StoredEntry, event?: ChangeEvent): string | Buffer {
    const resource = stream.request.type;
    if (stream.presentation) {
      const object = presentObject(stream.presentation, resource, this.#api.served(resource, entry));
      return `${JSON.stringify({ type, object })}\n`;
    }
    if (!event) return `{"type":"${type}","object":${this.#api.servedJson(resource, entry)}}\n`;
    const key = `${type}|${apiVersionOf(resource)}`;
    event.encodings ??= new Map();
    let line = event.encodings.get(key);
    if (!line) {
      line = Buffer.from(`{"type":"${type}","object":${this.#api.servedJson(resource, entry)}}\n`);
      event.encodings.set(key, line);
    }
    return line;
  }

  /** What a change looks like to a watcher with selectors, or `undefined` when it does not concern it. */
  #typeFor(stream: Stream, event: ChangeEvent): ChangeType | undefined {
    const matches = (object: KubeObject | undefined) => object !== undefined && this.#api.matches(stream.request, stream.selectors, object);
    if (event.type === "DELETED") return matches(event.entry.object) || matches(event.previous?.object) ? "DELETED" : undefined;
    const now = matches(event.entry.object);
    const before = event.type === "MODIFIED" && matches(event.previous?.object);
    if (now && before) return "MODIFIED";
    if (now) return "ADDED";
    if (before) return "DELETED";
    return undefined;
  }

  #send(stream: Stream, event: ChangeEvent): void {
    const type = this.#typeFor(stream, event);
    stream.lastVersion = event.resourceVersion;
    if (!type) return;
    this.#enqueue(stream, this.#line(stream, type, event.entry, event));
  }

  /** Queues a line for the stream; every stream's queue is written once this turn of the event loop ends. */
  #enqueue(stream: Stream, line: string | Buffer): void {
    stream.pending.push(line);
    this.#eventsSent++;
    this.#dirty.add(stream);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      const dirty = [...this.#dirty];
      this.#dirty.clear();
      for (const each of dirty) this.#flush(each);
    });
  }

  /** Writes a stream's pending lines in one write; drops the watcher when it reads too slowly. */
  #flush(stream: Stream): void {
    const lines = stream.pending;
    if (lines.length === 0) return;
    stream.pending = [];
    this.#dirty.delete(stream);
    this.#writes++;
    stream.response.write(lines.length === 1 ? lines[0]! : Buffer.concat(lines.map((l) => (typeof l === "string" ? Buffer.from(l) : l))));
    if (stream.response.writableLength > this.#options.maxBufferedBytes) stream.close();
  }

  /**
   * Serves a watch request. Errors in the parameters are thrown before any
   * response is written; a too-old resourceVersion becomes an ERROR event.
   */
  serve(response: ServerResponse, request: ApiRequest, presentation: Presentation | undefined): void {
    const { query, type } = request;
    const selectors = this.#api.selectors(request);
    // ListOptions as kube-apiserver decodes and validates them for a watch (validateWatchOptions).
    const sendInitialEvents = queryOptionalBool(query, "sendInitialEvents");
    const bookmarks = queryBool(query, "allowWatchBookmarks");
    const match = query.get("resourceVersionMatch") ?? "";
    const resourceVersionText = query.get("resourceVersion") ?? "";
    const timeoutParameter = queryInt(query, "timeoutSeconds");
    queryInt(query, "limit");
    const causes = [];
    if (sendInitialEvents !== undefined && match !== "NotOlderThan") {
      causes.push({ reason: "FieldValueForbidden", message: "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan", field: "resourceVersionMatch" });
    }
    if (match) {
      if (sendInitialEvents === undefined) {
        causes.push({ reason: "FieldValueForbidden", message: "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided", field: "resourceVersionMatch" });
      }
      if (match !== "NotOlderThan") {
        causes.push({ reason: "FieldValueNotSupported", message: `Unsupported value: ${JSON.stringify(match)}: supported values: "NotOlderThan"`, field: "resourceVersionMatch" });
      }
    }
    if (sendInitialEvents === true && !bookmarks) {
      causes.push({ reason: "FieldValueRequired", message: "Required value: sendInitialEvents requires setting allowWatchBookmarks to true", field: "allowWatchBookmarks" });
    }
    if (causes.length) throw invalid({ group: "meta.k8s.io", kind: "ListOptions" }, "", causes);
    if (resourceVersionText !== "" && !/^\d+$/.test(resourceVersionText)) {
      throw badRequest(`invalid resource version ${JSON.stringify(resourceVersionText)}: a resourceVersion is a non-negative integer`);
    }
    // Without timeoutSeconds (or with 0) the server picks the timeout, as kube-apiserver's --min-request-timeout does.
    const timeoutSeconds = timeoutParameter !== undefined && timeoutParameter > 0 ? timeoutParameter : this.#options.defaultTimeoutSeconds;

    const startVersion = Number(resourceVersionText || "0");
    const initial = sendInitialEvents === true || (sendInitialEvents === undefined && startVersion === 0);
    let backlog: ChangeEvent[] = [];
    let snapshot: StoredEntry[] = [];
    let failure: StatusError | undefined;
    if (initial) {
      snapshot = this.#api.select(request, selectors);
    } else if (startVersion > 0) {
      try {
        backlog = this.#api.storage.changesSince(type.storage, startVersion);
      } catch (error) {
        failure = error as StatusError;
      }
    }
    const currentVersion = this.#api.storage.resourceVersion;
    response.writeHead(200, {
      "Content-Type": "application/json",
      "Cache-Control": "no-cache, private",
      "Transfer-Encoding": "chunked",
    });
    response.flushHeaders();
    if (failure) {
      response.end(`${JSON.stringify({ type: "ERROR", object: failure.status })}\n`);
      return;
    }

    const resourceTable = this.#api.storage.table(type.storage);
    let timer: NodeJS.Timeout | undefined;
    const stream: Stream = {
      request,
      response,
      selectors,
      bookmarks,
      presentation,
      lastVersion: currentVersion,
      pending: [],
      close: () => {
        if (!this.#streams.delete(stream)) return;
        resourceTable.listeners.delete(listener);
        if (timer) clearTimeout(timer);
        if (!response.destroyed) this.#flush(stream);
        this.#dirty.delete(stream);
        response.end();
      },
    };
    const listener = (event: ChangeEvent) => this.#send(stream, event);
    resourceTable.listeners.add(listener);
    this.#streams.add(stream);
    if (timeoutSeconds > 0) timer = setTimeout(() => stream.close(), timeoutSeconds * 1000);
    response.on("close", () => stream.close());
    response.on("error", () => stream.close());

    for (const entry of snapshot) response.write(this.#line(stream, "ADDED", entry));
    if (sendInitialEvents === true) response.write(this.#bookmarkLine(stream, currentVersion, true));
    for (const event of backlog) this.#send(stream, event);
  }
}

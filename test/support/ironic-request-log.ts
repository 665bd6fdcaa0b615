/**
 * The requests a real Ironic's API served, read from its log.
 *
 * Ironic (eventlet's WSGI server) writes a request's line after it has sent
 * the answer, so a client can hold the answer before the line is in the file:
 * a test that reads the log right after the operator acted can miss the
 * operator's last request, and a mark taken then can count it in the next
 * window. Every read here therefore ends at a barrier: a request of the log's
 * own to Ironic, whose line is waited for. Ironic logs a request as soon as it
 * has answered, so once the barrier's line is in the file, so is the line of
 * every request answered before the barrier was sent.
 *
 * ```ts
 * const log = new IronicRequestLog(ironic);
 * const mark = await log.mark();
 * // … the operator switches a light …
 * await log.since(mark); // [{ method: "GET", … }, { method: "PUT", path: "/v1/nodes/…/management/indicators/…", status: 204 }]
 * ```
 *
 * @module
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { IronicServer } from "./ironic.ts";

/** One request Ironic's API served, as its log records it. */
export interface IronicRequest {
  method: string;
  /** The path with its query: `/v1/nodes/…/vendor_passthru?method=create_subscription`. */
  path: string;
  status: number;
}

/** The lines `eventlet.wsgi.server` writes for each request Ironic's API serves. */
const REQUEST_LINE = /eventlet\.wsgi\.server .*"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP\/1\.[01]" status: (\d+)/;

/** The query that marks a barrier request (never one of the operator's). */
const BARRIER_QUERY = "bmc-operator-test-barrier";

/** How long a barrier's line may take to land in the log (a loaded 2-core machine). */
const BARRIER_TIMEOUT_MS = 20_000;
const BARRIER_POLL_MS = 5;

/** Reads the requests Ironic's API served from its log, each read ending at a barrier (see the module). */
export class IronicRequestLog {
  readonly #server: Pick<IronicServer, "url" | "logPath">;
  #barriers = 0;

  constructor(server: Pick<IronicServer, "url" | "logPath">) {
    this.#server = server;
  }

  /** A mark for {@link since}: the end of the log once every request answered until now is in it. */
  async mark(): Promise<number> {
    return (await this.#barrier()).end;
  }

  /** The requests answered after `mark` and before this call, oldest first (barriers left out). */
  async since(mark: number): Promise<IronicRequest[]> {
    const { start } = await this.#barrier();
    const requests: IronicRequest[] = [];
    for (const line of this.#read(mark, start).split("\n")) {
      const match = REQUEST_LINE.exec(line);
      if (match && !match[2]!.includes(BARRIER_QUERY)) requests.push({ method: match[1]!, path: match[2]!, status: Number(match[3]) });
    }
    return requests;
  }

  /** Sends a barrier request and waits for its line: its start and end offsets in the log. */
  async #barrier(): Promise<{ start: number; end: number }> {
    const from = this.#size();
    const path = `/?${BARRIER_QUERY}=${process.pid}-${++this.#barriers}`;
    await this.#get(path);
    const needle = `"GET ${path} HTTP/`;
    const deadline = Date.now() + BARRIER_TIMEOUT_MS;
    for (;;) {
      const text = this.#read(from, this.#size());
      const at = text.indexOf(needle);
      const lineEnd = at < 0 ? -1 : text.indexOf("\n", at);
      if (lineEnd >= 0) {
        const start = from + Buffer.byteLength(text.slice(0, text.lastIndexOf("\n", at) + 1));
        return { start, end: from + Buffer.byteLength(text.slice(0, lineEnd + 1)) };
      }
      if (Date.now() > deadline) {
        throw new Error(`Ironic did not log the barrier request ${path} within ${BARRIER_TIMEOUT_MS} ms (log ${this.#server.logPath})`);
      }
      await new Promise((resolve) => setTimeout(resolve, BARRIER_POLL_MS));
    }
  }

  /** GETs `path` from Ironic and drains the answer, whatever its status. */
  #get(path: string): Promise<void> {
    const url = new URL(path, this.#server.url);
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method: "GET", rejectUnauthorized: false, timeout: BARRIER_TIMEOUT_MS }, (res) => {
        res.resume();
        res.on("end", resolve);
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error(`Ironic did not answer the barrier request ${path} within ${BARRIER_TIMEOUT_MS} ms`)));
      req.on("error", reject);
      req.end();
    });
  }

  #size(): number {
    const fd = openSync(this.#server.logPath, "r");
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  }

  /** The log's bytes from `start` to `end`, as text. */
  #read(start: number, end: number): string {
    const fd = openSync(this.#server.logPath, "r");
    try {
      const buffer = Buffer.alloc(Math.max(0, end - start));
      const read = readSync(fd, buffer, 0, buffer.length, start);
      return buffer.subarray(0, read).toString("utf8");
    } finally {
      closeSync(fd);
    }
  }
}

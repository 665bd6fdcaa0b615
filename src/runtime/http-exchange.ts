/**
 * One HTTP request whose whole answer is wanted at once, sent through an
 * undici dispatcher with a handler that gathers the body's chunks.
 *
 * undici's `request` hands the body over as a Node.js `Readable` and runs
 * its callback in an `AsyncResource`: a stream, its buffers and its events
 * per answer, which the operator then reads whole anyway. Gathering the
 * chunks in the handler does the same work without them: on loopback an
 * exchange took 34 → 25 µs of CPU and a client doing 40,000 of them, 64 at a
 * time, held 234 → 115 MiB (docs/benchmarks.md, *Fifth round*). Watches,
 * which are streams, still use `request`.
 *
 * @module
 */
import type { IncomingHttpHeaders } from "node:http";
import type { Dispatcher } from "undici";

/** What {@link exchange} sends: undici's dispatch options, with an abort signal. */
export interface ExchangeOptions extends Dispatcher.DispatchOptions {
  /** Aborts the request; the exchange rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** A whole answer. */
export interface ExchangeResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** The body as UTF-8 text, `""` when there was none. */
  body: string;
}

/** The answer's body was longer than the caller accepts; the connection was dropped at the limit. */
export class ResponseTooLargeError extends Error {
  override readonly name = "ResponseTooLargeError";
  /** The most bytes the caller accepted. */
  readonly limit: number;
  constructor(limit: number) {
    super(`the response was larger than ${limit} bytes`);
    this.limit = limit;
  }
}

/**
 * Sends a request and resolves with its status, headers and whole body once
 * the body has ended. Rejects with undici's error (its `code` tells a
 * timeout or a closed connection), the signal's reason, or a
 * {@link ResponseTooLargeError} once more than `maxBytes` have come (or been
 * declared by `content-length`).
 */
export function exchange(dispatcher: Dispatcher, options: ExchangeOptions, maxBytes = Infinity): Promise<ExchangeResponse> {
  const { signal, ...dispatchOptions } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      // The caller's own abort reason, whatever it is, as undici's `request` rejects with it.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      reject(signal.reason);
      return;
    }
    let controller: Dispatcher.DispatchController | undefined;
    let settled = false;
    let statusCode = 0;
    let headers: IncomingHttpHeaders = {};
    let chunks: Buffer[] = [];
    let size = 0;
    const onAbort = (): void => {
      fail(signal!.reason);
      controller?.abort(signal!.reason);
    };
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      chunks = [];
      // undici's error, ours, or the caller's abort reason, passed on as it is.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      reject(error);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (settled) c.abort(signal?.reason);
      },
      onResponseStart(c, status, responseHeaders) {
        if (status < 200) return; // 100 Continue and other interim answers
        statusCode = status;
        headers = responseHeaders;
        const declared = Number(responseHeaders["content-length"]);
        if (declared > maxBytes) tooLarge(c);
      },
      onResponseData(c, chunk) {
        if (settled) return;
        size += chunk.length;
        if (size > maxBytes) {
          tooLarge(c);
          return;
        }
        chunks.push(chunk);
      },
      onResponseEnd() {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        const body = chunks.length === 0 ? "" : chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks, size).toString("utf8");
        chunks = [];
        resolve({ statusCode, headers, body });
      },
      onResponseError(_c, error) {
        fail(error);
      },
    };
    const tooLarge = (c: Dispatcher.DispatchController): void => {
      const error = new ResponseTooLargeError(maxBytes);
      fail(error);
      c.abort(error);
    };
    try {
      dispatcher.dispatch(dispatchOptions, handler);
    } catch (error) {
      fail(error);
    }
  });
}

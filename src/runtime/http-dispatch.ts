/**
 * undici's connection-pooling `Agent` and its `request`, loaded without the
 * package's index. The index also loads fetch, WebSocket, EventSource, the
 * cache and the mocks, none of which the operator uses: importing it costs
 * about 12 MiB of resident memory more than these two modules
 * (docs/benchmarks.md). The types are undici's own; `test/layout` checks that
 * the operator loads no other part of the package.
 *
 * @module
 */
import { createRequire } from "node:module";
import type { Agent as UndiciAgent, Dispatcher } from "undici";

const require = createRequire(import.meta.url);

/** undici's `Agent`: a pool of connections per origin. */
export const Agent = require("undici/lib/dispatcher/agent.js") as typeof UndiciAgent;
export type Agent = UndiciAgent;

const apiRequest = require("undici/lib/api/api-request.js") as (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;

/** undici's `dispatcher.request(options)`, for any dispatcher (the index adds it to their prototype; this does not need the index). */
export function request(dispatcher: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
  return apiRequest.call(dispatcher, options);
}

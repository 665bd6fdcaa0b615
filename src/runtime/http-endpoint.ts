/**
 * The manager's small HTTP servers: `/metrics` for Prometheus, and
 * `/healthz` and `/readyz` for the kubelet's probes.
 *
 * @module
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";

// Not `import … from "node:http"`: its ES module facade reads every export, and
// the WebSocket ones load Node.js's own copy of undici, zlib and worker_threads
// (about 12 MiB of resident memory, docs/benchmarks.md).
const { createServer } = process.getBuiltinModule("node:http");
import type { AddressInfo } from "node:net";

/** A named check; it throws (or rejects) when unhealthy. */
export type Check = () => void | Promise<void>;

/** `host:port` (an empty host means every interface), or `"0"` to disable. */
export type BindAddress = string;

/** Splits a bind address; `undefined` means disabled. */
export function parseBindAddress(address: BindAddress): { host: string | undefined; port: number } | undefined {
  if (address === "0" || address === "") return undefined;
  const colon = address.lastIndexOf(":");
  const host = colon >= 0 ? address.slice(0, colon).replace(/^\[(.*)\]$/, "$1") : "";
  const port = Number(colon >= 0 ? address.slice(colon + 1) : address);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Bind address must be "host:port", ":port" or "0" (disabled), got ${JSON.stringify(address)}`);
  }
  return { host: host === "" ? undefined : host, port };
}

/** A started server; `url` is where it listens. */
export interface RunningEndpoint {
  url: string;
  close(): Promise<void>;
}

type Route = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Starts a server with `routes` (path → handler) on `address`; `undefined` when disabled. */
export async function serve(address: BindAddress, routes: Record<string, Route>): Promise<RunningEndpoint | undefined> {
  const bind = parseBindAddress(address);
  if (bind === undefined) return undefined;
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const route = routes[path];
    if (route === undefined || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain" }).end(`${path} not found\n`);
      return;
    }
    route(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(bind.port, bind.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { address: host, port, family } = server.address() as AddressInfo;
  const shown = family === "IPv6" ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A probe handler: 200 `ok` when every check passes, else 500 listing the
 * failures (`?verbose` lists every check, as kube-apiserver does).
 */
export function probe(checks: () => Map<string, Check>): Route {
  return async (req, res) => {
    const verbose = new URL(req.url ?? "/", "http://x").searchParams.has("verbose");
    const lines: string[] = [];
    let healthy = true;
    for (const [name, check] of checks()) {
      try {
        await check();
        lines.push(`[+]${name} ok`);
      } catch (error) {
        healthy = false;
        lines.push(`[-]${name} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const body = healthy && !verbose ? "ok\n" : `${lines.join("\n")}\n${healthy ? "check passed" : "check failed"}\n`;
    res.writeHead(healthy ? 200 : 500, { "content-type": "text/plain; charset=utf-8" }).end(body);
  };
}

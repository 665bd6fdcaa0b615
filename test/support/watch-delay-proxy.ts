/**
 * An HTTP proxy on 127.0.0.1 in front of the Kubernetes API emulator that can
 * hold back the events of chosen watches, so a test can make the operator's
 * cache of one resource lag behind the API server (as a slow watch does)
 * while everything else stays prompt.
 *
 * ```ts
 * const proxy = await startWatchDelayProxy(api.url);
 * await stack.startOperator({ apiUrl: proxy.url });
 * proxy.delay("/bmceventsubscriptions", 1_000); // events of those watches arrive 1 s late
 * proxy.delay("/bmceventsubscriptions", 0);     // on time again (those held keep their order)
 * ```
 *
 * @module
 */
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

/** A running proxy. */
export interface WatchDelayProxy {
  /** `http://127.0.0.1:<port>`, to use as the API server's address. */
  url: string;
  /** Delays the bytes of watch responses whose path contains `pathPart` by `ms` (0 stops delaying). */
  delay(pathPart: string, ms: number): void;
  close(): Promise<void>;
}

/** Starts a proxy that forwards every request to `upstream` (the emulator's URL). */
export async function startWatchDelayProxy(upstream: string): Promise<WatchDelayProxy> {
  const target = new URL(upstream);
  const delays = new Map<string, number>();
  const delayFor = (path: string) => {
    let ms = 0;
    for (const [part, delay] of delays) if (path.includes(part)) ms = Math.max(ms, delay);
    return ms;
  };
  const server = createServer((incoming, outgoing) => {
    const path = incoming.url ?? "/";
    const isWatch = new URL(path, target).searchParams.get("watch") === "true";
    const forwarded = request(
      { host: target.hostname, port: target.port, method: incoming.method, path, headers: { ...incoming.headers, host: target.host } },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        if (!isWatch) {
          response.pipe(outgoing);
          return;
        }
        // Each chunk leaves at its arrival plus the delay then in force, never before the one ahead of it.
        let lastAt = 0;
        const later = (action: () => void) => {
          lastAt = Math.max(lastAt, Date.now() + delayFor(path));
          setTimeout(action, lastAt - Date.now());
        };
        response.on("data", (chunk: Buffer) => later(() => outgoing.write(chunk)));
        response.on("end", () => later(() => outgoing.end()));
      },
    );
    forwarded.on("error", () => outgoing.destroy());
    // The client went away (a watch stopped): stop the upstream request too.
    outgoing.on("close", () => {
      if (!outgoing.writableFinished) forwarded.destroy();
    });
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    delay(pathPart, ms) {
      if (ms > 0) delays.set(pathPart, ms);
      else delays.delete(pathPart);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

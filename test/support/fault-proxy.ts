/**
 * An HTTP proxy on 127.0.0.1 in front of the Kubernetes API emulator that
 * forwards everything (watches stream through) except one chosen request,
 * which it holds: never forwarded, never answered. The test waits until the
 * operator has sent it, kills the operator process (SIGKILL), and the held
 * request is dropped with the process's connection. So the API never sees
 * that write, exactly as if the process had died the instant before it: the
 * crash windows between a BMC side effect and its record, hit every time.
 *
 * ```ts
 * const proxy = await startFaultProxy(stack.api.url);
 * const operator = await startOperatorProcess(stack, { apiUrl: proxy.url });
 * const hold = proxy.hold({
 *   method: "PATCH",
 *   path: `/apis/metal3.io/v1alpha1/namespaces/${ns}/baremetalhostserviceindicators/locate/status`,
 *   body: (patch) => patch.status?.on === true,
 * });
 * await patchTheSpec();
 * await hold.held;      // the operator switched the light and is writing that down
 * await operator.kill(); // SIGKILL
 * await hold.dropped;   // the write never reached the API
 * ```
 *
 * @module
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Which request to hold: the first one that matches all of it. */
export interface HoldRule {
  /** The HTTP method, as `PATCH`. */
  method: string;
  /** The URL's path without the query: equal to this string, or matched by this expression. */
  path: string | RegExp;
  /**
   * Takes the body parsed as JSON (undefined when it is empty or not JSON);
   * a request it refuses is forwarded, and the rule keeps waiting.
   */
  body?: (body: any) => boolean;
  /**
   * How long `held` waits for a matching request before it rejects, naming
   * the rule, so a regression that never sends the write fails the test
   * instead of hanging it. @default 60_000
   */
  timeoutMs?: number;
}

/** A request the proxy held. */
export interface HeldRequest {
  method: string;
  /** The URL's path and query. */
  url: string;
  /** The body as sent. */
  body: string;
}

/** One rule's hold. */
export interface Hold {
  /** Settles once a request that matches the rule is held (it is never forwarded). */
  held: Promise<HeldRequest>;
  /** Settles once the client that sent the held request has gone (killed) and the request is dropped. */
  dropped: Promise<void>;
  /** Whether a request has been held. */
  readonly isHeld: boolean;
}

/** A running proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`, to use as the API server's address. */
  url: string;
  /** Holds the next request that matches `rule`; every other request is forwarded. */
  hold(rule: HoldRule): Hold;
  /** Requests forwarded so far, as `METHOD path` (no query), in arrival order. */
  readonly forwarded: readonly string[];
  close(): Promise<void>;
}

interface PendingHold {
  rule: HoldRule;
  onHeld: (request: HeldRequest) => void;
  onDropped: () => void;
  hold: { isHeld: boolean };
}

/** Starts a proxy that forwards every request to `upstream` (the emulator's URL) but those it is told to hold. */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const pending: PendingHold[] = [];
  const forwarded: string[] = [];
  const heldResponses = new Set<ServerResponse>();

  const candidates = (method: string, path: string) =>
    pending.filter(({ rule }) =>
      rule.method.toUpperCase() === method && (typeof rule.path === "string" ? rule.path === path : rule.path.test(path)),
    );

  const forward = (incoming: IncomingMessage, outgoing: ServerResponse, body?: Buffer) => {
    const url = incoming.url ?? "/";
    forwarded.push(`${incoming.method} ${url.split("?")[0]}`);
    const upstreamRequest = request(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: url,
        headers: { ...incoming.headers, host: target.host },
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    upstreamRequest.on("error", () => outgoing.destroy());
    // The client went away (a watch stopped, the process died): stop the upstream request too.
    outgoing.on("close", () => {
      if (!outgoing.writableFinished) upstreamRequest.destroy();
    });
    if (body === undefined) incoming.pipe(upstreamRequest);
    else upstreamRequest.end(body);
  };

  const server = createServer((incoming, outgoing) => {
    const method = (incoming.method ?? "GET").toUpperCase();
    const url = incoming.url ?? "/";
    const path = url.split("?")[0]!;
    if (candidates(method, path).length === 0) {
      forward(incoming, outgoing);
      return;
    }
    // A candidate: read the whole body to ask the rules, then hold it or forward it as it was.
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("error", () => outgoing.destroy());
    incoming.on("end", () => {
      const raw = Buffer.concat(chunks);
      const text = raw.toString("utf8");
      let parsed: unknown;
      try {
        parsed = text === "" ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      // Rules may have been taken by another request while this body arrived.
      const match = candidates(method, path).find(({ rule }) => !rule.body || rule.body(parsed));
      if (!match) {
        forward(incoming, outgoing, raw);
        return;
      }
      pending.splice(pending.indexOf(match), 1);
      match.hold.isHeld = true;
      heldResponses.add(outgoing);
      outgoing.on("close", () => {
        heldResponses.delete(outgoing);
        match.onDropped();
      });
      match.onHeld({ method, url, body: text });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    forwarded,
    hold(rule) {
      const state = { isHeld: false };
      let onHeld!: (request: HeldRequest) => void;
      let onDropped!: () => void;
      const timeoutMs = rule.timeoutMs ?? 60_000;
      const held = new Promise<HeldRequest>((resolve, reject) => {
        const timer = setTimeout(() => {
          const at = pending.findIndex((p) => p.rule === rule);
          if (at >= 0) pending.splice(at, 1);
          reject(new Error(`no ${rule.method} ${String(rule.path)} matching the hold rule arrived within ${timeoutMs} ms`));
        }, timeoutMs);
        timer.unref();
        onHeld = (request) => {
          clearTimeout(timer);
          resolve(request);
        };
      });
      // Handled here too: a hold nobody waits on may time out without failing the process.
      held.catch(() => {});
      const dropped = new Promise<void>((resolve) => (onDropped = resolve));
      pending.push({ rule, onHeld, onDropped, hold: state });
      return {
        held,
        dropped,
        get isHeld() {
          return state.isHeld;
        },
      };
    },
    async close() {
      pending.length = 0;
      for (const response of heldResponses) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

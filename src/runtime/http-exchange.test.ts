import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Agent } from "./http-dispatch.ts";
import { exchange, ResponseTooLargeError } from "./http-exchange.ts";

/** Routes of the test server; each answers as its name says. */
const routes: Record<string, (req: IncomingMessage, res: ServerResponse, body: string) => void> = {
  "/echo": (req, res, body) => {
    const text = JSON.stringify({ method: req.method, body, type: req.headers["content-type"] });
    res.writeHead(201, { "content-type": "application/json", etag: '"e1"' }).end(text);
  },
  "/empty": (_req, res) => res.writeHead(204).end(),
  "/chunked": (_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.write("é".repeat(1000)); // two bytes each: a character split across chunks must survive
    setImmediate(() => res.end("end"));
  },
  "/declared-large": (_req, res) => res.writeHead(200, { "content-length": "5000" }).end("x".repeat(5000)),
  "/streamed-large": (_req, res) => {
    res.writeHead(200);
    res.write("x".repeat(600));
    setImmediate(() => res.end("x".repeat(600)));
  },
  "/hang": () => {
    // never answers: the caller's signal or timeout ends it
  },
  "/reset": (req) => req.socket.destroy(),
};

describe("exchange", () => {
  let server: Server;
  let origin: string;
  let agent: InstanceType<typeof Agent>;
  const hanging = new Set<ServerResponse>();

  before(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (body += chunk));
      req.on("end", () => {
        if (req.url === "/hang") hanging.add(res);
        const route = routes[req.url ?? ""];
        if (route === undefined) res.writeHead(404).end();
        else route(req, res, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    agent = new Agent({ connections: 2 });
  });

  after(async () => {
    for (const res of hanging) res.destroy();
    await agent.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("sends the body and resolves with the status, headers and whole body", async () => {
    const response = await exchange(agent, {
      origin,
      path: "/echo",
      method: "PATCH",
      headers: { "content-type": "application/merge-patch+json" },
      body: '{"a":1}',
    });
    assert.equal(response.statusCode, 201);
    assert.equal(response.headers.etag, '"e1"');
    assert.deepEqual(JSON.parse(response.body), { method: "PATCH", body: '{"a":1}', type: "application/merge-patch+json" });
  });

  it("gives an empty body as an empty text", async () => {
    const response = await exchange(agent, { origin, path: "/empty", method: "DELETE" });
    assert.deepEqual([response.statusCode, response.body], [204, ""]);
  });

  it("joins a body that came in several chunks, multi-byte characters included", async () => {
    const response = await exchange(agent, { origin, path: "/chunked", method: "GET" });
    assert.equal(response.body, `${"é".repeat(1000)}end`);
  });

  it("rejects a body declared larger than the limit, naming the limit", async () => {
    await assert.rejects(
      exchange(agent, { origin, path: "/declared-large", method: "GET" }, 1000),
      (error: unknown) => error instanceof ResponseTooLargeError && error.limit === 1000 && /larger than 1000 bytes/.test(error.message),
    );
  });

  it("rejects a body of no declared length once it passes the limit", async () => {
    await assert.rejects(exchange(agent, { origin, path: "/streamed-large", method: "GET" }, 1000), ResponseTooLargeError);
    // The connection dropped at the limit is not reused half-read: the next exchange is whole.
    assert.equal((await exchange(agent, { origin, path: "/empty", method: "GET" })).statusCode, 204);
  });

  it("rejects with the signal's reason, aborted before or while waiting", async () => {
    const early = new AbortController();
    early.abort(new Error("aborted before"));
    await assert.rejects(exchange(agent, { origin, path: "/echo", method: "GET", signal: early.signal }), /aborted before/);

    const late = new AbortController();
    const pending = exchange(agent, { origin, path: "/hang", method: "GET", signal: late.signal });
    // Aborted once the server holds the request, not before it arrived.
    for (let i = 0; i < 1000 && hanging.size === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(hanging.size, 1, "the server never got the request");
    late.abort(new Error("aborted while waiting"));
    await assert.rejects(pending, /aborted while waiting/);
  });

  it("rejects with undici's timeout code when the headers do not come in time", async () => {
    await assert.rejects(
      exchange(agent, { origin, path: "/hang", method: "GET", headersTimeout: 50 }),
      (error: unknown) => (error as { code?: string }).code === "UND_ERR_HEADERS_TIMEOUT",
    );
  });

  it("rejects with the socket's error when the server drops the connection", async () => {
    await assert.rejects(
      exchange(agent, { origin, path: "/reset", method: "GET" }),
      (error: unknown) => (error as { code?: string }).code === "UND_ERR_SOCKET",
    );
  });
});

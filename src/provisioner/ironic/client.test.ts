/**
 * The Ironic client's HTTP behaviour against a scripted server on 127.0.0.1:
 * what real Ironic cannot be made to do on demand (503, a lock held for a
 * given number of tries, a changed version range, a hung answer, a restart
 * between two requests on one kept-alive connection). Everything else is
 * proven against real Ironic in test/ironic/.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { IronicClient } from "./client.ts";
import { IronicError } from "./errors.ts";

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

type Handler = (req: Seen, res: ServerResponse) => void;

function ironicFault(res: ServerResponse, status: number, faultstring: string): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ error_message: JSON.stringify({ faultcode: "Client", faultstring, debuginfo: null }) }));
}

function versions(res: ServerResponse, min = "1.1", max = "1.82"): void {
  res.writeHead(200, {
    "Content-Type": "application/json",
    "X-OpenStack-Ironic-API-Minimum-Version": min,
    "X-OpenStack-Ironic-API-Maximum-Version": max,
  });
  res.end(JSON.stringify({ id: "v1" }));
}

describe("IronicClient over HTTP", () => {
  let server: Server;
  let endpoint: string;
  let seen: Seen[] = [];
  let handler: Handler = () => undefined;
  /** Drops, unanswered, the next request that arrives on an already used connection. */
  let dropNextReused = false;
  const usedSockets = new WeakSet<object>();

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const entry = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() };
        seen.push(entry);
        const reused = usedSockets.has(req.socket);
        usedSockets.add(req.socket);
        if (reused && dropNextReused) {
          dropNextReused = false;
          req.socket.destroy();
          return;
        }
        if (entry.url === "/v1" && entry.method === "GET") versions(res);
        else handler(entry, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen = [];
  });

  const client = (extra: Partial<ConstructorParameters<typeof IronicClient>[0]> = {}): IronicClient =>
    new IronicClient({ endpoint, retry: { initialDelayMs: 1, maxDelayMs: 2 }, ...extra });

  it("negotiates once and sends the version on every request, with Basic auth", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ state: "ON" }));
    };
    const ironic = client({ username: "op", password: "ironic-pass-7" });
    try {
      assert.equal(await ironic.getIndicatorState("n1", "a:b@disk"), "on", "states come back lowercase");
      await ironic.getIndicatorState("n1", "x@system");
    } finally {
      ironic.close();
    }
    assert.deepEqual(seen.map((s) => `${s.method} ${s.url}`), [
      "GET /v1",
      "GET /v1/nodes/n1/management/indicators/a:b@disk",
      "GET /v1/nodes/n1/management/indicators/x@system",
    ]);
    for (const s of seen.slice(1)) assert.equal(s.headers["x-openstack-ironic-api-version"], "1.82");
    assert.equal(seen[1]?.headers.authorization, `Basic ${Buffer.from("op:ironic-pass-7").toString("base64")}`);
  });

  it("sends get_subscription as a GET with a JSON body", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ Id: "7", Destination: "http://d/e", Context: "c", Protocol: "Redfish", EventTypes: ["Alert"] }));
    };
    const ironic = client();
    try {
      const got = await ironic.getSubscription("n1", "7");
      assert.deepEqual(got, { id: "7", destination: "http://d/e", context: "c", protocol: "Redfish", eventTypes: ["Alert"] });
    } finally {
      ironic.close();
    }
    const request = seen.at(-1)!;
    assert.equal(request.method, "GET");
    assert.equal(request.url, "/v1/nodes/n1/vendor_passthru?method=get_subscription");
    assert.deepEqual(JSON.parse(request.body), { id: "7" });
    assert.equal(request.headers["content-type"], "application/json");
  });

  it("retries 409 NodeLocked and 503 with backoff, then succeeds", async () => {
    let calls = 0;
    handler = (_req, res) => {
      calls++;
      if (calls === 1) ironicFault(res, 409, "Node n1 is locked by host c1, please retry after the current operation is completed.");
      else if (calls === 2) ironicFault(res, 503, "No free conductor workers available");
      else {
        res.writeHead(204);
        res.end();
      }
    };
    const ironic = client();
    try {
      await ironic.setIndicatorState("n1", "x@system", "blinking");
    } finally {
      ironic.close();
    }
    assert.equal(calls, 3);
    assert.deepEqual(JSON.parse(seen.at(-1)!.body), { state: "blinking" });
  });

  it("gives up after the configured attempts with Ironic's decoded words", async () => {
    handler = (_req, res) => ironicFault(res, 409, "Node n1 is locked by host c1, please retry after the current operation is completed.");
    const ironic = client({ retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 1 } });
    try {
      await assert.rejects(ironic.getIndicatorState("n1", "x@system"), (error: unknown) => {
        assert.ok(error instanceof IronicError);
        assert.equal(error.status, 409);
        assert.equal(error.nodeLocked, true);
        assert.match(error.message, /^Ironic GET \/v1\/nodes\/n1\/management\/indicators\/x@system failed \(409\): Node n1 is locked/);
        return true;
      });
    } finally {
      ironic.close();
    }
    assert.equal(seen.filter((s) => s.url !== "/v1").length, 3);
  });

  it("does not retry a 409 that is not a lock", async () => {
    handler = (_req, res) => ironicFault(res, 409, "A node with name ns~h already exists.");
    const ironic = client();
    try {
      await assert.rejects(ironic.createNode({ name: "ns~h", driver: "redfish", driver_info: {} }), /already exists/);
    } finally {
      ironic.close();
    }
    assert.equal(seen.filter((s) => s.url === "/v1/nodes").length, 1);
  });

  it("negotiates again once when the server answers 406", async () => {
    let calls = 0;
    handler = (_req, res) => {
      calls++;
      if (calls === 1) ironicFault(res, 406, "Version 1.82 was requested but the maximum is 1.70");
      else {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ indicators: [] }));
      }
    };
    const ironic = client();
    try {
      assert.deepEqual(await ironic.listIndicators("n1"), []);
    } finally {
      ironic.close();
    }
    assert.deepEqual(seen.map((s) => s.url.split("?")[0]), ["/v1", "/v1/nodes/n1/management/indicators", "/v1", "/v1/nodes/n1/management/indicators"]);
  });

  it("removes the client's password and the header values from errors", async () => {
    handler = (req, res) =>
      ironicFault(res, 500, `Failed. Subscription payload: ${req.body}. Auth was ironic-pass-7.`);
    const ironic = client({ username: "op", password: "ironic-pass-7" });
    try {
      await assert.rejects(
        ironic.createSubscription("n1", { destination: "http://d/e", context: "", httpHeaders: { "X-Token": "tok-secret-1" } }),
        (error: Error) => {
          assert.ok(!error.message.includes("tok-secret-1"), error.message);
          assert.ok(!error.message.includes("ironic-pass-7"), error.message);
          assert.match(error.message, /"Destination":"http:\/\/d\/e"/);
          return true;
        },
      );
    } finally {
      ironic.close();
    }
    const body = JSON.parse(seen.at(-1)!.body) as Record<string, unknown>;
    assert.deepEqual(body, { Destination: "http://d/e", HttpHeaders: [{ "X-Token": "tok-secret-1" }] }, "no Context when empty, never EventTypes");
  });

  it("times out a request that gets no answer, and stops at once on abort", async () => {
    let arrived: () => void = () => undefined;
    handler = () => arrived(); // never answers; says it got the request
    const ironic = client({ timeoutMs: 200 });
    try {
      await assert.rejects(ironic.listIndicators("n1"), (error: unknown) => {
        assert.ok(error instanceof IronicError);
        assert.equal(error.failure, "timeout");
        assert.match(error.message, /no answer within 200 ms/);
        return true;
      });
      const controller = new AbortController();
      const received = new Promise<void>((resolve) => (arrived = resolve));
      const pending = ironic.listIndicators("n1", { signal: controller.signal });
      // Aborted while the request is out (the server has it), not before it is sent.
      await received;
      controller.abort(new Error("stopped by test"));
      await assert.rejects(pending, /stopped by test/);
    } finally {
      ironic.close();
    }
  });

  it("sends a GET again on a fresh connection when the kept-alive one was closed by the server", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ indicators: [] }));
    };
    const ironic = client();
    try {
      await ironic.listIndicators("n1");
      // As when Ironic restarted: the kept-alive connection dies under the next request.
      dropNextReused = true;
      assert.deepEqual(await ironic.listIndicators("n1"), []);
      assert.equal(dropNextReused, false, "the server dropped a request on the reused connection");
      assert.equal(seen.filter((s) => s.url.endsWith("/indicators")).length, 3, "sent once, dropped, sent again");
      // A POST is not sent again: whether it took effect cannot be known.
      dropNextReused = true;
      await assert.rejects(
        ironic.createNode({ name: "n2", driver: "redfish", driver_info: {} }),
        (error: unknown) => error instanceof IronicError && error.failure === "connection",
      );
      assert.equal(seen.filter((s) => s.url === "/v1/nodes").length, 1);
    } finally {
      ironic.close();
    }
  });

  it("lets one caller's abort stop only that caller while the version is negotiated", async () => {
    let answerVersions: () => void = () => undefined;
    let versionAsked: () => void = () => undefined;
    const asked = new Promise<void>((resolve) => (versionAsked = resolve));
    const slow = createServer((req, res) => {
      if (req.url === "/v1") {
        answerVersions = () => versions(res);
        versionAsked();
      } else {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ indicators: [] }));
      }
    });
    await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
    const ironic = new IronicClient({ endpoint: `http://127.0.0.1:${(slow.address() as AddressInfo).port}` });
    try {
      const controller = new AbortController();
      const aborted = ironic.listIndicators("n1", { signal: controller.signal });
      const patient = ironic.listIndicators("n1");
      // Both wait for the version negotiation, which the server holds.
      await asked;
      controller.abort(new Error("first caller gave up"));
      await assert.rejects(aborted, /first caller gave up/);
      answerVersions();
      assert.deepEqual(await patient, []);
    } finally {
      ironic.close();
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });

  it("reports a connection failure as such, naming the request", async () => {
    const ironic = new IronicClient({ endpoint: "http://127.0.0.1:1" });
    try {
      await assert.rejects(ironic.getNode("n1"), (error: unknown) => {
        assert.ok(error instanceof IronicError);
        assert.equal(error.failure, "connection");
        assert.match(error.message, /^Ironic GET \/v1 failed \(connection\): .*ECONNREFUSED/);
        return true;
      });
    } finally {
      ironic.close();
    }
  });
});

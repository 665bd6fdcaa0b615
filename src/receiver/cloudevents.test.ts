import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { describe, it } from "node:test";
import { CloudEventForwarder, type ForwardedEvent, sinkUrls } from "./cloudevents.ts";

async function server(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const s = createServer(handler);
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(s.address() as { port: number }).port}/sink`,
    close: () => new Promise<void>((resolve) => { s.closeAllConnections(); s.close(() => resolve()); }),
  };
}

const event = (k: number): ForwardedEvent => ({
  namespace: "ns",
  host: "h",
  id: `e-${k}`,
  record: { messageId: "Base.1.0.Test", message: `m${k}`, severity: "OK", raw: { MessageId: "Base.1.0.Test", Message: `m${k}` } },
});

describe("CloudEventForwarder", () => {
  it("retries a failing POST with backoff until the sink takes it", async () => {
    let calls = 0;
    const sink = await server((req, res) => {
      calls++;
      req.resume();
      res.writeHead(calls < 3 ? 503 : 200).end();
    });
    const results: string[] = [];
    const forwarder = new CloudEventForwarder({ sinksOf: () => [sink.url], retryDelayMs: 1, onResult: (_ns, r) => results.push(r) });
    forwarder.forward(event(1));
    await forwarder.idle();
    assert.equal(calls, 3);
    assert.deepEqual(results, ["delivered"]);
    await forwarder.close();
    await sink.close();
  });

  it("keeps at most maxQueued events per sink, dropping the oldest, while one is in flight", async () => {
    const held: ServerResponse[] = [];
    const sink = await server((req, res) => {
      req.resume();
      held.push(res);
    });
    const results: string[] = [];
    const forwarder = new CloudEventForwarder({ sinksOf: () => [sink.url], maxQueued: 3, retries: 0, onResult: (_ns, r) => results.push(r) });
    for (let k = 0; k < 10; k++) forwarder.forward(event(k));
    assert.deepEqual(results, Array(6).fill("dropped"));
    await forwarder.close();
    for (const res of held) res.end();
    await sink.close();
  });

  it("reads sinks one a line, skipping comments and refusing other schemes", () => {
    assert.deepEqual(sinkUrls({ data: { sinks: "http://a/x\n# comment\n\nhttps://b\nftp://c\n" } }), { urls: ["http://a/x", "https://b"], invalid: ["ftp://c"] });
  });
});

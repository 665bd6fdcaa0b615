import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeEvent, startEventSink } from "./index.ts";

describe("event sink", () => {
  it("records a Redfish Event delivery with its context, headers and message IDs", async (t) => {
    const sink = await startEventSink();
    t.after(() => sink.close());
    const waiting = sink.waitFor((e) => e.context === "ctx-1", 2000);
    const response = await fetch(`${sink.url}/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-token": "abc-secret-token" },
      body: JSON.stringify({
        "@odata.type": "#Event.v1_7_0.Event",
        Id: "1",
        Name: "Event Array",
        Context: "ctx-1",
        Events: [{ EventType: "Alert", MessageId: "Base.1.0.Test", MemberId: "0", Message: "hello" }],
      }),
    });
    assert.equal(response.status, 200);
    const event = await waiting;
    assert.equal(event.path, "/webhook");
    assert.equal(event.headers["x-token"], "abc-secret-token");
    assert.deepEqual(event.messageIds, ["Base.1.0.Test"]);
    const line = describeEvent(event, ["X-Token"]);
    assert.match(line, /context="ctx-1" headers=\{X-Token: abc-… \(16 chars\)\} Base\.1\.0\.Test "hello"/);
    assert.ok(!line.includes("secret-token"), line);
  });

  it("answers with the configured status, for retry tests", async (t) => {
    const sink = await startEventSink({ status: 503 });
    t.after(() => sink.close());
    const first = await fetch(`${sink.url}/e`, { method: "POST", body: "{}" });
    assert.equal(first.status, 503);
    sink.respondWith(200);
    const second = await fetch(`${sink.url}/e`, { method: "POST", body: "{}" });
    assert.equal(second.status, 200);
    assert.equal(sink.events.length, 2);
  });

  it("rejects waitFor after the timeout when nothing matches", async (t) => {
    const sink = await startEventSink();
    t.after(() => sink.close());
    await assert.rejects(sink.waitFor(() => false, 50), /No matching event arrived at the sink within 50 ms/);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeEvent, KubeObject } from "../runtime/index.ts";
import { EventSeriesWriter } from "./event-series.ts";

/** An API that records writes, and can hold them to show that repeats wait. */
function fakeApi() {
  const writes: { kind: "create" | "patch"; name: string; body: unknown }[] = [];
  const events = new Map<string, KubeEvent>();
  return {
    writes,
    events,
    client: {
      create: (_r: unknown, object: KubeObject) => {
        writes.push({ kind: "create", name: object.metadata!.name!, body: object });
        events.set(object.metadata!.name!, structuredClone(object) as KubeEvent);
        return Promise.resolve(object);
      },
      patch: (_r: unknown, ref: { name: string }, patch: { series?: KubeEvent["series"] }) => {
        writes.push({ kind: "patch", name: ref.name, body: patch });
        const event = events.get(ref.name)!;
        event.series = patch.series;
        return Promise.resolve(event);
      },
    } as never,
  };
}

const host = (name: string): KubeObject => ({ apiVersion: "metal3.io/v1alpha1", kind: "BareMetalHost", metadata: { name, namespace: "ns", uid: `uid-${name}` } });
const info = (reason: string) => ({ type: "Warning" as const, reason, action: "ReceiveBMCEvent", note: `note of ${reason}` });

describe("EventSeriesWriter", () => {
  it("writes a burst of one event as one create and one patch of its count", async () => {
    const api = fakeApi();
    const writer = new EventSeriesWriter({ client: api.client, reportingController: "c", reportingInstance: "i", flushIntervalMs: 60_000 });
    for (let i = 0; i < 1000; i++) writer.record(host("h"), info("DriveFailure"));
    await writer.flush();
    assert.deepEqual(api.writes.map((w) => w.kind), ["create", "patch"]);
    assert.equal([...api.events.values()][0]!.series?.count, 1000);
  });

  it("folds events beyond maxSeriesPerHost into one storm series of the host", async () => {
    const api = fakeApi();
    const writer = new EventSeriesWriter({ client: api.client, reportingController: "c", reportingInstance: "i", flushIntervalMs: 60_000, maxSeriesPerHost: 4 });
    for (let round = 0; round < 5; round++) for (let m = 0; m < 10; m++) writer.record(host("h"), info(`Message${m}`));
    await writer.flush();
    const reasons = [...api.events.values()].map((e) => e.reason).sort();
    assert.deepEqual(reasons, ["BMCEventStorm", "Message0", "Message1", "Message2", "Message3"]);
    const storm = [...api.events.values()].find((e) => e.reason === "BMCEventStorm")!;
    assert.equal(storm.series?.count, 30);
    // 5 series, each at most one create and one patch.
    assert.ok(api.writes.length <= 10, `${api.writes.length} writes`);
  });

  it("costs at most 2 writes per host for a 1,000-event storm over 100 hosts", async () => {
    const api = fakeApi();
    const writer = new EventSeriesWriter({ client: api.client, reportingController: "c", reportingInstance: "i", flushIntervalMs: 60_000 });
    for (let i = 0; i < 1000; i++) writer.record(host(`h${i % 100}`), info("DriveFailure"));
    await writer.flush();
    assert.equal(api.writes.filter((w) => w.kind === "create").length, 100);
    assert.ok(api.writes.length <= 200);
    assert.ok([...api.events.values()].every((e) => e.series?.count === 10));
  });

  it("cuts long notes to 1 kB", async () => {
    const api = fakeApi();
    const writer = new EventSeriesWriter({ client: api.client, reportingController: "c", reportingInstance: "i" });
    writer.record(host("h"), { ...info("Long"), note: "x".repeat(5000) });
    await writer.flush();
    assert.equal([...api.events.values()][0]!.note!.length, 1024);
  });
});

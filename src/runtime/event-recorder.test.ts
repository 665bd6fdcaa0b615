import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { ApiError } from "./api-error.ts";
import { FakeClock, settle } from "./clock.ts";
import { type EventSink, EventRecorder, type EventRecorderOptions } from "./event-recorder.ts";
import type { KubeEvent, KubeObject } from "./resource.ts";

class FakeSink {
  created: KubeEvent[] = [];
  patches: { name: string; body: unknown }[] = [];
  fail: Error | undefined;
  patchFail: Error | undefined;
  pending: (() => void) | undefined;
  hold = false;

  get sink(): EventSink {
    return {
      create: async (_r: unknown, event: KubeEvent) => {
        if (this.hold) await new Promise<void>((resolve) => (this.pending = resolve));
        if (this.fail) throw this.fail;
        this.created.push(structuredClone(event));
        return event;
      },
      patch: (_r: unknown, ref: { name: string }, body: unknown) => {
        if (this.fail) return Promise.reject(this.fail);
        if (this.patchFail) return Promise.reject(this.patchFail);
        this.patches.push({ name: ref.name, body: structuredClone(body) });
        return Promise.resolve({});
      },
    } as unknown as EventSink;
  }
}

const sub: KubeObject = {
  apiVersion: "metal3.io/v1alpha1",
  kind: "BMCEventSubscription",
  metadata: { namespace: "metal3", name: "sub-1", uid: "u-1", resourceVersion: "7" },
};

function setup(options: Partial<EventRecorderOptions> = {}) {
  const clock = new FakeClock();
  const fake = new FakeSink();
  const registry = new Registry();
  const recorder = new EventRecorder({ sink: fake.sink, reportingController: "metal3.io/test", reportingInstance: "pod-0", clock, registry, ...options });
  return { clock, fake, recorder, registry };
}

describe("EventRecorder", () => {
  it("creates an events.k8s.io/v1 Event with every field", async () => {
    const { fake, recorder, clock } = setup();
    const host: KubeObject = { apiVersion: "metal3.io/v1alpha1", kind: "BareMetalHost", metadata: { namespace: "metal3", name: "node-0" } };
    recorder.event(sub, { type: "Normal", reason: "SubscriptionCreated", action: "CreateSubscription", note: "BMC subscription 42 created", related: host });
    await recorder.flush();
    assert.equal(fake.created.length, 1);
    const e = fake.created[0]!;
    assert.equal(e.apiVersion, "events.k8s.io/v1");
    assert.equal(e.metadata?.namespace, "metal3");
    assert.match(e.metadata.name!, /^sub-1\.[0-9a-f]+$/);
    assert.equal(e.eventTime, new Date(clock.now()).toISOString().replace("Z", "000Z"));
    assert.deepEqual(e.regarding, { apiVersion: "metal3.io/v1alpha1", kind: "BMCEventSubscription", namespace: "metal3", name: "sub-1", uid: "u-1", resourceVersion: "7" });
    assert.deepEqual(e.related, { apiVersion: "metal3.io/v1alpha1", kind: "BareMetalHost", namespace: "metal3", name: "node-0" });
    assert.equal(e.reportingController, "metal3.io/test");
    assert.equal(e.reportingInstance, "pod-0");
    assert.equal(e.type, "Normal");
    assert.equal(e.reason, "SubscriptionCreated");
    assert.equal(e.action, "CreateSubscription");
    assert.equal(e.note, "BMC subscription 42 created");
    assert.equal(e.series, undefined);
  });

  it("aggregates repeats within the window into the series of the first Event", async () => {
    const { fake, recorder, clock, registry } = setup();
    const warn = { type: "Warning", reason: "SubscriptionFailed", action: "CreateSubscription", note: "BMC answered 503" } as const;
    recorder.event(sub, warn);
    await recorder.flush();
    await clock.advance(1000);
    recorder.event(sub, warn);
    await clock.advance(1000);
    recorder.event(sub, warn);
    await recorder.flush();
    assert.equal(fake.created.length, 1);
    assert.deepEqual(fake.patches.at(-1), { name: fake.created[0]!.metadata!.name, body: { series: { count: 3, lastObservedTime: new Date(clock.now()).toISOString().replace("Z", "000Z") } } });
    recorder.event(sub, { ...warn, note: "BMC answered 500" });
    await recorder.flush();
    assert.equal(fake.created.length, 2, "a different note is a different Event");
    await clock.advance(360_001);
    recorder.event(sub, warn);
    await recorder.flush();
    assert.equal(fake.created.length, 3, "after the window a new Event starts");
    assert.match(await registry.metrics(), /event_recorder_events_total\{controller="metal3.io\/test",result="aggregated"\} 2/);
  });

  it("creates an aggregated Event again, as first recorded, when it expired before its series was patched", async () => {
    const { fake, recorder, clock } = setup();
    const warn = { type: "Warning", reason: "SubscriptionFailed", action: "CreateSubscription", note: "BMC answered 503" } as const;
    recorder.event(sub, warn);
    await recorder.flush();
    const first = fake.created[0]!;
    await clock.advance(1000);
    // The API server dropped the Event meanwhile (its TTL): the patch of the series finds nothing.
    fake.patchFail = new ApiError("PATCH", "/events", { code: 404, reason: "NotFound" });
    recorder.event(sub, warn);
    await recorder.flush();
    assert.equal(fake.created.length, 2);
    const again = fake.created[1]!;
    assert.equal(again.metadata!.name, first.metadata!.name, "the series' name");
    assert.equal(again.eventTime, first.eventTime, "first seen when it was first recorded");
    assert.deepEqual({ ...again, metadata: undefined, series: undefined }, { ...first, metadata: undefined, series: undefined });
    assert.deepEqual(again.series, { count: 2, lastObservedTime: new Date(clock.now()).toISOString().replace("Z", "000Z") });
  });

  it("remembers at most maxSeries series, forgetting the least recently seen", async () => {
    const { fake, recorder } = setup({ maxSeries: 2 });
    const note = (n: number) => ({ type: "Normal", reason: "Seen", action: "Look", note: `note ${n}` }) as const;
    recorder.event(sub, note(1));
    recorder.event(sub, note(2));
    await recorder.flush();
    recorder.event(sub, note(1)); // seen again: now the most recent
    recorder.event(sub, note(3)); // a third series: note 2's goes
    await recorder.flush();
    assert.equal(fake.created.length, 3);
    recorder.event(sub, note(1));
    recorder.event(sub, note(2));
    await recorder.flush();
    assert.deepEqual(
      fake.created.map((e) => e.note),
      ["note 1", "note 2", "note 3", "note 2"],
      "note 1 stayed in its series; note 2 was forgotten and starts a new Event",
    );
    assert.equal(fake.patches.length, 2, "note 1's two repeats patched its series");
  });

  it("coalesces repeats that arrive while the write is pending into one write", async () => {
    const { fake, recorder } = setup();
    fake.hold = true;
    const info = { type: "Normal", reason: "Reconciled", action: "Reconcile" } as const;
    recorder.event(sub, info);
    await settle();
    for (let i = 0; i < 10; i++) recorder.event(sub, info);
    fake.hold = false;
    fake.pending?.();
    await recorder.flush();
    assert.equal(fake.created.length, 1);
    assert.equal(fake.patches.length, 1);
    assert.deepEqual((fake.patches[0]!.body as KubeEvent).series?.count, 11);
  });

  it("passes notes through the redaction hook and cuts them at 1 kB", async () => {
    const { fake, recorder } = setup({ redact: (note) => note.replaceAll("s3cr3t", "[REDACTED]") });
    recorder.event(sub, { type: "Warning", reason: "Failed", action: "Subscribe", note: "header X-Token: s3cr3t rejected" });
    recorder.event(sub, { type: "Warning", reason: "Long", action: "Subscribe", note: "x".repeat(5000) });
    await recorder.flush();
    assert.equal(fake.created[0]!.note, "header X-Token: [REDACTED] rejected");
    assert.equal(fake.created[1]!.note!.length, 1024);
  });

  it("removes URLs' user information from every note, with or without a redaction hook", async () => {
    const { fake, recorder } = setup();
    recorder.event(sub, { type: "Warning", reason: "Failed", action: "Subscribe", note: "BMC refused https://hook:Pa55-w0rd@events.example.com/x" });
    await recorder.flush();
    assert.equal(fake.created[0]!.note, "BMC refused https://[redacted]@events.example.com/x");
  });

  it("never throws or blocks: bad arguments and failed writes are logged and counted", async () => {
    const { fake, recorder, registry } = setup();
    recorder.event(sub, { type: "Oops" as "Normal", reason: "X", action: "Y" });
    recorder.event(sub, { type: "Normal", reason: "not camel", action: "Y" });
    fake.fail = new ApiError("POST", "/events", { code: 403, reason: "Forbidden" });
    recorder.event(sub, { type: "Normal", reason: "Fine", action: "Do" });
    await recorder.flush();
    const text = await registry.metrics();
    assert.match(text, /result="dropped"\} 2/);
    assert.match(text, /result="failed"\} 1/);
  });

  it("gives Events recorded in the same instant by two recorders different names, and renames on AlreadyExists", async () => {
    const { fake, recorder, clock } = setup();
    const other = new EventRecorder({ sink: fake.sink, reportingController: "metal3.io/other", reportingInstance: "pod-1", clock, registry: new Registry() });
    recorder.event(sub, { type: "Normal", reason: "A", action: "Do" });
    other.event(sub, { type: "Normal", reason: "B", action: "Do" });
    await Promise.all([recorder.flush(), other.flush()]);
    assert.notEqual(fake.created[0]!.metadata!.name, fake.created[1]!.metadata!.name);
    const rejected: string[] = [];
    const sink = fake.sink;
    const colliding = new EventRecorder({
      sink: {
        ...sink,
        create: (resource: never, event: KubeEvent) => {
          if (rejected.length > 0) return sink.create(resource, event);
          rejected.push(event.metadata!.name!);
          return Promise.reject(new ApiError("POST", "/events", { code: 409, reason: "AlreadyExists" }));
        },
      } as unknown as EventSink,
      reportingController: "metal3.io/third",
      reportingInstance: "pod-2",
      clock,
      registry: new Registry(),
    });
    colliding.event(sub, { type: "Normal", reason: "C", action: "Do" });
    await colliding.flush();
    assert.equal(fake.created.length, 3, "written under a second name");
    assert.notEqual(fake.created[2]!.metadata!.name, rejected[0]);
  });

  it("writes what is pending at close without the rate limit, and drops what is left after the timeout", async () => {
    const { fake, recorder, clock } = setup({ qps: 1, burst: 1 });
    for (let i = 0; i < 3; i++) recorder.event(sub, { type: "Normal", reason: `P${i}`, action: "Do" });
    await settle();
    assert.equal(fake.created.length, 1, "the bucket holds the rest back");
    const closed = recorder.close(1_000);
    await clock.advance(1000);
    await closed;
    assert.equal(fake.created.length, 3, "close wrote the pending Events at once");
    recorder.event(sub, { type: "Normal", reason: "Late", action: "Do" });
    await settle();
    assert.equal(fake.created.length, 3, "nothing is recorded after close");
  });

  it("rate-limits writes with a token bucket", async () => {
    const { fake, recorder, clock } = setup({ qps: 1, burst: 2 });
    for (let i = 0; i < 4; i++) recorder.event(sub, { type: "Normal", reason: `R${i}`, action: "Do" });
    await settle();
    assert.equal(fake.created.length, 2);
    await clock.advance(1000);
    assert.equal(fake.created.length, 3);
    await clock.advance(1000);
    assert.equal(fake.created.length, 4);
  });
});

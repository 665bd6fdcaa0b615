import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { FakeClock, settle } from "./clock.ts";
import { ItemExponentialFailureRateLimiter } from "./rate-limiter.ts";
import { WorkQueue } from "./work-queue.ts";

function newQueue(clock = new FakeClock(), registry = new Registry()) {
  return { queue: new WorkQueue({ name: "test", clock, registry }), clock, registry };
}

async function metricValue(registry: Registry, name: string): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => v.labels.name === "test" && !("le" in v.labels))?.value ?? NaN;
}

describe("WorkQueue", () => {
  it("hands keys out in order and collapses duplicate adds", async () => {
    const { queue } = newQueue();
    queue.add("ns/a");
    queue.add("ns/b");
    queue.add("ns/a");
    assert.equal(queue.length, 2);
    assert.equal(await queue.get(), "ns/a");
    assert.equal(await queue.get(), "ns/b");
    assert.equal(queue.length, 0);
  });

  it("never hands a processing key out twice, and re-delivers it once after done", async () => {
    const { queue } = newQueue();
    queue.add("ns/a");
    const key = await queue.get();
    queue.add("ns/a");
    queue.add("ns/a");
    assert.equal(queue.length, 0, "a processing key waits for done");
    let second: string | undefined;
    void queue.get().then((k) => (second = k));
    await settle();
    assert.equal(second, undefined);
    queue.done(key!);
    await settle();
    assert.equal(second, "ns/a");
    queue.done("ns/a");
    assert.equal(queue.length, 0, "the two adds during processing collapsed into one");
  });

  it("wakes a waiting worker on add", async () => {
    const { queue } = newQueue();
    const pending = queue.get();
    queue.add("x");
    assert.equal(await pending, "x");
  });

  it("delays addAfter and keeps the earliest of several delays", async () => {
    const { queue, clock } = newQueue();
    queue.addAfter("a", 1000);
    queue.addAfter("a", 300);
    queue.addAfter("a", 2000);
    await clock.advance(299);
    assert.equal(queue.length, 0);
    await clock.advance(1);
    assert.equal(queue.length, 1);
    await clock.advance(5000);
    assert.equal(queue.length, 1, "the later delays were dropped");
  });

  it("delivers thousands of delayed keys in time order through one timer, outdated delays skipped", async () => {
    const { queue, clock } = newQueue();
    // A shuffled set of delays; every third key is then added now, its delay outdated.
    const delays = Array.from({ length: 3000 }, (_, i) => ({ key: `k${i}`, ms: 1 + ((i * 7919) % 3000) * 10 }));
    for (const { key, ms } of delays) queue.addAfter(key, ms);
    assert.equal(clock.pendingTimers, 1, "one timer serves every delayed key");
    const now = new Set(delays.filter((_, i) => i % 3 === 0).map((d) => d.key));
    for (const key of now) queue.add(key);
    const delivered: string[] = [];
    for (let i = 0; i < now.size; i++) delivered.push((await queue.get())!);
    for (const key of delivered) queue.done(key);
    // Each remaining key arrives once, when its time comes, in the order of the times.
    const expected = delays.filter((d) => !now.has(d.key)).sort((a, b) => a.ms - b.ms || Number(a.key.slice(1)) - Number(b.key.slice(1)));
    let elapsed = 0;
    for (const { key, ms } of expected) {
      if (ms > elapsed) {
        await clock.advance(ms - elapsed - 1);
        assert.equal(queue.length, 0, `${key} is not due before ${ms} ms`);
        await clock.advance(1);
        elapsed = ms;
      }
      assert.equal(await queue.get(), key);
      queue.done(key);
    }
    await clock.advance(60_000);
    assert.equal(queue.length, 0, "no outdated delay came back");
    assert.equal(clock.pendingTimers, 0);

    // Churn: thousands of delays outdated by adds (the heap is rebuilt on the way); the last delay still holds.
    for (let i = 0; i < 5000; i++) {
      queue.addAfter("churn", 1000 + i);
      queue.add("churn");
      queue.done((await queue.get())!);
    }
    queue.addAfter("other", 2000);
    queue.addAfter("churn", 500);
    await clock.advance(499);
    assert.equal(queue.length, 0);
    await clock.advance(1);
    assert.equal(await queue.get(), "churn");
    queue.done("churn");
    await clock.advance(1500);
    assert.equal(await queue.get(), "other");
    queue.done("other");
    await clock.advance(10_000);
    assert.equal(queue.length, 0);
  });

  it("drops a pending delay when the key is added now, as controller-runtime's priority queue", async () => {
    const { queue, clock } = newQueue();
    queue.addAfter("a", 1000);
    queue.add("a");
    assert.equal(await queue.get(), "a");
    queue.done("a");
    await clock.advance(5000);
    assert.equal(queue.length, 0, "the delayed add did not come back after the key was processed");
  });

  it("keeps no delay for a key already due: waiting, or to be re-delivered after done", async () => {
    const { queue, clock } = newQueue();
    queue.add("a");
    queue.addAfter("a", 1000);
    assert.equal(await queue.get(), "a");
    queue.add("a"); // an event while it is processed: re-delivered after done
    queue.addAfter("a", 1000); // the running reconcile asks to be requeued later
    queue.done("a");
    assert.equal(await queue.get(), "a", "re-delivered at once");
    queue.done("a");
    await clock.advance(5000);
    assert.equal(queue.length, 0, "no later delivery: the reconcile that ran returns its own requeue");

    queue.add("b");
    assert.equal(await queue.get(), "b");
    queue.addAfter("b", 1000); // processing and not re-queued: the delay stands
    queue.done("b");
    await clock.advance(1000);
    assert.equal(queue.length, 1);
  });

  it("backs off per key with addRateLimited until forget", async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ name: "test", clock, registry: new Registry(), rateLimiter: new ItemExponentialFailureRateLimiter(10, 1000) });
    queue.addRateLimited("a");
    queue.addRateLimited("a");
    assert.equal(queue.numRequeues("a"), 2);
    await clock.advance(9);
    assert.equal(queue.length, 0);
    await clock.advance(1);
    assert.equal(queue.length, 1, "the first delay (10 ms) won");
    queue.forget("a");
    assert.equal(queue.numRequeues("a"), 0);
  });

  it("resolves waiting workers with undefined on shutdown and ignores later adds", async () => {
    const { queue, clock } = newQueue();
    const waiting = queue.get();
    queue.addAfter("late", 10);
    queue.shutDown();
    assert.equal(await waiting, undefined);
    queue.add("a");
    await clock.advance(100);
    assert.equal(queue.length, 0);
    assert.equal(await queue.get(), undefined);
    assert.equal(clock.pendingTimers, 0, "delayed adds were cancelled");
  });

  it("drains: shutDownWithDrain waits for keys being processed", async () => {
    const { queue } = newQueue();
    queue.add("a");
    queue.add("b");
    const key = await queue.get();
    let drained = false;
    const drain = queue.shutDownWithDrain().then(() => (drained = true));
    await settle();
    assert.equal(drained, false);
    assert.equal(await queue.get(), undefined, "no new work is handed out while draining");
    queue.done(key!);
    await drain;
    assert.equal(drained, true);
  });

  it("reports workqueue_* metrics with the controller-runtime names", async () => {
    const { queue, clock, registry } = newQueue();
    queue.add("a");
    queue.add("b");
    queue.add("a");
    assert.equal(await metricValue(registry, "workqueue_depth"), 2);
    assert.equal(await metricValue(registry, "workqueue_adds_total"), 2);
    await clock.advance(2000);
    const key = await queue.get();
    await clock.advance(3000);
    assert.equal(await metricValue(registry, "workqueue_unfinished_work_seconds"), 3);
    assert.equal(await metricValue(registry, "workqueue_longest_running_processor_seconds"), 3);
    queue.done(key!);
    queue.addRateLimited("c");
    assert.equal(await metricValue(registry, "workqueue_retries_total"), 1);
    const text = await registry.metrics();
    assert.match(text, /workqueue_queue_duration_seconds_sum\{name="test",controller="test"\} 2\n/);
    assert.match(text, /workqueue_work_duration_seconds_sum\{name="test",controller="test"\} 3\n/);
    queue.shutDown();
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "./clock.ts";
import { IdleCollector } from "./idle-collector.ts";

const MIB = 1024 * 1024;

/** A collector over a pretend heap: `collect` shrinks it to `live`. */
function setUp(options: { growthBytes?: number } = {}) {
  const clock = new FakeClock();
  const state = { idle: false, heap: 100 * MIB, live: 60 * MIB, collected: 0 };
  const collector = new IdleCollector({
    isIdle: () => state.idle,
    heapBytes: () => state.heap,
    collect: () => {
      state.collected++;
      state.heap = state.live;
    },
    intervalMs: 1_000,
    growthBytes: options.growthBytes ?? 32 * MIB,
    clock,
  });
  return { clock, state, collector };
}

describe("IdleCollector", () => {
  it("collects once the work has stayed idle for two looks after the heap grew", async () => {
    const { clock, state, collector } = setUp();
    collector.start();
    state.heap = 400 * MIB; // a burst
    await clock.advance(5_000);
    assert.equal(state.collected, 0, "busy: no collection");
    state.idle = true;
    await clock.advance(1_000);
    assert.equal(state.collected, 0, "idle at one look only");
    await clock.advance(1_000);
    assert.equal(state.collected, 1);
    assert.equal(state.heap, 60 * MIB);
    await clock.advance(60_000);
    assert.equal(state.collected, 1, "no growth since: no second collection");
    assert.equal(collector.collections, 1);
    collector.stop();
  });

  it("collects once at the first idle stretch after start-up, whatever the growth: start-up is a burst too", async () => {
    const { clock, state, collector } = setUp();
    collector.start();
    await clock.advance(5_000);
    assert.equal(state.collected, 0, "busy: no collection");
    state.idle = true;
    await clock.advance(2_000);
    assert.equal(state.collected, 1, "the heap did not grow, yet the first idle stretch collects");
    await clock.advance(60_000);
    assert.equal(state.collected, 1, "then only after growth");
    collector.stop();
  });

  it("does not collect while idle when the heap did not grow by growthBytes since the last collection", async () => {
    const { clock, state, collector } = setUp();
    state.idle = true;
    collector.start();
    await clock.advance(2_000);
    assert.equal(state.collected, 1, "the start-up collection");
    state.heap += 31 * MIB;
    await clock.advance(60_000);
    assert.equal(state.collected, 1);
    state.heap += 1 * MIB;
    await clock.advance(2_000);
    assert.equal(state.collected, 2);
    collector.stop();
  });

  it("counts growth from the smallest heap seen, when V8 shrank it itself", async () => {
    const { clock, state, collector } = setUp();
    state.idle = true;
    collector.start();
    await clock.advance(2_000);
    assert.equal(state.collected, 1, "the start-up collection, to 60 MiB");
    state.idle = false;
    state.heap = 50 * MIB;
    await clock.advance(1_000);
    state.heap = 84 * MIB;
    state.idle = true;
    await clock.advance(2_000);
    assert.equal(state.collected, 2, "grew 34 MiB from 50, not 24 from the 60 MiB after the collection");
    collector.stop();
  });

  it("waits for growth in proportion to the heap it left: a quarter of it, when that is more than growthBytes", async () => {
    const { clock, state, collector } = setUp({ growthBytes: 16 * MIB });
    state.live = 200 * MIB;
    state.idle = true;
    collector.start();
    await clock.advance(2_000);
    assert.equal(state.collected, 1, "the start-up collection, to 200 MiB");
    state.heap += 40 * MIB;
    await clock.advance(10_000);
    assert.equal(state.collected, 1, "40 MiB is less than a quarter of 200");
    state.heap += 10 * MIB;
    await clock.advance(2_000);
    assert.equal(state.collected, 2, "50 MiB is a quarter");
    collector.stop();
  });

  it("waits for a new idle stretch after work in between", async () => {
    const { clock, state, collector } = setUp();
    collector.start();
    state.heap = 400 * MIB;
    state.idle = true;
    await clock.advance(1_000);
    state.idle = false;
    await clock.advance(1_000);
    state.idle = true;
    await clock.advance(1_000);
    assert.equal(state.collected, 0, "idle, busy, idle: never two idle looks in a row");
    await clock.advance(1_000);
    assert.equal(state.collected, 1);
    collector.stop();
  });

  it("stops looking when stopped", async () => {
    const { clock, state, collector } = setUp();
    collector.start();
    collector.stop();
    state.heap = 400 * MIB;
    state.idle = true;
    await clock.advance(60_000);
    assert.equal(state.collected, 0);
    assert.equal(clock.pendingTimers, 0);
  });

  it("runs V8's own collection by default and rejects bad settings by name and value", async () => {
    const clock = new FakeClock();
    const collector = new IdleCollector({ isIdle: () => true, intervalMs: 1_000, growthBytes: 0, clock });
    collector.start();
    await clock.advance(2_000);
    collector.stop();
    assert.equal(collector.collections, 1);
    assert.throws(() => new IdleCollector({ isIdle: () => true, intervalMs: 0 }), /intervalMs must be positive, got 0/);
    assert.throws(() => new IdleCollector({ isIdle: () => true, growthBytes: -1 }), /growthBytes must not be negative, got -1/);
  });
});

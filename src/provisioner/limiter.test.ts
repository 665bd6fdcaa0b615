import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BmcCallLimiter } from "./limiter.ts";

/** A promise with its resolve and reject exposed. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (e: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets queued microtasks and immediates run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Tracks how many calls run at once, per key and overall. */
class Tracker {
  running = 0;
  peak = 0;
  readonly perKey = new Map<string, number>();
  readonly peakPerKey = new Map<string, number>();
  readonly started: string[] = [];

  /** A call that records itself, waits a few event-loop turns, and returns its label. */
  call(key: string, label: string, turns = 1): () => Promise<string> {
    return async () => {
      this.started.push(label);
      this.running++;
      this.peak = Math.max(this.peak, this.running);
      const n = (this.perKey.get(key) ?? 0) + 1;
      this.perKey.set(key, n);
      this.peakPerKey.set(key, Math.max(this.peakPerKey.get(key) ?? 0, n));
      for (let i = 0; i < turns; i++) await settle();
      this.running--;
      this.perKey.set(key, (this.perKey.get(key) ?? 1) - 1);
      return label;
    };
  }
}

describe("BmcCallLimiter", () => {
  it("runs one call per key at a time by default, in arrival order", async () => {
    const limiter = new BmcCallLimiter();
    const tracker = new Tracker();
    const labels = Array.from({ length: 2000 }, (_, i) => `c${i}`);
    const results = await Promise.all(labels.map((l) => limiter.run("bmc-a", tracker.call("bmc-a", l))));
    assert.deepEqual(results, labels);
    assert.deepEqual(tracker.started, labels);
    assert.equal(tracker.peak, 1);
    assert.equal(limiter.inFlight, 0);
    assert.equal(limiter.waiting, 0);
  });

  it("never exceeds the per-key or the global cap in a burst of thousands across many keys", async () => {
    const limiter = new BmcCallLimiter({ perKey: 2, global: 7 });
    const tracker = new Tracker();
    const calls: Promise<string>[] = [];
    for (let i = 0; i < 3000; i++) {
      const key = `bmc-${i % 50}`;
      calls.push(limiter.run(key, tracker.call(key, `c${i}`, 1 + (i % 3))));
    }
    assert.equal(limiter.inFlight, 7);
    assert.equal(limiter.waiting, 3000 - 7);
    const results = await Promise.all(calls);
    assert.equal(results.length, 3000);
    assert.equal(tracker.peak, 7);
    for (const [key, peak] of tracker.peakPerKey) assert.ok(peak <= 2, `${key} had ${peak} calls in flight`);
    assert.equal(limiter.inFlight, 0);
  });

  it("starts waiting calls first-come first-served across keys", async () => {
    const limiter = new BmcCallLimiter({ perKey: 1, global: 1 });
    const tracker = new Tracker();
    const order = ["a:1", "b:1", "a:2", "c:1", "b:2", "a:3"];
    await Promise.all(order.map((label) => limiter.run(label.slice(0, 1), tracker.call(label.slice(0, 1), label))));
    assert.deepEqual(tracker.started, order);
  });

  it("does not let a busy key hold up calls for other keys", async () => {
    const limiter = new BmcCallLimiter({ perKey: 1, global: 4 });
    const gate = deferred();
    const first = limiter.run("busy", () => gate.promise.then(() => "busy-1"));
    const second = limiter.run("busy", () => Promise.resolve("busy-2"));
    const other = await limiter.run("idle", () => Promise.resolve("idle-1"));
    assert.equal(other, "idle-1");
    assert.equal(limiter.inFlightFor("busy"), 1);
    assert.equal(limiter.waiting, 1);
    gate.resolve();
    assert.deepEqual(await Promise.all([first, second]), ["busy-1", "busy-2"]);
  });

  it("drops a waiting call whose signal aborts, and never runs it", async () => {
    const limiter = new BmcCallLimiter();
    const gate = deferred();
    const running = limiter.run("k", () => gate.promise);
    const controller = new AbortController();
    let ran = false;
    const waiting = limiter.run("k", () => Promise.resolve(void (ran = true)), controller.signal);
    const after = limiter.run("k", () => Promise.resolve("after"));
    assert.equal(limiter.waiting, 2);
    controller.abort(new Error("reconcile cancelled"));
    await assert.rejects(waiting, /reconcile cancelled/);
    assert.equal(limiter.waiting, 1);
    gate.resolve();
    await running;
    assert.equal(await after, "after");
    assert.equal(ran, false);
  });

  it("keeps its caps and finishes every other call when many waiting calls abort", async () => {
    const limiter = new BmcCallLimiter({ perKey: 1, global: 5 });
    const tracker = new Tracker();
    const controllers: AbortController[] = [];
    const calls = Array.from({ length: 2000 }, (_, i) => {
      const key = `bmc-${i % 20}`;
      const controller = new AbortController();
      if (i % 7 === 3) controllers.push(controller);
      return limiter.run(key, tracker.call(key, `c${i}`), controller.signal).then(
        () => "done",
        () => "aborted",
      );
    });
    for (const c of controllers) c.abort(new Error("cancelled"));
    const outcomes = await Promise.all(calls);
    // Five calls had started before the aborts, so at most five of the aborted ones ran.
    const aborted = outcomes.filter((o) => o === "aborted").length;
    assert.ok(aborted >= controllers.length - 5 && aborted <= controllers.length, `${aborted} aborted`);
    assert.equal(tracker.started.length, 2000 - aborted);
    assert.equal(tracker.peak, 5);
    for (const [key, peak] of tracker.peakPerKey) assert.equal(peak, 1, key);
    assert.equal(limiter.inFlight, 0);
    assert.equal(limiter.waiting, 0);
  });

  it("rejects at once when the signal has already aborted", async () => {
    const limiter = new BmcCallLimiter();
    let ran = false;
    const call = limiter.run("k", () => Promise.resolve(void (ran = true)), AbortSignal.abort(new Error("already aborted")));
    await assert.rejects(call, /already aborted/);
    assert.equal(ran, false);
    assert.equal(limiter.waiting, 0);
  });

  it("passes the signal to the running call", async () => {
    const limiter = new BmcCallLimiter();
    const controller = new AbortController();
    const received = await limiter.run("k", (signal) => Promise.resolve(signal), controller.signal);
    assert.equal(received, controller.signal);
  });

  it("frees the slot when a call rejects or throws", async () => {
    const limiter = new BmcCallLimiter();
    await assert.rejects(limiter.run("k", () => Promise.reject(new Error("BMC said no"))), /BMC said no/);
    await assert.rejects(
      limiter.run("k", () => {
        throw new Error("thrown before any await");
      }),
      /thrown before any await/,
    );
    assert.equal(await limiter.run("k", () => Promise.resolve(1)), 1);
    assert.equal(limiter.inFlight, 0);
  });

  it("reports in-flight and waiting counts and wait times to its observer", async () => {
    const changes: [number, number][] = [];
    const starts: string[] = [];
    const limiter = new BmcCallLimiter({
      observer: {
        changed: (inFlight, waiting) => changes.push([inFlight, waiting]),
        started: (key, waitedMs) => {
          assert.ok(waitedMs >= 0);
          starts.push(key);
        },
      },
    });
    const gate = deferred();
    const a = limiter.run("k", () => gate.promise);
    const b = limiter.run("k", () => Promise.resolve());
    assert.deepEqual(changes.at(-1), [1, 1]);
    gate.resolve();
    await Promise.all([a, b]);
    await settle();
    assert.deepEqual(changes.at(-1), [0, 0]);
    assert.ok(changes.every(([inFlight]) => inFlight <= 1));
    assert.deepEqual(starts, ["k", "k"]);
  });

  it("rejects caps that are not whole numbers of at least 1", () => {
    assert.throws(() => new BmcCallLimiter({ perKey: 0 }), /perKey must be a whole number of at least 1, got 0/);
    assert.throws(() => new BmcCallLimiter({ global: 1.5 }), /global must be a whole number of at least 1, got 1.5/);
  });
});

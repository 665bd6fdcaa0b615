import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "../runtime/index.ts";
import { STALE_CACHE_FALLBACK_MS, StaleCacheGuard } from "./stale-cache-guard.ts";

const at = (resourceVersion: string, name = "light"): KubeObject => ({ metadata: { namespace: "fleet", name, resourceVersion } });

function clock() {
  let now = 1_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("StaleCacheGuard", () => {
  it("judges stale a cached copy this process wrote over, and any other version not, without ordering versions", () => {
    const guard = new StaleCacheGuard();
    guard.wrote(at("b"), at("a"));
    assert.equal(guard.isStale(at("b")), true, "the copy the write was based on");
    assert.equal(guard.isStale(at("b", "other")), false, "another object");
    assert.equal(guard.isStale(at("a")), false, "the write itself, though it sorts first");
    assert.equal(guard.isStale(at("b")), false, "once caught up, the record is gone");
  });

  it("remembers every copy a reconcile wrote over, not just the last", () => {
    const guard = new StaleCacheGuard();
    guard.wrote(at("x1"), at("x2"));
    guard.wrote(at("x2"), at("x3"));
    assert.equal(guard.isStale(at("x1")), true);
    assert.equal(guard.isStale(at("x2")), true);
    assert.equal(guard.isStale(at("x3")), false);
  });

  it("records nothing for a write that changed nothing", () => {
    const guard = new StaleCacheGuard();
    guard.wrote(at("9"), at("9"));
    assert.equal(guard.isStale(at("9")), false);
  });

  it("judges stale a copy a 409 Conflict showed to be superseded", () => {
    const guard = new StaleCacheGuard();
    guard.supersede(at("12"));
    assert.equal(guard.isStale(at("12")), true);
  });

  it("passes the update that catches a stale reconcile's cache up, once, and no other", () => {
    const guard = new StaleCacheGuard();
    const update = (old: KubeObject, object: KubeObject) => guard.caughtUp.update!(old, object);
    guard.wrote(at("10"), at("11"));
    guard.wrote(at("11"), at("12"));
    assert.equal(update(at("9"), at("10")), false, "nobody waits yet");
    assert.equal(guard.isStale(at("10")), true);
    assert.equal(update(at("10"), at("10", "other")), false, "another object");
    assert.equal(update(at("10"), at("11")), false, "still a version written over");
    assert.equal(update(at("11"), at("12")), true, "the write arrived");
    assert.equal(update(at("12"), at("13")), false, "passed once");
  });

  it("passes a version it never saw: somebody wrote after this process", () => {
    const guard = new StaleCacheGuard();
    guard.wrote(at("11"), at("12"));
    assert.equal(guard.isStale(at("11")), true);
    assert.equal(guard.caughtUp.update!(at("11"), at("14")), true);
  });

  it("leaves adds and deletes to the other predicates", () => {
    const guard = new StaleCacheGuard();
    assert.equal(Object.hasOwn(guard.caughtUp, "add"), false);
    assert.equal(Object.hasOwn(guard.caughtUp, "delete"), false);
  });

  it("stops waiting for a write the cache has not shown within the fallback delay (history rewritten)", () => {
    const time = clock();
    const guard = new StaleCacheGuard(time.now);
    guard.wrote(at("7"), at("500"));
    time.advance(STALE_CACHE_FALLBACK_MS);
    assert.equal(guard.isStale(at("7")), true, "still within the delay");
    time.advance(1);
    assert.equal(guard.isStale(at("7")), false, "given up: the cache is the truth");
    assert.equal(guard.isStale(at("7")), false);
    assert.equal(guard.caughtUp.update!(at("7"), at("8")), false, "nobody waits any more");
  });

  it("sweeps the writes older than the fallback delay, so it does not hold one per object ever written", () => {
    const c = clock();
    const guard = new StaleCacheGuard(c.now);
    guard.wrote(at("1", "old"), at("2", "old"));
    c.advance(STALE_CACHE_FALLBACK_MS - 1_000);
    guard.wrote(at("1", "new"), at("2", "new"));
    c.advance(2_000);
    assert.equal(guard.size, 2);
    guard.sweep();
    assert.equal(guard.size, 1, "the write older than the fallback delay is forgotten");
    assert.equal(guard.isStale(at("1", "new")), true, "the recent one still guards");
  });

  it("forgets a deleted object, and whether a reconcile waited for it", () => {
    const guard = new StaleCacheGuard();
    guard.wrote(at("11"), at("12"));
    assert.equal(guard.isStale(at("11")), true);
    guard.forget("fleet/light");
    assert.equal(guard.isStale(at("11")), false);
    assert.equal(guard.caughtUp.update!(at("11"), at("12")), false);
  });
});

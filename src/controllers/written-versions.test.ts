import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "../runtime/index.ts";
import { STALE_CACHE_FALLBACK_MS, WrittenVersions } from "./written-versions.ts";

const at = (resourceVersion: string, name = "light"): KubeObject => ({ metadata: { namespace: "fleet", name, resourceVersion } });

function clock() {
  let now = 1_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("WrittenVersions", () => {
  it("judges a cached copy older than the last write stale, and the written one or newer not", () => {
    const written = new WrittenVersions();
    written.record(at("12"));
    assert.equal(written.isStale(at("11")), true);
    assert.equal(written.isStale(at("11", "other")), false, "another object");
    assert.equal(written.isStale(at("12")), false);
    assert.equal(written.isStale(at("11")), false, "once caught up, the record is gone");
  });

  it("judges nothing stale where versions are not integers", () => {
    const written = new WrittenVersions();
    written.record(at("12"));
    assert.equal(written.isStale(at("opaque")), false);
    written.record(at("v2"));
    assert.equal(written.isStale(at("1")), false);
  });

  it("passes the update that catches a stale reconcile's cache up, once, and no other", () => {
    const written = new WrittenVersions();
    const update = (old: KubeObject, object: KubeObject) => written.caughtUp.update!(old, object);
    written.record(at("12"));
    assert.equal(update(at("10"), at("11")), false, "nobody waits yet");
    assert.equal(written.isStale(at("11")), true);
    assert.equal(update(at("11"), at("11", "other")), false, "another object");
    assert.equal(update(at("10"), at("11")), false, "still behind the write");
    assert.equal(update(at("11"), at("12")), true, "the write arrived");
    assert.equal(update(at("12"), at("13")), false, "passed once");
  });

  it("passes a newer version than the one written: somebody wrote after this process", () => {
    const written = new WrittenVersions();
    written.record(at("12"));
    assert.equal(written.isStale(at("11")), true);
    assert.equal(written.caughtUp.update!(at("11"), at("14")), true);
  });

  it("leaves adds and deletes to the other predicates", () => {
    const written = new WrittenVersions();
    assert.equal(Object.hasOwn(written.caughtUp, "add"), false);
    assert.equal(Object.hasOwn(written.caughtUp, "delete"), false);
  });

  it("stops waiting for a write the cache has not shown within the fallback delay (versions went back)", () => {
    const time = clock();
    const written = new WrittenVersions(time.now);
    written.record(at("500"));
    time.advance(STALE_CACHE_FALLBACK_MS);
    assert.equal(written.isStale(at("7")), true, "still within the delay");
    time.advance(1);
    assert.equal(written.isStale(at("7")), false, "given up: the cache is the truth");
    assert.equal(written.isStale(at("7")), false);
    assert.equal(written.caughtUp.update!(at("7"), at("8")), false, "nobody waits any more");
  });

  it("forgets a deleted object, and whether a reconcile waited for it", () => {
    const written = new WrittenVersions();
    written.record(at("12"));
    assert.equal(written.isStale(at("11")), true);
    written.forget("fleet/light");
    assert.equal(written.isStale(at("11")), false);
    assert.equal(written.caughtUp.update!(at("11"), at("12")), false);
  });
});

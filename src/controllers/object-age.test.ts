import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "../runtime/index.ts";
import { ageMs, isYoung, missingHostGrace, NEW_HOST_GRACE_MS, YOUNG_OBJECT_MS } from "./object-age.ts";

const created = "2026-11-21T10:00:00Z";
const at = (ms: number) => new Date(Date.parse(created) + ms);
// As read from the API: creationTimestamp is the JSON string, whatever client-node's type says.
const object = { metadata: { name: "x", creationTimestamp: created } } as unknown as KubeObject;

describe("object age", () => {
  it("measures from creationTimestamp, and treats an object without one as old", () => {
    assert.equal(ageMs(object, at(1_500)), 1_500);
    assert.equal(ageMs({ metadata: { name: "x" } }, at(0)), Number.POSITIVE_INFINITY);
    assert.equal(isYoung(object, at(YOUNG_OBJECT_MS - 1)), true);
    assert.equal(isYoung(object, at(YOUNG_OBJECT_MS)), false);
  });

  it("gives a new resource the rest of the grace to wait for its host, then none", () => {
    assert.equal(missingHostGrace(object, at(0)), NEW_HOST_GRACE_MS);
    assert.equal(missingHostGrace(object, at(500)), NEW_HOST_GRACE_MS - 500);
    assert.equal(missingHostGrace(object, at(NEW_HOST_GRACE_MS - 0.5)), 1, "never a requeue of 0 ms");
    assert.equal(missingHostGrace(object, at(NEW_HOST_GRACE_MS)), undefined);
    assert.equal(missingHostGrace(object, at(-200)), NEW_HOST_GRACE_MS, "a clock behind the API server's counts as age 0");
    assert.equal(missingHostGrace({ metadata: { name: "x" } }, at(0)), undefined);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Condition, findStatusCondition, isStatusConditionTrue, removeStatusCondition, setStatusCondition } from "./conditions.ts";

describe("setStatusCondition", () => {
  it("adds a condition stamped now, and changes lastTransitionTime only when the status flips", () => {
    const conditions: Condition[] = [];
    const t0 = new Date("2026-01-01T00:00:00.123Z");
    assert.equal(setStatusCondition(conditions, { type: "Ready", status: "False", reason: "HostMissing", message: "no host", observedGeneration: 1 }, t0), true);
    assert.equal(conditions[0]!.lastTransitionTime, "2026-01-01T00:00:00Z");
    const t1 = new Date("2026-01-01T00:05:00Z");
    assert.equal(setStatusCondition(conditions, { type: "Ready", status: "False", reason: "SecretMissing", message: "no secret", observedGeneration: 2 }, t1), true);
    assert.equal(conditions[0]!.lastTransitionTime, "2026-01-01T00:00:00Z", "same status: time kept");
    assert.equal(conditions[0]!.reason, "SecretMissing");
    assert.equal(setStatusCondition(conditions, { type: "Ready", status: "False", reason: "SecretMissing", message: "no secret", observedGeneration: 2 }, t1), false);
    const t2 = new Date("2026-01-01T00:10:00Z");
    setStatusCondition(conditions, { type: "Ready", status: "True", reason: "Subscribed", message: "", observedGeneration: 2 }, t2);
    assert.equal(conditions[0]!.lastTransitionTime, "2026-01-01T00:10:00Z");
    assert.equal(isStatusConditionTrue(conditions, "Ready"), true);
    assert.equal(findStatusCondition(conditions, "Other"), undefined);
    assert.equal(removeStatusCondition(conditions, "Ready"), true);
    assert.deepEqual(conditions, []);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findCondition, isConditionTrue, setCondition } from "./conditions.ts";

const t0 = new Date("2026-01-01T00:00:00Z");
const t1 = new Date("2026-01-01T01:00:00Z");

describe("setCondition", () => {
  it("appends a new condition with the current time", () => {
    const list = setCondition(undefined, { type: "Ready", status: "True", reason: "Lit", message: "ok" }, t0);
    assert.deepEqual(list, [
      { type: "Ready", status: "True", reason: "Lit", message: "ok", lastTransitionTime: "2026-01-01T00:00:00Z" },
    ]);
  });

  it("keeps lastTransitionTime when the status stays, even if reason and message change", () => {
    const first = setCondition([], { type: "Ready", status: "False", reason: "A", message: "a" }, t0);
    const second = setCondition(first, { type: "Ready", status: "False", reason: "B", message: "b" }, t1);
    assert.equal(second[0]?.lastTransitionTime, "2026-01-01T00:00:00Z");
    assert.equal(second[0]?.reason, "B");
  });

  it("moves lastTransitionTime when the status flips, and leaves other types alone", () => {
    const first = setCondition(
      [{ type: "Other", status: "True", reason: "X", message: "", lastTransitionTime: "2025-01-01T00:00:00Z" }],
      { type: "Ready", status: "False", reason: "A", message: "" },
      t0,
    );
    const second = setCondition(first, { type: "Ready", status: "True", reason: "B", message: "" }, t1);
    assert.equal(findCondition(second, "Ready")?.lastTransitionTime, "2026-01-01T01:00:00Z");
    assert.equal(findCondition(second, "Other")?.lastTransitionTime, "2025-01-01T00:00:00Z");
    assert.equal(isConditionTrue(second, "Ready"), true);
    assert.equal(isConditionTrue(second, "Missing"), false);
  });
});

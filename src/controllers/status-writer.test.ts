import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mergePatchBetween } from "./status-writer.ts";

describe("mergePatchBetween", () => {
  it("sets changed fields, nulls removed ones and leaves equal ones out", () => {
    assert.deepEqual(
      mergePatchBetween(
        { on: false, errorMessage: "boom", observedGeneration: 1, conditions: [{ type: "Ready" }] },
        { on: true, observedGeneration: 1, conditions: [{ type: "Ready", status: "True" }] },
      ),
      { on: true, errorMessage: null, conditions: [{ type: "Ready", status: "True" }] },
    );
  });

  it("recurses into nested objects", () => {
    assert.deepEqual(mergePatchBetween({ a: { b: 1, c: 2 } }, { a: { b: 1, c: 3, d: 4 } }), { a: { c: 3, d: 4 } });
  });
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { decideFault, noFaults, updateFaults } from "./faults.ts";

test("rates of 0 and 1 are exact, whatever the random numbers", () => {
  const never = noFaults();
  const always = updateFaults(noFaults(), { dropRate: 1 });
  for (const r of [0, 0.5, 0.999999]) {
    assert.equal(decideFault(never, "GET", () => r), "serve");
    assert.equal(decideFault(always, "GET", () => r), "drop");
  }
  const errors = updateFaults(noFaults(), { errorRate: 1 });
  assert.equal(decideFault(errors, "PATCH", () => 0.999999), "error");
});

test("a partial rate follows the random number", () => {
  const half = updateFaults(noFaults(), { errorRate: 0.5 });
  assert.equal(decideFault(half, "GET", () => 0.49), "error");
  assert.equal(decideFault(half, "GET", () => 0.5), "serve");
});

test("errorMethod limits injected errors to one method", () => {
  const patchOnly = updateFaults(noFaults(), { errorRate: 1, errorMethod: "PATCH" });
  assert.equal(decideFault(patchOnly, "GET"), "serve");
  assert.equal(decideFault(patchOnly, "PATCH"), "error");
});

test("bad settings are refused with the setting and value named, and change nothing", () => {
  const current = noFaults();
  assert.throws(() => updateFaults(current, { errorRate: 2 }), /errorRate must be a number from 0 to 1, got 2/);
  assert.throws(() => updateFaults(current, { latencyMs: -1 }), /latencyMs .* got -1/);
  assert.throws(() => updateFaults(current, { errorStatus: 200 }), /errorStatus .* got 200/);
  assert.throws(() => updateFaults(current, { errorMethod: "patch" }), /errorMethod .* got "patch"/);
  assert.throws(() => updateFaults(current, { nope: 1 } as never), /unknown fault setting "nope"/);
  assert.deepEqual(current, noFaults());
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { medianRun } from "./median-run.ts";

const run = (ratio: number, tag: string) => ({ operatorMs: ratio * 1000, baselineMeanMs: 1000, ratio, tag });

describe("medianRun", () => {
  it("returns the run with the median ratio, listing every run in order", () => {
    const picked = medianRun([run(1.3, "a"), run(1.1, "b"), run(1.2, "c")]);
    assert.equal(picked.tag, "c");
    assert.deepEqual(
      picked.runs?.map((r) => r.ratio),
      [1.3, 1.1, 1.2],
    );
  });

  it("takes the lower middle run of an even count", () => {
    assert.equal(medianRun([run(1.4, "a"), run(1.1, "b"), run(1.2, "c"), run(1.3, "d")]).tag, "c");
  });

  it("returns a single run unchanged, without runs", () => {
    const only = run(1.5, "only");
    assert.equal(medianRun([only]), only);
  });

  it("refuses an empty list", () => {
    assert.throws(() => medianRun([]), /no runs/);
  });
});

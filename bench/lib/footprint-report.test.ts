import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FootprintResult } from "../scenarios/footprint.ts";
import { sizingLine } from "./footprint-report.ts";

const MiB = 1048576;

/** A run with only the fields sizing reads. */
function run(resources: number, peakMiB: number, settledMiB: number): FootprintResult {
  return { resources, peakRssBytes: peakMiB * MiB, rssSettledBytes: settledMiB * MiB } as FootprintResult;
}

describe("sizingLine", () => {
  it("bounds every run, the burst in the middle included, and touches the highest", () => {
    // The figures of a real run: the 10,000-resource peak sits above the line through the ends.
    const runs = [run(1000, 118, 90), run(10_000, 212, 140), run(50_000, 476, 372)];
    const line = sizingLine(runs)!;
    const at = (resources: number) => line.base + resources * line.slope;
    for (const r of runs) assert.ok(at(r.resources) >= Math.max(r.peakRssBytes, r.rssSettledBytes) - 1, `below the run at ${r.resources}`);
    assert.ok(runs.some((r) => Math.abs(at(r.resources) - r.peakRssBytes) < 1), "the line touches no run");
    assert.equal(Math.round(at(10_000) / MiB), 212);
  });

  it("needs two runs", () => {
    assert.equal(sizingLine([run(1000, 118, 90)]), undefined);
  });
});

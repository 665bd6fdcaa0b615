import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { ConvergenceResult } from "../scenarios/convergence.ts";
import { sectionOf } from "./markdown-section.ts";
import { renderFootprint } from "./footprint-report.ts";
import { renderReport } from "./report.ts";
import { type BenchPlan, type BenchResults, isFirstBurst, isMainRow, repeatsFor } from "./results.ts";

const docs = new URL("../../docs/", import.meta.url);

describe("the committed benchmark report", () => {
  it("is what the committed raw numbers render to", () => {
    const results = JSON.parse(readFileSync(new URL("benchmarks.json", docs), "utf8")) as BenchResults;
    const page = readFileSync(new URL("benchmarks.md", docs), "utf8");
    assert.equal(sectionOf(page, "operator"), renderReport(results).trim());
  });

  it("has a footprint section that is what the committed footprint numbers render to", () => {
    const results = JSON.parse(readFileSync(new URL("footprint.json", docs), "utf8")) as BenchResults;
    const page = readFileSync(new URL("benchmarks.md", docs), "utf8");
    assert.equal(sectionOf(page, "footprint"), renderFootprint(results).trim());
  });
});

describe("convergence rows", () => {
  const plan = { warmupHosts: 100 } as BenchPlan;
  const row = (extra: Partial<ConvergenceResult>) => ({ operatorArgs: [], warmupHosts: 100, ...extra }) as ConvergenceResult;

  it("a warm operator with default flags is a main row, not a first burst", () => {
    assert.equal(isMainRow(row({}), plan), true);
    assert.equal(isFirstBurst(row({})), false);
  });

  it("a restarted operator's run is a first burst, not a main row", () => {
    assert.equal(isMainRow(row({ restarted: true }), plan), false);
    assert.equal(isFirstBurst(row({ restarted: true })), true);
  });

  it("a run without warm-up is a first burst, and a main row only of a plan without warm-up", () => {
    assert.equal(isFirstBurst(row({ warmupHosts: 0 })), true);
    assert.equal(isMainRow(row({ warmupHosts: 0 }), plan), false);
    assert.equal(isMainRow(row({ warmupHosts: 0 }), { warmupHosts: 0 } as BenchPlan), true);
  });

  it("a run with extra operator flags is not a main row", () => {
    assert.equal(isMainRow(row({ operatorArgs: ["--concurrency", "64"] }), plan), false);
  });
});

describe("repeatsFor", () => {
  const plan = { convergenceHosts: [300, 100, 1000], convergenceRepeats: 3 } as BenchPlan;

  it("runs the rows at the smallest N shortRowRepeats times, the others convergenceRepeats times", () => {
    const withShort = { ...plan, shortRowRepeats: 7 };
    assert.deepEqual([100, 300, 1000].map((n) => repeatsFor(withShort, n)), [7, 3, 3]);
  });

  it("runs every row convergenceRepeats times without shortRowRepeats", () => {
    assert.deepEqual([100, 300, 1000].map((n) => repeatsFor(plan, n)), [3, 3, 3]);
  });
});

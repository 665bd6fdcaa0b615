/**
 * Writes a run's report: the `operator` section of `<dir>/benchmarks.md`
 * (a new directory starts from the project's page, so the other sections are
 * there to read) and the chart `<dir>/convergence.svg`.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderConvergenceChart } from "./convergence-chart.ts";
import { renderFootprint } from "./footprint-report.ts";
import { writeSection } from "./markdown-section.ts";
import { renderReport } from "./report.ts";
import { type BenchResults, isMainRow } from "./results.ts";

/** Which sections to write: the operator's figures, the footprint's, or both. */
export interface ReportParts {
  operator: boolean;
  footprint: boolean;
}

/**
 * Writes the report of `results` into `dir`; `projectDocs` is the project's
 * `docs/` directory. The footprint has a section (and raw numbers,
 * `footprint.json`) of its own, so that `--only footprint` leaves the other
 * figures as they are, and they leave it.
 */
export async function writeReport(
  results: BenchResults,
  dir: string,
  projectDocs: string,
  parts: ReportParts = { operator: true, footprint: results.footprint.length > 0 },
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const mdPath = join(dir, "benchmarks.md");
  if (!existsSync(mdPath)) {
    const page = await readFile(join(projectDocs, "benchmarks.md"), "utf8").catch(() => "# Benchmarks\n");
    await writeFile(mdPath, page);
  }
  if (parts.footprint && results.footprint.length > 0) await writeSection(mdPath, "footprint", renderFootprint(results));
  if (!parts.operator) return;
  await writeSection(mdPath, "operator", renderReport(results));
  const points = results.convergence
    .filter((c) => isMainRow(c, results.plan))
    .map((c) => ({ hosts: c.hosts, latencyMs: c.latencyMs, operatorMs: c.operatorMs, baselineMs: c.baselineMeanMs }));
  if (points.length === 0) return;
  const subtitle =
    `${results.machine.cores} × ${results.machine.cpu.split(" ").slice(0, 3).join(" ")}, ${results.startedAt.slice(0, 10)}, commit ${results.commit}; ` +
    `caps ${results.caps.perBmc} per BMC, ${results.caps.global} overall; solid = operator, dashed = baseline`;
  await writeFile(join(dir, "convergence.svg"), renderConvergenceChart(points, subtitle));
}

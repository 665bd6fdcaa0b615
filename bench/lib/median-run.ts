/**
 * The run with the median ratio of a figure run several times, carrying every
 * run's times, so a table can show the typical run and the spread.
 *
 * @module
 */

/** One run of a repeated figure: its times and ratio. */
export interface RatioRun {
  operatorMs: number;
  baselineMeanMs: number;
  ratio: number;
}

/**
 * The run with the median ratio (the lower middle one for an even count),
 * with `runs` listing every run in the order given; a single run is returned
 * as it is.
 *
 * @throws {RangeError} when there is no run.
 */
export function medianRun<T extends RatioRun>(results: readonly T[]): T & { runs?: RatioRun[] } {
  if (results.length === 0) throw new RangeError("medianRun: no runs");
  if (results.length === 1) return results[0]!;
  const median = [...results].sort((a, b) => a.ratio - b.ratio)[Math.floor((results.length - 1) / 2)]!;
  return { ...median, runs: results.map((r) => ({ operatorMs: r.operatorMs, baselineMeanMs: r.baselineMeanMs, ratio: r.ratio })) };
}

/**
 * The CPU time and memory of several processes over one measured window, so
 * a figure can say which process was busy (the operator, the API emulator,
 * the BMC emulator, the benchmark itself) and whether an emulator was the
 * bottleneck.
 *
 * @module
 */
import { type ProcessUsage, tryReadProcessUsage } from "./process-usage.ts";

/** What one process used over a window. */
export interface WindowUsage {
  /** CPU time used in the window, seconds. */
  cpuSeconds: number;
  /** CPU time over wall time: 1 means one core busy all along. */
  cpuShare: number;
  /** Resident memory at the end, bytes. */
  rssBytes: number;
  /** Peak resident memory of the process's life so far, bytes. */
  peakRssBytes: number;
}

/** Measures processes by name from `start()` to `stop()`. */
export class UsageWindow {
  readonly #pids: Record<string, number>;
  #before: Record<string, ProcessUsage | undefined> = {};
  #startedAt = 0;

  constructor(pids: Record<string, number>) {
    this.#pids = pids;
  }

  start(): this {
    this.#startedAt = performance.now();
    this.#before = Object.fromEntries(Object.entries(this.#pids).map(([name, pid]) => [name, tryReadProcessUsage(pid)]));
    return this;
  }

  /** The usage of each process since `start()` (processes that exited meanwhile are left out). */
  stop(): Record<string, WindowUsage> {
    const wall = (performance.now() - this.#startedAt) / 1000;
    const result: Record<string, WindowUsage> = {};
    for (const [name, pid] of Object.entries(this.#pids)) {
      const before = this.#before[name];
      const after = tryReadProcessUsage(pid);
      if (!before || !after) continue;
      const cpuSeconds = after.cpuSeconds - before.cpuSeconds;
      result[name] = { cpuSeconds, cpuShare: wall > 0 ? cpuSeconds / wall : 0, rssBytes: after.rssBytes, peakRssBytes: after.peakRssBytes };
    }
    return result;
  }
}

/**
 * A process's resident memory and CPU time, read from Linux's `/proc`:
 * `VmRSS` and `VmHWM` (the peak) from `/proc/<pid>/status`, and
 * `utime + stime` from `/proc/<pid>/stat`.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** One reading of a process. */
export interface ProcessUsage {
  /** Resident memory now, bytes (`VmRSS`). */
  rssBytes: number;
  /** The most resident memory the process ever had, bytes (`VmHWM`). */
  peakRssBytes: number;
  /** CPU time used so far, user plus system, seconds. */
  cpuSeconds: number;
}

let ticksPerSecond: number | undefined;

/** `CLK_TCK`, the unit of the times in `/proc/<pid>/stat` (100 on Linux almost everywhere). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
    const value = Number(out.stdout?.trim());
    ticksPerSecond = Number.isInteger(value) && value > 0 ? value : 100;
  }
  return ticksPerSecond;
}

function kibField(status: string, field: string, pid: number): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  if (!match?.[1]) throw new Error(`/proc/${pid}/status has no ${field} line`);
  return Number(match[1]) * 1024;
}

/** Reads the usage of process `pid`; throws when it does not exist (any more). */
export function readProcessUsage(pid: number): ProcessUsage {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`/proc/${pid}/stat has no utime and stime: ${stat}`);
  return {
    rssBytes: kibField(status, "VmRSS", pid),
    peakRssBytes: kibField(status, "VmHWM", pid),
    cpuSeconds: (utime + stime) / clockTicks(),
  };
}

/** Reads the usage of `pid`, or undefined when it has exited. */
export function tryReadProcessUsage(pid: number): ProcessUsage | undefined {
  try {
    return readProcessUsage(pid);
  } catch {
    return undefined;
  }
}

/** CPU used between two readings, as a share of one core over `wallSeconds` (1 = one core busy). */
export function cpuShare(before: ProcessUsage, after: ProcessUsage, wallSeconds: number): number {
  return wallSeconds > 0 ? (after.cpuSeconds - before.cpuSeconds) / wallSeconds : 0;
}

/**
 * The resident memory of process `pid` by mapping, from `/proc/<pid>/smaps`,
 * in bytes, largest first: the `node` binary's pages, `[heap]` (malloc),
 * `[anonymous]` (V8's heap, WebAssembly memory, thread stacks), libraries.
 */
export function residentByMapping(pid: number): { mapping: string; bytes: number }[] {
  const byMapping = new Map<string, number>();
  let mapping = "";
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) mapping = head[1] || "[anonymous]";
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) byMapping.set(mapping, (byMapping.get(mapping) ?? 0) + Number(rss[1]) * 1024);
  }
  return [...byMapping].map(([name, bytes]) => ({ mapping: name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/**
 * The raw numbers of one `npm run bench` run, as written to
 * `docs/benchmarks.json`, and the settings they were measured with.
 *
 * @module
 */
import type { ConvergenceResult } from "../scenarios/convergence.ts";
import type { FootprintResult } from "../scenarios/footprint.ts";
import type { IronicResult } from "../scenarios/ironic.ts";
import type { LatencyResult } from "../scenarios/latency.ts";
import type { OperationsResult } from "../scenarios/operations.ts";
import type { BaselineCaps } from "./redfish-baseline.ts";

/** What a run measured, and with what. */
export interface BenchPlan {
  /** Emulated BMCs in the one emulator process. */
  fleetBmcs: number;
  /** Hosts of the convergence runs. */
  convergenceHosts: number[];
  /** BMC latencies of the convergence runs, ms. */
  convergenceLatencies: number[];
  /** Hosts the operator converges (on BMCs of their own) before each convergence window. */
  warmupHosts: number;
  /** Runs of each convergence row and of the Ironic figure; each reports the run with the median ratio. */
  convergenceRepeats: number;
  /**
   * Runs of each convergence row at the smallest N instead, whose windows are the
   * shortest and so the most swayed by the shared machine; `convergenceRepeats` when unset.
   */
  shortRowRepeats?: number;
  /**
   * Extra convergence runs of an operator's first burst: after the warm-up, the
   * operator is stopped and a new process measured, on the same warm stack.
   */
  justRestarted: { hosts: number; latencyMs: number }[];
  /** Operator flags of an extra run at the largest N and the highest latency, to show their effect; empty for none. */
  variantArgs: string[];
  /** Idle period after the restart, ms. */
  idleMs: number;
  /** Hosts of the footprint runs (ten resources each). */
  footprintHosts: number[];
  /** Idle time before the settled memory reading, ms. */
  settleMs: number;
  latencyHosts: number;
  latencySamples: number;
  latencyPaceMs: number;
  /** The injected latency of figure 6, ms. */
  slowBmcLatencyMs: number;
  ironicHosts: number;
}

/** Everything one run measured. */
export interface BenchResults {
  mode: "quick" | "full";
  /** The command that produced it. */
  command: string;
  /** The commit measured (`git rev-parse --short HEAD`, or `$BENCH_COMMIT`), with `+changes` when the tree had uncommitted changes. */
  commit: string;
  startedAt: string;
  durationSeconds: number;
  machine: { cpu: string; cores: number; node: string; loadAverageStart: number[]; loadAverageEnd: number[] };
  plan: BenchPlan;
  caps: BaselineCaps;
  /** The operator's concurrency settings without flags. */
  operatorDefaults?: { concurrency: number; bmcMaxInFlight: number; bmcMaxTotal: number };
  convergence: ConvergenceResult[];
  operations?: OperationsResult;
  footprint: FootprintResult[];
  latency?: LatencyResult;
  ironic?: IronicResult;
}

/** Whether a convergence run measured a new operator process's first burst (just started on a new stack, or just restarted). */
export function isFirstBurst(run: ConvergenceResult): boolean {
  return run.restarted === true || (run.warmupHosts ?? 0) === 0;
}

/** Whether a convergence run is one of the plan's main rows: the operator warmed up as planned, default flags, not restarted. */
export function isMainRow(run: ConvergenceResult, plan: BenchPlan): boolean {
  return run.operatorArgs.length === 0 && (run.warmupHosts ?? 0) === (plan.warmupHosts ?? 0) && run.restarted !== true;
}

/** How many times the plan runs a convergence row of `hosts` hosts. */
export function repeatsFor(plan: BenchPlan, hosts: number): number {
  return hosts <= Math.min(...plan.convergenceHosts) ? (plan.shortRowRepeats ?? plan.convergenceRepeats) : plan.convergenceRepeats;
}

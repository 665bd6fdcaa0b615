/**
 * What every benchmark scenario shares: a scratch directory for kubeconfigs
 * and logs, the BMC emulator process, the event sink the subscriptions
 * deliver to, the BMC call caps, and a progress logger.
 *
 * @module
 */
import type { RunningEventSink } from "../../emulators/event-sink/index.ts";
import type { BmcFleetProcess } from "./bmc-fleet-process.ts";
import type { BaselineCaps } from "./redfish-baseline.ts";

/** The operator's defaults: one call in flight per BMC, 64 overall (`--bmc-max-in-flight`, `--bmc-max-total`). */
export const OPERATOR_CAPS: BaselineCaps = { perBmc: 1, global: 64 };

/** Shared by the scenarios of one benchmark run. */
export interface BenchContext {
  /** Scratch directory: kubeconfigs, operator logs. */
  dir: string;
  fleet: BmcFleetProcess;
  sink: RunningEventSink;
  caps: BaselineCaps;
  /** True for `--quick`. */
  quick: boolean;
  /** Prints a progress line to stderr. */
  log(message: string): void;
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * What every benchmark scenario shares: a scratch directory for kubeconfigs
 * and logs, the BMC emulator process, the event sink the subscriptions
 * deliver to, the BMC call caps, and a progress logger.
 *
 * @module
 */
import type { RunningEventSink } from "../../emulators/event-sink/index.ts";
import { parseOperatorArgs } from "../../src/cli/operator-options.ts";
import type { BmcFleetProcess } from "./bmc-fleet-process.ts";
import type { BaselineCaps } from "./redfish-baseline.ts";

/** The operator's settings with no flags given (environment variables such as `BMC_MAX_TOTAL` apply, as to the operator's process). */
const DEFAULTS = parseOperatorArgs([]);

/** The flags that shape the operator's concurrency, as it runs without flags. */
export const OPERATOR_DEFAULTS = {
  concurrency: DEFAULTS.concurrency,
  bmcMaxInFlight: DEFAULTS.bmcMaxInFlight,
  bmcMaxTotal: DEFAULTS.bmcMaxTotal,
};

/** The operator's BMC caps (`--bmc-max-in-flight`, `--bmc-max-total`), which the baselines share. */
export const OPERATOR_CAPS: BaselineCaps = { perBmc: DEFAULTS.bmcMaxInFlight, global: DEFAULTS.bmcMaxTotal };

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

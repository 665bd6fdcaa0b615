/**
 * `npm run operator -- [flags]`: runs the operator against a cluster.
 * `--help` lists every flag and its environment variable.
 *
 * @module
 */
import { CommanderError } from "commander";
import { LeaderElectionLostError, setupSignalHandler } from "../runtime/index.ts";
import { parseOperatorArgs } from "./operator-options.ts";
import { startOperator } from "./run-operator.ts";

let settings;
try {
  settings = parseOperatorArgs(process.argv.slice(2));
} catch (error) {
  if (error instanceof CommanderError) {
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version") {
      process.exit(0);
    }
    console.error(`bmc-operator: ${error.message.replace(/^error: /, "")}`);
    console.error("Run with --help for the list of flags.");
    process.exit(2);
  }
  console.error(`bmc-operator: ${(error as Error).message}`);
  process.exit(2);
}

try {
  const operator = await startOperator(settings, { signal: setupSignalHandler() });
  await operator.done;
} catch (error) {
  console.error(`bmc-operator: ${(error as Error).message}`);
  process.exit(error instanceof LeaderElectionLostError ? 1 : 3);
}

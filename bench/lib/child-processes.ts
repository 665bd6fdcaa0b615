/**
 * Every child process the benchmark starts, killed when the benchmark exits
 * however it exits (an error, Ctrl-C), so no operator, emulator or Ironic is
 * left running behind it.
 *
 * @module
 */
import type { ChildProcess } from "node:child_process";

const children = new Set<ChildProcess>();
let hooked = false;

/** Kills `child` (SIGKILL) if it is still running when this process exits. */
export function killOnExit<T extends ChildProcess>(child: T): T {
  if (!hooked) {
    hooked = true;
    process.on("exit", () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    });
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        process.stderr.write(`bench: ${signal}: stopping every child process\n`);
        process.exit(130);
      });
    }
  }
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

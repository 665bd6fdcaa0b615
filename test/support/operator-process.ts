/**
 * The operator as its own process (`src/cli/operator.ts`, as users run it)
 * against an {@link OperatorStack}'s API emulator, or a proxy in front of it,
 * so a test can kill it with SIGKILL at a chosen instant and start another.
 * Its log (JSON lines, every level the test asks for) goes to a file the test
 * can read.
 *
 * @module
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type OperatorProcess, startOperatorProcess as startProcess } from "../../bench/lib/operator-process.ts";
import type { OperatorStack } from "./operator-stack.ts";

/** Options of {@link startOperatorProcess}. */
export interface OperatorProcessRunOptions {
  /** The API server address the process uses, for a proxy in front of the emulator. @default the emulator's */
  apiUrl?: string;
  /** The log level. @default "info" */
  logLevel?: "trace" | "debug" | "info" | "warn" | "error";
  /** More flags. */
  args?: string[];
}

/** A running operator process. */
export interface TestOperatorProcess extends OperatorProcess {
  /** The file its stdout and stderr go to. */
  logPath: string;
  /** Everything it has logged so far. */
  log(): Promise<string>;
  /** Stops it if it still runs (SIGKILL) and removes its files. */
  dispose(): Promise<void>;
}

/** Starts the operator process and waits until its caches have synced. */
export async function startOperatorProcess(
  stack: Pick<OperatorStack, "api">,
  options: OperatorProcessRunOptions = {},
): Promise<TestOperatorProcess> {
  const dir = await mkdtemp(join(tmpdir(), "bmc-operator-process-"));
  const kubeconfigPath = join(dir, "kubeconfig");
  const logPath = join(dir, "operator.log");
  const kubeconfig = options.apiUrl ? stack.api.kubeconfig.replaceAll(stack.api.url, options.apiUrl) : stack.api.kubeconfig;
  await writeFile(kubeconfigPath, kubeconfig);
  let operator: OperatorProcess;
  try {
    operator = await startProcess({
      kubeconfigPath,
      logPath,
      args: ["--log-level", options.logLevel ?? "info", ...(options.args ?? [])],
      // Every namespace, whatever the test runner's environment says.
      env: { WATCH_NAMESPACE: "" },
      readyTimeoutMs: 30_000,
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    ...operator,
    logPath,
    log: () => readFile(logPath, "utf8"),
    async dispose() {
      await operator.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The operator processes a test file starts, one at a time, each disposed by
 * {@link OperatorProcesses.disposeAll} (call it in `afterEach` and `after`),
 * so that a failed test leaves none running for the next.
 */
export class OperatorProcesses {
  readonly #stack: Pick<OperatorStack, "api">;
  readonly #options: OperatorProcessRunOptions;
  readonly #running: TestOperatorProcess[] = [];

  constructor(stack: Pick<OperatorStack, "api">, options: OperatorProcessRunOptions = {}) {
    this.#stack = stack;
    this.#options = options;
  }

  /** Starts one with the options given at construction, and remembers it. */
  async start(): Promise<TestOperatorProcess> {
    const operator = await startOperatorProcess(this.#stack, this.#options);
    this.#running.push(operator);
    return operator;
  }

  /** Disposes of every process started so far. */
  async disposeAll(): Promise<void> {
    for (const operator of this.#running.splice(0)) await operator.dispose();
  }
}

/**
 * The operator as a separate process, started the way a user runs it, with the
 * image's Node.js flags, memory settings and compile cache
 * (`node src/cli/operator.ts --kubeconfig … --metrics-bind-address 127.0.0.1:0`),
 * with its log in a file, its `/metrics` and `/readyz` found from its
 * "starting manager" log line, and its memory and CPU time read from `/proc`.
 *
 * @module
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { killOnExit } from "./child-processes.ts";
import { deploymentCompileCache, deploymentRuntime } from "./deployment-runtime.ts";
import { type ProcessUsage, tryReadProcessUsage } from "./process-usage.ts";

/** The log message of an idle collection (src/runtime/idle-collector.ts). */
const IDLE_COLLECTION_LINE = "idle: ran a major garbage collection";

const OPERATOR_CLI = fileURLToPath(new URL("../../src/cli/operator.ts", import.meta.url));

/** How to start the operator. */
export interface OperatorProcessOptions {
  kubeconfigPath: string;
  /** Where its stdout and stderr go. */
  logPath: string;
  /** More flags, for example `["--leader-elect", "--leader-election-namespace", "fleet"]`. */
  args?: string[];
  /** More environment variables. */
  env?: Record<string, string>;
  /** More Node.js flags, after those of `$BENCH_OPERATOR_NODE_ARGS`. */
  nodeArgs?: string[];
  /** How long to wait for `/readyz` (caches synced). @default 60 s */
  readyTimeoutMs?: number;
}

/** How a stop went. */
export interface OperatorStop {
  /** From the first SIGTERM to the exit. */
  ms: number;
  /** True when it exited within the grace period after one SIGTERM. */
  graceful: boolean;
}

/** A running operator process. */
export interface OperatorProcess {
  pid: number;
  metricsUrl: string;
  /** Performance-clock time when the process was spawned. */
  startedAt: number;
  /** Performance-clock time when `/readyz` first answered 200. */
  readyAt: number;
  /** Memory and CPU time now; undefined once it has exited. */
  usage(): ProcessUsage | undefined;
  /** The idle collections it has logged so far (src/runtime/idle-collector.ts). */
  idleCollections(): number;
  /**
   * Rejects when the process exits before {@link OperatorProcess.stop} or
   * {@link OperatorProcess.kill} is called, naming its exit code or signal (a
   * memory limit's OOM kill is SIGKILL); never settles otherwise. Race a long
   * wait against it, so that a run whose operator died fails at once.
   */
  died: Promise<never>;
  /** The `/metrics` text. */
  metrics(): Promise<string>;
  /**
   * SIGTERM, then, when it is still running after `graceMs`, a second SIGTERM
   * (the operator exits at once on a second signal), then SIGKILL; settles
   * once its log is written.
   */
  stop(graceMs?: number): Promise<OperatorStop>;
  /** SIGKILL, as a crash would; settles once the process has exited and its log is written. */
  kill(): Promise<void>;
}

/**
 * Node.js flags for the operator's process from `$BENCH_OPERATOR_NODE_ARGS`
 * (space-separated; for example `--cpu-prof --cpu-prof-dir=/tmp/prof`, to
 * profile only the operator).
 */
function operatorNodeArgs(): string[] {
  return (process.env.BENCH_OPERATOR_NODE_ARGS ?? "").split(" ").filter(Boolean);
}

/**
 * The operator's command line: `node [flags] operator.ts …`, run through the
 * executable `$BENCH_OPERATOR_WRAPPER` when set, which gets that command line
 * as its arguments and must `exec` it (so that the pid stays the operator's);
 * for example a script that moves itself into a memory-limited cgroup first,
 * to measure the operator under its Deployment's memory limit.
 */
function operatorCommand(args: string[]): [string, string[]] {
  const wrapper = process.env.BENCH_OPERATOR_WRAPPER;
  return wrapper ? [wrapper, [process.execPath, ...args]] : [process.execPath, args];
}

/**
 * Starts the operator and waits until its caches have synced (`/readyz` is
 * 200). It runs with the image's Node.js flags and memory settings
 * (`deploymentRuntime`) and a compile cache written as the image's build
 * writes it (`deploymentCompileCache`), as the Deployment runs it.
 */
export async function startOperatorProcess(options: OperatorProcessOptions): Promise<OperatorProcess> {
  const runtime = deploymentRuntime();
  // Written once per benchmark process, before the clock starts, as the image's build writes it.
  const compileCache = await deploymentCompileCache(runtime);
  const startedAt = performance.now();
  const child: ChildProcessByStdio<null, Readable, Readable> = killOnExit(spawn(
    ...operatorCommand([
      ...runtime.nodeArgs,
      ...operatorNodeArgs(),
      ...(options.nodeArgs ?? []),
      OPERATOR_CLI,
      "--kubeconfig",
      options.kubeconfigPath,
      "--metrics-bind-address",
      "127.0.0.1:0",
      "--health-probe-bind-address",
      "127.0.0.1:0",
      "--log-level",
      "info",
      ...(options.args ?? []),
    ]),
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...runtime.env, ...(compileCache ? { NODE_COMPILE_CACHE: compileCache } : {}), ...options.env },
    },
  ));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const log = createWriteStream(options.logPath, { flags: "a" });
  child.stderr.pipe(log, { end: false });
  let tail = "";
  let idleCollections = 0;
  const endpoints = new Promise<{ metrics: string; probes: string }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      log.write(`${line}\n`);
      tail = (tail + line + "\n").slice(-4000);
      if (line.includes(IDLE_COLLECTION_LINE)) idleCollections++;
      if (!line.includes('"starting manager"')) return;
      try {
        const entry = JSON.parse(line) as { metrics?: string; probes?: string };
        if (entry.metrics && entry.probes) resolve({ metrics: entry.metrics, probes: entry.probes });
      } catch {
        // not JSON: keep reading
      }
    });
    void exited.then(() => reject(new Error(`the operator exited (code ${child.exitCode}) before it started; log ${options.logPath}:\n${tail}`)));
  });
  // Once its output has ended too (which can be after the exit), the log is complete on disk.
  const logWritten = new Promise<void>((resolve) => child.once("close", () => log.end(() => resolve())));

  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + readyTimeoutMs;
  const fail = (why: string): never => {
    child.kill("SIGKILL");
    throw new Error(`the operator ${why}; log ${options.logPath}:\n${tail}`);
  };
  const timer = setTimeout(() => child.kill("SIGKILL"), readyTimeoutMs);
  let found: { metrics: string; probes: string };
  try {
    found = await endpoints;
  } catch (error) {
    clearTimeout(timer);
    throw error;
  }
  clearTimeout(timer);
  let readyAt = 0;
  while (readyAt === 0) {
    if (Date.now() > deadline) fail(`was not ready within ${readyTimeoutMs} ms`);
    if (child.exitCode !== null) fail(`exited with code ${child.exitCode}`);
    try {
      const response = await fetch(`${found.probes}/readyz`, { signal: AbortSignal.timeout(5_000) });
      await response.arrayBuffer();
      if (response.status === 200) readyAt = performance.now();
    } catch {
      // not listening yet
    }
    if (readyAt === 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  const pid = child.pid ?? 0;
  let stopping = false;
  const died = new Promise<never>((_resolve, reject) => {
    void exited.then(() => {
      if (stopping) return;
      reject(new Error(`the operator exited (${child.signalCode ?? `code ${child.exitCode}`}) while it was measured; log ${options.logPath}:\n${tail}`));
    });
  });
  // Observed only by a race; a run that never races it must not fail on an unhandled rejection.
  died.catch(() => {});
  return {
    pid,
    died,
    metricsUrl: found.metrics,
    startedAt,
    readyAt,
    usage: () => tryReadProcessUsage(pid),
    idleCollections: () => idleCollections,
    async metrics() {
      const response = await fetch(`${found.metrics}/metrics`, { signal: AbortSignal.timeout(10_000) });
      if (!response.ok) throw new Error(`GET ${found.metrics}/metrics: HTTP ${response.status}`);
      return await response.text();
    },
    async stop(graceMs = 10_000) {
      stopping = true;
      const t0 = performance.now();
      if (child.exitCode !== null || child.signalCode !== null) return { ms: 0, graceful: true };
      child.kill("SIGTERM");
      const within = (ms: number) =>
        new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), ms);
          void exited.then(() => {
            clearTimeout(timer);
            resolve(true);
          });
        });
      if (await within(graceMs)) {
        const ms = performance.now() - t0;
        await logWritten;
        return { ms, graceful: true };
      }
      child.kill("SIGTERM");
      if (!(await within(5_000))) child.kill("SIGKILL");
      await exited;
      const ms = performance.now() - t0;
      await logWritten;
      return { ms, graceful: false };
    },
    async kill() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
      await logWritten;
    },
  };
}

/**
 * How the image runs the operator, read from the `Dockerfile`: the Node.js
 * flags of its `ENTRYPOINT` (the Deployments' `command` is the same, which
 * src/cli/runtime-image.test.ts holds), the environment its `ENV` lines
 * set for the process's memory (`MALLOC_*`, `NODE_OPTIONS`), and the run that
 * writes Node.js's compile cache while the image is built. The benchmarks
 * start the operator with them, so that their figures are the Deployment's.
 *
 * @module
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { killOnExit } from "./child-processes.ts";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DOCKERFILE = join(REPO_ROOT, "Dockerfile");

/** The image's way of running the operator. */
export interface DeploymentRuntime {
  /** Node.js flags before the script, for example `["--liftoff-only"]`. */
  nodeArgs: string[];
  /** Environment variables for the process's memory and Node.js. */
  env: Record<string, string>;
  /**
   * When the image sets `NODE_COMPILE_CACHE` and writes it at build time: the
   * arguments of the `node` that writes it (the `ENTRYPOINT`'s flags and
   * script, then `--help`), run from the image's working directory, which is
   * the repository's root here.
   */
  compileCacheWarmUp?: string[];
}

/** Reads {@link DeploymentRuntime} from Dockerfile text. */
export function deploymentRuntimeOf(dockerfile: string): DeploymentRuntime {
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
  if (!entrypoint) throw new Error("the Dockerfile has no ENTRYPOINT in exec form");
  const command = JSON.parse(entrypoint) as string[];
  const script = command.findIndex((part) => part.endsWith(".ts"));
  if (command[0] !== "node" || script < 1) throw new Error(`the Dockerfile's ENTRYPOINT ${entrypoint} does not run node on a .ts script`);
  const set: Record<string, string> = {};
  for (const line of dockerfile.replace(/\\\n/g, " ").split("\n")) {
    if (!line.startsWith("ENV ")) continue;
    for (const [, name, value] of line.slice(4).matchAll(/([A-Z_][A-Z0-9_]*)=("[^"]*"|\S+)/g)) set[name!] = value!.replace(/^"(.*)"$/, "$1");
  }
  const env = Object.fromEntries(Object.entries(set).filter(([name]) => /^(MALLOC_|NODE_OPTIONS$)/.test(name)));
  const runtime: DeploymentRuntime = { nodeArgs: command.slice(1, script), env };
  if (set.NODE_COMPILE_CACHE === undefined) return runtime;
  // The image's directory is not the benchmark's; only how the cache is written carries over.
  const warmUp = [...dockerfile.matchAll(/^RUN (\[.*\])$/gm)]
    .map((match) => JSON.parse(match[1]!) as string[])
    .find((run) => run[0] === "node" && run.includes(command[script]!));
  if (!warmUp) {
    throw new Error(`the Dockerfile sets NODE_COMPILE_CACHE=${set.NODE_COMPILE_CACHE} but no RUN in exec form runs node on ${command[script]} to write it`);
  }
  return { ...runtime, compileCacheWarmUp: warmUp.slice(1) };
}

/** The Deployment's runtime settings, from the project's Dockerfile. */
export function deploymentRuntime(): DeploymentRuntime {
  return deploymentRuntimeOf(readFileSync(DOCKERFILE, "utf8"));
}

let compileCache: Promise<string | undefined> | undefined;

/**
 * A compile cache written the way the image's build writes it, for the
 * operator's `NODE_COMPILE_CACHE`, or undefined when the image has none: a
 * temporary directory, made and written once per process (by the first
 * call), removed when the process exits. It is written by the current user
 * rather than the image's (Node.js keeps each user's cache apart, so only
 * the subdirectory's name differs) and with the image's Node.js flags: an
 * operator started with other V8 flags finds no cache of its flags there and
 * writes one.
 */
export function deploymentCompileCache(runtime: DeploymentRuntime = deploymentRuntime()): Promise<string | undefined> {
  const warmUp = runtime.compileCacheWarmUp;
  if (!warmUp) return Promise.resolve(undefined);
  compileCache ??= new Promise((resolve, reject) => {
    const directory = mkdtempSync(join(tmpdir(), "bmc-operator-compile-cache-"));
    process.once("exit", () => rmSync(directory, { recursive: true, force: true }));
    const env = { ...process.env, ...runtime.env, NODE_COMPILE_CACHE: directory };
    killOnExit(
      execFile(process.execPath, warmUp, { cwd: REPO_ROOT, env, timeout: 120_000 }, (error, _stdout, stderr) => {
        if (error) reject(new Error(`writing the compile cache with node ${warmUp.join(" ")} failed (${error.message}): ${stderr.slice(-2000)}`));
        else resolve(directory);
      }),
    );
  });
  return compileCache;
}

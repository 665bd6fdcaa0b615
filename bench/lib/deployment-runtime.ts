/**
 * How the image runs the operator, read from the `Dockerfile`: the Node.js
 * flags of its `ENTRYPOINT` (the Deployments' `command` is the same, which
 * src/cli/runtime-image.test.ts holds) and the environment its `ENV` lines
 * set for the process's memory (`MALLOC_*`, `NODE_OPTIONS`). The benchmarks
 * start the operator with them, so that their figures are the Deployment's.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const DOCKERFILE = fileURLToPath(new URL("../../Dockerfile", import.meta.url));

/** The image's way of running the operator. */
export interface DeploymentRuntime {
  /** Node.js flags before the script, for example `["--liftoff-only"]`. */
  nodeArgs: string[];
  /** Environment variables for the process's memory and Node.js. */
  env: Record<string, string>;
}

/** Reads {@link DeploymentRuntime} from Dockerfile text. */
export function deploymentRuntimeOf(dockerfile: string): DeploymentRuntime {
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
  if (!entrypoint) throw new Error("the Dockerfile has no ENTRYPOINT in exec form");
  const command = JSON.parse(entrypoint) as string[];
  const script = command.findIndex((part) => part.endsWith(".ts"));
  if (command[0] !== "node" || script < 1) throw new Error(`the Dockerfile's ENTRYPOINT ${entrypoint} does not run node on a .ts script`);
  const env: Record<string, string> = {};
  for (const line of dockerfile.replace(/\\\n/g, " ").split("\n")) {
    if (!line.startsWith("ENV ")) continue;
    for (const [, name, value] of line.slice(4).matchAll(/([A-Z_][A-Z0-9_]*)=("[^"]*"|\S+)/g)) {
      if (/^(MALLOC_|NODE_OPTIONS$)/.test(name!)) env[name!] = value!.replace(/^"(.*)"$/, "$1");
    }
  }
  return { nodeArgs: command.slice(1, script), env };
}

/** The Deployment's runtime settings, from the project's Dockerfile. */
export function deploymentRuntime(): DeploymentRuntime {
  return deploymentRuntimeOf(readFileSync(DOCKERFILE, "utf8"));
}

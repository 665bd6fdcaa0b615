import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { deploymentCompileCache, deploymentRuntime, deploymentRuntimeOf } from "./deployment-runtime.ts";

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const OPERATOR_CLI = fileURLToPath(new URL("../../src/cli/operator.ts", import.meta.url));

describe("deploymentRuntimeOf", () => {
  it("takes the ENTRYPOINT's Node.js flags and the ENV lines' memory settings", () => {
    const runtime = deploymentRuntimeOf(
      'FROM x\nENV NODE_ENV=production \\\n    MALLOC_ARENA_MAX=2 NODE_OPTIONS="--max-semi-space-size=8"\nENTRYPOINT ["node", "--liftoff-only", "src/cli/operator.ts"]\n',
    );
    assert.deepEqual(runtime, { nodeArgs: ["--liftoff-only"], env: { MALLOC_ARENA_MAX: "2", NODE_OPTIONS: "--max-semi-space-size=8" } });
  });

  it("takes the run that writes the compile cache, but not the image's cache directory", () => {
    const runtime = deploymentRuntimeOf(
      'FROM x\nENV NODE_COMPILE_CACHE=/app/compile-cache\nUSER 65532:65532\nRUN ["node", "--liftoff-only", "src/cli/operator.ts", "--help"]\nENTRYPOINT ["node", "--liftoff-only", "src/cli/operator.ts"]\n',
    );
    assert.deepEqual(runtime, { nodeArgs: ["--liftoff-only"], env: {}, compileCacheWarmUp: ["--liftoff-only", "src/cli/operator.ts", "--help"] });
  });

  it("refuses an ENTRYPOINT that does not run node on a script, quoting it", () => {
    assert.throws(() => deploymentRuntimeOf('ENTRYPOINT ["/bin/operator"]\n'), /ENTRYPOINT \["\/bin\/operator"\] does not run node/);
  });

  it("refuses a compile cache that no RUN writes, naming the directory", () => {
    assert.throws(
      () => deploymentRuntimeOf('ENV NODE_COMPILE_CACHE=/app/cc\nRUN ["node", "-e", "1"]\nENTRYPOINT ["node", "src/cli/operator.ts"]\n'),
      /sets NODE_COMPILE_CACHE=\/app\/cc but no RUN in exec form runs node on src\/cli\/operator\.ts/,
    );
  });

  it("reads the project's Dockerfile", () => {
    const runtime = deploymentRuntime();
    assert.ok(Array.isArray(runtime.nodeArgs));
    assert.ok(runtime.compileCacheWarmUp, "the image writes a compile cache");
  });
});

describe("deploymentCompileCache", () => {
  it("is nothing when the image writes no compile cache", async () => {
    assert.equal(await deploymentCompileCache({ nodeArgs: [], env: {} }), undefined);
  });

  it("writes, once per process, a cache the operator started with the image's flags reads", async () => {
    const runtime = deploymentRuntime();
    const directory = await deploymentCompileCache(runtime);
    assert.ok(directory && readdirSync(directory).length === 1, `one subdirectory of the cache (Node.js version, V8 flags, user) in ${directory}`);
    assert.equal(await deploymentCompileCache(runtime), directory);
    const { stderr } = await run(process.execPath, [...runtime.nodeArgs, OPERATOR_CLI, "--help"], {
      env: { ...process.env, ...runtime.env, NODE_COMPILE_CACHE: directory, NODE_DEBUG_NATIVE: "COMPILE_CACHE" },
      maxBuffer: 64 * 1024 * 1024,
    });
    const operator = new URL(`file://${OPERATOR_CLI}`).href;
    assert.ok(stderr.includes(`retrieving transpile cache for StrippedTypeScript ${operator}...success`), stderr.slice(0, 3000));
    assert.doesNotMatch(stderr, /no transpile cache for/);
  });

  it("is removed when the process exits", async () => {
    const module = new URL("./deployment-runtime.ts", import.meta.url).href;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", `import { deploymentCompileCache } from ${JSON.stringify(module)}; console.log(await deploymentCompileCache());`], {
      cwd: REPO_ROOT,
    });
    const directory = stdout.trim();
    assert.match(directory, /bmc-operator-compile-cache-/);
    assert.equal(existsSync(directory), false, `${directory} is left behind`);
  });
});

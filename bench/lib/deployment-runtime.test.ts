import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deploymentRuntime, deploymentRuntimeOf } from "./deployment-runtime.ts";

describe("deploymentRuntimeOf", () => {
  it("takes the ENTRYPOINT's Node.js flags and the ENV lines' memory settings", () => {
    const runtime = deploymentRuntimeOf(
      'FROM x\nENV NODE_ENV=production \\\n    MALLOC_ARENA_MAX=2 NODE_OPTIONS="--max-semi-space-size=8"\nENTRYPOINT ["node", "--liftoff-only", "src/cli/operator.ts"]\n',
    );
    assert.deepEqual(runtime, { nodeArgs: ["--liftoff-only"], env: { MALLOC_ARENA_MAX: "2", NODE_OPTIONS: "--max-semi-space-size=8" } });
  });

  it("refuses an ENTRYPOINT that does not run node on a script, quoting it", () => {
    assert.throws(() => deploymentRuntimeOf('ENTRYPOINT ["/bin/operator"]\n'), /ENTRYPOINT \["\/bin\/operator"\] does not run node/);
  });

  it("reads the project's Dockerfile", () => {
    assert.ok(Array.isArray(deploymentRuntime().nodeArgs));
  });
});

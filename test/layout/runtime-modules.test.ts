/**
 * What the operator loads at run time, watched by a module hook in a child
 * process that imports it as `src/cli/operator.ts` does: only the packages of
 * package.json's `dependencies` that it needs to run, and of those only the
 * parts it uses. Each package or builtin left out below costs resident memory
 * that an idle operator would carry for nothing (docs/benchmarks.md): TypeBox
 * (the CRD schemas, for `npm run generate`), undici's and prom-client's
 * indexes (fetch, WebSocket, the cluster aggregator, OpenTelemetry), pino-pretty
 * (terminal output only), and the ES module facade of `node:http`, whose
 * WebSocket exports load Node.js's own copy of undici.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO_ROOT } from "../support/module-imports.ts";

const PROBE = `
import { registerHooks } from "node:module";
const loaded = new Set();
registerHooks({ load(url, context, next) { loaded.add(url); return next(url, context); } });
await import(${JSON.stringify(join(REPO_ROOT, "src/cli/run-operator.ts"))});
await import(${JSON.stringify(join(REPO_ROOT, "src/cli/operator-options.ts"))});
const { Registry } = await import(${JSON.stringify(join(REPO_ROOT, "src/runtime/prometheus.ts"))});
const { collectDefaultMetrics } = await import(${JSON.stringify(join(REPO_ROOT, "src/runtime/prometheus.ts"))});
collectDefaultMetrics(new Registry());
process.stdout.write(JSON.stringify({ loaded: [...loaded], builtins: process.moduleLoadList }));
`;

function probe(): { loaded: string[]; builtins: string[] } {
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", PROBE], { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as { loaded: string[]; builtins: string[] };
}

/** The package a module URL belongs to, or undefined for the project's own. */
function packageOf(url: string): string | undefined {
  return /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
}

describe("the operator's run-time modules", () => {
  const { loaded, builtins } = probe();
  const packages = new Set(loaded.map(packageOf).filter((p) => p !== undefined));

  it("are only packages of package.json's dependencies (and theirs), none it does not run", () => {
    const dependencies = Object.keys((JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies);
    for (const direct of ["undici", "prom-client", "pino", "commander", "js-yaml", "@kubernetes/client-node"]) {
      assert.ok(dependencies.includes(direct), `${direct} is loaded but not a dependency`);
      assert.ok(packages.has(direct), `${direct} is a dependency the operator should load`);
    }
    for (const left of ["@sinclair/typebox", "pino-pretty", "@opentelemetry/api", "tdigest", "yaml"]) {
      assert.ok(!packages.has(left), `${left} is loaded: ${loaded.filter((u) => packageOf(u) === left).slice(0, 3).join(", ")}`);
    }
  });

  it("take undici's Agent and request and prom-client's metric classes, not their indexes", () => {
    assert.ok(!loaded.some((u) => /\/node_modules\/undici\/index\.js$/.test(u)), "undici's index");
    assert.ok(!loaded.some((u) => /\/node_modules\/undici\/lib\/web\//.test(u)), "undici's fetch and WebSocket");
    assert.ok(!loaded.some((u) => /\/node_modules\/prom-client\/index\.js$/.test(u)), "prom-client's index");
    assert.ok(!loaded.some((u) => /\/node_modules\/@kubernetes\/client-node\/dist\/index\.js$/.test(u)), "client-node's index");
  });

  it("leave out Node.js's own undici, which the ES module facade of node:http loads", () => {
    assert.ok(!builtins.includes("NativeModule internal/deps/undici/undici"), "internal/deps/undici/undici was loaded");
  });

  it("leave out the API's schemas: the operator takes its names from src/api/names.ts", () => {
    const api = loaded.filter((u) => u.includes("/src/api/")).map((u) => u.slice(u.indexOf("/src/api/") + 1));
    assert.deepEqual(api, ["src/api/names.ts"]);
  });
});

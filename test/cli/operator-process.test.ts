/**
 * The operator as users run it: `src/cli/operator.ts` in its own process,
 * against the API emulator and an emulated BMC. It becomes ready once its
 * caches are synced, serves metrics with controller-runtime's names and its
 * own, reconciles, and stops cleanly on SIGTERM.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BARE_METAL_HOSTS } from "../../src/controllers/resources.ts";
import { findStatusCondition } from "../../src/runtime/index.ts";
import { type OperatorStack, startOperatorStack, waitFor } from "../support/operator-stack.ts";

const root = join(import.meta.dirname, "..", "..");
let stack: OperatorStack;
let dir: string;
let child: ChildProcess;
let output = "";

before(async () => {
  stack = await startOperatorStack({ bmcs: 1 });
  dir = await mkdtemp(join(tmpdir(), "bmc-operator-cli-"));
  // The process runs as the ServiceAccount of config/rbac, as in a cluster.
  writeFileSync(join(dir, "kubeconfig"), stack.operatorKubeconfig);
  child = spawn(
    process.execPath,
    [
      join(root, "src/cli/operator.ts"),
      "--kubeconfig",
      join(dir, "kubeconfig"),
      "--metrics-bind-address",
      "127.0.0.1:0",
      "--health-probe-bind-address",
      "127.0.0.1:0",
      "--log-level",
      "info",
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WATCH_NAMESPACE: "" } },
  );
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
});

after(async () => {
  if (child.exitCode === null) child.kill("SIGKILL");
  await stack.close();
  await rm(dir, { recursive: true, force: true });
});

/** The URL a JSON log line of the manager announced for `field` (metrics or probes). */
function announced(field: "metrics" | "probes"): string | undefined {
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    const record = JSON.parse(line) as Record<string, unknown>;
    if (typeof record[field] === "string") return record[field];
  }
  return undefined;
}

describe("the operator process", () => {
  it("becomes ready, reconciles, serves metrics, logs as JSON without secrets, and stops on SIGTERM", async () => {
    const probes = await waitFor("the probe address in the log", () => Promise.resolve(announced("probes")), (url) => !!url);
    const readyz = await waitFor("readiness", () => fetch(`${probes}/readyz`).then((r) => r.status), (status) => status === 200);
    assert.equal(readyz, 200);
    assert.equal((await fetch(`${probes}/healthz`)).status, 200);

    const ns = await stack.namespace("cli");
    await stack.createHost(ns, "worker-0", 0);
    await waitFor(
      "the host to be registered by the operator process",
      () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name: "worker-0" }),
      (h) => findStatusCondition(h.status?.conditions, "Ready")?.status === "True",
    );

    const metrics = await (await fetch(`${announced("metrics")}/metrics`)).text();
    assert.match(metrics, /controller_runtime_reconcile_total\{controller="baremetalhost",result="success"\} [1-9]/);
    assert.match(metrics, /workqueue_adds_total\{name="baremetalhost",controller="baremetalhost"\}/);
    assert.match(metrics, /bmc_operator_provisioner_calls_total\{provisioner="redfish",operation="registerHost",result="success"\} 1/);
    assert.match(metrics, /bmc_operator_bmc_calls_in_flight 0/);
    assert.ok(!output.includes(stack.fleet.bmcs[0]!.password), "the BMC password never appears in the log");

    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve("timeout"), 10_000).unref())]);
    assert.equal(code, 0, `exit after SIGTERM: ${String(code)}\n${output.slice(-2000)}`);
    assert.match(output, /manager stopped/);
  });
});

/**
 * Debian's python3-kubernetes against the emulator, as a user would run it: a
 * watch through `kubernetes.watch.Watch` (which sends `watch=True`) sees the
 * objects that exist and those created while it runs. Skips with the reason
 * when the package is not installed (`apt-get install python3-kubernetes`).
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { type RunningKubeApiServer, startKubeApiServer } from "../../emulators/kube-apiserver/index.ts";
import { RestClient } from "./rest-client.ts";

const PYTHON = "/usr/bin/python3";

function pythonKubernetesVersion(): string | undefined {
  try {
    return execFileSync(PYTHON, ["-c", "import kubernetes; print(kubernetes.__version__)"], { stdio: ["ignore", "pipe", "ignore"], timeout: 30_000 }).toString().trim();
  } catch {
    return undefined;
  }
}

const version = pythonKubernetesVersion();
const missing = "Debian's python3-kubernetes is not installed (apt-get install python3-kubernetes)";
if (!version && process.env.CI === "true") throw new Error(`${missing} (CI=true: .ci/run installs it, this test must run on CI)`);
const skip = version ? false : missing;

/** Watches ConfigMaps of `default`, printing one JSON line per event; stops after the ConfigMap named by argv[2]. */
const WATCHER = `
import json, sys
from kubernetes import client, config, watch
config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
w = watch.Watch()
for event in w.stream(v1.list_namespaced_config_map, namespace="default", timeout_seconds=20):
    name = event["object"].metadata.name
    print(json.dumps({"type": event["type"], "name": name}), flush=True)
    if name == sys.argv[2]:
        w.stop()
`;

describe(`python3-kubernetes ${version ?? ""} against the emulator`, { skip }, () => {
  let server: RunningKubeApiServer;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "python-client-"));
    server = await startKubeApiServer({ kubeconfigPath: join(dir, "kubeconfig") });
  });

  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a Watch (watch=True) sees the existing ConfigMap, then one created while it runs", async () => {
    const client = new RestClient(server.kubeconfig);
    const configMap = (name: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { a: "b" } });
    assert.equal((await client.post("/api/v1/namespaces/default/configmaps", configMap("before"))).status, 201);
    const child = spawn(PYTHON, ["-c", WATCHER, join(dir, "kubeconfig"), "after"], { stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const events: Array<{ type: string; name: string }> = [];
    for await (const line of createInterface({ input: child.stdout })) {
      const event = JSON.parse(line) as { type: string; name: string };
      events.push(event);
      if (event.name === "before") assert.equal((await client.post("/api/v1/namespaces/default/configmaps", configMap("after"))).status, 201);
    }
    assert.equal(await exited, 0, stderr);
    assert.deepEqual(events, [
      { type: "ADDED", name: "before" },
      { type: "ADDED", name: "after" },
    ], stderr);
  });
});

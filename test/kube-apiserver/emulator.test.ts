/**
 * Behaviours of the Kubernetes API emulator that the conformance table cannot
 * check on a real cluster: persistence across restarts, the kubeconfig file,
 * request statistics, periodic bookmarks, dropped watches, garbage
 * collection and the CLI.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type RunningKubeApiServer, startKubeApiServer } from "../../emulators/kube-apiserver/index.ts";
import { eventually } from "./conformance-cases.ts";
import { RestClient } from "./rest-client.ts";

const configMap = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, ...extra }, data: { a: "1" } });
const CM = "/api/v1/namespaces/default/configmaps";

describe("Kubernetes API emulator", () => {
  let workDir: string;
  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), "kube-emulator-"));
  });
  after(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it("keeps objects in its data directory across restarts and writes its kubeconfig", async () => {
    const dataDir = join(workDir, "data");
    const kubeconfigPath = join(workDir, "kubeconfig");
    const first = await startKubeApiServer({ dataDir, kubeconfigPath });
    let created: any;
    try {
      assert.equal(await readFile(kubeconfigPath, "utf8"), first.kubeconfig);
      assert.match(first.kubeconfig, new RegExp(`server: ${first.url}`));
      assert.match(first.kubeconfig, /insecure-skip-tls-verify: true/);
      const client = new RestClient(first.kubeconfig);
      created = (await client.post(CM, configMap("kept"))).body;
      assert.equal((await client.post(CM, configMap("gone"))).status, 201);
      assert.equal((await client.delete(`${CM}/gone`)).status, 200);
    } finally {
      await first.close();
    }
    const second = await startKubeApiServer({ dataDir });
    try {
      const client = new RestClient(second.kubeconfig);
      const kept = await client.get(`${CM}/kept`);
      assert.deepEqual(kept.body, created);
      assert.equal((await client.get(`${CM}/gone`)).status, 404);
      const next = await client.post(CM, configMap("later"));
      assert.ok(Number(next.body.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
    } finally {
      await second.close();
    }
  });

  describe("on one server", () => {
    let server: RunningKubeApiServer;
    let client: RestClient;
    before(async () => {
      server = await startKubeApiServer({ bookmarkIntervalMs: 100 });
      client = new RestClient(server.kubeconfig);
    });
    after(async () => {
      await server.close();
    });

    it("counts requests by verb and writes by resource", async () => {
      server.resetStats();
      await client.post(CM, configMap("counted"));
      await client.patch(`${CM}/counted`, { data: { b: "2" } }, "application/merge-patch+json");
      await client.get(`${CM}/counted`);
      await client.get(CM);
      await client.post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "counted" } });
      await client.patch("/api/v1/namespaces/counted/status", { status: {} }, "application/merge-patch+json");
      await client.delete(`${CM}/counted`);
      await client.get("/api");
      const stats = server.stats();
      assert.deepEqual(stats.byVerb, { create: 2, patch: 2, get: 1, list: 1, delete: 1 });
      assert.equal(stats.writes, 5);
      assert.equal(stats.requests, 8);
      assert.deepEqual(stats.byResource, {
        configmaps: { create: 1, update: 0, patch: 1, delete: 1, status: 0 },
        namespaces: { create: 1, update: 0, patch: 0, delete: 0, status: 1 },
      });
    });

    it("sends periodic bookmarks to watches that allow them", async () => {
      const stream = await client.watch(CM, { resourceVersion: "0", allowWatchBookmarks: true, fieldSelector: "metadata.name=none" });
      try {
        const event = await stream.next(5000);
        assert.equal(event?.type, "BOOKMARK");
        assert.equal(event.object.kind, "ConfigMap");
        assert.match(event.object.metadata.resourceVersion, /^\d+$/);
      } finally {
        stream.close();
      }
    });

    it("forgets a watch when its client goes away", async () => {
      const noWatches = () => Promise.resolve(assert.equal(server.stats().openWatches, 0));
      await eventually(noWatches, 5000);
      const stream = await client.watch(CM, { resourceVersion: "0", fieldSelector: "metadata.name=none" });
      assert.equal(server.stats().openWatches, 1);
      stream.close();
      await eventually(noWatches, 5000);
    });

    it("sends a watcher the events of one turn of the event loop in one write", async () => {
      const labels = { labels: { batch: "one-turn" } };
      for (let i = 0; i < 10; i++) assert.equal((await client.post(CM, configMap(`turn-${i}`, labels))).status, 201);
      const stream = await client.watch(CM, { resourceVersion: "0", labelSelector: "batch=one-turn" });
      try {
        for (let i = 0; i < 10; i++) assert.equal((await stream.next(5000))?.type, "ADDED");
        server.resetStats();
        // One deletecollection request: its ten DELETED events arise in the same turn.
        assert.equal((await client.delete(`${CM}?labelSelector=batch%3Done-turn`)).status, 200);
        const deleted = new Set<string>();
        for (let i = 0; i < 10; i++) {
          const event = await stream.next(5000);
          assert.equal(event?.type, "DELETED");
          deleted.add(event.object.metadata.name);
        }
        assert.equal(deleted.size, 10, "every object's DELETED event, once");
        const { watchEvents, watchWrites } = server.stats();
        assert.equal(watchEvents, 10);
        assert.equal(watchWrites, 1);
      } finally {
        stream.close();
      }
    });

    it("ends every watch on dropWatches()", async () => {
      const stream = await client.watch(CM, { resourceVersion: "0", fieldSelector: "metadata.name=none" });
      try {
        server.dropWatches();
        assert.equal(await stream.next(5000), undefined);
      } finally {
        stream.close();
      }
    });

    it("garbage-collects dependents of a deleted owner, and orphans them on request", async () => {
      const owner = (await client.post(CM, configMap("owner"))).body;
      const ref = { apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata.uid };
      assert.equal((await client.post(CM, configMap("dependent", { ownerReferences: [ref] }))).status, 201);
      assert.equal((await client.delete(`${CM}/owner`)).status, 200);
      await eventually(async () => assert.equal((await client.get(`${CM}/dependent`)).status, 404), 5000);

      const second = (await client.post(CM, configMap("owner2"))).body;
      const ref2 = { ...ref, name: "owner2", uid: second.metadata.uid };
      assert.equal((await client.post(CM, configMap("orphan", { ownerReferences: [ref2] }))).status, 201);
      assert.equal((await client.delete(`${CM}/owner2`, { propagationPolicy: "Orphan" })).status, 200);
      // The orphaning is observable (the reference goes); the dependent must then still exist.
      await eventually(async () => assert.equal((await client.get(`${CM}/orphan`)).body.metadata.ownerReferences, undefined), 5000);
      const orphan = await client.get(`${CM}/orphan`);
      assert.equal(orphan.status, 200);
    });

    it("forbids creating in a terminating namespace and deleting system namespaces", async () => {
      await client.post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "ending" } });
      await client.post("/api/v1/namespaces/ending/configmaps", configMap("held", { finalizers: ["example.com/hold"] }));
      assert.equal((await client.delete("/api/v1/namespaces/ending")).status, 200);
      const refused = await client.post("/api/v1/namespaces/ending/configmaps", configMap("new"));
      assert.equal(refused.status, 403);
      assert.match(refused.body.message, /unable to create new content in namespace ending because it is being terminated/);
      assert.equal((await client.get("/api/v1/namespaces/ending")).body.status.phase, "Terminating");
      await client.patch("/api/v1/namespaces/ending/configmaps/held", { metadata: { finalizers: null } }, "application/merge-patch+json");
      await eventually(async () => assert.equal((await client.get("/api/v1/namespaces/ending")).status, 404), 5000);
      const system = await client.delete("/api/v1/namespaces/default");
      assert.equal(system.status, 403);
      assert.match(system.body.message, /this namespace may not be deleted/);
    });

    it("answers unknown paths and methods with Status errors", async () => {
      const missing = await client.get("/apis/nothing.example.com/v1/things");
      assert.equal(missing.status, 404);
      assert.equal(missing.body.kind, "Status");
      const method = await client.request("POST", `${CM}/x`, { body: configMap("x") });
      assert.equal(method.status, 405);
      assert.equal(method.body.reason, "MethodNotAllowed");
      const unsupported = await client.post(CM, "a: b", { contentType: "text/plain" });
      assert.equal(unsupported.status, 415);
    });
  });

  it("runs from the command line, prints where it listens and stops on SIGTERM", async () => {
    const kubeconfigPath = join(workDir, "cli.kubeconfig");
    const child = spawn(process.execPath, [join(import.meta.dirname, "..", "..", "emulators", "kube-apiserver", "cli.ts"), "--port", "0", "--kubeconfig", kubeconfigPath], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      await eventually(() => Promise.resolve(assert.match(output, /listening on http:\/\/127\.0\.0\.1:\d+/)), 10_000);
      const client = new RestClient(await readFile(kubeconfigPath, "utf8"));
      assert.equal((await client.get("/api/v1/namespaces/default")).status, 200);
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});

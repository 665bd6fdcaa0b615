/**
 * The informer against the Kubernetes API emulator: paged initial list,
 * watch resumption after dropped connections, re-list after compaction (410),
 * and a cache that ends with exactly the server's objects.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { Informer } from "../../src/runtime/informer.ts";
import { type KubeObject, objectKey } from "../../src/runtime/resource.ts";
import { CONFIG_MAPS, createNamespace, eventually, startCluster, type TestCluster } from "./helpers.ts";

const FAST_BACKOFF = { duration: 20, factor: 2, jitter: 1, cap: 200 };

async function serverKeys(cluster: TestCluster, namespaces: string[]): Promise<string[]> {
  const keys: string[] = [];
  for (const namespace of namespaces) {
    const { items } = await cluster.client.listAll(CONFIG_MAPS, { namespace });
    keys.push(...items.map((o) => `${objectKey(o)}@${o.metadata?.resourceVersion}`));
  }
  return keys.sort();
}

function cacheKeys(informer: Informer<KubeObject>): string[] {
  return informer.list().map((o) => `${objectKey(o)}@${o.metadata?.resourceVersion}`).sort();
}

describe("Informer against the API emulator", () => {
  let cluster: TestCluster;
  const namespaces = ["alpha", "beta"];

  before(async () => {
    cluster = await startCluster();
    for (const ns of namespaces) await createNamespace(cluster.client, ns);
    for (const ns of namespaces) {
      for (let i = 0; i < 5; i++) {
        await cluster.client.create(CONFIG_MAPS, { metadata: { namespace: ns, name: `cm-${i}` }, data: { i: String(i) } });
      }
    }
  });

  after(async () => {
    await cluster.close();
  });

  it("lists in pages, survives dropped watches and a 410 after compaction, and ends with exactly the server's objects", async () => {
    const registry = new Registry();
    const informer = new Informer<KubeObject>(cluster.client, CONFIG_MAPS, { namespaces, pageSize: 2, backoff: FAST_BACKOFF, registry });
    const deleted: string[] = [];
    const updated: string[] = [];
    informer.addEventHandler({
      update: (_old, o) => updated.push(objectKey(o)),
      delete: (o) => deleted.push(objectKey(o)),
    });
    informer.start();
    try {
      assert.equal(await informer.waitForSync(AbortSignal.timeout(10_000)), true);
      assert.deepEqual(cacheKeys(informer), await serverKeys(cluster, namespaces));

      // A dropped watch resumes from the last resourceVersion: changes made meanwhile arrive.
      cluster.server.dropWatches();
      await cluster.client.create(CONFIG_MAPS, { metadata: { namespace: "alpha", name: "after-drop" } });
      await cluster.client.patch(CONFIG_MAPS, { namespace: "beta", name: "cm-0" }, { data: { i: "changed" } }, { type: "merge" });
      await cluster.client.delete(CONFIG_MAPS, { namespace: "alpha", name: "cm-1" });
      await eventually(async () => {
        return JSON.stringify(cacheKeys(informer)) === JSON.stringify(await serverKeys(cluster, namespaces));
      }, "the cache to catch up after dropped watches");
      assert.ok(deleted.includes("alpha/cm-1"));
      assert.ok(updated.includes("beta/cm-0"));
      assert.doesNotMatch(await registry.metrics(), /informer_lists_total\{resource="configmaps",reason="(expired|error)"\}/, "resumed without re-listing");

      // The watches' resourceVersions fall behind (other kinds move the store on), the store is
      // compacted and the watches drop: resuming gets 410 Expired and the informer re-lists.
      await createNamespace(cluster.client, "gamma");
      cluster.server.compact();
      cluster.server.dropWatches();
      await Promise.all([
        cluster.client.delete(CONFIG_MAPS, { namespace: "beta", name: "cm-4" }),
        cluster.client.patch(CONFIG_MAPS, { namespace: "alpha", name: "cm-2" }, { data: { i: "changed" } }, { type: "merge" }),
      ]);
      await eventually(async () => {
        return JSON.stringify(cacheKeys(informer)) === JSON.stringify(await serverKeys(cluster, namespaces));
      }, "the cache to match the server after compaction");
      assert.match(await registry.metrics(), /informer_lists_total\{resource="configmaps",reason="expired"\} 2/);
      assert.ok(deleted.includes("beta/cm-4"));
      assert.ok(updated.includes("alpha/cm-2"));
      assert.equal(informer.get({ namespace: "alpha", name: "cm-2" })?.metadata?.resourceVersion !== undefined, true);
    } finally {
      await informer.stop();
    }
    const metrics = await registry.metrics();
    assert.match(metrics, /informer_lists_total\{resource="configmaps",reason="initial"\} 2/);
  });

  it("watches all namespaces with one list-watch and keeps going after the server restarts its watches repeatedly", async () => {
    const informer = new Informer<KubeObject>(cluster.client, CONFIG_MAPS, { backoff: FAST_BACKOFF, registry: new Registry() });
    informer.start();
    try {
      await informer.waitForSync(AbortSignal.timeout(10_000));
      for (let round = 0; round < 3; round++) {
        cluster.server.dropWatches();
        await cluster.client.create(CONFIG_MAPS, { metadata: { namespace: "beta", name: `round-${round}` } });
      }
      await eventually(async () => {
        const all = [...(await serverKeys(cluster, namespaces))];
        const cached = cacheKeys(informer).filter((k) => k.startsWith("alpha/") || k.startsWith("beta/"));
        return JSON.stringify(cached) === JSON.stringify(all);
      }, "the cluster-wide cache to match the server");
    } finally {
      await informer.stop();
    }
  });
});

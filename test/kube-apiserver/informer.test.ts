/**
 * A `@kubernetes/client-node` informer against the Kubernetes API emulator:
 * it resumes after the server drops its watch, relists after a 410 Expired
 * when the history it needs was compacted away, and ends with exactly the
 * server's objects.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, KubeConfig, makeInformer, type V1ConfigMap } from "@kubernetes/client-node";
import { type RunningKubeApiServer, startKubeApiServer } from "../../emulators/kube-apiserver/index.ts";

const NAMESPACE = "informer";

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("client-node informer against the emulator", () => {
  let server: RunningKubeApiServer;
  let core: CoreV1Api;
  let kubeConfig: KubeConfig;

  before(async () => {
    server = await startKubeApiServer();
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(server.kubeconfig);
    core = kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  });

  after(async () => {
    await server?.close();
  });

  it("survives a dropped watch and a 410, and ends with exactly the server's objects", async () => {
    const create = (name: string) => core.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name }, data: { v: "1" } } });
    await create("a");
    await create("b");
    const informer = makeInformer<V1ConfigMap>(kubeConfig, `/api/v1/namespaces/${NAMESPACE}/configmaps`, () =>
      core.listNamespacedConfigMap({ namespace: NAMESPACE }),
    );
    const deleted: string[] = [];
    const errors: unknown[] = [];
    let stopped = false;
    informer.on("delete", (object) => deleted.push(object.metadata?.name ?? ""));
    informer.on("error", (error) => {
      if (!stopped) errors.push(error);
    });
    const cached = () => new Map(informer.list(NAMESPACE).map((o) => [o.metadata?.name ?? "", o.metadata?.resourceVersion ?? ""]));
    const serverObjects = async () => {
      const list = await core.listNamespacedConfigMap({ namespace: NAMESPACE });
      return new Map(list.items.map((o) => [o.metadata?.name ?? "", o.metadata?.resourceVersion ?? ""]));
    };
    const watches = () => server.stats().byVerb.watch ?? 0;
    const lists = () => server.stats().byVerb.list ?? 0;

    try {
      await informer.start();
      await until("the informer has listed a and b", () => cached().size === 2);
      await until("the informer watches", () => watches() >= 1);

      // A dropped watch resumes from the last resourceVersion: changes made meanwhile arrive without a relist.
      const listsBefore = lists();
      server.dropWatches();
      await core.replaceNamespacedConfigMap({ namespace: NAMESPACE, name: "a", body: { metadata: { name: "a" }, data: { v: "2" } } });
      await until("the informer sees the update made while its watch was down", () => informer.get("a", NAMESPACE)?.data?.v === "2");
      assert.equal(lists(), listsBefore, "resuming a watch needs no relist");

      // A watch dropped right after a reconnect is retried after a back-off: make changes and compact meanwhile.
      let compactedWhileAway = false;
      for (let attempt = 0; attempt < 3 && !compactedWhileAway; attempt++) {
        const reconnected = watches() + 1;
        server.dropWatches();
        await until("the informer reconnects", () => watches() >= reconnected);
        const watchesBefore = watches();
        server.dropWatches();
        await core.deleteNamespacedConfigMap({ namespace: NAMESPACE, name: "b" }).catch(() => undefined);
        await create(`c${attempt}`);
        await core.replaceNamespacedConfigMap({ namespace: NAMESPACE, name: "a", body: { metadata: { name: "a" }, data: { v: `3-${attempt}` } } });
        server.compact();
        compactedWhileAway = watches() === watchesBefore;
      }
      assert.ok(compactedWhileAway, "the history was compacted while the informer was disconnected");
      const listsBeforeExpiry = lists();
      await until("the informer relists after 410 Expired", () => lists() > listsBeforeExpiry);
      const expected = await serverObjects();
      await until("the informer's cache equals the server's objects", () => JSON.stringify([...cached()].sort()) === JSON.stringify([...expected].sort()));
      assert.ok(deleted.includes("b"), `the relist reported b as deleted (deletes seen: ${JSON.stringify(deleted)})`);

      // And it keeps watching afterwards.
      await create("d");
      await until("the informer sees an object created after the relist", () => informer.get("d", NAMESPACE) !== undefined);
      assert.deepEqual([...cached()].sort(), [...(await serverObjects())].sort());
      assert.deepEqual(errors, []);
    } finally {
      stopped = true;
      await informer.stop();
    }
  });
});

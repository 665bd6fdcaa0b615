import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { ApiError } from "./api-error.ts";
import { FakeClock, settle } from "./clock.ts";
import { Informer } from "./informer.ts";
import { defineResource, type KubeObject, objectKey } from "./resource.ts";
import { FakeApi, keysOf } from "./testing/fake-api.ts";

const things = defineResource<KubeObject & { spec?: { host?: string } }>({
  group: "example.com",
  version: "v1",
  plural: "things",
  kind: "Thing",
  namespaced: true,
});

function setup(options: { namespaces?: string[]; resyncPeriodMs?: number } = {}) {
  const api = new FakeApi();
  const clock = new FakeClock();
  const registry = new Registry();
  const informer = new Informer(api.client, things, { clock, registry, ...options });
  const seen: string[] = [];
  informer.addEventHandler({
    add: (o) => seen.push(`add ${objectKey(o)}`),
    update: (old, o) => seen.push(`update ${objectKey(o)} ${old.metadata?.resourceVersion}->${o.metadata?.resourceVersion}`),
    delete: (o) => seen.push(`delete ${objectKey(o)}`),
  });
  return { api, clock, registry, informer, seen };
}

/** Starts the informer and waits for its sync and the events of its list. */
async function startSynced(informer: Informer<KubeObject>): Promise<void> {
  informer.start();
  await informer.waitForSync();
  await settle();
}

describe("Informer", () => {
  it("lists, syncs, then watches from the list's resourceVersion and reports old and new objects", async () => {
    const { api, informer, seen } = setup();
    api.put("ns", "a");
    informer.start();
    assert.equal(await informer.waitForSync(), true);
    await settle();
    assert.deepEqual(seen, ["add ns/a"]);
    assert.deepEqual(api.calls, ["list *", "watch *@101"]);
    api.put("ns", "b");
    api.put("ns", "a", { spec: { host: "h" } });
    api.remove("ns", "b");
    await settle();
    assert.deepEqual(seen.slice(1), ["add ns/b", "update ns/a 101->103", "delete ns/b"]);
    assert.equal(informer.get("ns/a")?.spec?.host, "h");
    await informer.stop();
    assert.equal(api.openWatches, 0);
  });

  it("resumes a watch that ended from the last resourceVersion seen, bookmarks included, without re-listing", async () => {
    const { api, informer } = setup();
    await startSynced(informer);
    api.put("ns", "a");
    api.put("ns", "b", {}, true); // changes the resourceVersion without telling the watch
    api.bookmark();
    await settle();
    api.endWatches();
    await settle();
    assert.deepEqual(api.calls, ["list *", "watch *@100", "watch *@102"]);
    await informer.stop();
  });

  it("re-lists on 410 Expired, emitting deletes for vanished objects and updates for changed ones", async () => {
    const { api, informer, seen, registry } = setup();
    api.put("ns", "keep");
    api.put("ns", "change");
    api.put("ns", "vanish");
    await startSynced(informer);
    seen.length = 0;
    // While the watch misses them, the server changes.
    api.put("ns", "change", { spec: { host: "new" } }, true);
    api.remove("ns", "vanish", true);
    api.put("ns", "fresh", {}, true);
    api.expireWatches();
    await settle();
    assert.deepEqual(seen.sort(), ["add ns/fresh", "delete ns/vanish", "update ns/change 102->104"]);
    assert.deepEqual(keysOf(informer.list()), keysOf(api.objects()));
    assert.equal(api.calls.filter((c) => c.startsWith("list")).length, 2);
    assert.match(await registry.metrics(), /informer_lists_total\{resource="things.example.com",reason="expired"\} 1/);
    await informer.stop();
  });

  it("never stops on errors: logs, counts and retries with backoff until the list works", async () => {
    const { api, clock, informer, registry } = setup();
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    api.failLists = [refused, new ApiError("GET", "/x", { code: 500, reason: "InternalError" })];
    api.failWatches = [refused];
    api.put("ns", "a");
    informer.start();
    await settle();
    assert.equal(informer.hasSynced(), false);
    await clock.advance(2_000); // first retry after 0.8–1.6 s
    assert.equal(informer.hasSynced(), false);
    await clock.advance(4_000); // second retry after 1.6–3.2 s
    assert.equal(informer.hasSynced(), true);
    await clock.advance(7_000); // the watch failed too: retried
    assert.equal(api.openWatches, 1);
    const text = await registry.metrics();
    assert.match(text, /informer_errors_total\{resource="things.example.com",operation="list"\} 2/);
    assert.match(text, /informer_errors_total\{resource="things.example.com",operation="watch"\} 1/);
    await informer.stop();
  });

  it("runs one list-watch per watched namespace and syncs when all have listed", async () => {
    const { api, informer, seen } = setup({ namespaces: ["a", "b"] });
    api.put("a", "x");
    api.put("b", "y");
    api.put("c", "ignored");
    await startSynced(informer);
    assert.deepEqual(seen.sort(), ["add a/x", "add b/y"]);
    assert.deepEqual(api.calls.sort(), ["list a", "list b", "watch a@103", "watch b@103"]);
    api.put("c", "ignored2");
    api.put("b", "z");
    await settle();
    assert.deepEqual(keysOf(informer.list()), ["a/x", "b/y", "b/z"]);
    await informer.stop();
  });

  it("re-lists one namespace without touching the objects of another", async () => {
    const { api, informer, seen } = setup({ namespaces: ["a", "b"] });
    api.put("a", "x");
    api.put("b", "y");
    await startSynced(informer);
    seen.length = 0;
    api.failWatches = [];
    api.expireWatches(); // both expire; each namespace re-lists its own objects only
    await settle();
    assert.deepEqual(seen, []);
    assert.deepEqual(keysOf(informer.list()), ["a/x", "b/y"]);
    await informer.stop();
  });

  it("resyncs from the cache without calling the API, when asked to", async () => {
    const { api, clock, informer, seen } = setup({ resyncPeriodMs: 60_000 });
    api.put("ns", "a");
    await startSynced(informer);
    const calls = api.calls.length;
    seen.length = 0;
    await clock.advance(60_000);
    assert.deepEqual(seen, ["update ns/a 101->101"]);
    assert.equal(api.calls.length, calls);
    await informer.stop();
    await clock.advance(120_000);
    assert.deepEqual(seen, ["update ns/a 101->101"], "no resync after stop");
  });

  it("tells a handler added late about the objects already cached, and keeps a throwing handler from stopping others", async () => {
    const { api, informer } = setup();
    api.put("ns", "a");
    informer.start();
    await informer.waitForSync();
    const late: string[] = [];
    informer.addEventHandler({ add: () => { throw new Error("boom"); } });
    informer.addEventHandler({ add: (o) => late.push(objectKey(o)) });
    assert.deepEqual(late, ["ns/a"]);
    api.put("ns", "b");
    await settle();
    assert.deepEqual(late, ["ns/a", "ns/b"]);
    await informer.stop();
  });

  it("caches and hands on each object, listed or watched, as the transform returns it", async () => {
    const api = new FakeApi();
    const informer = new Informer(api.client, things, {
      clock: new FakeClock(),
      registry: new Registry(),
      transform: (o) => ({ ...o, spec: { host: `${(o as { spec?: { host?: string } }).spec?.host ?? "none"}, transformed` } }),
    });
    const handed: string[] = [];
    informer.addEventHandler({
      add: (o) => handed.push(`add ${o.spec?.host}`),
      update: (old, o) => handed.push(`update ${old.spec?.host} -> ${o.spec?.host}`),
      delete: (o) => handed.push(`delete ${o.spec?.host}`),
    });
    api.put("ns", "listed", { spec: { host: "h1" } });
    await startSynced(informer);
    api.put("ns", "watched", { spec: { host: "h2" } });
    api.put("ns", "listed", { spec: { host: "h3" } });
    api.remove("ns", "watched");
    await settle();
    assert.deepEqual(handed, ["add h1, transformed", "add h2, transformed", "update h1, transformed -> h3, transformed", "delete h2, transformed"]);
    assert.equal(informer.get("ns/listed")?.spec?.host, "h3, transformed");
    await informer.stop();
  });

  it("indexes cached objects", async () => {
    const { api, informer } = setup();
    informer.addIndex("host", (o) => (o.spec?.host ? [`${o.metadata?.namespace}/${o.spec.host}`] : []));
    api.put("ns", "s1", { spec: { host: "h1" } });
    api.put("ns", "s2", { spec: { host: "h1" } });
    api.put("ns", "s3", { spec: { host: "h2" } });
    informer.start();
    await informer.waitForSync();
    assert.deepEqual(keysOf(informer.byIndex("host", "ns/h1")), ["ns/s1", "ns/s2"]);
    await informer.stop();
  });
});

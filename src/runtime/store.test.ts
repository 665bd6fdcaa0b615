import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "./resource.ts";
import { Store } from "./store.ts";

type Sub = KubeObject & { spec: { hostName: string } };
const sub = (ns: string, name: string, host: string): Sub => ({ metadata: { namespace: ns, name }, spec: { hostName: host } });

describe("Store", () => {
  it("keeps objects by namespace/name and lists them per namespace", () => {
    const store = new Store<Sub>();
    store.set(sub("a", "s1", "h"));
    store.set(sub("b", "s1", "h"));
    assert.equal(store.get({ namespace: "a", name: "s1" })?.metadata?.namespace, "a");
    assert.equal(store.get("b/s1")?.metadata?.namespace, "b");
    assert.deepEqual(store.list("b").map((s) => s.metadata?.name), ["s1"]);
    assert.equal(store.size, 2);
  });

  it("indexes objects, follows changes and deletions, and indexes what was there before the index", () => {
    const store = new Store<Sub>();
    store.set(sub("ns", "s1", "h1"));
    store.addIndex("host", (s) => [`${s.metadata?.namespace}/${s.spec.hostName}`]);
    store.set(sub("ns", "s2", "h1"));
    assert.deepEqual(store.byIndex("host", "ns/h1").map((s) => s.metadata?.name).sort(), ["s1", "s2"]);
    store.set(sub("ns", "s2", "h2"));
    assert.deepEqual(store.byIndex("host", "ns/h1").map((s) => s.metadata?.name), ["s1"]);
    assert.deepEqual(store.byIndex("host", "ns/h2").map((s) => s.metadata?.name), ["s2"]);
    store.delete("ns/s1");
    assert.deepEqual(store.byIndex("host", "ns/h1"), []);
  });

  it("names the index that does not exist, and refuses a duplicate", () => {
    const store = new Store<Sub>();
    assert.throws(() => store.byIndex("host", "x"), /No index named "host"; indexes: namespace/);
    store.addIndex("host", () => []);
    assert.throws(() => store.addIndex("host", () => []), /Index "host" already exists/);
  });

  it("freezes stored objects so the cache cannot be changed by accident", () => {
    const store = new Store<Sub>();
    store.set(sub("ns", "s1", "h1"));
    const cached = store.get("ns/s1")!;
    assert.throws(() => {
      cached.spec.hostName = "other";
    }, TypeError);
    const copy = structuredClone(cached);
    copy.spec.hostName = "other";
    assert.equal(store.get("ns/s1")?.spec.hostName, "h1");
  });
});

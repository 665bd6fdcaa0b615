import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { KubeObject } from "./object-meta.ts";
import { MemoryPersistence, SqlitePersistence } from "./persistence.ts";
import { StatusError } from "./status.ts";
import { type ChangeEvent, Storage } from "./storage.ts";

const object = (name: string, data = "1"): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "ns" }, data: { v: data } });

describe("storage", () => {
  it("gives every write the next cluster-wide resourceVersion and keeps the JSON", () => {
    const storage = new Storage(new MemoryPersistence(), 10);
    const a = storage.put("configmaps", "ns/a", object("a"));
    const b = storage.put("secrets", "ns/b", object("b"));
    const a2 = storage.put("configmaps", "ns/a", object("a", "2"));
    assert.deepEqual([a.resourceVersion, b.resourceVersion, a2.resourceVersion], [1, 2, 3]);
    assert.equal(a2.object.metadata.resourceVersion, "3");
    assert.equal(a2.json, JSON.stringify(a2.object));
    assert.equal(storage.resourceVersion, 3);
  });

  it("tells listeners each change with the previous state, and lists keys in order", () => {
    const storage = new Storage(new MemoryPersistence(), 10);
    const events: ChangeEvent[] = [];
    storage.table("configmaps").listeners.add((event) => events.push(event));
    storage.put("configmaps", "ns/b", object("b"));
    storage.put("configmaps", "ns/a", object("a"));
    storage.put("configmaps", "ns/a", object("a", "2"));
    storage.remove("configmaps", "ns/a", object("a", "2"));
    assert.deepEqual(events.map((e) => [e.type, e.entry.key, e.resourceVersion]), [["ADDED", "ns/b", 1], ["ADDED", "ns/a", 2], ["MODIFIED", "ns/a", 3], ["DELETED", "ns/a", 4]]);
    assert.equal(events[2]!.previous?.resourceVersion, 2);
    assert.equal(events[3]!.entry.object.metadata.resourceVersion, "4");
    assert.deepEqual(storage.table("configmaps").sortedKeys(), ["ns/b"]);
  });

  it("replays retained changes and answers 410 Expired for forgotten ones", () => {
    const storage = new Storage(new MemoryPersistence(), 3);
    for (let i = 1; i <= 5; i++) storage.put("configmaps", `ns/${i}`, object(String(i)));
    assert.deepEqual(storage.changesSince("configmaps", 3).map((e) => e.resourceVersion), [4, 5]);
    assert.deepEqual(storage.changesSince("configmaps", 2).map((e) => e.resourceVersion), [3, 4, 5]);
    assert.throws(() => storage.changesSince("configmaps", 1), (error: unknown) => error instanceof StatusError && error.code === 410 && error.message === "too old resource version: 1 (2)");
    storage.compact();
    assert.deepEqual(storage.changesSince("configmaps", 5), []);
    assert.throws(() => storage.changesSince("configmaps", 4), /too old resource version: 4 \(5\)/);
    assert.throws(() => storage.changesSince("secrets", 4), /too old resource version/, "compaction covers tables without changes too");
  });

  it("keeps objects and the resourceVersion across restarts with sqlite", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kube-storage-"));
    try {
      const first = new Storage(new SqlitePersistence(dir), 10);
      first.put("configmaps", "ns/a", object("a"));
      first.put("configmaps", "ns/b", object("b"));
      first.remove("configmaps", "ns/b", object("b"));
      first.close();
      const second = new Storage(new SqlitePersistence(dir), 10);
      assert.deepEqual([...second.table("configmaps").items.keys()], ["ns/a"]);
      assert.equal(second.get("configmaps", "ns/a")?.object.metadata.resourceVersion, "1");
      assert.equal(second.resourceVersion, 3);
      assert.equal(second.put("configmaps", "ns/c", object("c")).resourceVersion, 4);
      assert.throws(() => second.changesSince("configmaps", 2), /too old resource version/, "history does not survive a restart");
      second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

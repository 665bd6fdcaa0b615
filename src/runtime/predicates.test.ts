import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { and, annotationsChanged, contentChanged, deletionChanged, deletionStarted, finalizerRemoved, generationChanged, or, type Predicate, resourceVersionChanged } from "./predicates.ts";
import type { KubeObject } from "./resource.ts";

type Meta = NonNullable<KubeObject["metadata"]>;
const object = (metadata: Partial<Meta>): KubeObject => ({ metadata: { namespace: "fleet", name: "light", ...metadata } });
const update = (p: Predicate, old: Partial<Meta>, now: Partial<Meta>) => p.update!(object(old), object(now));

describe("predicates", () => {
  it("generationChanged passes spec changes, not status writes", () => {
    assert.equal(update(generationChanged, { generation: 1, resourceVersion: "5" }, { generation: 2, resourceVersion: "6" }), true);
    assert.equal(update(generationChanged, { generation: 1, resourceVersion: "5" }, { generation: 1, resourceVersion: "6" }), false);
  });

  it("resourceVersionChanged skips resyncs", () => {
    assert.equal(update(resourceVersionChanged, { resourceVersion: "5" }, { resourceVersion: "5" }), false);
    assert.equal(update(resourceVersionChanged, { resourceVersion: "5" }, { resourceVersion: "6" }), true);
  });

  it("contentChanged passes what other controllers can read, not the object's bookkeeping or a finalizer added", () => {
    const host = (metadata: Partial<Meta>, status: Record<string, unknown> = { operationalStatus: "OK" }): KubeObject =>
      ({ metadata: { namespace: "fleet", name: "worker-0", generation: 1, resourceVersion: "5", ...metadata }, spec: { online: true }, status }) as KubeObject;
    const p = (old: KubeObject, now: KubeObject) => contentChanged.update!(old, now);
    assert.equal(p(host({}), host({ resourceVersion: "6", finalizers: ["metal3.io/bmc-operator"] })), false, "its controller's finalizer added");
    assert.equal(p(host({}), host({ resourceVersion: "6", managedFields: [] })), false, "managed fields");
    assert.equal(p(host({}), host({})), false, "a resync");
    assert.equal(p(host({ finalizers: ["a"] }), host({ resourceVersion: "6" })), true, "a finalizer taken off");
    assert.equal(p(host({}), host({ resourceVersion: "6" }, { operationalStatus: "error" })), true, "the status");
    assert.equal(p(host({}), host({ resourceVersion: "6", generation: 2 })), true, "the spec's generation");
    assert.equal(p(host({}), host({ resourceVersion: "6", labels: { a: "b" } })), true, "labels");
    assert.equal(p(host({}), host({ resourceVersion: "6", annotations: { a: "b" } })), true, "annotations");
    assert.equal(p(host({}), host({ resourceVersion: "6", deletionTimestamp: new Date("2026-12-03T06:00:00Z") })), true, "deletion");
    const secret = (data: Record<string, string>, labels?: Record<string, string>): KubeObject =>
      ({ metadata: { namespace: "fleet", name: "creds", resourceVersion: "1", ...(labels ? { labels } : {}) }, data }) as KubeObject;
    assert.equal(p(secret({ password: "YQ==" }), secret({ password: "Yg==" })), true, "a Secret's data");
  });

  it("deletionStarted passes the update that sets deletionTimestamp, and nothing else", () => {
    const at = new Date("2026-11-21T10:00:00Z");
    assert.equal(update(deletionStarted, {}, { deletionTimestamp: at }), true);
    assert.equal(update(deletionStarted, { deletionTimestamp: at }, { deletionTimestamp: at, finalizers: [] }), false);
    assert.equal(update(deletionStarted, { finalizers: [] }, { finalizers: ["a"] }), false);
  });

  it("finalizerRemoved passes a finalizer taken off, not one added", () => {
    assert.equal(update(finalizerRemoved, { finalizers: ["ours"] }, {}), true);
    assert.equal(update(finalizerRemoved, { finalizers: ["ours", "theirs"] }, { finalizers: ["theirs"] }), true);
    assert.equal(update(finalizerRemoved, {}, { finalizers: ["ours"] }), false, "our own finalizer write does not wake us");
    assert.equal(update(finalizerRemoved, { finalizers: ["theirs"] }, { finalizers: ["ours", "theirs"] }), false);
    assert.equal(update(finalizerRemoved, { finalizers: ["a", "b"] }, { finalizers: ["b", "a"] }), false, "order does not matter");
  });

  it("deletionChanged passes finalizer changes either way and the start of deletion", () => {
    assert.equal(update(deletionChanged, {}, { finalizers: ["ours"] }), true);
    assert.equal(update(deletionChanged, { finalizers: ["ours"] }, {}), true);
    assert.equal(update(deletionChanged, { finalizers: ["ours"] }, { finalizers: ["ours"] }), false);
  });

  it("annotationsChanged looks at the named annotations only, or at all", () => {
    assert.equal(update(annotationsChanged("refresh"), { annotations: { other: "1" } }, { annotations: { other: "2" } }), false);
    assert.equal(update(annotationsChanged("refresh"), {}, { annotations: { refresh: "" } }), true);
    assert.equal(update(annotationsChanged(), { annotations: { other: "1" } }, { annotations: { other: "2" } }), true);
  });

  it("or and and combine, and a predicate without a method lets that event through", () => {
    const never: Predicate = { add: () => false, update: () => false, delete: () => false };
    const some = or(never, generationChanged);
    assert.equal(some.add!(object({})), true, "generationChanged has no add: it passes");
    assert.equal(update(some, { generation: 1 }, { generation: 1 }), false);
    assert.equal(update(some, { generation: 1 }, { generation: 2 }), true);
    const all = and(resourceVersionChanged, generationChanged);
    assert.equal(update(all, { generation: 1, resourceVersion: "1" }, { generation: 1, resourceVersion: "2" }), false);
    assert.equal(update(all, { generation: 1, resourceVersion: "1" }, { generation: 2, resourceVersion: "2" }), true);
    assert.equal(and(never).delete!(object({})), false);
  });
});

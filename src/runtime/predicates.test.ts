import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { and, annotationsChanged, deletionChanged, deletionStarted, finalizerRemoved, generationChanged, or, type Predicate, resourceVersionChanged } from "./predicates.ts";
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

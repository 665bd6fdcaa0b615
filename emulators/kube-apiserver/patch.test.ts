import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch.ts";
import { StatusError } from "./status.ts";

describe("JSON merge patch (RFC 7386)", () => {
  it("merges objects, deletes with null and replaces lists", () => {
    const target = { a: { b: 1, c: 2 }, list: [1, 2], keep: true };
    assert.deepEqual(mergePatch(target, { a: { b: null, d: 3 }, list: [3] }), { a: { c: 2, d: 3 }, list: [3], keep: true });
    assert.deepEqual(target, { a: { b: 1, c: 2 }, list: [1, 2], keep: true }, "the target is not modified");
  });
});

describe("JSON patch (RFC 6902)", () => {
  it("applies operations without modifying the target", () => {
    const target = { spec: { tags: ["a"] } };
    assert.deepEqual(jsonPatch(target, [{ op: "add", path: "/spec/tags/-", value: "b" }, { op: "test", path: "/spec/tags/0", value: "a" }]), { spec: { tags: ["a", "b"] } });
    assert.deepEqual(target, { spec: { tags: ["a"] } });
  });

  it("answers a failed test with 422 naming the operation", () => {
    assert.throws(() => jsonPatch({ a: 1 }, [{ op: "test", path: "/a", value: 2 }]), (error: unknown) => {
      assert.ok(error instanceof StatusError);
      assert.equal(error.code, 422);
      assert.match(error.message, /operation 0: "test" at "\/a"/);
      return true;
    });
  });

  it("answers a malformed patch with 400", () => {
    assert.throws(() => jsonPatch({}, { op: "add" }), (error: unknown) => error instanceof StatusError && error.code === 400 && /must be an array/.test(error.message));
    assert.throws(() => jsonPatch({}, [{ op: "jump", path: "/a" }]), (error: unknown) => error instanceof StatusError && error.code === 400);
  });
});

describe("strategic merge patch", () => {
  it("merges finalizers and owner references by key, and honours directives", () => {
    const target = {
      metadata: { finalizers: ["a"], ownerReferences: [{ uid: "1", name: "x" }], labels: { l: "1" } },
      data: { k: "v", old: "o" },
    };
    const patched = strategicMergePatch(target, {
      metadata: { finalizers: ["b"], ownerReferences: [{ uid: "1", name: "y" }, { uid: "2", name: "z" }], "$deleteFromPrimitiveList/finalizers": ["a"] },
      data: { old: null },
      "$setElementOrder/finalizers": ["b"],
    });
    assert.deepEqual(patched, {
      metadata: { finalizers: ["b"], ownerReferences: [{ uid: "1", name: "y" }, { uid: "2", name: "z" }], labels: { l: "1" } },
      data: { k: "v" },
    });
    const deployment = {
      spec: {
        template: {
          spec: {
            containers: [
              { name: "manager", image: "op:v1", command: ["node"], env: [{ name: "A", value: "1" }], ports: [{ name: "metrics", containerPort: 8080 }] },
              { name: "sidecar", image: "side:v1" },
            ],
          },
        },
      },
    };
    // What `kubectl set image` and `kubectl set env` send: items merged by name, nested lists by their own keys.
    const patchedDeployment = strategicMergePatch(deployment, {
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "manager" }, { name: "sidecar" }],
            containers: [{ name: "manager", image: "op:v2", env: [{ name: "B", value: "2" }, { name: "A", $patch: "delete" }] }],
          },
        },
      },
    }) as typeof deployment;
    assert.deepEqual(patchedDeployment.spec.template.spec.containers, [
      { name: "manager", image: "op:v2", command: ["node"], env: [{ name: "B", value: "2" }], ports: [{ name: "metrics", containerPort: 8080 }] },
      { name: "sidecar", image: "side:v1" },
    ]);
    assert.deepEqual(strategicMergePatch({ data: { a: "1", b: "2" } }, { data: { $patch: "replace", c: "3" } }), { data: { c: "3" } });
    assert.deepEqual(strategicMergePatch({ spec: { x: 1 }, keep: 1 }, { spec: { $patch: "delete" } }), { keep: 1 });
  });
});

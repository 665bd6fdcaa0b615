import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Schema } from "./schema/openapi-validator.ts";
import { compareObjectFields, fieldsOf, formatFieldPath, fromFieldsV1, toFieldsV1 } from "./field-set.ts";
import { applyConfiguration, decodeManagers, encodeManagers, type Manager, recordUpdate, resetFilter, type Writer } from "./managed-fields.ts";
import { OBJECT_META_SCHEMA } from "./object-meta.ts";
import { StatusError } from "./status.ts";

const schema: Schema = {
  type: "object",
  properties: {
    metadata: OBJECT_META_SCHEMA,
    spec: {
      type: "object",
      properties: {
        size: { type: "integer" },
        ref: { type: "object", "x-kubernetes-map-type": "atomic", properties: { name: { type: "string" } } },
        tags: { type: "array", items: { type: "string" }, "x-kubernetes-list-type": "set" },
        args: { type: "array", items: { type: "string" } },
        ports: {
          type: "array",
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["name"],
          items: { type: "object", properties: { name: { type: "string" }, port: { type: "integer" } } },
        },
      },
    },
    status: { type: "object", properties: { phase: { type: "string" } } },
  },
};

const writer = (manager: string, subresource = ""): Writer => ({ manager, apiVersion: "example.com/v1", subresource, time: "2026-01-01T00:00:00Z" });
const noReset = resetFilter("", false);
const object = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ apiVersion: "example.com/v1", kind: "Thing", metadata: { name: "t" }, spec, ...extra });

describe("field sets", () => {
  it("encode an object's fields as FieldsV1, per list and map type, and decode back", () => {
    const fields = fieldsOf(
      object({ size: 1, ref: { name: "x" }, tags: ["a", "b"], args: ["-v"], ports: [{ name: "http", port: 80 }] }, { metadata: { name: "t", labels: { app: "x" }, finalizers: ["f"] } }),
      schema,
    );
    const encoded = toFieldsV1(fields);
    assert.deepEqual(encoded, {
      "f:metadata": { "f:finalizers": { 'v:"f"': {} }, "f:labels": { "f:app": {} } },
      "f:spec": {
        "f:args": {},
        "f:ports": { 'k:{"name":"http"}': { ".": {}, "f:name": {}, "f:port": {} } },
        "f:ref": {},
        "f:size": {},
        "f:tags": { 'v:"a"': {}, 'v:"b"': {} },
      },
    });
    assert.deepEqual([...fromFieldsV1(encoded)].sort(), [...fields].sort());
  });

  it("print paths as server-side apply conflicts show them", () => {
    const [port] = [...fieldsOf(object({ ports: [{ name: "http" }] }), schema)].filter((p) => p.endsWith('k:{"name":"http"}'));
    assert.equal(formatFieldPath(port!), '.spec.ports[name="http"]');
  });

  it("compare two objects into added, modified and removed fields", () => {
    const before = object({ size: 1, tags: ["a"], ports: [{ name: "http", port: 80 }] });
    const after = object({ size: 2, tags: ["b"], ports: [{ name: "http", port: 80 }, { name: "https", port: 443 }] });
    const { added, modified, removed } = compareObjectFields(before, after, schema);
    assert.deepEqual([...modified].map(formatFieldPath), [".spec.size"]);
    assert.deepEqual([...added].map(formatFieldPath).sort(), ['.spec.ports[name="https"]', '.spec.ports[name="https"].name', '.spec.ports[name="https"].port', '.spec.tags[="b"]'].sort());
    assert.deepEqual([...removed].map(formatFieldPath), ['.spec.tags[="a"]']);
  });
});

describe("field ownership", () => {
  it("an update takes the fields it changed from their previous owners", () => {
    const created = recordUpdate([], undefined, object({ size: 1, tags: ["a"] }), schema, writer("creator"));
    const updated = recordUpdate(created, object({ size: 1, tags: ["a"] }), object({ size: 2, tags: ["a"] }), schema, writer("editor"));
    const owners = Object.fromEntries(updated.map((m) => [m.manager, [...m.fields].map(formatFieldPath).sort()]));
    assert.deepEqual(owners, { creator: ['.spec.tags[="a"]'], editor: [".spec.size"] });
  });

  it("apply conflicts with another manager's field unless forced, and shares a field set to the same value", () => {
    const live = object({ size: 1 });
    const managers = recordUpdate([], undefined, live, schema, writer("editor"));
    assert.throws(
      () => applyConfiguration(managers, live, object({ size: 2 }), schema, writer("applier"), { force: false, ignore: noReset }),
      (error: unknown) => {
        assert.ok(error instanceof StatusError);
        assert.equal(error.code, 409);
        assert.equal(error.message, 'Apply failed with 1 conflict: conflict with "editor" using example.com/v1: .spec.size');
        assert.deepEqual(error.status.details?.causes, [{ reason: "FieldManagerConflict", message: 'conflict with "editor" using example.com/v1', field: ".spec.size" }]);
        return true;
      },
    );
    const shared = applyConfiguration(managers, live, object({ size: 1 }), schema, writer("applier"), { force: false, ignore: noReset });
    assert.deepEqual(shared.managers.map((m) => m.manager).sort(), ["applier", "editor"]);
    const forced = applyConfiguration(managers, live, object({ size: 2 }), schema, writer("applier"), { force: true, ignore: noReset });
    assert.equal((forced.object.spec as { size: number }).size, 2);
    assert.deepEqual(forced.managers.map((m) => m.manager), ["applier"]);
  });

  it("apply lists every conflict, grouped by manager", () => {
    const live = object({ size: 1, tags: ["a"], args: ["x"] });
    let managers = recordUpdate([], undefined, object({ size: 1 }), schema, writer("one"));
    managers = recordUpdate(managers, object({ size: 1 }), live, schema, writer("two"));
    assert.throws(() => applyConfiguration(managers, live, object({ size: 3, args: ["y"] }), schema, writer("applier"), { force: false, ignore: noReset }), (error: unknown) => {
      assert.equal((error as Error).message, 'Apply failed with 2 conflicts: conflicts with "one" using example.com/v1:\n- .spec.size\nconflicts with "two" using example.com/v1:\n- .spec.args');
      return true;
    });
  });

  it("apply merges list-map items by key and removes what the manager no longer applies", () => {
    let result = applyConfiguration([], undefined, object({ size: 1, tags: ["a"], ports: [{ name: "a", port: 1 }] }), schema, writer("alice"), { force: false, ignore: noReset });
    result = applyConfiguration(result.managers, result.object, object({ ports: [{ name: "b", port: 2 }] }), schema, writer("bob"), { force: false, ignore: noReset });
    assert.deepEqual((result.object.spec as { ports: unknown[] }).ports, [{ name: "a", port: 1 }, { name: "b", port: 2 }]);
    result = applyConfiguration(result.managers, result.object, object({ size: 1 }), schema, writer("alice"), { force: false, ignore: noReset });
    assert.deepEqual(result.object.spec, { size: 1, ports: [{ name: "b", port: 2 }] });
  });

  it("status fields are neither owned nor conflicting through the main resource", () => {
    const ignore = resetFilter("", true);
    const result = applyConfiguration([], undefined, object({ size: 1 }, { status: { phase: "x" } }), schema, writer("alice"), { force: false, ignore });
    assert.deepEqual(toFieldsV1(result.managers[0]!.fields), { "f:spec": { "f:size": {} } });
    const statusOnly = resetFilter("status", true);
    assert.equal(statusOnly("f:spec\u0000f:size"), true);
    assert.equal(statusOnly("f:status\u0000f:phase"), false);
  });

  it("round-trip through metadata.managedFields", () => {
    const managers: Manager[] = recordUpdate([], undefined, object({ size: 1 }), schema, writer("a", "status"));
    const encoded = encodeManagers(managers);
    assert.deepEqual(encoded, [{ manager: "a", operation: "Update", apiVersion: "example.com/v1", time: "2026-01-01T00:00:00Z", fieldsType: "FieldsV1", fieldsV1: { "f:spec": { "f:size": {} } }, subresource: "status" }]);
    assert.deepEqual(decodeManagers(encoded), managers);
  });
});

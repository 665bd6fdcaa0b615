import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Schema } from "./openapi-validator.ts";
import { pruneUnknownFields } from "./prune.ts";

const schema: Schema = {
  type: "object",
  properties: {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    metadata: { type: "object" },
    spec: {
      type: "object",
      properties: {
        name: { type: "string" },
        items: { type: "array", items: { type: "object", properties: { id: { type: "string" } } } },
        labels: { type: "object", additionalProperties: { type: "string" } },
        free: { type: "object", "x-kubernetes-preserve-unknown-fields": true, properties: { known: { type: "object", properties: {} } } },
        port: { "x-kubernetes-int-or-string": true },
      },
    },
  },
};

describe("pruneUnknownFields", () => {
  it("drops fields the schema does not specify and reports their paths in order", () => {
    const object = {
      apiVersion: "x/v1",
      kind: "X",
      metadata: { name: "a", bogus: 1 },
      spec: { name: "n", extra: true, items: [{ id: "1", colour: "red" }], labels: { a: "b" } },
      top: 1,
    };
    const unknown = pruneUnknownFields(schema, object);
    assert.deepEqual(unknown, ["metadata.bogus", "spec.extra", "spec.items[0].colour", "top"]);
    assert.deepEqual(object, {
      apiVersion: "x/v1",
      kind: "X",
      metadata: { name: "a" },
      spec: { name: "n", items: [{ id: "1" }], labels: { a: "b" } },
    });
  });

  it("keeps unknown fields under x-kubernetes-preserve-unknown-fields but still prunes known children", () => {
    const object = { spec: { free: { anything: { deep: 1 }, known: { dropped: 1 } } } };
    assert.deepEqual(pruneUnknownFields(schema, object), ["spec.free.known.dropped"]);
    assert.deepEqual(object, { spec: { free: { anything: { deep: 1 }, known: {} } } });
  });

  it("quotes field names that are not identifiers", () => {
    const object = { spec: { "a.b": 1 } };
    assert.deepEqual(pruneUnknownFields(schema, object), ['spec["a.b"]']);
  });

  it("treats apiVersion, kind and metadata as ordinary fields below the root", () => {
    const object = { spec: { items: [{ id: "x", kind: "K" }] } };
    assert.deepEqual(pruneUnknownFields(schema, object), ["spec.items[0].kind"]);
    const nested = { metadata: { extra: 1 } };
    assert.deepEqual(pruneUnknownFields(schema, nested, { isResourceRoot: false }), ["metadata.extra"]);
  });
});

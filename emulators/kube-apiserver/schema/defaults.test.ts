import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyDefaults } from "./defaults.ts";
import type { Schema } from "./openapi-validator.ts";

const schema: Schema = {
  type: "object",
  properties: {
    spec: {
      type: "object",
      properties: {
        replicas: { type: "integer", default: 1 },
        mode: { type: "string", default: "auto" },
        note: { type: "string" },
        nullableNote: { type: "string", nullable: true, default: "x" },
        policy: {
          type: "object",
          default: {},
          properties: { retries: { type: "integer", default: 3 } },
        },
        ports: {
          type: "array",
          items: { type: "object", properties: { protocol: { type: "string", default: "TCP" } } },
        },
        byName: { type: "object", additionalProperties: { type: "object", properties: { on: { type: "boolean", default: false } } } },
      },
    },
    status: { type: "object", properties: { phase: { type: "string", default: "Pending" } } },
  },
};

describe("applyDefaults", () => {
  it("fills missing properties inside existing objects, defaults of defaults included", () => {
    const object = applyDefaults(schema, { spec: { mode: "manual", ports: [{}, { protocol: "UDP" }], byName: { a: {} } } });
    assert.deepEqual(object, {
      spec: {
        replicas: 1,
        mode: "manual",
        policy: { retries: 3 },
        ports: [{ protocol: "TCP" }, { protocol: "UDP" }],
        byName: { a: { on: false } },
        nullableNote: "x",
      },
    });
  });

  it("does not create an object that is absent and has no default", () => {
    const object = applyDefaults(schema, { spec: {} }) as Record<string, unknown>;
    assert.equal(object.status, undefined);
  });

  it("replaces null in a non-nullable field by its default, and drops it without one", () => {
    const object = applyDefaults(schema, { spec: { replicas: null, note: null, nullableNote: null } });
    assert.deepEqual(object.spec, { replicas: 1, mode: "auto", policy: { retries: 3 }, nullableNote: null });
  });

  it("does not share default objects between resources", () => {
    const a = applyDefaults(schema, { spec: {} }) as any;
    a.spec.policy.retries = 9;
    const b = applyDefaults(schema, { spec: {} }) as any;
    assert.equal(b.spec.policy.retries, 3);
  });
});

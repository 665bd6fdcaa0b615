import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LAST_APPLIED_ANNOTATION, stripManagedFieldsAndLastApplied } from "./cache-transform.ts";

describe("stripManagedFieldsAndLastApplied", () => {
  it("drops managedFields and kubectl's last-applied annotation, and keeps every other field and annotation", () => {
    const object = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "a",
        namespace: "ns",
        resourceVersion: "7",
        managedFields: [{ manager: "kubectl", operation: "Update", fieldsV1: { "f:data": {} } }],
        annotations: { [LAST_APPLIED_ANNOTATION]: '{"kind":"ConfigMap"}', "bmc-operator.metal3.io/refresh-inventory": "now" },
        labels: { team: "infra" },
      },
      data: { key: "value" },
    };
    const result = stripManagedFieldsAndLastApplied(object);
    assert.equal(result, object, "changed in place");
    assert.deepEqual(result, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "a", namespace: "ns", resourceVersion: "7", annotations: { "bmc-operator.metal3.io/refresh-inventory": "now" }, labels: { team: "infra" } },
      data: { key: "value" },
    });
  });

  it("leaves an object without metadata or annotations alone", () => {
    assert.deepEqual(stripManagedFieldsAndLastApplied({ kind: "Status" }), { kind: "Status" });
    assert.deepEqual(stripManagedFieldsAndLastApplied({ metadata: { name: "a" } }), { metadata: { name: "a" } });
  });
});

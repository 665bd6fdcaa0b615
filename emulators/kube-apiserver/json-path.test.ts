import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileJsonPath } from "./json-path.ts";

const object = {
  metadata: { name: "a", labels: { "app.kubernetes.io/name": "x" } },
  spec: { items: [{ id: 1 }, { id: 2 }] },
  status: { conditions: [{ type: "Synced", status: "False" }, { type: "Ready", status: "True" }] },
};

describe("printer column JSONPath", () => {
  const cases: Array<[string, unknown[]]> = [
    [".metadata.name", ["a"]],
    ["{.metadata.name}", ["a"]],
    [".spec.items[1].id", [2]],
    [".spec.items[-1].id", [2]],
    [".spec.items[*].id", [1, 2]],
    [".metadata.labels['app.kubernetes.io/name']", ["x"]],
    ['.status.conditions[?(@.type=="Ready")].status', ["True"]],
    ['.status.conditions[?(@.type!="Ready")].type', ["Synced"]],
    [".status.missing", []],
    [".spec.items[5]", []],
  ];
  for (const [path, expected] of cases) {
    it(path, () => assert.deepEqual(compileJsonPath(path).find(object), expected));
  }

  it("names the expression when it is outside the subset", () => {
    assert.throws(() => compileJsonPath(".a[?(@.x > 1)]"), /Unsupported JSONPath filter .* in "\.a\[\?\(@\.x > 1\)\]"/);
    assert.throws(() => compileJsonPath(".a[0"), /unclosed "\["/);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pathGetter } from "./resource-type.ts";
import { labelSelectorFromObject, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import { StatusError } from "./status.ts";

describe("label selectors", () => {
  const labels = { app: "web", tier: "front", "example.com/owner": "team-a" };
  const cases: Array<[string, boolean]> = [
    ["", true],
    ["app=web", true],
    ["app==web", true],
    ["app=db", false],
    ["app!=db", true],
    ["app!=web", false],
    ["tier in (front, back)", true],
    ["tier in (back)", false],
    ["tier notin (back)", true],
    ["missing notin (x)", true],
    ["app", true],
    ["!app", false],
    ["!missing", true],
    ["example.com/owner=team-a,app=web", true],
    ["app=web,tier=back", false],
  ];
  for (const [selector, expected] of cases) {
    it(`${JSON.stringify(selector)} ${expected ? "matches" : "does not match"}`, () => {
      assert.equal(matchesLabels(parseLabelSelector(selector), labels), expected);
    });
  }

  it("rejects malformed selectors with a 400 that names the selector", () => {
    for (const bad of ["app=web=x", "-bad=x", "tier in (a b)", "app=@"]) {
      assert.throws(() => parseLabelSelector(bad), (error: unknown) => {
        assert.ok(error instanceof StatusError);
        assert.equal(error.code, 400);
        assert.ok(error.message.includes(JSON.stringify(bad)), error.message);
        return true;
      });
    }
  });

  it("converts metav1.LabelSelector objects", () => {
    const selector = labelSelectorFromObject({ matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["front"] }, { key: "gone", operator: "DoesNotExist" }] });
    assert.equal(matchesLabels(selector, labels), true);
    assert.equal(matchesLabels(selector, { app: "web", tier: "back" }), false);
    assert.throws(() => labelSelectorFromObject({ matchExpressions: [{ key: "a", operator: "Near" }] }), /"Near"/);
  });
});

describe("field selectors", () => {
  const supported = new Map([
    ["metadata.name", pathGetter("metadata.name")],
    ["status.phase", pathGetter("status.phase")],
  ]);
  const object = { metadata: { name: "a" }, status: { phase: "Active" } };

  it("matches = and != on supported fields, a missing field being empty", () => {
    assert.equal(matchesFields(parseFieldSelector("metadata.name=a", supported), object, supported), true);
    assert.equal(matchesFields(parseFieldSelector("metadata.name!=a", supported), object, supported), false);
    assert.equal(matchesFields(parseFieldSelector("status.phase==Active,metadata.name=a", supported), object, supported), true);
    assert.equal(matchesFields(parseFieldSelector("status.phase=", supported), { metadata: { name: "b" } }, supported), true);
  });

  it("rejects unsupported fields with a 400 listing the supported ones", () => {
    assert.throws(() => parseFieldSelector("spec.size=1", supported), /field label not supported: "spec.size" \(supported: "metadata.name", "status.phase"\)/);
  });
});

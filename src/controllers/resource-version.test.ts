import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isNewer, resourceVersionNumber } from "./resource-version.ts";

const at = (resourceVersion?: string) => ({ metadata: { name: "x", ...(resourceVersion === undefined ? {} : { resourceVersion }) } });

describe("resource versions", () => {
  it("reads integers, and nothing else", () => {
    assert.equal(resourceVersionNumber("42"), 42);
    for (const v of [undefined, "", "v2", "1.5", "-3", "12a"]) assert.equal(resourceVersionNumber(v), undefined, String(v));
  });

  it("compares as numbers, not as text, and only what it can read", () => {
    assert.equal(isNewer(at("10"), at("9")), true);
    assert.equal(isNewer(at("9"), at("10")), false);
    assert.equal(isNewer(at("10"), at("10")), false);
    assert.equal(isNewer(at("opaque"), at("1")), false);
    assert.equal(isNewer(at(), at("1")), false);
  });
});

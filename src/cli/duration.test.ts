import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDuration } from "./duration.ts";

describe("parseDuration", () => {
  it("reads units and plain seconds", () => {
    assert.equal(parseDuration("15s"), 15_000);
    assert.equal(parseDuration("1h30m"), 5_400_000);
    assert.equal(parseDuration("250ms"), 250);
    assert.equal(parseDuration("2"), 2000);
    assert.equal(parseDuration("0"), 0);
  });

  it("names the option and the value when it is not a duration", () => {
    assert.throws(() => parseDuration("10 minutes", "--lease-duration"), {
      message: '--lease-duration must be a duration such as 30s, 2m or 1h30m, got "10 minutes"',
    });
    assert.throws(() => parseDuration("5x"), /got "5x"/);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Backoff, withDefaults } from "./backoff.ts";

describe("Backoff", () => {
  it("grows by the factor up to the cap and starts over on reset", () => {
    const backoff = new Backoff({ duration: 100, factor: 2, cap: 500 });
    assert.deepEqual([1, 2, 3, 4, 5].map(() => backoff.next()), [100, 200, 400, 500, 500]);
    assert.equal(backoff.attempts, 5);
    backoff.reset();
    assert.equal(backoff.next(), 100);
  });

  it("adds up to jitter × delay at random", () => {
    const backoff = new Backoff({ duration: 100, factor: 1, jitter: 0.1, random: () => 0.5 });
    assert.equal(backoff.next(), 105);
    const top = new Backoff({ duration: 100, factor: 1, jitter: 1, random: () => 0.999 });
    assert.ok(top.next() < 200);
  });

  it("rejects a negative duration", () => {
    assert.throws(() => new Backoff({ duration: -1 }), /got -1/);
  });
});

describe("withDefaults", () => {
  it("keeps a default when the option is undefined", () => {
    assert.deepEqual(withDefaults({ a: 1, b: true }, { a: undefined, b: false, c: 3 }), { a: 1, b: false, c: 3 });
  });
});

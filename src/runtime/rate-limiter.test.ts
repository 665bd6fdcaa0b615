import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "./clock.ts";
import {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
} from "./rate-limiter.ts";

describe("ItemExponentialFailureRateLimiter", () => {
  it("doubles from 5 ms per failure of the same key and caps at 1000 s", () => {
    const limiter = new ItemExponentialFailureRateLimiter();
    const delays = Array.from({ length: 5 }, () => limiter.when("a"));
    assert.deepEqual(delays, [5, 10, 20, 40, 80]);
    for (let i = 0; i < 100; i++) limiter.when("a");
    assert.equal(limiter.when("a"), 1_000_000);
    assert.equal(limiter.numRequeues("a"), 106);
  });

  it("keeps keys apart and starts over after forget", () => {
    const limiter = new ItemExponentialFailureRateLimiter(1, 100);
    limiter.when("a");
    limiter.when("a");
    assert.equal(limiter.when("b"), 1);
    limiter.forget("a");
    assert.equal(limiter.numRequeues("a"), 0);
    assert.equal(limiter.when("a"), 1);
  });

  it("rejects a base larger than the max, naming both", () => {
    assert.throws(() => new ItemExponentialFailureRateLimiter(10, 5), /base 10 ms and max 5 ms/);
  });
});

describe("BucketRateLimiter", () => {
  it("lets a burst through, then spaces keys by 1/qps", async () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter(10, 3, clock);
    assert.deepEqual([limiter.when("a"), limiter.when("b"), limiter.when("c")], [0, 0, 0]);
    assert.equal(Math.round(limiter.when("d")), 100);
    assert.equal(Math.round(limiter.when("e")), 200);
    await clock.advance(1000);
    // 10 tokens refilled, 2 were owed, the bucket holds at most 3: one more goes through free.
    assert.equal(limiter.when("f"), 0);
  });
});

describe("MaxOfRateLimiter and the controller default", () => {
  it("takes the longest delay and forgets in every limiter", () => {
    const clock = new FakeClock();
    const limiter = new MaxOfRateLimiter(new ItemExponentialFailureRateLimiter(5, 1000), new BucketRateLimiter(1, 1, clock));
    assert.equal(limiter.when("a"), 5);
    assert.equal(limiter.when("a"), 1000); // bucket empty: 1 s
    limiter.forget("a");
    assert.equal(limiter.numRequeues("a"), 0);
  });

  it("defaults to 5 ms per key with 100 free overall retries", () => {
    const limiter = defaultControllerRateLimiter({ clock: new FakeClock() });
    const delays = Array.from({ length: 100 }, (_, i) => limiter.when(`k${i}`));
    assert.ok(delays.every((d) => d === 5));
    assert.equal(Math.round(limiter.when("k100")), 100);
  });
});

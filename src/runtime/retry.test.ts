import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError } from "./api-error.ts";
import { FakeClock } from "./clock.ts";
import { DEFAULT_RETRY, retryOnConflict } from "./retry.ts";

const conflict = () => new ApiError("PUT", "/x", { code: 409, reason: "Conflict", message: "modified" });

describe("retryOnConflict", () => {
  it("waits DefaultRetry's 10 ms (+ up to 10 % jitter) between attempts, five at most", async () => {
    const clock = new FakeClock();
    const attempts: number[] = [];
    const result = retryOnConflict(() => {
      attempts.push(clock.now());
      return Promise.reject(conflict());
    }, { clock, backoff: { ...DEFAULT_RETRY, random: () => 0.5 } });
    const outcome = result.catch((e: unknown) => e);
    await clock.advance(1000);
    assert.ok((await outcome) instanceof ApiError);
    assert.deepEqual(attempts.map((t) => t - attempts[0]!), [0, 10.5, 21, 31.5, 42]);
  });

  it("does not retry other errors", async () => {
    let calls = 0;
    const error = await retryOnConflict(() => {
      calls++;
      return Promise.reject(new ApiError("PUT", "/x", { code: 409, reason: "AlreadyExists" }));
    }, { clock: new FakeClock() }).catch((e: unknown) => e);
    assert.ok(error instanceof ApiError);
    assert.equal(calls, 1);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { age, humanDuration } from "./table.ts";

describe("ages as kubectl shows them", () => {
  const second = 1000;
  const minute = 60 * second;
  const hour = 60 * minute;
  const day = 24 * hour;
  const cases: Array<[number, string]> = [
    [-5 * second, "<invalid>"],
    [-1 * second, "0s"],
    [0, "0s"],
    [119 * second, "119s"],
    [2 * minute, "2m"],
    [5 * minute + 10 * second, "5m10s"],
    [45 * minute, "45m"],
    [3 * hour, "3h"],
    [3 * hour + 20 * minute, "3h20m"],
    [30 * hour, "30h"],
    [2 * day + 4 * hour, "2d4h"],
    [100 * day, "100d"],
    [3 * 365 * day + 10 * day, "3y10d"],
    [9 * 365 * day, "9y"],
  ];
  for (const [duration, expected] of cases) {
    it(`${duration} ms is ${expected}`, () => assert.equal(humanDuration(duration), expected));
  }

  it("formats timestamps relative to now, and says when there is none", () => {
    assert.equal(age("2026-01-01T00:00:00Z", Date.parse("2026-01-01T00:05:00Z")), "5m");
    assert.equal(age(undefined), "<unknown>");
    assert.equal(age("not a time"), "<invalid>");
  });
});

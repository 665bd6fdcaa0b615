import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SweepTimer } from "./sweep-timer.ts";

describe("SweepTimer", () => {
  it("keeps one sweep due however often it is scheduled, sweeps again while entries are left, then stops", () => {
    const entries = [1, 2];
    const sweeps: number[] = [];
    const due: { fn: () => void; ms: number }[] = [];
    const timer = new SweepTimer(
      30_001,
      () => {
        sweeps.push(entries.length);
        entries.shift();
      },
      () => entries.length > 0,
      (fn, ms) => due.push({ fn, ms }),
    );
    timer.schedule();
    timer.schedule();
    timer.schedule();
    assert.deepEqual(due.map((d) => d.ms), [30_001], "one timer, of the delay");
    due.shift()!.fn();
    assert.deepEqual(sweeps, [2]);
    assert.equal(due.length, 1, "an entry is left: another sweep is due");
    timer.schedule();
    assert.equal(due.length, 1, "and only one");
    due.shift()!.fn();
    assert.deepEqual(sweeps, [2, 1]);
    assert.equal(due.length, 0, "nothing left: no sweep due");
    timer.schedule();
    assert.equal(due.length, 1, "scheduled again once something is added");
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KeyedMutex } from "./keyed-mutex.ts";

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("KeyedMutex", () => {
  it("runs tasks of one key one at a time, in order, and tasks of other keys alongside", async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    let running = 0;
    let peak = 0;
    const task = (name: string) => async () => {
      running++;
      peak = Math.max(peak, running);
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all([mutex.run("a", task("a1")), mutex.run("a", task("a2")), mutex.run("b", task("b1"))]);
    assert.deepEqual(results, ["a1", "a2", "b1"]);
    assert.ok(log.indexOf("end a1") < log.indexOf("start a2"), log.join(", "));
    assert.equal(peak, 2);
  });

  it("releases the key when a task throws", async () => {
    const mutex = new KeyedMutex();
    await assert.rejects(mutex.run("a", () => Promise.reject(new Error("boom"))), /boom/);
    assert.equal(await mutex.run("a", () => Promise.resolve(1)), 1);
  });
});

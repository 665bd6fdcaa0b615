import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import { setupSignalHandler } from "./signals.ts";

describe("setupSignalHandler", () => {
  it("aborts on the first signal and exits on the second", () => {
    const emitter = new EventEmitter();
    let exits = 0;
    const signal = setupSignalHandler({ emitter, exit: () => exits++ });
    assert.equal(signal.aborted, false);
    emitter.emit("SIGTERM", "SIGTERM");
    assert.equal(signal.aborted, true);
    assert.match(String(signal.reason), /Received SIGTERM/);
    assert.equal(exits, 0);
    emitter.emit("SIGINT", "SIGINT");
    assert.equal(exits, 1);
    assert.equal(emitter.listenerCount("SIGINT"), 0);
  });
});

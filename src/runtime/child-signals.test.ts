import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import { ChildSignals } from "./child-signals.ts";

/** A parent and two open children of it. */
function twoChildren() {
  const parent = new AbortController();
  const children = new ChildSignals(parent.signal);
  return { parent, children, a: children.open(), b: children.open() };
}

describe("ChildSignals", () => {
  it("puts one listener on the parent however many children are open", () => {
    const parent = new AbortController();
    const children = new ChildSignals(parent.signal);
    const open = Array.from({ length: 100 }, () => children.open());
    assert.equal(getEventListeners(parent.signal, "abort").length, 1);
    assert.equal(children.size, 100);
    for (const child of open) child.close();
    assert.equal(children.size, 0);
  });

  it("aborts every open child with the parent's reason, and leaves closed ones alone", () => {
    const { parent, children, a, b } = twoChildren();
    b.close();
    const reason = new Error("shutting down");
    parent.abort(reason);
    assert.equal(a.signal.aborted, true);
    assert.equal(a.signal.reason, reason);
    assert.equal(b.signal.aborted, false, "a closed child no longer follows the parent");
    assert.equal(children.size, 0);
  });

  it("aborts one child alone, without touching the parent or its siblings", () => {
    const { parent, a, b } = twoChildren();
    a.abort(new Error("timed out"));
    assert.equal((a.signal.reason as Error).message, "timed out");
    assert.equal(b.signal.aborted, false);
    assert.equal(parent.signal.aborted, false);
  });

  it("takes its listener off the parent on close", () => {
    const parent = new AbortController();
    const children = new ChildSignals(parent.signal);
    const child = children.open();
    children.close();
    assert.equal(getEventListeners(parent.signal, "abort").length, 0);
    parent.abort(new Error("late"));
    assert.equal(child.signal.aborted, false);
  });

  it("opens children already aborted once the parent is", () => {
    const parent = new AbortController();
    const reason = new Error("gone");
    parent.abort(reason);
    const children = new ChildSignals(parent.signal);
    const child = children.open();
    assert.equal(child.signal.reason, reason);
    assert.equal(children.size, 0);
  });
});

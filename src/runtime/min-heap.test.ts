import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MinHeap } from "./min-heap.ts";

describe("MinHeap", () => {
  it("hands items out smallest first, whatever the order they came in", () => {
    const heap = new MinHeap<{ at: number }>((item) => item.at);
    const values = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
    for (const at of values) heap.push({ at });
    assert.equal(heap.size, 1000);
    assert.equal(heap.peek()?.at, 0);
    const out: number[] = [];
    for (let item = heap.pop(); item !== undefined; item = heap.pop()) out.push(item.at);
    assert.deepEqual(out, [...values].sort((a, b) => a - b));
    assert.equal(heap.size, 0);
    assert.equal(heap.pop(), undefined);
  });

  it("keeps its order through pushes between pops, and empties on clear", () => {
    const heap = new MinHeap<number>((n) => n);
    for (const n of [5, 3, 9]) heap.push(n);
    assert.equal(heap.pop(), 3);
    heap.push(1);
    heap.push(7);
    assert.deepEqual([heap.pop(), heap.pop(), heap.pop(), heap.pop()], [1, 5, 7, 9]);
    heap.push(2);
    heap.clear();
    assert.equal(heap.size, 0);
    assert.equal(heap.peek(), undefined);
  });
});

/**
 * A binary min-heap: items ordered by a number each carries, the smallest
 * first. The work queue keeps its delayed keys in one (by due time), the BMC
 * call limiter its ready callers (by arrival).
 *
 * @module
 */

/** Items ordered by `order(item)`, smallest first; ties in no promised order. */
export class MinHeap<T> {
  #items: T[] = [];
  readonly #order: (item: T) => number;

  constructor(order: (item: T) => number) {
    this.#order = order;
  }

  /** How many items it holds. */
  get size(): number {
    return this.#items.length;
  }

  /** The smallest item, left in place; undefined when empty. */
  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const items = this.#items;
    const at = this.#order(item);
    let i = items.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#order(items[parent]!) <= at) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  /** Takes the smallest item off; undefined when empty. */
  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    const at = this.#order(last);
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && this.#order(items[right]!) < this.#order(items[left]!) ? right : left;
      if (this.#order(items[child]!) >= at) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }

  /** Empties it. */
  clear(): void {
    this.#items = [];
  }
}

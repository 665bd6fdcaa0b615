/**
 * The object store: one table per stored resource, a cluster-wide monotonic
 * resourceVersion, each object kept with its JSON encoding (so GET and LIST
 * never re-encode), and per-table change history for watches to resume from.
 * Every write is O(1) apart from persistence; listeners hear each change
 * synchronously, in resourceVersion order.
 *
 * @module
 */
import type { KubeObject } from "./object-meta.ts";
import type { Persistence } from "./persistence.ts";
import { expired } from "./status.ts";

/** An object as stored. Never modified once stored. */
export interface StoredEntry {
  readonly key: string;
  readonly object: KubeObject;
  readonly json: string;
  readonly resourceVersion: number;
  /** Encodings of the object as other served versions see it, by apiVersion. */
  views?: Map<string, string>;
}

/** The kind of a change, as watch events name it. */
export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

/** One change to one object. */
export interface ChangeEvent {
  readonly table: string;
  readonly type: ChangeType;
  readonly resourceVersion: number;
  /** The object after the change; for DELETED, its last state with the deletion's resourceVersion. */
  readonly entry: StoredEntry;
  /** The object before the change (MODIFIED and DELETED). */
  readonly previous?: StoredEntry;
  /** Encoded watch lines, shared by every watcher that needs the same form. */
  encodings?: Map<string, Buffer>;
}

/** Hears every change of a table, or of every table. */
export type ChangeListener = (event: ChangeEvent) => void;

/** A ring buffer of the most recent changes of one table. */
class History {
  readonly #events: Array<ChangeEvent | undefined>;
  #start = 0;
  #count = 0;
  /** Every change after this resourceVersion is retained. */
  floor: number;

  constructor(capacity: number, floor: number) {
    this.#events = new Array<ChangeEvent | undefined>(Math.max(1, capacity));
    this.floor = floor;
  }

  append(event: ChangeEvent): void {
    const capacity = this.#events.length;
    if (this.#count === capacity) {
      this.floor = this.#events[this.#start]!.resourceVersion;
      this.#events[this.#start] = event;
      this.#start = (this.#start + 1) % capacity;
    } else {
      this.#events[(this.#start + this.#count) % capacity] = event;
      this.#count++;
    }
  }

  clear(floor: number): void {
    this.#events.fill(undefined);
    this.#start = 0;
    this.#count = 0;
    this.floor = floor;
  }

  /** The retained changes after `resourceVersion`, oldest first. */
  since(resourceVersion: number): ChangeEvent[] {
    const capacity = this.#events.length;
    const at = (i: number) => this.#events[(this.#start + i) % capacity]!;
    let low = 0;
    let high = this.#count;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (at(mid).resourceVersion <= resourceVersion) low = mid + 1;
      else high = mid;
    }
    const out: ChangeEvent[] = [];
    for (let i = low; i < this.#count; i++) out.push(at(i));
    return out;
  }
}

/** The objects of one stored resource. */
export class ResourceTable {
  readonly name: string;
  readonly items = new Map<string, StoredEntry>();
  readonly listeners = new Set<ChangeListener>();
  readonly history: History;
  #sortedKeys: string[] | undefined;

  constructor(name: string, historySize: number, floor: number) {
    this.name = name;
    this.history = new History(historySize, floor);
  }

  /** The keys in storage order (`namespace/name`), as LIST returns them. */
  sortedKeys(): string[] {
    this.#sortedKeys ??= [...this.items.keys()].sort();
    return this.#sortedKeys;
  }

  /** Marks the key order stale after an add or a removal. */
  invalidateOrder(): void {
    this.#sortedKeys = undefined;
  }
}

/** The key of an object in its table: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** All tables, the resourceVersion counter, persistence and change history. */
export class Storage {
  readonly #tables = new Map<string, ResourceTable>();
  readonly #listeners = new Set<ChangeListener>();
  readonly #persistence: Persistence;
  readonly #historySize: number;
  #resourceVersion: number;
  /** Every resourceVersion at or below this one is forgotten (restart or compaction). */
  #compacted: number;

  constructor(persistence: Persistence, historySize: number) {
    this.#persistence = persistence;
    this.#historySize = historySize;
    const state = persistence.load();
    this.#resourceVersion = state.resourceVersion;
    this.#compacted = state.resourceVersion;
    for (const record of state.records) {
      const object = JSON.parse(record.json) as KubeObject;
      const resourceVersion = Number(object.metadata?.resourceVersion ?? 0);
      this.table(record.table).items.set(record.key, { key: record.key, object, json: record.json, resourceVersion });
      this.#resourceVersion = Math.max(this.#resourceVersion, resourceVersion);
    }
  }

  /** The current resourceVersion: that of the last write. */
  get resourceVersion(): number {
    return this.#resourceVersion;
  }

  /** The table of a stored resource, created empty on first use. */
  table(name: string): ResourceTable {
    let table = this.#tables.get(name);
    if (!table) {
      table = new ResourceTable(name, this.#historySize, 0);
      this.#tables.set(name, table);
    }
    return table;
  }

  /** Every table that holds objects. */
  tables(): ResourceTable[] {
    return [...this.#tables.values()];
  }

  get(table: string, key: string): StoredEntry | undefined {
    return this.#tables.get(table)?.items.get(key);
  }

  /** Stores `object` (which must not be used elsewhere afterwards) with a new resourceVersion. */
  put(tableName: string, key: string, object: KubeObject): StoredEntry {
    const table = this.table(tableName);
    const previous = table.items.get(key);
    const resourceVersion = ++this.#resourceVersion;
    object.metadata.resourceVersion = String(resourceVersion);
    const entry: StoredEntry = { key, object, json: JSON.stringify(object), resourceVersion };
    table.items.set(key, entry);
    if (!previous) table.invalidateOrder();
    this.#persistence.put(tableName, key, entry.json, resourceVersion);
    this.#publish(table, { table: tableName, type: previous ? "MODIFIED" : "ADDED", resourceVersion, entry, ...(previous ? { previous } : {}) });
    return entry;
  }

  /** Removes an object; `last` is its final state, which the DELETED event carries with a new resourceVersion. */
  remove(tableName: string, key: string, last: KubeObject): StoredEntry | undefined {
    const table = this.#tables.get(tableName);
    const previous = table?.items.get(key);
    if (!table || !previous) return undefined;
    const resourceVersion = ++this.#resourceVersion;
    last.metadata.resourceVersion = String(resourceVersion);
    const entry: StoredEntry = { key, object: last, json: JSON.stringify(last), resourceVersion };
    table.items.delete(key);
    table.invalidateOrder();
    this.#persistence.remove(tableName, key, resourceVersion);
    this.#publish(table, { table: tableName, type: "DELETED", resourceVersion, entry, previous });
    return entry;
  }

  #publish(table: ResourceTable, event: ChangeEvent): void {
    table.history.append(event);
    for (const listener of this.#listeners) listener(event);
    for (const listener of table.listeners) listener(event);
  }

  /** Listens to every change of every table. */
  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The retained changes of `tableName` after `resourceVersion`, oldest first.
   * Throws a 410 Expired when changes after it have been forgotten.
   */
  changesSince(tableName: string, resourceVersion: number): ChangeEvent[] {
    const table = this.table(tableName);
    const floor = Math.max(table.history.floor, this.#compacted);
    if (resourceVersion < floor) {
      throw expired(`too old resource version: ${resourceVersion} (${floor})`);
    }
    return table.history.since(resourceVersion);
  }

  /** The oldest resourceVersion that a list continuation or watch of `tableName` can start from. */
  oldestResumable(tableName: string): number {
    return Math.max(this.table(tableName).history.floor, this.#compacted);
  }

  /** Forgets all history: older resourceVersions get 410 Expired from now on. */
  compact(): void {
    this.#compacted = this.#resourceVersion;
    for (const table of this.#tables.values()) table.history.clear(this.#resourceVersion);
  }

  flush(): void {
    this.#persistence.flush();
  }

  close(): void {
    this.#persistence.close();
  }
}

/**
 * The informer cache: objects by `namespace/name` key, with named indexes
 * (client-go's `Indexer`). Objects in the store are frozen; copy one
 * (`structuredClone`) before changing it.
 *
 * @module
 */
import { keyOf, type KubeObject, type ObjectRef, objectKey } from "./resource.ts";

/** Computes the index values of an object, for example `["ns/host-0"]` for "subscriptions by host". */
export type IndexFunc<T> = (object: T) => readonly string[];

/** The built-in index of every store: objects by namespace. */
export const NAMESPACE_INDEX = "namespace";

/**
 * Objects by key, plus indexes.
 *
 * @example
 * ```ts
 * store.addIndex("host", (sub) => [`${sub.metadata.namespace}/${sub.spec.hostName}`]);
 * const subs = store.byIndex("host", "metal3/node-0");
 * ```
 */
export class Store<T extends KubeObject> {
  readonly #objects = new Map<string, T>();
  readonly #indexFuncs = new Map<string, IndexFunc<T>>();
  /** index name → index value → keys. */
  readonly #indexes = new Map<string, Map<string, Set<string>>>();

  constructor() {
    this.addIndex(NAMESPACE_INDEX, (o) => [o.metadata?.namespace ?? ""]);
  }

  /** How many objects the store holds. */
  get size(): number {
    return this.#objects.size;
  }

  /** The object with this reference or key. */
  get(ref: ObjectRef | string): T | undefined {
    return this.#objects.get(typeof ref === "string" ? ref : keyOf(ref));
  }

  /** Every object, or those of one namespace. */
  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.#objects.values()];
    return this.byIndex(NAMESPACE_INDEX, namespace);
  }

  /** Every key. */
  keys(): string[] {
    return [...this.#objects.keys()];
  }

  /**
   * Adds an index; objects already stored are indexed at once.
   *
   * @throws {Error} when an index of that name exists.
   */
  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.#indexFuncs.has(name)) throw new Error(`Index "${name}" already exists`);
    this.#indexFuncs.set(name, fn);
    this.#indexes.set(name, new Map());
    for (const [key, object] of this.#objects) this.#indexOne(name, fn, key, object);
  }

  /** Whether an index of that name exists. */
  hasIndex(name: string): boolean {
    return this.#indexFuncs.has(name);
  }

  /**
   * The objects whose index `name` contains `value`.
   *
   * @throws {Error} when there is no such index.
   */
  byIndex(name: string, value: string): T[] {
    const index = this.#indexes.get(name);
    if (index === undefined) throw new Error(`No index named "${name}"; indexes: ${[...this.#indexFuncs.keys()].join(", ")}`);
    return [...(index.get(value) ?? [])].map((key) => this.#objects.get(key)!);
  }

  /** Stores `object` (frozen) under its key; returns the object it replaced. */
  set(object: T): T | undefined {
    const key = objectKey(object);
    const old = this.#objects.get(key);
    if (old !== undefined) this.#unindex(key, old);
    const frozen = deepFreeze(object);
    this.#objects.set(key, frozen);
    for (const [name, fn] of this.#indexFuncs) this.#indexOne(name, fn, key, frozen);
    return old;
  }

  /** Removes the object with this key; returns it. */
  delete(key: string): T | undefined {
    const old = this.#objects.get(key);
    if (old === undefined) return undefined;
    this.#unindex(key, old);
    this.#objects.delete(key);
    return old;
  }

  #indexOne(name: string, fn: IndexFunc<T>, key: string, object: T): void {
    const index = this.#indexes.get(name)!;
    for (const value of fn(object)) {
      let keys = index.get(value);
      if (keys === undefined) index.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  #unindex(key: string, object: T): void {
    for (const [name, fn] of this.#indexFuncs) {
      const index = this.#indexes.get(name)!;
      for (const value of fn(object)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }
}

/** Freezes an object and everything it holds. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

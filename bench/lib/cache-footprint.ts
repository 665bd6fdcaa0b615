/**
 * The memory each cached object of a kind takes, as the operator's informers
 * hold it: each object parsed from its JSON, passed through the manager's
 * cache transform, frozen and kept in a {@link Store} — measured as the
 * growth of this process's JavaScript heap (after a full GC) per object.
 *
 * @module
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type KubeClient, type KubeObject, type Resource, stripManagedFieldsAndLastApplied } from "../../src/runtime/index.ts";
import { Store } from "../../src/runtime/store.ts";

/** The memory of one kind's cached objects. */
export interface CachedKind {
  kind: string;
  objects: number;
  /** Mean size of an object's JSON as the API server sends it, bytes. */
  jsonBytesPerObject: number;
  /** Mean JavaScript heap per cached object, bytes. */
  heapBytesPerObject: number;
}

/** A full garbage collection, also when the process was started without `--expose-gc`. */
function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

function heapUsed(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/**
 * Measures each kind the operator caches: lists its objects (those of
 * `labelSelector` where the operator's informer has one) and holds as many
 * fresh copies as a cache would.
 */
export async function measureCachedKinds(
  client: KubeClient,
  kinds: readonly { resource: Resource<KubeObject>; labelSelector?: string }[],
): Promise<CachedKind[]> {
  const results: CachedKind[] = [];
  for (const { resource, labelSelector } of kinds) {
    const { items } = await client.listAll(resource, { labelSelector });
    const texts = items.map((item) => JSON.stringify({ ...item, apiVersion: item.apiVersion ?? resource.group, kind: resource.kind }));
    items.length = 0;
    if (texts.length === 0) continue;
    results.push({
      kind: resource.kind,
      objects: texts.length,
      jsonBytesPerObject: texts.reduce((sum, t) => sum + Buffer.byteLength(t), 0) / texts.length,
      heapBytesPerObject: heapPerCachedObject(texts),
    });
  }
  return results;
}

/**
 * The heap growth per object of a store holding `texts` parsed: in a function
 * of its own, so that no store of an earlier kind is still held by the
 * caller's frame when the heap is measured before (an async function's frame
 * may keep the last iteration's values until they are overwritten).
 */
function heapPerCachedObject(texts: readonly string[]): number {
  const before = heapUsed();
  const store = new Store<KubeObject>();
  for (const text of texts) store.set(stripManagedFieldsAndLastApplied(JSON.parse(text) as KubeObject));
  const after = heapUsed();
  return (after - before) / store.size;
}

/**
 * The controllers a real control plane runs behind the API, reduced to what
 * the API's behaviour depends on:
 * - CRDs are served as soon as they are stored and stop being served when removed;
 * - a terminating namespace has its content deleted, then goes;
 * - a terminating CRD has its custom resources deleted, then goes;
 * - garbage collection: objects whose owners are all gone are deleted
 *   (background propagation), and `Orphan` deletions drop the owner references.
 *
 * Work runs on `setImmediate` after the change that caused it, as a
 * controller would react to a watch event (namespace cleanup after a short
 * delay).
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { SYSTEM_NAMESPACES, timestamp, type ApiServer } from "./api-server.ts";
import { namespaces } from "./builtin-resources.ts";
import { CRD_CLEANUP_FINALIZER, type CustomResourceDefinition, customResourceDefinitions } from "./crd.ts";
import type { KubeObject } from "./object-meta.ts";
import type { ResourceType } from "./resource-type.ts";
import type { ChangeEvent, StoredEntry } from "./storage.ts";

type Location = { table: string; key: string };

/** The first index of sorted `keys` not less than `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (keys[mid]! < key) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * How long a terminating namespace keeps its content before the cleanup
 * starts. A real namespace controller reacts after a moment; deleting at once
 * would make `kubectl delete -f` of a namespace and its objects fail on the
 * objects that the namespace took with it.
 */
const NAMESPACE_CLEANUP_DELAY_MS = 100;

const locationId = (location: Location) => `${location.table}\u0000${location.key}`;

function ownerUids(object: KubeObject | undefined): string[] {
  return (object?.metadata.ownerReferences ?? []).map((owner) => owner.uid).filter(Boolean);
}

/** Runs namespace and CRD finalization and garbage collection for an {@link ApiServer}. */
export class Lifecycle {
  readonly #api: ApiServer;
  readonly #byUid = new Map<string, Location>();
  readonly #dependents = new Map<string, Map<string, Location>>();
  /** Terminating namespaces, with when their content cleanup may start. */
  readonly #terminatingNamespaces = new Map<string, number>();
  readonly #timers = new Set<NodeJS.Timeout>();
  /** How many objects each namespace holds, so that a terminating one knows at once when it is empty. */
  readonly #namespaceCounts = new Map<string, number>();
  /** Terminating namespaces and CRDs whose content has been asked to go. */
  readonly #cleaned = new Set<string>();
  readonly #terminatingCrds = new Set<string>();
  readonly #orphanCandidates = new Map<string, Location>();
  #scheduled: NodeJS.Immediate | undefined;
  #stopped = false;
  #unsubscribe: (() => void) | undefined;

  constructor(api: ApiServer) {
    this.#api = api;
  }

  /** Serves stored CRDs, creates the system namespaces, indexes owners and starts listening. */
  start(): void {
    const { storage, registry } = this.#api;
    for (const table of storage.tables()) {
      for (const entry of table.items.values()) this.#index(table.name, entry, undefined);
    }
    for (const entry of storage.table(customResourceDefinitions.storage).items.values()) {
      registry.registerCrd(entry.object as CustomResourceDefinition);
    }
    this.#unsubscribe = storage.onChange((event) => this.#onChange(event));
    for (const name of SYSTEM_NAMESPACES) {
      if (storage.get(namespaces.storage, name)) continue;
      const object: KubeObject = {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name, uid: randomUUID(), creationTimestamp: timestamp(), labels: { "kubernetes.io/metadata.name": name } },
        spec: { finalizers: ["kubernetes"] },
        status: { phase: "Active" },
      };
      storage.put(namespaces.storage, name, object);
    }
    this.#api.onDeletionProgress = () => this.#schedule();
    this.#api.onBeforeDelete = (type, entry, propagation) => {
      if (propagation === "Orphan") this.#orphan(entry);
    };
    if (this.#terminatingNamespaces.size || this.#terminatingCrds.size) this.#schedule();
  }

  /** Stops reacting to changes. */
  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #index(table: string, entry: StoredEntry | undefined, previous: StoredEntry | undefined): void {
    const location = entry ? { table, key: entry.key } : previous ? { table, key: previous.key } : undefined;
    if (!location) return;
    const id = locationId(location);
    if (table !== namespaces.storage && (!entry) !== (!previous)) {
      const namespace = (entry ?? previous)!.object.metadata.namespace;
      if (namespace) this.#namespaceCounts.set(namespace, (this.#namespaceCounts.get(namespace) ?? 0) + (entry ? 1 : -1));
    }
    for (const uid of ownerUids(previous?.object)) this.#dependents.get(uid)?.delete(id);
    if (previous?.object.metadata.uid) this.#byUid.delete(previous.object.metadata.uid);
    if (entry) {
      const uid = entry.object.metadata.uid;
      if (uid) this.#byUid.set(uid, location);
      for (const owner of ownerUids(entry.object)) {
        let set = this.#dependents.get(owner);
        if (!set) this.#dependents.set(owner, (set = new Map()));
        set.set(id, location);
      }
      if (entry.object.metadata.deletionTimestamp) {
        if (table === namespaces.storage && !this.#terminatingNamespaces.has(entry.key)) {
          const name = entry.key;
          this.#terminatingNamespaces.set(name, Date.now() + NAMESPACE_CLEANUP_DELAY_MS);
          const timer = setTimeout(() => {
            this.#timers.delete(timer);
            // Due now, whatever Date.now() says: a timer counts from the event loop's cached
            // time, which lags the wall clock after a long turn, so it can fire before Date.now()
            // reaches the start time, and the sweep would then skip the namespace for good.
            if (this.#terminatingNamespaces.has(name)) this.#terminatingNamespaces.set(name, 0);
            this.#schedule();
          }, NAMESPACE_CLEANUP_DELAY_MS);
          this.#timers.add(timer);
        }
        if (table === customResourceDefinitions.storage) this.#terminatingCrds.add(entry.key);
      }
    }
  }

  #onChange(event: ChangeEvent): void {
    const { registry } = this.#api;
    if (event.type === "DELETED") {
      this.#index(event.table, undefined, event.previous);
      const uid = event.previous?.object.metadata.uid;
      if (uid) {
        for (const location of this.#dependents.get(uid)?.values() ?? []) this.#orphanCandidates.set(locationId(location), location);
        this.#dependents.delete(uid);
      }
      if (event.table === namespaces.storage) {
        this.#terminatingNamespaces.delete(event.entry.key);
        this.#cleaned.delete(`namespace/${event.entry.key}`);
      }
      if (event.table === customResourceDefinitions.storage) {
        this.#terminatingCrds.delete(event.entry.key);
        this.#cleaned.delete(`crd/${event.entry.key}`);
        registry.unregisterCrd(event.entry.key);
      }
      this.#schedule();
      return;
    }
    this.#index(event.table, event.entry, event.previous);
    if (event.table === customResourceDefinitions.storage) registry.registerCrd(event.entry.object as CustomResourceDefinition);
    if (event.entry.object.metadata.deletionTimestamp && (event.table === namespaces.storage || event.table === customResourceDefinitions.storage)) {
      this.#schedule();
    }
  }

  #schedule(): void {
    if (this.#stopped || this.#scheduled) return;
    this.#scheduled = setImmediate(() => {
      this.#scheduled = undefined;
      this.#sweep();
    });
  }

  #typeOf(table: string): ResourceType | undefined {
    return this.#api.registry.storageType(table);
  }

  #sweep(): void {
    const { storage } = this.#api;
    // Garbage collection: dependents whose owners are all gone.
    const candidates = [...this.#orphanCandidates.values()];
    this.#orphanCandidates.clear();
    for (const location of candidates) {
      const entry = storage.get(location.table, location.key);
      const type = this.#typeOf(location.table);
      if (!entry || !type) continue;
      const owners = ownerUids(entry.object);
      if (owners.length === 0 || owners.some((uid) => this.#byUid.has(uid))) continue;
      this.#api.deleteEntry(type, entry);
    }
    const now = Date.now();
    for (const [name, startAt] of [...this.#terminatingNamespaces]) if (startAt <= now) this.#finishNamespace(name);
    for (const name of [...this.#terminatingCrds]) this.#finishCrd(name);
  }

  /** Deletes what a terminating namespace holds; once it is empty, releases the namespace. */
  #finishNamespace(name: string): void {
    const { storage } = this.#api;
    if (!this.#cleaned.has(`namespace/${name}`)) {
      this.#cleaned.add(`namespace/${name}`);
      const prefix = `${name}/`;
      for (const table of storage.tables()) {
        if (table.name === namespaces.storage || table.items.size === 0) continue;
        const type = this.#typeOf(table.name);
        if (!type?.namespaced) continue;
        const keys = table.sortedKeys();
        for (let i = lowerBound(keys, prefix); i < keys.length && keys[i]!.startsWith(prefix); i++) {
          const entry = table.items.get(keys[i]!);
          if (entry && !entry.object.metadata.deletionTimestamp) this.#api.deleteEntry(type, entry);
        }
      }
    }
    // Objects with finalizers are waited for.
    if ((this.#namespaceCounts.get(name) ?? 0) > 0) return;
    const entry = storage.get(namespaces.storage, name);
    if (!entry || !entry.object.metadata.deletionTimestamp) return;
    this.#api.systemUpdate(namespaces, entry, (object) => {
      object.spec = { ...(object.spec as object), finalizers: [] };
    });
  }

  /** Deletes the custom resources of a terminating CRD; once none is left, releases the CRD. */
  #finishCrd(name: string): void {
    const { storage } = this.#api;
    const entry = storage.get(customResourceDefinitions.storage, name);
    if (!entry || !entry.object.metadata.deletionTimestamp) return;
    const crd = entry.object as CustomResourceDefinition;
    const tableName = `${crd.spec.group}/${crd.spec.names.plural}`;
    const table = storage.table(tableName);
    const type = this.#typeOf(tableName);
    if (!this.#cleaned.has(`crd/${name}`)) {
      this.#cleaned.add(`crd/${name}`);
      for (const item of [...table.items.values()]) {
        if (type && !item.object.metadata.deletionTimestamp) this.#api.deleteEntry(type, item);
      }
    }
    if (table.items.size > 0) return;
    if (!(entry.object.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) return;
    this.#api.systemUpdate(customResourceDefinitions, storage.get(customResourceDefinitions.storage, name)!, (object) => {
      object.metadata.finalizers = (object.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    });
  }

  /** `propagationPolicy: Orphan`: dependents lose their reference to the owner being deleted. */
  #orphan(owner: StoredEntry): void {
    const uid = owner.object.metadata.uid;
    if (!uid) return;
    for (const location of [...(this.#dependents.get(uid)?.values() ?? [])]) {
      const entry = this.#api.storage.get(location.table, location.key);
      const type = this.#typeOf(location.table);
      if (!entry || !type) continue;
      this.#api.systemUpdate(type, entry, (object) => {
        const refs = (object.metadata.ownerReferences ?? []).filter((ref) => ref.uid !== uid);
        if (refs.length) object.metadata.ownerReferences = refs;
        else delete object.metadata.ownerReferences;
      });
    }
  }
}


/**
 * Resources and objects: the small descriptor that tells the client where a
 * kind lives, object references, and the `namespace/name` keys used by caches
 * and work queues.
 *
 * @module
 */
import type { V1ObjectMeta } from "@kubernetes/client-node";

/** Any Kubernetes object: `apiVersion`, `kind` and `metadata`, plus whatever else. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
}

/**
 * Where a kind is served. The type parameter only carries the object type, so
 * that `client.get(BareMetalHosts, …)` returns a `BareMetalHost`.
 */
export interface Resource<T extends KubeObject = KubeObject> {
  /** API group; `""` for the core group. */
  readonly group: string;
  readonly version: string;
  /** The plural resource name in the URL, for example `baremetalhosts`. */
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** Never set: carries the object type for inference only. */
  readonly _object?: T;
}

/**
 * Declares a resource, typed with the objects it holds.
 *
 * @example
 * ```ts
 * const hosts = defineResource<BareMetalHost>({
 *   group: "metal3.io", version: "v1alpha1", plural: "baremetalhosts", kind: "BareMetalHost", namespaced: true,
 * });
 * ```
 */
export function defineResource<T extends KubeObject>(resource: Omit<Resource<T>, "_object">): Resource<T> {
  return Object.freeze({ ...resource });
}

/** The `apiVersion` of a resource's objects: `v1` or `group/version`. */
export function apiVersionOf(resource: Resource<any>): string {
  return resource.group === "" ? resource.version : `${resource.group}/${resource.version}`;
}

/** A short name for logs and metric labels: `plural.group` (or just `plural` for the core group). */
export function resourceName(resource: Resource<any>): string {
  return resource.group === "" ? resource.plural : `${resource.plural}.${resource.group}`;
}

/** A reference to one object: its namespace (empty for cluster-scoped) and name. */
export interface ObjectRef {
  namespace?: string;
  name: string;
}

/** The cache and queue key of a reference: `namespace/name`, or `name` when cluster-scoped. */
export function keyOf(ref: ObjectRef): string {
  return ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name;
}

/** The key of an object, from its metadata (see {@link keyOf}). */
export function objectKey(object: KubeObject): string {
  return keyOf(refOf(object));
}

/** The reference of an object, from its metadata. */
export function refOf(object: KubeObject): ObjectRef {
  const name = object.metadata?.name;
  if (!name) throw new TypeError(`Object of kind ${JSON.stringify(object.kind)} has no metadata.name`);
  const namespace = object.metadata?.namespace;
  return namespace ? { namespace, name } : { name };
}

/** Splits a key made by {@link keyOf} back into a reference. */
export function parseKey(key: string): ObjectRef {
  const slash = key.indexOf("/");
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** `coordination.k8s.io/v1` Lease, used for leader election. */
export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number | null;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number | null;
  };
}

/** `events.k8s.io/v1` Event. */
export interface KubeEvent extends KubeObject {
  eventTime: string;
  series?: { count: number; lastObservedTime: string };
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  regarding: ObjectReference;
  related?: ObjectReference;
  note?: string;
  type: "Normal" | "Warning";
}

/** `v1.ObjectReference`, as Events use it. */
export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

/** Core `v1` Secret. */
export interface Secret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** `coordination.k8s.io/v1` leases. */
export const LEASES = defineResource<Lease>({
  group: "coordination.k8s.io",
  version: "v1",
  plural: "leases",
  kind: "Lease",
  namespaced: true,
});

/** `events.k8s.io/v1` events. */
export const EVENTS = defineResource<KubeEvent>({
  group: "events.k8s.io",
  version: "v1",
  plural: "events",
  kind: "Event",
  namespaced: true,
});

/** Core `v1` secrets. */
export const SECRETS = defineResource<Secret>({
  group: "",
  version: "v1",
  plural: "secrets",
  kind: "Secret",
  namespaced: true,
});

/** Core `v1` namespaces. */
export const NAMESPACES = defineResource<KubeObject>({
  group: "",
  version: "v1",
  plural: "namespaces",
  kind: "Namespace",
  namespaced: false,
});

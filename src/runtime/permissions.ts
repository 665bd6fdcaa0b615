/**
 * What a component says it asks the API server to do, as data: the
 * counterpart of kubebuilder's `+kubebuilder:rbac` markers. Each controller
 * and runtime component exports its own list next to the code that makes the
 * calls; the RBAC manifests are generated from the lists of the components an
 * install runs, and the end-to-end tests check the two ways: a call nobody
 * declared is forbidden, a declared call nobody makes fails a test.
 *
 * @module
 */

/** An API verb, as RBAC rules name it. */
export type ApiVerb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";

/** Calls on one resource (or one of its subresources). */
export interface Permission {
  /** The API group; `""` for the core group. */
  group: string;
  /** The plural resource name. */
  resource: string;
  /** `status`, `finalizers`, …; absent for the resource itself. */
  subresource?: string;
  verbs: readonly ApiVerb[];
  /** Only these objects (by name), when the component calls no others. */
  resourceNames?: readonly string[];
  /**
   * Where the calls go: `cluster` across the namespaces the operator watches
   * (a ClusterRole), `own-namespace` only in the operator's own namespace (a
   * Role there, as for the leader election Lease).
   */
  scope: "cluster" | "own-namespace";
}

/** `resource` or `resource/subresource`, as RBAC rules write it. */
export function ruleResource(permission: Pick<Permission, "resource" | "subresource">): string {
  return permission.subresource ? `${permission.resource}/${permission.subresource}` : permission.resource;
}

/** Every (verb, group, resource[/subresource]) a list of permissions allows, as `verb group resource` strings, sorted. */
export function permittedCalls(permissions: readonly Permission[]): string[] {
  const calls = new Set<string>();
  for (const permission of permissions) {
    for (const verb of permission.verbs) calls.add(`${verb} ${permission.group || '""'} ${ruleResource(permission)}`);
  }
  return [...calls].sort();
}

/** A {@link Permission} on a defined resource, cluster-wide unless said otherwise. */
export function permissionOn(
  resource: { group: string; plural: string },
  verbs: readonly ApiVerb[],
  options: { subresource?: string; scope?: Permission["scope"]; resourceNames?: readonly string[] } = {},
): Permission {
  return {
    group: resource.group,
    resource: resource.plural,
    ...(options.subresource ? { subresource: options.subresource } : {}),
    verbs,
    ...(options.resourceNames?.length ? { resourceNames: options.resourceNames } : {}),
    scope: options.scope ?? "cluster",
  };
}

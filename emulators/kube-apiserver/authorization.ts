/**
 * Authorization as kube-apiserver does it: the request's attributes
 * (`RequestInfo`: verb, group, resource, subresource, namespace, name, or a
 * non-resource path), then either `AlwaysAllow` or `RBAC` over the stored
 * Roles, ClusterRoles and their bindings, with `system:masters` always
 * allowed. A denial is kube-apiserver's 403 Forbidden Status, which names the
 * user, verb, resource, group and namespace.
 *
 * @module
 */
import type { Decision, PolicyRule, RequestAttributes, UserInfo } from "./access-types.ts";
import { SUPERUSER_GROUP } from "./authentication.ts";
import { clusterRoleBindings, clusterRoles, roleBindings, roles } from "./builtin-access.ts";
import type { KubeObject } from "./object-meta.ts";
import { queryBool } from "./query.ts";
import { qualifiedResource, StatusError } from "./status.ts";
import type { Storage } from "./storage.ts";

/** The authorization modes the emulator has (`--authorization-mode`). */
export type AuthorizationMode = "AlwaysAllow" | "RBAC";

/** The subresources of a namespace, which `/api/v1/namespaces/<name>/<x>` means instead of a resource in it. */
const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

/** The attributes of a request, parsed from its method, path and query as kube-apiserver's RequestInfoFactory does. */
export function requestAttributes(method: string, segments: string[], query: URLSearchParams, path: string): RequestAttributes {
  const nonResource: RequestAttributes = {
    verb: method.toLowerCase(),
    resourceRequest: false,
    path,
    apiGroup: "",
    apiVersion: "",
    resource: "",
    subresource: "",
    namespace: "",
    name: "",
  };
  let parts: string[];
  let apiGroup = "";
  let apiVersion: string;
  if (segments[0] === "api" && segments.length >= 3) {
    apiVersion = segments[1]!;
    parts = segments.slice(2);
  } else if (segments[0] === "apis" && segments.length >= 4) {
    apiGroup = segments[1]!;
    apiVersion = segments[2]!;
    parts = segments.slice(3);
  } else {
    return nonResource;
  }
  let verb = { POST: "create", GET: "get", HEAD: "get", PUT: "update", PATCH: "patch", DELETE: "delete" }[method] ?? "";
  if (parts[0] === "watch") {
    if (verb === "get") verb = "watch";
    parts = parts.slice(1);
  }
  let namespace = "";
  if (parts[0] === "namespaces" && parts.length > 1) {
    namespace = parts[1]!;
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
  }
  const [resource = "", name = "", subresource = ""] = parts;
  const attributes: RequestAttributes = { verb, resourceRequest: true, path, apiGroup, apiVersion, resource, subresource, namespace, name };
  if (parts.length > 3) attributes.subresource = parts.slice(2).join("/");
  if (name === "" && verb === "get") {
    attributes.verb = queryBool(query, "watch") ? "watch" : "list";
    const pinned = /(?:^|,)metadata\.name==?([^,]+)/.exec(query.get("fieldSelector") ?? "");
    if (pinned) attributes.name = pinned[1]!;
  }
  if (name === "" && verb === "delete") attributes.verb = "deletecollection";
  return attributes;
}

interface Subject {
  kind?: string;
  name?: string;
  namespace?: string;
}

interface Binding extends KubeObject {
  roleRef?: { kind?: string; name?: string };
  subjects?: Subject[];
}

function ruleAllows(attributes: RequestAttributes, rule: PolicyRule): boolean {
  const verbs = rule.verbs ?? [];
  if (!verbs.includes("*") && !verbs.includes(attributes.verb)) return false;
  if (!attributes.resourceRequest) {
    return (rule.nonResourceURLs ?? []).some(
      (url) => url === "*" || url === attributes.path || (url.endsWith("*") && attributes.path.startsWith(url.slice(0, -1))),
    );
  }
  const groups = rule.apiGroups ?? [];
  if (!groups.includes("*") && !groups.includes(attributes.apiGroup)) return false;
  const combined = attributes.subresource ? `${attributes.resource}/${attributes.subresource}` : attributes.resource;
  const resourceMatches = (rule.resources ?? []).some(
    (resource) => resource === "*" || resource === combined || (attributes.subresource !== "" && resource === `*/${attributes.subresource}`),
  );
  if (!resourceMatches) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(attributes.name);
}

function appliesTo(subject: Subject, user: UserInfo, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case "User":
      return subject.name === user.username;
    case "Group":
      return subject.name !== undefined && user.groups.includes(subject.name);
    case "ServiceAccount":
      return user.username === `system:serviceaccount:${subject.namespace || bindingNamespace}:${subject.name}`;
    default:
      return false;
  }
}

/** Decides requests with the stored RBAC objects (or allows everything). */
export class Authorizer {
  readonly mode: AuthorizationMode;
  readonly #storage: Storage;

  constructor(mode: AuthorizationMode, storage: Storage) {
    this.mode = mode;
    this.#storage = storage;
  }

  #objects(storage: string): KubeObject[] {
    return [...this.#storage.table(storage).items.values()].map((entry) => entry.object);
  }

  #role(kind: string | undefined, name: string, namespace: string): PolicyRule[] | string {
    if (kind === "ClusterRole") {
      const role = this.#storage.get(clusterRoles.storage, name);
      return role ? ((role.object.rules as PolicyRule[] | undefined) ?? []) : `clusterrole.rbac.authorization.k8s.io ${JSON.stringify(name)} not found`;
    }
    const role = this.#storage.get(roles.storage, `${namespace}/${name}`);
    return role ? ((role.object.rules as PolicyRule[] | undefined) ?? []) : `role.rbac.authorization.k8s.io ${JSON.stringify(name)} not found`;
  }

  /** Every rule that applies to `user` in `namespace` (cluster-wide ones included), for SelfSubjectRulesReview. */
  rulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    const visit = (binding: Binding, bindingNamespace: string) => {
      if (!(binding.subjects ?? []).some((subject) => appliesTo(subject, user, bindingNamespace))) return;
      const found = this.#role(binding.roleRef?.kind, binding.roleRef?.name ?? "", bindingNamespace);
      if (typeof found === "string") errors.push(found);
      else rules.push(...found);
    };
    for (const binding of this.#objects(clusterRoleBindings.storage) as Binding[]) visit(binding, "");
    if (namespace) {
      for (const binding of this.#objects(roleBindings.storage) as Binding[]) {
        if (binding.metadata.namespace === namespace) visit(binding, namespace);
      }
    }
    return { rules, errors };
  }

  /** Whether `user` may do what `attributes` say. */
  authorize(user: UserInfo, attributes: RequestAttributes): Decision {
    if (this.mode === "AlwaysAllow" || user.groups.includes(SUPERUSER_GROUP)) return { allowed: true, reason: "" };
    const errors: string[] = [];
    const visit = (binding: Binding, namespace: string): boolean => {
      if (!(binding.subjects ?? []).some((subject) => appliesTo(subject, user, namespace))) return false;
      const rules = this.#role(binding.roleRef?.kind, binding.roleRef?.name ?? "", namespace);
      if (typeof rules === "string") {
        errors.push(rules);
        return false;
      }
      return rules.some((rule) => ruleAllows(attributes, rule));
    };
    for (const binding of this.#objects(clusterRoleBindings.storage) as Binding[]) {
      if (visit(binding, "")) return { allowed: true, reason: "" };
    }
    if (attributes.namespace) {
      for (const binding of this.#objects(roleBindings.storage) as Binding[]) {
        if (binding.metadata.namespace !== attributes.namespace) continue;
        if (visit(binding, attributes.namespace)) return { allowed: true, reason: "" };
      }
    }
    const reason = errors.length === 0 ? "" : `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(", ")}]`}`;
    return { allowed: false, reason };
  }
}

/** kube-apiserver's 403 for a denied request. */
export function forbiddenRequest(user: UserInfo, attributes: RequestAttributes, reason: string): StatusError {
  let message: string;
  if (!attributes.resourceRequest) {
    message = `User ${JSON.stringify(user.username)} cannot ${attributes.verb} path ${JSON.stringify(attributes.path)}`;
  } else {
    const resource = attributes.subresource ? `${attributes.resource}/${attributes.subresource}` : attributes.resource;
    const who = `User ${JSON.stringify(user.username)} cannot ${attributes.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(attributes.apiGroup)}`;
    message = attributes.namespace ? `${who} in the namespace ${JSON.stringify(attributes.namespace)}` : `${who} at the cluster scope`;
  }
  if (reason) message = `${message}: ${reason}`;
  const gr = { group: attributes.apiGroup, resource: attributes.resource };
  const prefix = !attributes.resource ? "forbidden" : attributes.name ? `${qualifiedResource(gr)} ${JSON.stringify(attributes.name)} is forbidden` : `${qualifiedResource(gr)} is forbidden`;
  return new StatusError(403, "Forbidden", `${prefix}: ${message}`, {
    ...(attributes.name ? { name: attributes.name } : {}),
    ...(attributes.apiGroup ? { group: attributes.apiGroup } : {}),
    ...(attributes.resource ? { kind: attributes.resource } : {}),
  });
}

/**
 * The built-in kinds of access control: core `v1` ServiceAccounts (with the
 * `token` subresource of the TokenRequest API), `rbac.authorization.k8s.io/v1`
 * Roles, ClusterRoles and their bindings, and the review kinds `kubectl auth`
 * uses: `authorization.k8s.io/v1` SelfSubjectAccessReviews (`can-i`) and
 * `authentication.k8s.io/v1` SelfSubjectReviews (`whoami`), answered and
 * never stored.
 *
 * @module
 */
import type { FieldError } from "./schema/field-error.ts";
import type { Schema } from "./schema/openapi-validator.ts";
import type { RequestAttributes } from "./access-types.ts";
import { ageColumn, bool, builtin, objectReference, objectSchema, preserved, str } from "./builtin-schema.ts";
import type { KubeObject } from "./object-meta.ts";
import type { ReviewContext, ResourceType } from "./resource-type.ts";

const strings = (description: string): Schema => ({ type: "array", items: { type: "string" }, "x-kubernetes-list-type": "atomic", description });

const policyRule: Schema = {
  type: "object",
  description: "PolicyRule holds information that describes a policy rule, but does not contain information about who the rule applies to or which namespace the rule applies to.",
  required: ["verbs"],
  properties: {
    verbs: strings("Verbs is a list of Verbs that apply to ALL the ResourceKinds contained in this rule. '*' represents all verbs."),
    apiGroups: strings("APIGroups is the name of the APIGroup that contains the resources. \"\" represents the core API group and \"*\" represents all API groups."),
    resources: strings("Resources is a list of resources this rule applies to. '*' represents all resources."),
    resourceNames: strings("ResourceNames is an optional white list of names that the rule applies to. An empty set means that everything is allowed."),
    nonResourceURLs: strings("NonResourceURLs is a set of partial urls that a user should have access to. *s are allowed, but only as the full, final step in the path."),
  },
};

const rulesSchema: Schema = { type: "array", items: policyRule, "x-kubernetes-list-type": "atomic", description: "Rules holds all the PolicyRules for this Role" };

const roleRef: Schema = {
  type: "object",
  description: "RoleRef contains information that points to the role being used",
  "x-kubernetes-map-type": "atomic",
  required: ["apiGroup", "kind", "name"],
  properties: {
    apiGroup: str("APIGroup is the group for the resource being referenced"),
    kind: str("Kind is the type of resource being referenced"),
    name: str("Name is the name of resource being referenced"),
  },
};

const subjects: Schema = {
  type: "array",
  "x-kubernetes-list-type": "atomic",
  description: "Subjects holds references to the objects the role applies to.",
  items: {
    type: "object",
    "x-kubernetes-map-type": "atomic",
    required: ["kind", "name"],
    properties: {
      kind: str("Kind of object being referenced. Values defined by this API group are \"User\", \"Group\", and \"ServiceAccount\"."),
      apiGroup: str("APIGroup holds the API group of the referenced subject."),
      name: str("Name of the object being referenced."),
      namespace: str("Namespace of the referenced object."),
    },
  },
};

/** core/v1 ServiceAccount, with `POST …/serviceaccounts/<name>/token` (TokenRequest). */
export const serviceAccounts: ResourceType = builtin({
  group: "",
  version: "v1",
  resource: "serviceaccounts",
  kind: "ServiceAccount",
  namespaced: true,
  shortNames: ["sa"],
  schema: objectSchema("ServiceAccount binds together: a name, understood by users, and perhaps by peripheral systems, for an identity; a principal that can be authenticated and authorized; a set of secrets.", {
    secrets: { type: "array", items: objectReference, "x-kubernetes-list-type": "atomic", description: "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use." },
    imagePullSecrets: { type: "array", items: { type: "object", properties: { name: str("Name of the referent.") } }, "x-kubernetes-list-type": "atomic", description: "ImagePullSecrets is a list of references to secrets in the same namespace to use for pulling any images in pods that reference this ServiceAccount." },
    automountServiceAccountToken: bool("AutomountServiceAccountToken indicates whether pods running as this service account should have an API token automatically mounted."),
  }),
  printerColumns: [{ name: "Secrets", type: "string", description: "The number of secrets", cell: (o) => ((o.secrets as unknown[] | undefined) ?? []).length }, ageColumn],
  subresources: [{ name: "token", group: "authentication.k8s.io", version: "v1", kind: "TokenRequest", verbs: ["create"] }],
});

function validateRules(object: KubeObject, namespaced: boolean): FieldError[] {
  const errors: FieldError[] = [];
  ((object.rules as Array<Record<string, string[] | undefined>> | undefined) ?? []).forEach((rule, i) => {
    if (!rule.verbs?.length) errors.push({ type: "FieldValueRequired", field: `rules[${i}].verbs`, detail: "verbs must contain at least one value" });
    if (rule.nonResourceURLs?.length) {
      if (namespaced) {
        errors.push({ type: "FieldValueInvalid", field: `rules[${i}].nonResourceURLs`, value: rule.nonResourceURLs, detail: "namespaced rules cannot apply to non-resource URLs" });
      } else if (rule.apiGroups?.length || rule.resources?.length) {
        errors.push({ type: "FieldValueInvalid", field: `rules[${i}].nonResourceURLs`, value: rule.nonResourceURLs, detail: "rules cannot apply to both regular resources and non-resource URLs" });
      }
      return;
    }
    if (!rule.apiGroups?.length) errors.push({ type: "FieldValueRequired", field: `rules[${i}].apiGroups`, detail: "resource rules must supply at least one api group" });
    if (!rule.resources?.length) errors.push({ type: "FieldValueRequired", field: `rules[${i}].resources`, detail: "resource rules must supply at least one resource" });
  });
  return errors;
}

/** rbac.authorization.k8s.io/v1 Role. */
export const roles: ResourceType = builtin({
  group: "rbac.authorization.k8s.io",
  version: "v1",
  resource: "roles",
  kind: "Role",
  namespaced: true,
  nameRule: "path-segment",
  schema: objectSchema("Role is a namespaced, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding.", { rules: rulesSchema }),
  printerColumns: [{ name: "Created At", type: "string", format: "date", description: "The time the role was created", jsonPath: ".metadata.creationTimestamp" }],
  hooks: { validate: (object) => validateRules(object, true) },
});

/** rbac.authorization.k8s.io/v1 ClusterRole. */
export const clusterRoles: ResourceType = builtin({
  group: "rbac.authorization.k8s.io",
  version: "v1",
  resource: "clusterroles",
  kind: "ClusterRole",
  namespaced: false,
  nameRule: "path-segment",
  schema: objectSchema("ClusterRole is a cluster level, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding or ClusterRoleBinding.", {
    rules: rulesSchema,
    aggregationRule: preserved("AggregationRule is an optional field that describes how to build the Rules for this ClusterRole (not aggregated by this emulator)."),
  }),
  printerColumns: [{ name: "Created At", type: "string", format: "date", description: "The time the role was created", jsonPath: ".metadata.creationTimestamp" }],
  hooks: { validate: (object) => validateRules(object, false) },
});

function validateBinding(object: KubeObject, old: KubeObject | undefined, namespaced: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const ref = (object.roleRef ?? {}) as { apiGroup?: string; kind?: string; name?: string };
  const kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"];
  if (ref.apiGroup !== "rbac.authorization.k8s.io") {
    errors.push({ type: "FieldValueNotSupported", field: "roleRef.apiGroup", value: ref.apiGroup ?? "", detail: 'supported values: "rbac.authorization.k8s.io"' });
  }
  if (!kinds.includes(ref.kind ?? "")) {
    errors.push({ type: "FieldValueNotSupported", field: "roleRef.kind", value: ref.kind ?? "", detail: `supported values: ${kinds.map((k) => JSON.stringify(k)).join(", ")}` });
  }
  if (!ref.name) errors.push({ type: "FieldValueRequired", field: "roleRef.name", detail: "" });
  if (old && JSON.stringify(old.roleRef) !== JSON.stringify(object.roleRef)) {
    errors.push({ type: "FieldValueInvalid", field: "roleRef", value: object.roleRef, detail: "cannot change roleRef" });
  }
  ((object.subjects as Array<{ kind?: string; name?: string; namespace?: string }> | undefined) ?? []).forEach((subject, i) => {
    if (!["ServiceAccount", "User", "Group"].includes(subject.kind ?? "")) {
      errors.push({ type: "FieldValueNotSupported", field: `subjects[${i}].kind`, value: subject.kind ?? "", detail: 'supported values: "ServiceAccount", "User", "Group"' });
    }
    if (subject.kind === "ServiceAccount" && !subject.namespace && !namespaced) {
      errors.push({ type: "FieldValueRequired", field: `subjects[${i}].namespace`, detail: "" });
    }
  });
  return errors;
}

/** Users and Groups are of the RBAC API group unless a subject says otherwise. */
function defaultSubjectGroups(object: KubeObject): void {
  for (const subject of (object.subjects as Array<{ kind?: string; apiGroup?: string }> | undefined) ?? []) {
    if ((subject.kind === "User" || subject.kind === "Group") && subject.apiGroup === undefined) subject.apiGroup = "rbac.authorization.k8s.io";
  }
}

const bindingColumns = [
  { name: "Role", type: "string", description: "The role referenced", cell: (o: KubeObject) => { const ref = (o.roleRef ?? {}) as { kind?: string; name?: string }; return `${ref.kind}/${ref.name}`; } },
  ageColumn,
];

/** rbac.authorization.k8s.io/v1 RoleBinding. */
export const roleBindings: ResourceType = builtin({
  group: "rbac.authorization.k8s.io",
  version: "v1",
  resource: "rolebindings",
  kind: "RoleBinding",
  namespaced: true,
  nameRule: "path-segment",
  schema: objectSchema("RoleBinding references a role, but does not contain it.", { roleRef, subjects }, ["roleRef"]),
  printerColumns: bindingColumns,
  hooks: {
    prepare: defaultSubjectGroups,
    validate: (object, old) => validateBinding(object, old, true),
  },
});

/** rbac.authorization.k8s.io/v1 ClusterRoleBinding. */
export const clusterRoleBindings: ResourceType = builtin({
  group: "rbac.authorization.k8s.io",
  version: "v1",
  resource: "clusterrolebindings",
  kind: "ClusterRoleBinding",
  namespaced: false,
  nameRule: "path-segment",
  schema: objectSchema("ClusterRoleBinding references a ClusterRole, but not contain it.", { roleRef, subjects }, ["roleRef"]),
  printerColumns: bindingColumns,
  hooks: { prepare: defaultSubjectGroups, validate: (object, old) => validateBinding(object, old, false) },
});

/** The attributes a SelfSubjectAccessReview asks about. */
function reviewAttributes(spec: Record<string, Record<string, string> | undefined>): RequestAttributes {
  const resource = spec.resourceAttributes;
  if (resource) {
    return {
      verb: resource.verb ?? "",
      resourceRequest: true,
      path: "",
      apiGroup: resource.group ?? "",
      apiVersion: resource.version ?? "",
      resource: resource.resource ?? "",
      subresource: resource.subresource ?? "",
      namespace: resource.namespace ?? "",
      name: resource.name ?? "",
    };
  }
  const nonResource = spec.nonResourceAttributes ?? {};
  return { verb: nonResource.verb ?? "", resourceRequest: false, path: nonResource.path ?? "", apiGroup: "", apiVersion: "", resource: "", subresource: "", namespace: "", name: "" };
}

/** authorization.k8s.io/v1 SelfSubjectAccessReview: may I? (`kubectl auth can-i`). */
export const selfSubjectAccessReviews: ResourceType = builtin({
  group: "authorization.k8s.io",
  version: "v1",
  resource: "selfsubjectaccessreviews",
  kind: "SelfSubjectAccessReview",
  namespaced: false,
  verbs: ["create"],
  printerColumns: [],
  schema: objectSchema("SelfSubjectAccessReview checks whether or the current user can perform an action.", {
    spec: {
      type: "object",
      description: "Spec holds information about the request being evaluated. user and groups must be empty",
      properties: { resourceAttributes: preserved("ResourceAuthorizationAttributes describes information for a resource access request"), nonResourceAttributes: preserved("NonResourceAttributes describes information for a non-resource access request") },
    },
    status: preserved("Status is filled in by the server and indicates whether the request is allowed or not"),
  }, ["spec"]),
  review(body, context: ReviewContext) {
    const spec = (body.spec ?? {}) as Record<string, Record<string, string> | undefined>;
    const decision = context.authorize(reviewAttributes(spec));
    return {
      ...body,
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      metadata: { ...body.metadata, creationTimestamp: null },
      status: { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) },
    } as unknown as KubeObject;
  },
});

/** authorization.k8s.io/v1 SelfSubjectRulesReview: what may I do in a namespace? (`kubectl auth can-i --list`). */
export const selfSubjectRulesReviews: ResourceType = builtin({
  group: "authorization.k8s.io",
  version: "v1",
  resource: "selfsubjectrulesreviews",
  kind: "SelfSubjectRulesReview",
  namespaced: false,
  verbs: ["create"],
  printerColumns: [],
  schema: objectSchema("SelfSubjectRulesReview enumerates the set of actions the current user can perform within a namespace.", {
    spec: { type: "object", description: "Spec holds information about the request being evaluated.", properties: { namespace: str("Namespace to evaluate rules for. Required.") } },
    status: preserved("Status is filled in by the server and indicates the set of actions a user can perform."),
  }, ["spec"]),
  review(body, context: ReviewContext) {
    const namespace = (body.spec as { namespace?: string } | undefined)?.namespace ?? "";
    const { rules, errors } = context.rulesFor(namespace);
    const list = (values: string[] | undefined) => values ?? [];
    return {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectRulesReview",
      metadata: { ...body.metadata, creationTimestamp: null },
      spec: { namespace },
      status: {
        resourceRules: rules
          .filter((rule) => !rule.nonResourceURLs?.length)
          .map((rule) => ({ verbs: list(rule.verbs), apiGroups: list(rule.apiGroups), resources: list(rule.resources), ...(rule.resourceNames?.length ? { resourceNames: rule.resourceNames } : {}) })),
        nonResourceRules: rules.filter((rule) => rule.nonResourceURLs?.length).map((rule) => ({ verbs: list(rule.verbs), nonResourceURLs: list(rule.nonResourceURLs) })),
        incomplete: errors.length > 0,
        ...(errors.length ? { evaluationError: errors.join(", ") } : {}),
      },
    } as unknown as KubeObject;
  },
});

/** authentication.k8s.io/v1 SelfSubjectReview: who am I? (`kubectl auth whoami`). */
export const selfSubjectReviews: ResourceType = builtin({
  group: "authentication.k8s.io",
  version: "v1",
  resource: "selfsubjectreviews",
  kind: "SelfSubjectReview",
  namespaced: false,
  verbs: ["create"],
  printerColumns: [],
  schema: objectSchema("SelfSubjectReview contains the user information that the kube-apiserver has about the user making this request.", {
    status: preserved("Status is filled in by the server with the user attributes."),
  }),
  review(body, context: ReviewContext) {
    const { user } = context;
    return {
      apiVersion: "authentication.k8s.io/v1",
      kind: "SelfSubjectReview",
      metadata: { ...body.metadata, creationTimestamp: null },
      status: { userInfo: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) } },
    } as unknown as KubeObject;
  },
});

/** The kinds of this module, for the registry. */
export const ACCESS_RESOURCES: readonly ResourceType[] = [
  serviceAccounts,
  roles,
  clusterRoles,
  roleBindings,
  clusterRoleBindings,
  selfSubjectAccessReviews,
  selfSubjectRulesReviews,
  selfSubjectReviews,
];

/**
 * The default RBAC policy kube-apiserver creates at start
 * (`rbac/bootstrap-roles`), reduced to what a cluster user relies on:
 * `cluster-admin` for `system:masters`, discovery and health for every
 * authenticated user (`system:discovery`, `system:public-info-viewer`, the
 * latter for anonymous users too), and `system:basic-user`, which lets
 * everyone ask what they may do and who they are (`kubectl auth can-i`,
 * `kubectl auth whoami`).
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { timestamp } from "./api-server.ts";
import { clusterRoleBindings, clusterRoles } from "./builtin-access.ts";
import type { KubeObject } from "./object-meta.ts";
import type { Storage } from "./storage.ts";

const RBAC = "rbac.authorization.k8s.io";

const DEFAULT_ROLES: Array<{ name: string; rules: Record<string, string[]>[]; groups: string[] }> = [
  {
    name: "cluster-admin",
    rules: [
      { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
      { nonResourceURLs: ["*"], verbs: ["*"] },
    ],
    groups: ["system:masters"],
  },
  {
    name: "system:discovery",
    rules: [{ nonResourceURLs: ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"], verbs: ["get"] }],
    groups: ["system:authenticated"],
  },
  {
    name: "system:public-info-viewer",
    rules: [{ nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"], verbs: ["get"] }],
    groups: ["system:authenticated", "system:unauthenticated"],
  },
  {
    name: "system:basic-user",
    rules: [
      { apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], verbs: ["create"] },
      { apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"], verbs: ["create"] },
    ],
    groups: ["system:authenticated"],
  },
];

/** Creates the default ClusterRoles and ClusterRoleBindings that are missing. */
export function bootstrapRbac(storage: Storage): void {
  const metadata = (name: string) => ({
    name,
    uid: randomUUID(),
    creationTimestamp: timestamp(),
    labels: { "kubernetes.io/bootstrapping": "rbac-defaults" },
    annotations: { "rbac.authorization.kubernetes.io/autoupdate": "true" },
  });
  for (const role of DEFAULT_ROLES) {
    if (!storage.get(clusterRoles.storage, role.name)) {
      const object: KubeObject = { apiVersion: `${RBAC}/v1`, kind: "ClusterRole", metadata: metadata(role.name), rules: role.rules };
      storage.put(clusterRoles.storage, role.name, object);
    }
    if (!storage.get(clusterRoleBindings.storage, role.name)) {
      const object: KubeObject = {
        apiVersion: `${RBAC}/v1`,
        kind: "ClusterRoleBinding",
        metadata: metadata(role.name),
        roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: role.name },
        subjects: role.groups.map((name) => ({ apiGroup: RBAC, kind: "Group", name })),
      };
      storage.put(clusterRoleBindings.storage, role.name, object);
    }
  }
}

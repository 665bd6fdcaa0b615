/**
 * RBAC from declarations: an install picks the controllers it runs (and
 * whether it elects a leader), and the ClusterRole and leader election Role
 * it needs are the union of what those controllers and the runtime declare
 * they call. `npm run generate` writes config/rbac/ from {@link OPERATOR_INSTALL}
 * (like the CRDs, this is build-time code: the operator does not load it);
 * another install (a companion mode running fewer controllers) is another
 * {@link Install} rendered into its own folder.
 *
 * @module
 */
import { stringify } from "yaml";
import { MODE_CHECK_PERMISSIONS } from "../cli/operator-mode.ts";
import { BARE_METAL_HOST_CONTROLLER_PERMISSIONS } from "../controllers/baremetalhost-controller.ts";
import { BMC_EVENT_SUBSCRIPTION_CONTROLLER_PERMISSIONS } from "../controllers/bmc-event-subscription-controller.ts";
import { HOST_INDICATORS_PUBLISHER_PERMISSIONS } from "../controllers/host-indicators-controller.ts";
import {
  METAL3_SERVICE_INDICATOR_CONTROLLER_PERMISSIONS,
  SERVICE_INDICATOR_CONTROLLER_PERMISSIONS,
} from "../controllers/service-indicator-controller.ts";
import { LEASE_LOCK_PERMISSIONS, type Permission, ruleResource } from "../runtime/index.ts";

/** The controllers of standalone mode by name (the names the manager gives them), with the calls each makes. */
export const CONTROLLER_PERMISSIONS = {
  baremetalhost: BARE_METAL_HOST_CONTROLLER_PERMISSIONS,
  bmceventsubscription: BMC_EVENT_SUBSCRIPTION_CONTROLLER_PERMISSIONS,
  baremetalhostserviceindicator: SERVICE_INDICATOR_CONTROLLER_PERMISSIONS,
} as const satisfies Record<string, readonly Permission[]>;

/**
 * The controllers of metal3 mode, next to the Metal3 baremetal-operator that
 * owns hosts, their Secrets and BMCEventSubscriptions: the indicator
 * controller with read-only host and Secret access, and the HostIndicators
 * publisher.
 */
export const METAL3_CONTROLLER_PERMISSIONS = {
  baremetalhostserviceindicator: METAL3_SERVICE_INDICATOR_CONTROLLER_PERMISSIONS,
  hostindicators: HOST_INDICATORS_PUBLISHER_PERMISSIONS,
} as const satisfies Record<string, readonly Permission[]>;

/** A controller's name. */
export type ControllerName = keyof typeof CONTROLLER_PERMISSIONS | keyof typeof METAL3_CONTROLLER_PERMISSIONS;

/** What runs in one install, and where its RBAC manifests go. */
export interface Install {
  /** The operator's mode, which picks the controllers' declarations. @default "standalone" */
  mode?: "standalone" | "metal3";
  controllers: readonly ControllerName[];
  /** Whether it runs with leader election (a Lease in its own namespace). */
  leaderElection: boolean;
  /** Calls made outside the controllers (a start-up check, say), from their components' declarations. */
  extra?: readonly Permission[];
  /** The folder of the generated files, relative to the repository root. */
  directory: string;
  /** The ClusterRole's name, and the leader election Role's prefix. */
  name: string;
  /** The leader election Role's name. @default `<name>-leader-election` */
  leaderElectionRole?: string;
  /** The namespace the install's kustomization replaces. */
  namespace: string;
}

/** The operator of config/default: every controller, with leader election, and the start-up mode check. */
export const OPERATOR_INSTALL: Install = {
  controllers: ["baremetalhost", "bmceventsubscription", "baremetalhostserviceindicator"],
  leaderElection: true,
  extra: MODE_CHECK_PERMISSIONS,
  directory: "config/rbac",
  name: "bmc-operator",
  namespace: "system",
};

/**
 * The operator of config/metal3: metal3 mode's controllers, with leader
 * election, and the mode check (`--mode auto` reads the BareMetalHost CRD).
 */
export const METAL3_INSTALL: Install = {
  mode: "metal3",
  controllers: ["baremetalhostserviceindicator", "hostindicators"],
  leaderElection: true,
  extra: MODE_CHECK_PERMISSIONS,
  directory: "config/metal3/rbac",
  name: "bmc-operator-metal3",
  leaderElectionRole: "bmc-operator-leader-election",
  namespace: "system",
};

/** Every install whose RBAC `npm run generate` writes. */
export const INSTALLS: readonly Install[] = [OPERATOR_INSTALL, METAL3_INSTALL];

/** Every call an install makes: the union of its controllers' and runtime's declarations. */
export function installPermissions(install: Pick<Install, "mode" | "controllers" | "leaderElection" | "extra">): Permission[] {
  const declared: Record<string, readonly Permission[]> = install.mode === "metal3" ? METAL3_CONTROLLER_PERMISSIONS : CONTROLLER_PERMISSIONS;
  return [
    ...install.controllers.flatMap((name) => {
      const permissions = declared[name];
      if (!permissions) throw new Error(`controller "${name}" does not run in ${install.mode ?? "standalone"} mode; it runs: ${Object.keys(declared).join(", ")}`);
      return permissions;
    }),
    ...(install.leaderElection ? LEASE_LOCK_PERMISSIONS : []),
    ...(install.extra ?? []),
  ];
}

/** An RBAC PolicyRule. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

/**
 * The fewest rules that grant exactly `permissions` of one scope: verbs
 * merged per resource, then resources with the same group and verbs in one
 * rule (as controller-gen does), in a stable order.
 */
export function policyRules(permissions: readonly Permission[], scope: Permission["scope"]): PolicyRule[] {
  const verbsByResource = new Map<string, { group: string; resource: string; names: string[]; verbs: Set<string> }>();
  for (const permission of permissions) {
    if (permission.scope !== scope) continue;
    const resource = ruleResource(permission);
    const names = [...(permission.resourceNames ?? [])].sort();
    const key = `${permission.group}\u0000${resource}\u0000${names.join(",")}`;
    const entry = verbsByResource.get(key) ?? { group: permission.group, resource, names, verbs: new Set<string>() };
    for (const verb of permission.verbs) entry.verbs.add(verb);
    verbsByResource.set(key, entry);
  }
  const rules = new Map<string, PolicyRule>();
  for (const { group, resource, names, verbs } of verbsByResource.values()) {
    const sorted = [...verbs].sort();
    const key = `${group}\u0000${sorted.join(",")}\u0000${names.join(",")}`;
    const rule: PolicyRule = rules.get(key) ?? { apiGroups: [group], resources: [], ...(names.length ? { resourceNames: names } : {}), verbs: sorted };
    rule.resources.push(resource);
    rules.set(key, rule);
  }
  for (const rule of rules.values()) rule.resources.sort();
  return [...rules.values()].sort(
    (a, b) => a.apiGroups[0]!.localeCompare(b.apiGroups[0]!) || a.resources[0]!.localeCompare(b.resources[0]!) || a.verbs.join().localeCompare(b.verbs.join()),
  );
}

const GENERATED = "# Generated by `npm run generate` from the permissions the controllers and the runtime declare\n# (the *_PERMISSIONS constants beside the code that makes the calls). Do not edit.\n";

/** The generated RBAC manifests of an install, keyed by path relative to the repository root. */
export function renderRbacManifests(install: Install): Map<string, string> {
  const permissions = installPermissions(install);
  const files = new Map<string, string>();
  const yaml = (doc: unknown) => stringify(doc, { lineWidth: 0 });
  files.set(
    `${install.directory}/role.yaml`,
    GENERATED +
      "# What the controllers read and write, cluster-wide. To confine the operator to\n" +
      "# some namespaces, run it with --namespaces (WATCH_NAMESPACE) and bind this\n" +
      "# ClusterRole with RoleBindings in those namespaces instead.\n" +
      yaml({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: install.name },
        rules: policyRules(permissions, "cluster"),
      }),
  );
  if (install.leaderElection) {
    files.set(
      `${install.directory}/leader_election_role.yaml`,
      GENERATED +
        "# The leader Lease lives in the operator's own namespace.\n" +
        yaml({
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "Role",
          metadata: { name: install.leaderElectionRole ?? `${install.name}-leader-election`, namespace: install.namespace },
          rules: policyRules(permissions, "own-namespace"),
        }),
    );
  }
  return files;
}

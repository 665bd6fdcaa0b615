/**
 * Discovery documents: `/version`, `/api`, `/apis`, per-group-version
 * `APIResourceList`s, and aggregated discovery (`apidiscovery.k8s.io/v2`,
 * which kubectl asks for first and which saves it one request per group).
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { ResourceRegistry } from "./registry.ts";
import type { ResourceType } from "./resource-type.ts";

/** The Kubernetes version the emulator reports. */
export const KUBERNETES_VERSION = { major: "1", minor: "35", gitVersion: "v1.35.0" } as const;

/** The media type of aggregated discovery responses. */
export const AGGREGATED_DISCOVERY_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

const SUBRESOURCE_VERBS = ["get", "patch", "update"];

/** `GET /version`. */
export function versionInfo(): Record<string, string> {
  return {
    major: KUBERNETES_VERSION.major,
    minor: KUBERNETES_VERSION.minor,
    emulationMajor: KUBERNETES_VERSION.major,
    emulationMinor: KUBERNETES_VERSION.minor,
    gitVersion: `${KUBERNETES_VERSION.gitVersion}+bmc-operator-emulator`,
    gitCommit: "0000000000000000000000000000000000000000",
    gitTreeState: "clean",
    buildDate: "2026-01-01T00:00:00Z",
    goVersion: "n/a (TypeScript emulator)",
    compiler: "node",
    platform: `${process.platform}/${process.arch}`,
  };
}

/** `GET /api`. */
export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

/** `GET /apis`. */
export function apiGroupList(registry: ResourceRegistry): Record<string, unknown> {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: registry.groups().map((group) => ({
      name: group.name,
      versions: group.versions.map((version) => ({ groupVersion: `${group.name}/${version}`, version })),
      preferredVersion: { groupVersion: `${group.name}/${group.versions[0]}`, version: group.versions[0] },
    })),
  };
}

/** `GET /apis/<group>` (the versions of one group), or `undefined` when the group is not served. */
export function apiGroup(registry: ResourceRegistry, name: string): Record<string, unknown> | undefined {
  const group = registry.groups().find((g) => g.name === name);
  if (!group) return undefined;
  return {
    kind: "APIGroup",
    apiVersion: "v1",
    name,
    versions: group.versions.map((version) => ({ groupVersion: `${name}/${version}`, version })),
    preferredVersion: { groupVersion: `${name}/${group.versions[0]}`, version: group.versions[0] },
  };
}

function storageVersionHash(type: ResourceType): string {
  return createHash("sha256").update(`${type.group}/${type.storageApiVersion}/${type.kind}`).digest("base64").slice(0, 11);
}

/** `GET /api/v1` or `/apis/<group>/<version>`, or `undefined` when nothing is served there. */
export function apiResourceList(registry: ResourceRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const types = registry.inGroupVersion(group, version);
  if (types.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const type of types.sort((a, b) => a.resource.localeCompare(b.resource))) {
    resources.push({
      name: type.resource,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: [...type.verbs],
      ...(type.shortNames.length ? { shortNames: [...type.shortNames] } : {}),
      ...(type.categories.length ? { categories: [...type.categories] } : {}),
      storageVersionHash: storageVersionHash(type),
    });
    if (type.statusSubresource) {
      resources.push({ name: `${type.resource}/status`, singularName: "", namespaced: type.namespaced, kind: type.kind, verbs: SUBRESOURCE_VERBS });
    }
    for (const sub of type.subresources ?? []) {
      resources.push({ name: `${type.resource}/${sub.name}`, singularName: "", namespaced: type.namespaced, group: sub.group, version: sub.version, kind: sub.kind, verbs: [...sub.verbs] });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: group ? `${group}/${version}` : version, resources };
}

function discoveryResource(type: ResourceType): Record<string, unknown> {
  const responseKind = { group: type.group, version: type.version, kind: type.kind };
  const subresources = [
    ...(type.statusSubresource ? [{ subresource: "status", responseKind, verbs: SUBRESOURCE_VERBS }] : []),
    ...(type.subresources ?? []).map((sub) => ({ subresource: sub.name, responseKind: { group: sub.group, version: sub.version, kind: sub.kind }, verbs: [...sub.verbs] })),
  ];
  return {
    resource: type.resource,
    responseKind,
    scope: type.namespaced ? "Namespaced" : "Cluster",
    singularResource: type.singular,
    verbs: [...type.verbs],
    ...(type.shortNames.length ? { shortNames: [...type.shortNames] } : {}),
    ...(type.categories.length ? { categories: [...type.categories] } : {}),
    ...(subresources.length ? { subresources } : {}),
  };
}

/** Aggregated discovery of the core group (`/api`) or of every other group (`/apis`). */
export function aggregatedDiscovery(registry: ResourceRegistry, core: boolean): Record<string, unknown> {
  const items: Record<string, unknown>[] = [];
  if (core) {
    const types = registry.inGroupVersion("", "v1").sort((a, b) => a.resource.localeCompare(b.resource));
    items.push({ metadata: { creationTimestamp: null }, versions: [{ version: "v1", resources: types.map(discoveryResource), freshness: "Current" }] });
  } else {
    for (const group of registry.groups()) {
      items.push({
        metadata: { name: group.name, creationTimestamp: null },
        versions: group.versions.map((version) => ({
          version,
          resources: registry
            .inGroupVersion(group.name, version)
            .sort((a, b) => a.resource.localeCompare(b.resource))
            .map(discoveryResource),
          freshness: "Current",
        })),
      });
    }
  }
  return { kind: "APIGroupDiscoveryList", apiVersion: "apidiscovery.k8s.io/v2", metadata: {}, items };
}

/**
 * The resources the emulator serves: the built-ins, plus one set per
 * CustomResourceDefinition, added as soon as the CRD is created and removed
 * when it is gone. Discovery and OpenAPI documents are derived from it.
 *
 * @module
 */
import { ACCESS_RESOURCES } from "./builtin-access.ts";
import { BUILTIN_RESOURCES } from "./builtin-resources.ts";
import { WORKLOAD_RESOURCES } from "./builtin-workloads.ts";
import { type CustomResourceDefinition, customResourceDefinitions, resourceTypesOf } from "./crd.ts";
import { apiVersionOf, type ResourceType } from "./resource-type.ts";

/** An API group with its served versions, preferred first. */
export interface ApiGroup {
  name: string;
  versions: string[];
}

/** The served resources, looked up by group, version and plural name. */
export class ResourceRegistry {
  readonly #types = new Map<string, ResourceType>();
  readonly #byCrd = new Map<string, ResourceType[]>();
  #generation = 0;

  constructor() {
    for (const type of [...BUILTIN_RESOURCES, ...ACCESS_RESOURCES, ...WORKLOAD_RESOURCES, customResourceDefinitions]) this.#add(type);
  }

  #key(group: string, version: string, resource: string): string {
    return `${group}/${version}/${resource}`;
  }

  #add(type: ResourceType): void {
    this.#types.set(this.#key(type.group, type.version, type.resource), type);
  }

  /** Increases whenever the set of resources changes, so derived documents know to rebuild. */
  get generation(): number {
    return this.#generation;
  }

  /** The resource at `group/version/resource`, if served. */
  lookup(group: string, version: string, resource: string): ResourceType | undefined {
    return this.#types.get(this.#key(group, version, resource));
  }

  /** Every served resource. */
  all(): ResourceType[] {
    return [...this.#types.values()];
  }

  /** The resources of one group version. */
  inGroupVersion(group: string, version: string): ResourceType[] {
    return this.all().filter((type) => type.group === group && type.version === version);
  }

  /** Every resource stored in `storage`, one per served version. */
  byStorage(storage: string): ResourceType[] {
    return this.all().filter((type) => type.storage === storage);
  }

  /** The served version of `storage` whose form is the stored one, or any served version. */
  storageType(storage: string): ResourceType | undefined {
    const types = this.byStorage(storage);
    return types.find((type) => apiVersionOf(type) === type.storageApiVersion && !type.toServed) ?? types[0];
  }

  /** The API groups (the core group excluded), each with its versions, preferred first. */
  groups(): ApiGroup[] {
    const groups = new Map<string, Set<string>>();
    for (const type of this.#types.values()) {
      if (!type.group) continue;
      const versions = groups.get(type.group) ?? new Set<string>();
      versions.add(type.version);
      groups.set(type.group, versions);
    }
    return [...groups].map(([name, versions]) => ({ name, versions: [...versions].sort(compareVersions) }));
  }

  /** Serves the versions of a CRD, replacing what an earlier version of it served. */
  registerCrd(crd: CustomResourceDefinition): void {
    this.unregisterCrd(crd.metadata.name ?? "");
    const types = resourceTypesOf(crd);
    for (const type of types) this.#add(type);
    this.#byCrd.set(crd.metadata.name ?? "", types);
    this.#generation++;
  }

  /** Stops serving a CRD's resources. */
  unregisterCrd(name: string): void {
    const types = this.#byCrd.get(name);
    if (!types) return;
    for (const type of types) this.#types.delete(this.#key(type.group, type.version, type.resource));
    this.#byCrd.delete(name);
    this.#generation++;
  }
}

/** Orders Kubernetes versions by priority: GA before beta before alpha, higher numbers first (`v2`, `v1`, `v1beta2`, `v1alpha1`). */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const match = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!match) return { rank: 0, major: 0, minor: 0, text: v };
    const rank = match[2] === undefined ? 3 : match[2] === "beta" ? 2 : 1;
    return { rank, major: Number(match[1]), minor: Number(match[3] ?? 0), text: v };
  };
  const x = parse(a);
  const y = parse(b);
  if (x.rank !== y.rank) return y.rank - x.rank;
  if (x.rank === 0) return x.text.localeCompare(y.text);
  if (x.major !== y.major) return y.major - x.major;
  return y.minor - x.minor;
}

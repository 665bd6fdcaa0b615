/**
 * Request counters for benchmarks: requests by verb, and writes by resource
 * (so "Kubernetes API writes per converged resource" is one division).
 *
 * @module
 */

/** The verbs of Kubernetes API requests. */
export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";

/** Writes to one resource; `status` counts updates and patches of its `/status` subresource. */
export interface ResourceWrites {
  create: number;
  update: number;
  patch: number;
  delete: number;
  status: number;
}

/** A snapshot of the counters. */
export interface ApiStats {
  /** Every API request, discovery and OpenAPI included. */
  requests: number;
  /** Requests with a write verb (create, update, patch, delete, deletecollection), accepted or not. */
  writes: number;
  byVerb: Record<string, number>;
  /** Writes by resource, keyed `group/resource` (`metal3.io/bmceventsubscriptions`), or `resource` for the core group (`secrets`). */
  byResource: Record<string, ResourceWrites>;
  /** GETs of single objects by resource, keyed as `byResource`. */
  getsByResource: Record<string, number>;
}

const WRITE_VERBS = new Set<string>(["create", "update", "patch", "delete", "deletecollection"]);

/** Counts requests. */
export class RequestStats {
  #requests = 0;
  #writes = 0;
  #byVerb: Record<string, number> = {};
  #byResource: Record<string, ResourceWrites> = {};
  #getsByResource: Record<string, number> = {};

  /** Counts a request that is not about a resource (discovery, OpenAPI, health). */
  recordOther(): void {
    this.#requests++;
  }

  /** Counts a resource request. */
  record(verb: Verb, group: string, resource: string, subresource: string): void {
    this.#requests++;
    this.#byVerb[verb] = (this.#byVerb[verb] ?? 0) + 1;
    const key = group ? `${group}/${resource}` : resource;
    if (verb === "get") this.#getsByResource[key] = (this.#getsByResource[key] ?? 0) + 1;
    if (!WRITE_VERBS.has(verb)) return;
    this.#writes++;
    const counts = (this.#byResource[key] ??= { create: 0, update: 0, patch: 0, delete: 0, status: 0 });
    if (subresource === "status") counts.status++;
    else if (verb === "deletecollection") counts.delete++;
    else counts[verb as keyof ResourceWrites]++;
  }

  snapshot(): ApiStats {
    return {
      requests: this.#requests,
      writes: this.#writes,
      byVerb: { ...this.#byVerb },
      byResource: Object.fromEntries(Object.entries(this.#byResource).map(([key, counts]) => [key, { ...counts }])),
      getsByResource: { ...this.#getsByResource },
    };
  }

  reset(): void {
    this.#requests = 0;
    this.#writes = 0;
    this.#byVerb = {};
    this.#byResource = {};
    this.#getsByResource = {};
  }
}

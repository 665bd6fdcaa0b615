/**
 * Where leader election keeps its record: a `coordination.k8s.io/v1` Lease
 * (client-go's `resourcelock.LeaseLock`), behind a small interface so that
 * the election logic can be tested against an in-memory lock.
 *
 * @module
 */
import { isNotFound } from "./api-error.ts";
import type { KubeClient } from "./client.ts";
import { type Permission, permissionOn } from "./permissions.ts";
import { type Lease, LEASES } from "./resource.ts";

/** The calls of {@link KubeLeaseLock}: its Lease, in the namespace it is given (the operator's own). */
export const LEASE_LOCK_PERMISSIONS: readonly Permission[] = [permissionOn(LEASES, ["get", "create", "update"], { scope: "own-namespace" })];

/** The leader election record, as the Lease spec holds it (times in ms since the epoch). */
export interface LeaderElectionRecord {
  /** Who leads; empty when the lease was released. */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: number;
  renewTime: number;
  leaseTransitions: number;
}

/** A stored record and the version to update it from. */
export interface VersionedRecord {
  record: LeaderElectionRecord;
  /** Opaque; an update with a stale version fails. */
  version: string;
}

/** Reads and writes the record with optimistic concurrency. */
export interface LeaseLock {
  /** `namespace/name` of the lock, for logs. */
  describe(): string;
  /** The current record, or `undefined` when there is none. */
  get(signal?: AbortSignal): Promise<VersionedRecord | undefined>;
  /** Creates the record; fails when one exists. */
  create(record: LeaderElectionRecord, signal?: AbortSignal): Promise<void>;
  /** Replaces the record; fails when `version` is stale. */
  update(record: LeaderElectionRecord, version: string, signal?: AbortSignal): Promise<void>;
}

/** Formats a time as a Kubernetes MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function parseTime(value: string | null | undefined): number {
  const ms = value ? Date.parse(value) : NaN;
  return Number.isNaN(ms) ? 0 : ms;
}

/** A Lease object in the cluster. */
export class KubeLeaseLock implements LeaseLock {
  readonly #client: KubeClient;
  readonly #namespace: string;
  readonly #name: string;

  constructor(client: KubeClient, namespace: string, name: string) {
    this.#client = client;
    this.#namespace = namespace;
    this.#name = name;
  }

  describe(): string {
    return `${this.#namespace}/${this.#name}`;
  }

  async get(signal?: AbortSignal): Promise<VersionedRecord | undefined> {
    try {
      const lease = await this.#client.get(LEASES, { namespace: this.#namespace, name: this.#name }, { signal });
      const spec = lease.spec ?? {};
      return {
        version: lease.metadata?.resourceVersion ?? "",
        record: {
          holderIdentity: spec.holderIdentity ?? "",
          leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
          acquireTime: parseTime(spec.acquireTime),
          renewTime: parseTime(spec.renewTime),
          leaseTransitions: spec.leaseTransitions ?? 0,
        },
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async create(record: LeaderElectionRecord, signal?: AbortSignal): Promise<void> {
    await this.#client.create(LEASES, { metadata: { namespace: this.#namespace, name: this.#name }, spec: toSpec(record) }, { signal });
  }

  async update(record: LeaderElectionRecord, version: string, signal?: AbortSignal): Promise<void> {
    await this.#client.update(
      LEASES,
      { metadata: { namespace: this.#namespace, name: this.#name, resourceVersion: version }, spec: toSpec(record) },
      { signal },
    );
  }
}

function toSpec(record: LeaderElectionRecord): Lease["spec"] {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    acquireTime: microTime(record.acquireTime),
    renewTime: microTime(record.renewTime),
    leaseTransitions: record.leaseTransitions,
  };
}

/**
 * An in-memory lease with optimistic concurrency, shared by several
 * {@link LeaderElector}s in a test.
 *
 * @module
 */
import { ApiError } from "../api-error.ts";
import type { LeaderElectionRecord, LeaseLock, VersionedRecord } from "../lease-lock.ts";

/** The store behind one or more {@link MemoryLeaseLock}s. */
export class MemoryLease {
  record: LeaderElectionRecord | undefined;
  version = 0;
  writes = 0;
}

/** A lock on a {@link MemoryLease}; `failing` makes every call fail, as a partitioned client would. */
export class MemoryLeaseLock implements LeaseLock {
  readonly lease: MemoryLease;
  failing = false;

  constructor(lease: MemoryLease) {
    this.lease = lease;
  }

  describe(): string {
    return "test/lease";
  }

  get(): Promise<VersionedRecord | undefined> {
    if (this.failing) return Promise.reject(new Error("connection refused"));
    const { record, version } = this.lease;
    return Promise.resolve(record === undefined ? undefined : { record: { ...record }, version: String(version) });
  }

  create(record: LeaderElectionRecord): Promise<void> {
    if (this.failing) return Promise.reject(new Error("connection refused"));
    if (this.lease.record !== undefined) return Promise.reject(new ApiError("POST", "/lease", { code: 409, reason: "AlreadyExists" }));
    this.lease.record = { ...record };
    this.lease.version++;
    this.lease.writes++;
    return Promise.resolve();
  }

  update(record: LeaderElectionRecord, version: string): Promise<void> {
    if (this.failing) return Promise.reject(new Error("connection refused"));
    if (String(this.lease.version) !== version) return Promise.reject(new ApiError("PUT", "/lease", { code: 409, reason: "Conflict" }));
    this.lease.record = { ...record };
    this.lease.version++;
    this.lease.writes++;
    return Promise.resolve();
  }
}

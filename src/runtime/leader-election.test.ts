import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { FakeClock } from "./clock.ts";
import { type LeaderCallbacks, LeaderElector } from "./leader-election.ts";
import { microTime } from "./lease-lock.ts";
import { MemoryLease, MemoryLeaseLock } from "./testing/memory-lease-lock.ts";

interface Candidate {
  elector: LeaderElector;
  lock: MemoryLeaseLock;
  abort: AbortController;
  done: Promise<void>;
  events: string[];
  leading?: AbortSignal;
}

function candidate(identity: string, lease: MemoryLease, clock: FakeClock, registry = new Registry(), releaseOnCancel = true): Candidate {
  const lock = new MemoryLeaseLock(lease);
  const elector = new LeaderElector({ lock, identity, clock, registry, releaseOnCancel, random: () => 0 });
  const abort = new AbortController();
  const c: Partial<Candidate> = { elector, lock, abort, events: [] };
  const callbacks: LeaderCallbacks = {
    onStartedLeading: (signal) => {
      c.events!.push("started");
      c.leading = signal;
    },
    onStoppedLeading: ({ lost }) => void c.events!.push(lost ? "lost" : "stopped"),
    onNewLeader: (id) => void c.events!.push(`leader ${id}`),
  };
  c.done = elector.run(abort.signal, callbacks);
  return c as Candidate;
}

describe("LeaderElector", () => {
  it("creates the lease with holder, duration, times and transitions, and reports master status", async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const registry = new Registry();
    const a = candidate("a", lease, clock, registry);
    await clock.advance(0);
    assert.deepEqual(a.events, ["leader a", "started"]);
    assert.deepEqual(lease.record, { holderIdentity: "a", leaseDurationSeconds: 15, acquireTime: clock.now(), renewTime: clock.now(), leaseTransitions: 0 });
    assert.match(await registry.metrics(), /leader_election_master_status\{name="test\/lease"\} 1/);
    await clock.advance(2000);
    assert.equal(lease.record?.renewTime, clock.now(), "renewed every retry period");
    assert.equal(lease.record?.acquireTime, clock.now() - 2000);
    a.abort.abort();
    await a.done;
    assert.match(await registry.metrics(), /leader_election_master_status\{name="test\/lease"\} 0/);
  });

  it("keeps a second candidate waiting while the leader renews, and hands over at once on release", async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock);
    await clock.advance(0);
    const b = candidate("b", lease, clock);
    await clock.advance(60_000);
    assert.equal(a.elector.isLeader, true);
    assert.equal(b.elector.isLeader, false);
    assert.deepEqual(b.events, ["leader a"]);
    a.abort.abort();
    await a.done;
    assert.deepEqual(a.events, ["leader a", "started", "stopped"]);
    assert.equal(a.leading?.aborted, true);
    assert.equal(lease.record?.holderIdentity, "", "released");
    const releasedAt = clock.now();
    await clock.advance(2000); // b's next attempt (retry period, no jitter here)
    assert.equal(b.elector.isLeader, true);
    assert.ok(clock.now() - releasedAt <= 2000);
    assert.equal(lease.record?.holderIdentity, "b");
    assert.equal(lease.record?.leaseTransitions, 1);
    b.abort.abort();
    await b.done;
  });

  it("takes over a lease that a crashed leader stopped renewing only after the lease duration", async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock, new Registry(), false);
    await clock.advance(0);
    const b = candidate("b", lease, clock);
    await clock.advance(0);
    a.lock.failing = true; // a can no longer reach the lease, and will not release it
    const lastRenew = lease.record!.renewTime;
    await clock.advance(14_000);
    assert.equal(b.elector.isLeader, false, "still within a's lease");
    await clock.advance(4_000);
    assert.equal(b.elector.isLeader, true);
    assert.ok(clock.now() - lastRenew >= 15_000);
    assert.equal(lease.record?.leaseTransitions, 1);
    // a gave up leading after its renew deadline, before b took over.
    assert.deepEqual(a.events, ["leader a", "started", "lost"]);
    await a.done;
    b.abort.abort();
    await b.done;
  });

  it("stops leading when it cannot renew within the renew deadline", async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock);
    await clock.advance(0);
    a.lock.failing = true;
    const failedFrom = clock.now();
    await clock.advance(9_000);
    assert.equal(a.elector.isLeader, true, "still trying within the deadline");
    await clock.advance(5_000);
    assert.equal(a.elector.isLeader, false);
    assert.ok(clock.now() - failedFrom <= 14_000);
    assert.equal(a.leading?.aborted, true);
    await a.done;
    assert.deepEqual(a.events, ["leader a", "started", "lost"]);
  });

  it("uses the defaults for options given as undefined, releasing on stop", async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const elector = new LeaderElector({
      lock: new MemoryLeaseLock(lease),
      identity: "a",
      clock,
      registry: new Registry(),
      leaseDurationMs: undefined,
      releaseOnCancel: undefined,
    });
    const abort = new AbortController();
    const done = elector.run(abort.signal, { onStartedLeading: () => {} });
    await clock.advance(0);
    assert.equal(lease.record?.leaseDurationSeconds, 15);
    abort.abort();
    await done;
    assert.equal(lease.record?.holderIdentity, "");
  });

  it("rejects timings that cannot work, naming them", () => {
    const lock = new MemoryLeaseLock(new MemoryLease());
    assert.throws(() => new LeaderElector({ lock, identity: "a", leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }), /leaseDuration \(10000 ms\) must be greater than renewDeadline \(10000 ms\)/);
    assert.throws(() => new LeaderElector({ lock, identity: "" }), /non-empty identity/);
  });

  it("formats lease times as MicroTime", () => {
    assert.equal(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), "2026-01-02T03:04:05.678000Z");
  });
});

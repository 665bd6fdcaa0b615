/**
 * Leader election on a lease, as client-go's `leaderelection` package: only
 * one process at a time leads; it renews the lease every `retryPeriod`, and
 * gives up leading when it cannot renew within `renewDeadline`. Others try to
 * take over every `retryPeriod` (jittered), once the lease has not changed
 * for `leaseDuration` as measured on their own clock (so clock skew between
 * machines does not matter), or at once when it was released.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import type { Registry } from "prom-client";
import { withDefaults } from "./backoff.ts";
import { type Clock, realClock, sleepUnlessAborted } from "./clock.ts";
import type { LeaderElectionRecord, LeaseLock, VersionedRecord } from "./lease-lock.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { defaultRegistry, gauge } from "./metrics.ts";

/** Options of a {@link LeaderElector}. */
export interface LeaderElectionOptions {
  lock: LeaseLock;
  /** This process; unique among the candidates (for example `hostname_uuid`). */
  identity: string;
  /** How long a lease stays valid without renewal, in ms. @default 15_000 */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up, in ms. @default 10_000 */
  renewDeadlineMs?: number;
  /** Time between attempts, in ms. @default 2_000 */
  retryPeriodMs?: number;
  /** Release the lease when stopped, so another candidate takes over at once. @default true */
  releaseOnCancel?: boolean;
  /** Names the election in `leader_election_master_status{name}`. @default lock.describe() */
  name?: string;
  logger?: Logger;
  registry?: Registry;
  clock?: Clock;
  /** Random numbers in [0, 1), for the jitter. @default Math.random */
  random?: () => number;
}

/** What happens on leadership changes. */
export interface LeaderCallbacks {
  /** This process now leads; `signal` aborts when it stops leading. */
  onStartedLeading(signal: AbortSignal): void;
  /** This process no longer leads: `lost` is true when the lease could not be renewed (not a requested stop). */
  onStoppedLeading?(reason: { lost: boolean }): void;
  /** Someone (maybe this process) was seen leading. */
  onNewLeader?(identity: string): void;
}

/**
 * Runs an election.
 *
 * @example
 * ```ts
 * const elector = new LeaderElector({ lock: new KubeLeaseLock(client, "metal3", "bmc-operator"), identity });
 * await elector.run(signal, {
 *   onStartedLeading: (leading) => void runControllers(leading),
 *   onStoppedLeading: ({ lost }) => { if (lost) process.exitCode = 1; },
 * });
 * ```
 */
export class LeaderElector {
  readonly #o: Required<Omit<LeaderElectionOptions, "logger" | "registry">>;
  readonly #log: Logger;
  readonly #status: ReturnType<typeof gauge<"name">>;
  #observed: VersionedRecord | undefined;
  #observedTime = 0;
  #leading = false;
  #reportedLeader: string | undefined;

  constructor(options: LeaderElectionOptions) {
    const o = withDefaults(
      {
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
        releaseOnCancel: true,
        name: options.lock.describe(),
        clock: realClock,
        random: Math.random,
      },
      options,
    );
    if (!options.identity) throw new TypeError("Leader election needs a non-empty identity");
    if (!(o.leaseDurationMs > o.renewDeadlineMs)) {
      throw new RangeError(`leaseDuration (${o.leaseDurationMs} ms) must be greater than renewDeadline (${o.renewDeadlineMs} ms)`);
    }
    if (!(o.renewDeadlineMs > o.retryPeriodMs * 1.2)) {
      throw new RangeError(`renewDeadline (${o.renewDeadlineMs} ms) must be greater than 1.2 × retryPeriod (${o.retryPeriodMs} ms)`);
    }
    this.#o = o;
    this.#log = (options.logger ?? silentLogger).child({ leaderElection: o.name, identity: o.identity });
    this.#status = gauge(options.registry ?? defaultRegistry, {
      name: "leader_election_master_status",
      help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease.",
      labelNames: ["name"] as const,
    });
    this.#status.set({ name: o.name }, 0);
  }

  /** Whether this process leads right now. */
  get isLeader(): boolean {
    return this.#leading;
  }

  /** The last leader seen, or `undefined`. */
  get leader(): string | undefined {
    return this.#observed?.record.holderIdentity || undefined;
  }

  /**
   * Campaigns until leading, leads until the lease is lost or `signal`
   * aborts, then (on abort) releases the lease. Resolves when done; call it
   * again to campaign again.
   */
  async run(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<void> {
    if (!(await this.#acquire(signal, callbacks))) return;
    const leading = new AbortController();
    this.#setLeading(true);
    this.#log.info("became leader");
    try {
      callbacks.onStartedLeading(leading.signal);
    } catch (error) {
      this.#log.error({ err: error }, "onStartedLeading threw");
    }
    const lost = await this.#renewUntilLost(signal, callbacks);
    leading.abort(new Error(lost ? "Leader election lost" : "Leader election stopped"));
    if (!lost && this.#o.releaseOnCancel) await this.#release();
    this.#setLeading(false);
    if (lost) this.#log.error("leader election lost: the lease could not be renewed in time");
    else this.#log.info("stopped leading");
    callbacks.onStoppedLeading?.({ lost });
  }

  async #acquire(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<boolean> {
    this.#log.info({ lock: this.#o.lock.describe() }, "attempting to acquire leader lease");
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew(signal, callbacks)) return true;
      const wait = this.#o.retryPeriodMs * (1 + this.#o.random() * 1.2);
      if (!(await sleepUnlessAborted(this.#o.clock, wait, signal))) break;
    }
    return false;
  }

  /** Renews every retryPeriod; returns true when renewal failed for renewDeadline, false on abort. */
  async #renewUntilLost(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<boolean> {
    const { clock, renewDeadlineMs, retryPeriodMs } = this.#o;
    while (!signal.aborted) {
      const deadline = clock.now() + renewDeadlineMs;
      let renewed = false;
      while (!signal.aborted && clock.now() < deadline) {
        if (await this.#tryAcquireOrRenew(signal, callbacks, deadline)) {
          renewed = true;
          break;
        }
        const wait = Math.min(retryPeriodMs, deadline - clock.now());
        if (!(await sleepUnlessAborted(clock, wait, signal))) break;
      }
      if (signal.aborted) return false;
      if (!renewed) return true;
      if (!(await sleepUnlessAborted(clock, retryPeriodMs, signal))) return false;
    }
    return false;
  }

  /** One attempt: take the lease if free or ours, renew it if ours. */
  async #tryAcquireOrRenew(signal: AbortSignal, callbacks: LeaderCallbacks, deadline?: number): Promise<boolean> {
    const { lock, identity, clock, leaseDurationMs } = this.#o;
    const attempt = new AbortController();
    const timer = deadline === undefined ? undefined : clock.setTimer(() => attempt.abort(new Error("renew deadline passed")), deadline - clock.now());
    const callSignal = AbortSignal.any([signal, attempt.signal]);
    try {
      const now = clock.now();
      const fresh: LeaderElectionRecord = {
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 0,
      };
      const current = await lock.get(callSignal);
      if (current === undefined) {
        await lock.create(fresh, callSignal);
        this.#observe({ record: fresh, version: "" }, callbacks);
        return true;
      }
      if (!this.#observed || !isDeepStrictEqual(this.#observed.record, current.record)) {
        this.#observedTime = clock.now();
      }
      this.#observe(current, callbacks);
      const held = current.record.holderIdentity;
      if (held !== "" && held !== identity && this.#observedTime + leaseDurationMs > clock.now()) {
        return false;
      }
      const next: LeaderElectionRecord =
        held === identity
          ? { ...fresh, acquireTime: current.record.acquireTime, leaseTransitions: current.record.leaseTransitions }
          : { ...fresh, leaseTransitions: current.record.leaseTransitions + 1 };
      await lock.update(next, current.version, callSignal);
      this.#observedTime = clock.now();
      this.#observe({ record: next, version: current.version }, callbacks);
      return true;
    } catch (error) {
      if (!signal.aborted) this.#log.warn({ err: error }, "could not acquire or renew the lease");
      return false;
    } finally {
      timer?.cancel();
    }
  }

  #observe(record: VersionedRecord, callbacks: LeaderCallbacks): void {
    this.#observed = record;
    const leader = record.record.holderIdentity;
    if (leader && leader !== this.#reportedLeader) {
      this.#reportedLeader = leader;
      if (leader !== this.#o.identity) this.#log.info({ leader }, "new leader elected");
      try {
        callbacks.onNewLeader?.(leader);
      } catch (error) {
        this.#log.error({ err: error }, "onNewLeader threw");
      }
    }
  }

  async #release(): Promise<void> {
    const { lock, identity, clock } = this.#o;
    try {
      const current = await lock.get();
      if (current === undefined || current.record.holderIdentity !== identity) return;
      const now = clock.now();
      await lock.update(
        { holderIdentity: "", leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: current.record.leaseTransitions },
        current.version,
      );
      this.#log.info("released the lease");
    } catch (error) {
      this.#log.warn({ err: error }, "could not release the lease; it expires on its own");
    }
  }

  #setLeading(leading: boolean): void {
    this.#leading = leading;
    this.#status.set({ name: this.#o.name }, leading ? 1 : 0);
  }
}

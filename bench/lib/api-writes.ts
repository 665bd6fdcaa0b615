/**
 * Splits the API emulator's write counts into the operator's writes per kind
 * of resource it converges: a host's are its status and its credentials
 * Secret's label; an indicator's and a subscription's are their finalizer and
 * status. Events and Leases are counted apart, and the benchmark's own
 * creates are taken out.
 *
 * @module
 */
import type { ApiStats, ResourceWrites } from "../../emulators/kube-apiserver/index.ts";

/** The operator's writes, by what they were for. */
export interface OperatorWrites {
  /** To BareMetalHosts (status) and their credentials Secrets (the watch label). */
  host: number;
  /** To BareMetalHostServiceIndicators (finalizer, status). */
  indicator: number;
  /** To BMCEventSubscriptions (finalizer, status). */
  subscription: number;
  /** Events created or patched. */
  events: number;
  /** Lease writes (leader election). */
  leases: number;
  /** Writes to anything else. */
  other: number;
  /** All of the above. */
  total: number;
}

/** Creates the benchmark made itself, by API resource key, to take out of the counts. */
export type OwnCreates = Partial<Record<string, number>>;

const KEYS = {
  hosts: "metal3.io/baremetalhosts",
  indicators: "metal3.io/baremetalhostserviceindicators",
  subscriptions: "metal3.io/bmceventsubscriptions",
  secrets: "secrets",
  events: "events.k8s.io/events",
  coreEvents: "events",
  leases: "coordination.k8s.io/leases",
} as const;

/** The resource keys of the kinds the benchmark creates. */
export const RESOURCE_KEYS = KEYS;

function sum(writes: ResourceWrites | undefined): number {
  return writes ? writes.create + writes.update + writes.patch + writes.delete + writes.status : 0;
}

/** The operator's writes in `stats`, once the benchmark's own creates are taken out. */
export function operatorWrites(stats: ApiStats, own: OwnCreates = {}): OperatorWrites {
  const of = (key: string) => Math.max(0, sum(stats.byResource[key]) - (own[key] ?? 0));
  const known = new Set<string>(Object.values(KEYS));
  const result = {
    host: of(KEYS.hosts) + of(KEYS.secrets),
    indicator: of(KEYS.indicators),
    subscription: of(KEYS.subscriptions),
    events: of(KEYS.events) + of(KEYS.coreEvents),
    leases: of(KEYS.leases),
    other: Object.keys(stats.byResource)
      .filter((key) => !known.has(key))
      .reduce((total, key) => total + of(key), 0),
    total: 0,
  };
  result.total = result.host + result.indicator + result.subscription + result.events + result.leases + result.other;
  return result;
}

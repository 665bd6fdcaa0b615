/**
 * What the Redfish provisioner keeps of each host between calls: the host's
 * inventory once read, the lights found one by one before it was, and the
 * last reading of each light (the members of its body that say what the
 * light is, and the ETag), so a toggle after a read is one PATCH. Keyed by the address and a hash of the credentials, so a caller with
 * other credentials learns nothing from it; bounded, oldest dropped first.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { HostAccess } from "../provisioner.ts";
import { type HostInventory, type LightLocation, type Reading, readingOf } from "./inventory.ts";
import type { RedfishResponse, RedfishTarget } from "./transport.ts";
import { isObject } from "./redfish-json.ts";
import { SweepTimer } from "../../runtime/sweep-timer.ts";

/** What is kept per host (address and credentials). */
export interface HostCache {
  /** The whole inventory, once read: then it alone says which lights the host has. */
  inventory?: HostInventory;
  /** Lights found one by one from their IDs, before the inventory was read. */
  located: Map<string, LightLocation>;
  readings: Map<string, Reading>;
}

/** The hosts' caches, at most `maxHosts` of them. */
export class LightCache {
  readonly #hosts = new Map<string, HostCache>();
  readonly #maxHosts: number;
  readonly #readingMaxAgeMs: number;
  readonly #sweeps: SweepTimer;

  constructor(maxHosts: number, readingMaxAgeMs: number) {
    this.#maxHosts = maxHosts;
    this.#readingMaxAgeMs = readingMaxAgeMs;
    this.#sweeps = new SweepTimer(readingMaxAgeMs + 1, () => this.sweep(), () => this.readings > 0);
  }

  /** The host's cache, created empty when missing. */
  host(target: RedfishTarget): HostCache {
    const key = hostKey(target);
    let cache = this.#hosts.get(key);
    if (cache === undefined) {
      cache = { located: new Map(), readings: new Map() };
      this.#hosts.set(key, cache);
      trimOldest(this.#hosts, this.#maxHosts);
    }
    this.#sweeps.schedule();
    return cache;
  }

  /** Readings held now, over every host. */
  get readings(): number {
    let count = 0;
    for (const cache of this.#hosts.values()) count += cache.readings.size;
    return count;
  }

  /**
   * Drops the readings too old to PATCH against: after a burst of
   * registrations a thousand hosts' readings would otherwise stay until each
   * host is asked again.
   */
  sweep(): void {
    const oldest = performance.now() - this.#readingMaxAgeMs;
    for (const cache of this.#hosts.values()) {
      for (const [path, reading] of cache.readings) if (reading.at < oldest) cache.readings.delete(path);
    }
  }

  /** Forgets everything about the host: its paths are to be read again. */
  forget(target: RedfishTarget): void {
    this.#hosts.delete(hostKey(target));
  }

  /** A reading recent enough to PATCH against. */
  recent(cache: HostCache, path: string): Reading | undefined {
    const reading = cache.readings.get(path);
    if (reading === undefined || performance.now() - reading.at > this.#readingMaxAgeMs) return undefined;
    return reading;
  }

  /** After a PATCH: keeps the new ETag with the patched body, or forgets the reading when the BMC sent no ETag. */
  remember(cache: HostCache, path: string, response: RedfishResponse, patched: Record<string, unknown>): void {
    if (response.etag === undefined) {
      cache.readings.delete(path);
      return;
    }
    // A 200 may carry the resource, or only a message (iDRAC's @Message.ExtendedInfo, iLO's error
    // envelope, Supermicro's Success object): then the resource is what was read, patched.
    const body = isObject(response.body) && ("@odata.id" in response.body || "Id" in response.body) ? response.body : patched;
    cache.readings.set(path, readingOf(body, response.etag, performance.now()));
  }
}

/** Each target's key, made once: hashing the credentials is the costly part. */
const hostKeys = new WeakMap<RedfishTarget, string>();

/** The key of what is kept for a host: its address and a hash of its credentials. */
function hostKey(target: RedfishTarget): string {
  let key = hostKeys.get(target);
  if (key === undefined) hostKeys.set(target, (key = `${target.address.display} ${credentialsHash(target.host)}`));
  return key;
}

/** A hash of the host's credentials, to key caches without holding the password. */
export function credentialsHash(host: HostAccess): string {
  return createHash("sha256").update(`${host.username}\0${host.password}`).digest("base64url");
}

/** Drops the oldest entries of a map beyond `max`. */
export function trimOldest(map: Map<string, unknown>, max: number): void {
  while (map.size > max) map.delete(map.keys().next().value!);
}

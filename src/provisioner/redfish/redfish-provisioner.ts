/**
 * The `redfish` provisioner: talks to each host's BMC directly over Redfish,
 * with the credentials from the host's Secret, and sends every request through
 * the shared {@link BmcCallLimiter} keyed by the BMC's `host:port`.
 *
 * It sends the fewest requests the protocol allows (see
 * `docs/provisioners.md`). Its three jobs live in their own files: the
 * inventory and the search for one light (`inventory.ts`), reading and
 * switching lights with what is kept of each host (`host-lights.ts`,
 * `light-cache.ts`), and the BMC's event subscriptions
 * (`event-subscriptions.ts`); this file only ties them to the
 * {@link Provisioner} interface.
 *
 * ```ts
 * const provisioner = new RedfishProvisioner({ limiter: new BmcCallLimiter({ perKey: 1 }) });
 * const { provisioningID, indicators } = await provisioner.registerHost(host);
 * await provisioner.setIndicator(host, indicators[0].id, "on");
 * await provisioner.close();
 * ```
 *
 * @module
 */
import type { HostIndicator } from "../../api/baremetalhost.ts";
import { BmcCallLimiter } from "../limiter.ts";
import type {
  HostAccess,
  HostRegistration,
  IndicatorState,
  Provisioner,
  Subscription,
  SubscriptionRequest,
} from "../provisioner.ts";
import { parseRedfishAddress } from "./address.ts";
import { EventSubscriptions } from "./event-subscriptions.ts";
import { HostLights, indicatorsOf } from "./host-lights.ts";
import { LightCache } from "./light-cache.ts";
import { type RedfishTarget, RedfishTransport } from "./transport.ts";

/** Options of {@link RedfishProvisioner}. */
export interface RedfishProvisionerOptions {
  /** The limiter shared with the rest of the process. Default: a new one with one call per BMC. */
  limiter?: BmcCallLimiter;
  /** Milliseconds one request may take. Default 30 000. */
  requestTimeoutMs?: number;
  /**
   * How long a light's last reading (and its ETag) is trusted to PATCH without
   * reading it again, in milliseconds. A stale ETag costs a 412 and one re-read,
   * never a wrong write. Default 30 000.
   */
  readingMaxAgeMs?: number;
  /**
   * `EventTypes` to send with each new subscription, whatever the BMC's
   * EventService advertises. Default: sent only to an EventService that
   * filters by them (see `event-subscriptions.ts`).
   */
  eventTypes?: string[];
  /** Most hosts whose paths are kept. Default 10 000. */
  maxCachedHosts?: number;
}

/** A {@link Provisioner} that talks Redfish to each BMC. */
export class RedfishProvisioner implements Provisioner {
  readonly name = "redfish";
  readonly #transport: RedfishTransport;
  readonly #lights: HostLights;
  /** Each host access's target, made once (the address parsed, the Basic credentials encoded). */
  readonly #targets = new WeakMap<HostAccess, RedfishTarget>();
  readonly #subscriptions: EventSubscriptions;

  constructor(options: RedfishProvisionerOptions = {}) {
    this.#transport = new RedfishTransport({
      limiter: options.limiter ?? new BmcCallLimiter(),
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    });
    const maxCached = options.maxCachedHosts ?? 10_000;
    this.#lights = new HostLights(this.#transport, new LightCache(maxCached, options.readingMaxAgeMs ?? 30_000));
    this.#subscriptions = new EventSubscriptions(this.#transport, options.eventTypes, maxCached);
  }

  async registerHost(host: HostAccess, signal?: AbortSignal): Promise<HostRegistration> {
    const inventory = await this.#lights.discover(this.#target(host), "register host", signal);
    const registration: HostRegistration = { provisioningID: inventory.provisioningID, indicators: indicatorsOf(inventory) };
    if (inventory.unusable.length > 0) registration.unusableLights = [...inventory.unusable];
    return registration;
  }

  async listIndicators(host: HostAccess, signal?: AbortSignal): Promise<HostIndicator[]> {
    return indicatorsOf(await this.#lights.discover(this.#target(host), "list indicators", signal));
  }

  async getIndicator(host: HostAccess, id: string, signal?: AbortSignal): Promise<IndicatorState> {
    return await this.#lights.get(this.#target(host), id, `get indicator ${id}`, signal);
  }

  async setIndicator(host: HostAccess, id: string, state: IndicatorState, signal?: AbortSignal): Promise<void> {
    return await this.#lights.set(this.#target(host), id, state, `set indicator ${id} to ${state}`, signal);
  }

  async listSubscriptions(host: HostAccess, signal?: AbortSignal): Promise<Subscription[]> {
    return await this.#subscriptions.list(this.#target(host), "list subscriptions", signal);
  }

  async createSubscription(host: HostAccess, request: SubscriptionRequest, signal?: AbortSignal): Promise<Subscription> {
    return await this.#subscriptions.create(this.#target(host, Object.values(request.httpHeaders)), request, "create subscription", signal);
  }

  async deleteSubscription(host: HostAccess, id: string, signal?: AbortSignal): Promise<"deleted" | "gone"> {
    return await this.#subscriptions.delete(this.#target(host), id, `delete subscription ${JSON.stringify(id)}`, signal);
  }

  async resumeSubscription(host: HostAccess, id: string, signal?: AbortSignal): Promise<"resumed" | "unsupported" | "gone"> {
    return await this.#subscriptions.resume(this.#target(host), id, `resume subscription ${JSON.stringify(id)}`, signal);
  }

  /** Closes the connections to every BMC. */
  async close(): Promise<void> {
    await this.#transport.close();
  }

  #target(host: HostAccess, extraSecrets: readonly string[] = []): RedfishTarget {
    if (extraSecrets.length > 0) return RedfishTransport.target(host, parseRedfishAddress(host.address), extraSecrets);
    // A host's access is made once per version of the host and its Secret (HostAccessResolver): so is its target.
    let target = this.#targets.get(host);
    if (target === undefined) this.#targets.set(host, (target = RedfishTransport.target(host, parseRedfishAddress(host.address))));
    return target;
  }
}

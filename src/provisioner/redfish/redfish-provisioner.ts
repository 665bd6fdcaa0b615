/**
 * The `redfish` provisioner: talks to each host's BMC directly over Redfish,
 * with the credentials from the host's Secret, and sends every request through
 * the shared {@link BmcCallLimiter} keyed by the BMC's `host:port`.
 *
 * It sends the fewest requests the protocol allows (see
 * `docs/provisioners.md`): it learns a host's resource paths at registration,
 * or on first use of a light from the light's ID (the system at the address,
 * the drive at its normative URI, the chassis through the system's links),
 * reading the whole inventory only when that fails; it learns the BMC's
 * Subscriptions path on the first subscription call, and keeps the last
 * reading of each light, so a light toggle after a read is one PATCH with
 * `If-Match`, and the first toggle after a restart one GET and one PATCH (two
 * GETs for a chassis light). What it keeps is keyed by the address and the
 * credentials, so a caller with other credentials learns nothing from it, and
 * every call still sends at least one authenticated request.
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
import { createHash } from "node:crypto";
import type { HostIndicator } from "../../api/baremetalhost.ts";
import { parseIndicatorId } from "../indicator-id.ts";
import { BmcCallLimiter } from "../limiter.ts";
import {
  type HostAccess,
  type HostRegistration,
  type IndicatorState,
  type Provisioner,
  ProvisionerError,
  type Subscription,
  type SubscriptionRequest,
} from "../provisioner.ts";
import { redactSecrets } from "../redact.ts";
import { parseRedfishAddress } from "./address.ts";
import { type Getter, type HostInventory, type LightLocation, locateLight, type Reading, readInventory } from "./inventory.ts";
import { lightPatch, readLight } from "./light.ts";
import { type RedfishRequest, type RedfishResponse, type RedfishTarget, RedfishTransport } from "./transport.ts";

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
   * `EventTypes` to send with each new subscription, for older BMCs that filter
   * on this deprecated property. Default: none sent, so the BMC sends every event.
   */
  eventTypes?: string[];
  /** Most hosts whose paths are kept. Default 10 000. */
  maxCachedHosts?: number;
}

/** What is kept per host (address and credentials). */
interface HostCache {
  /** The whole inventory, once read: then it alone says which lights the host has. */
  inventory?: HostInventory;
  /** Lights found one by one from their IDs, before the inventory was read. */
  located: Map<string, LightLocation>;
  readings: Map<string, Reading>;
}

/** Answers already read in this call, by path, for the inventory read to reuse instead of asking again. */
type Answers = Map<string, { response: RedfishResponse; at: number }>;

/** What is kept per BMC (origin and credentials). */
interface BmcCache {
  subscriptionsPath?: string;
}

/** A {@link Provisioner} that talks Redfish to each BMC. */
export class RedfishProvisioner implements Provisioner {
  readonly name = "redfish";
  readonly #transport: RedfishTransport;
  readonly #readingMaxAgeMs: number;
  readonly #eventTypes: string[] | undefined;
  readonly #maxCached: number;
  readonly #hosts = new Map<string, HostCache>();
  readonly #bmcs = new Map<string, BmcCache>();

  constructor(options: RedfishProvisionerOptions = {}) {
    this.#transport = new RedfishTransport({
      limiter: options.limiter ?? new BmcCallLimiter(),
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    });
    this.#readingMaxAgeMs = options.readingMaxAgeMs ?? 30_000;
    this.#eventTypes = options.eventTypes;
    this.#maxCached = options.maxCachedHosts ?? 10_000;
  }

  async registerHost(host: HostAccess, signal?: AbortSignal): Promise<HostRegistration> {
    const inventory = await this.#discover(host, "register host", signal);
    return { provisioningID: inventory.provisioningID, indicators: indicatorsOf(inventory) };
  }

  async listIndicators(host: HostAccess, signal?: AbortSignal): Promise<HostIndicator[]> {
    return indicatorsOf(await this.#discover(host, "list indicators", signal));
  }

  async getIndicator(host: HostAccess, id: string, signal?: AbortSignal): Promise<IndicatorState> {
    const operation = `get indicator ${id}`;
    const { target, cache, light, fresh } = await this.#locate(host, id, operation, signal);
    const reading = fresh ?? (await this.#read(target, cache, light, operation, signal));
    return readLight(reading.body);
  }

  async setIndicator(host: HostAccess, id: string, state: IndicatorState, signal?: AbortSignal): Promise<void> {
    const operation = `set indicator ${id} to ${state}`;
    const { target, cache, light, fresh } = await this.#locate(host, id, operation, signal);
    if (!light.indicator.states.includes(state)) {
      throw new ProvisionerError(
        "Rejected",
        `redfish BMC ${target.address.display}: ${operation}: the light can be set to ${light.indicator.states.join(", ")}, not ${JSON.stringify(state)}`,
      );
    }
    let reading = fresh ?? this.#recent(cache, light.path) ?? (await this.#read(target, cache, light, operation, signal));
    for (let attempt = 0; ; attempt++) {
      const patch = lightPatch(reading.body, state);
      if ("refused" in patch) {
        throw new ProvisionerError("Rejected", `redfish BMC ${target.address.display}: ${operation}: ${patch.refused}`);
      }
      const req: RedfishRequest = { method: "PATCH", path: light.path, body: patch.body, operation };
      if (reading.etag !== undefined) req.ifMatch = reading.etag;
      const response = await this.#transport.send(target, req, signal);
      if (response.status >= 200 && response.status < 300) {
        this.#remember(cache, light.path, response, { ...reading.body, ...patch.body });
        return;
      }
      cache.readings.delete(light.path);
      if (response.status === 412 && attempt === 0) {
        // Someone changed the resource since it was read: read it again and retry once.
        reading = await this.#read(target, cache, light, operation, signal);
        continue;
      }
      if (response.status === 412) throw this.#transport.failure(target, req, response, "Transient");
      if (response.status === 404) throw this.#gone(target, host, light, operation);
      throw this.#transport.failure(target, req, response);
    }
  }

  async listSubscriptions(host: HostAccess, signal?: AbortSignal): Promise<Subscription[]> {
    const operation = "list subscriptions";
    const target = this.#target(host);
    const collection = await this.#subscriptionsPath(target, operation, signal);
    const req: RedfishRequest = { method: "GET", path: collection, operation };
    const response = await this.#transport.send(target, req, signal);
    if (response.status !== 200 || !isObject(response.body)) throw this.#transport.failure(target, req, response);
    const subscriptions: Subscription[] = [];
    for (const path of memberPaths(response.body.Members)) {
      const memberReq: RedfishRequest = { method: "GET", path, operation };
      const member = await this.#transport.send(target, memberReq, signal);
      // Deleted between the two reads: it is no longer there to list.
      if (member.status === 404) continue;
      if (member.status !== 200 || !isObject(member.body)) throw this.#transport.failure(target, memberReq, member);
      subscriptions.push({
        id: typeof member.body.Id === "string" ? member.body.Id : lastSegment(path),
        destination: typeof member.body.Destination === "string" ? member.body.Destination : "",
        context: typeof member.body.Context === "string" ? member.body.Context : "",
      });
    }
    return subscriptions;
  }

  async createSubscription(host: HostAccess, request: SubscriptionRequest, signal?: AbortSignal): Promise<Subscription> {
    const operation = "create subscription";
    const target = this.#target(host, Object.values(request.httpHeaders));
    checkDestination(target, request, operation);
    signal?.throwIfAborted();
    const collection = await this.#subscriptionsPath(target, operation, signal);
    const body: Record<string, unknown> = {
      Destination: request.destination,
      Context: request.context,
      Protocol: "Redfish",
    };
    const headers = Object.entries(request.httpHeaders);
    if (headers.length > 0) body.HttpHeaders = headers.map(([name, value]) => ({ [name]: value }));
    if (this.#eventTypes !== undefined) body.EventTypes = this.#eventTypes;
    const req: RedfishRequest = { method: "POST", path: collection, body, operation };
    const response = await this.#transport.send(target, req, signal);
    if (response.status < 200 || response.status >= 300) throw this.#transport.failure(target, req, response);
    const id = createdId(response);
    if (id === undefined) {
      throw new ProvisionerError(
        "Rejected",
        `redfish BMC ${target.address.display}: ${operation}: POST ${collection} returned HTTP ${response.status} ` +
          "with neither a Location header nor an Id, so the new subscription cannot be found",
      );
    }
    return { id, destination: request.destination, context: request.context };
  }

  async deleteSubscription(host: HostAccess, id: string, signal?: AbortSignal): Promise<"deleted" | "gone"> {
    const operation = `delete subscription ${JSON.stringify(id)}`;
    const target = this.#target(host);
    if (id === "" || id === "." || id === "..") {
      throw new ProvisionerError("Rejected", `redfish BMC ${target.address.display}: ${operation}: not a subscription ID`);
    }
    const collection = await this.#subscriptionsPath(target, operation, signal);
    const req: RedfishRequest = { method: "DELETE", path: `${collection}/${encodeURIComponent(id)}`, operation };
    const response = await this.#transport.send(target, req, signal);
    if (response.status === 404) return "gone";
    if (response.status >= 200 && response.status < 300) return "deleted";
    throw this.#transport.failure(target, req, response);
  }

  /** Closes the connections to every BMC. */
  async close(): Promise<void> {
    await this.#transport.close();
  }

  // --- hosts and their lights ---

  #target(host: HostAccess, extraSecrets: readonly string[] = []): RedfishTarget {
    return RedfishTransport.target(host, parseRedfishAddress(host.address), extraSecrets);
  }

  /**
   * Reads the host's inventory afresh and keeps it, with each light's reading.
   * `answered` holds answers this call already got, used once each in place
   * of sending the same GET again.
   */
  async #discover(host: HostAccess, operation: string, signal?: AbortSignal, answered?: Answers): Promise<HostInventory> {
    const target = this.#target(host);
    const cache = this.#hostCache(host, target);
    const readings = new Map<string, Reading>();
    const get = async (path: string, op: string): Promise<RedfishResponse> => {
      const known = answered?.get(path);
      answered?.delete(path);
      const response = known?.response ?? (await this.#transport.send(target, { method: "GET", path, operation: op }, signal));
      if (response.status === 200 && isObject(response.body)) {
        readings.set(path, { body: response.body, etag: response.etag, at: known?.at ?? performance.now() });
      }
      return response;
    };
    try {
      const inventory = await readInventory(this.#transport, target, get, operation);
      const lightPaths = new Set([...inventory.lights.values()].map((l) => l.path));
      cache.inventory = inventory;
      cache.located = new Map();
      cache.readings = new Map([...readings].filter(([path]) => lightPaths.has(path)));
      return inventory;
    } catch (error) {
      if (error instanceof ProvisionerError && error.kind === "HostNotFound") this.#hosts.delete(cacheKey(host, target));
      throw error;
    }
  }

  /**
   * Finds a light. When the host's inventory has not been read, it looks for
   * the light from its ID first ({@link locateLight}), and reads the inventory
   * only when that fails, reusing what the search read; either way `fresh` is
   * then the light's reading from that search.
   */
  async #locate(
    host: HostAccess,
    id: string,
    operation: string,
    signal?: AbortSignal,
  ): Promise<{ target: RedfishTarget; cache: HostCache; light: LightLocation; fresh?: Reading }> {
    const target = this.#target(host);
    if (parseIndicatorId(id) === undefined) {
      throw new ProvisionerError(
        "IndicatorNotFound",
        `redfish BMC ${target.address.display}: ${operation}: ${JSON.stringify(id)} is not an indicator ID ` +
          "(<name>@system, <name>@chassis or <storage>:<drive>@disk)",
      );
    }
    let cache = this.#hostCache(host, target);
    let inventory = cache.inventory;
    const discovered = inventory === undefined;
    if (inventory === undefined) {
      const located = cache.located.get(id);
      if (located !== undefined) return { target, cache, light: located };
      const answered: Answers = new Map();
      const systemPath = target.address.systemPath;
      if (systemPath !== undefined) {
        const get: Getter = async (path, op) => {
          const response = await this.#transport.send(target, { method: "GET", path, operation: op }, signal);
          answered.set(path, { response, at: performance.now() });
          return response;
        };
        const found = await locateLight(this.#transport, target, systemPath, id, get, operation);
        if (found !== undefined) {
          cache = this.#hostCache(host, target);
          for (const light of [found.light, ...found.others]) {
            const answer = answered.get(light.path)!;
            cache.located.set(light.indicator.id, light);
            cache.readings.set(light.path, { body: answer.response.body, etag: answer.response.etag, at: answer.at });
          }
          return { target, cache, light: found.light, fresh: cache.readings.get(found.light.path)! };
        }
      }
      inventory = await this.#discover(host, operation, signal, answered);
      cache = this.#hostCache(host, target);
    }
    const light = inventory.lights.get(id);
    if (light === undefined) {
      const known = [...inventory.lights.keys()];
      throw new ProvisionerError(
        "IndicatorNotFound",
        redactSecrets(
          `redfish BMC ${target.address.display}: ${operation}: indicator ${JSON.stringify(id)} is not one of the host's: ` +
            (known.length === 0 ? "it has none" : known.join(", ")),
          target.secrets,
        ),
      );
    }
    const fresh = discovered ? cache.readings.get(light.path) : undefined;
    return fresh === undefined ? { target, cache, light } : { target, cache, light, fresh };
  }

  /** A reading recent enough to PATCH against. */
  #recent(cache: HostCache, path: string): Reading | undefined {
    const reading = cache.readings.get(path);
    if (reading === undefined || performance.now() - reading.at > this.#readingMaxAgeMs) return undefined;
    return reading;
  }

  /** GETs a light's resource and keeps the reading. */
  async #read(target: RedfishTarget, cache: HostCache, light: LightLocation, operation: string, signal?: AbortSignal): Promise<Reading> {
    const req: RedfishRequest = { method: "GET", path: light.path, operation };
    const response = await this.#transport.send(target, req, signal);
    if (response.status === 404) throw this.#gone(target, target.host, light, operation);
    if (response.status !== 200 || !isObject(response.body)) {
      cache.readings.delete(light.path);
      throw this.#transport.failure(target, req, response);
    }
    const found = identityOf(light, response.body);
    if (found !== undefined) {
      // The path now holds another system, chassis or drive (hardware replaced behind the same address).
      this.#hosts.delete(cacheKey(target.host, target));
      throw new ProvisionerError(
        "IndicatorNotFound",
        `redfish BMC ${target.address.display}: ${operation}: ${light.path} now holds ${found}, not the light's ` +
          "resource; register the host again to list its lights",
      );
    }
    const reading: Reading = { body: response.body, etag: response.etag, at: performance.now() };
    cache.readings.set(light.path, reading);
    return reading;
  }

  /** After a PATCH: keep the new ETag with the patched body, or forget the reading when the BMC sent no ETag. */
  #remember(cache: HostCache, path: string, response: RedfishResponse, patched: Record<string, unknown>): void {
    if (response.etag === undefined) {
      cache.readings.delete(path);
      return;
    }
    const body = isObject(response.body) && Object.keys(response.body).length > 0 ? response.body : patched;
    cache.readings.set(path, { body, etag: response.etag, at: performance.now() });
  }

  /** The error for a light whose resource returned 404: the host's paths are forgotten, to be read again. */
  #gone(target: RedfishTarget, host: HostAccess, light: LightLocation, operation: string): ProvisionerError {
    this.#hosts.delete(cacheKey(host, target));
    // The system's light lives on the system itself.
    if (light.indicator.component === "system") {
      return new ProvisionerError(
        "HostNotFound",
        `redfish BMC ${target.address.display}: ${operation}: the BMC has no system at ${light.path} (HTTP 404)`,
      );
    }
    return new ProvisionerError(
      "IndicatorNotFound",
      `redfish BMC ${target.address.display}: ${operation}: the light's resource ${light.path} is gone (HTTP 404)`,
    );
  }

  #hostCache(host: HostAccess, target: RedfishTarget): HostCache {
    const key = cacheKey(host, target);
    let cache = this.#hosts.get(key);
    if (cache === undefined) {
      cache = { located: new Map(), readings: new Map() };
      this.#hosts.set(key, cache);
      trim(this.#hosts, this.#maxCached);
    }
    return cache;
  }

  // --- the BMC's EventService ---

  /** The Subscriptions collection's path: the service root's EventService link, then its Subscriptions link. */
  async #subscriptionsPath(target: RedfishTarget, operation: string, signal?: AbortSignal): Promise<string> {
    const key = `${target.address.origin} ${credentialsHash(target.host)}`;
    const known = this.#bmcs.get(key)?.subscriptionsPath;
    if (known !== undefined) return known;
    const root = await this.#getObject(target, "/redfish/v1/", operation, signal);
    const eventService = linkOf(root.EventService);
    if (eventService === undefined) {
      throw new ProvisionerError("Rejected", `redfish BMC ${target.address.display}: ${operation}: the BMC has no EventService`);
    }
    const service = await this.#getObject(target, eventService, operation, signal);
    const subscriptions = linkOf(service.Subscriptions);
    if (subscriptions === undefined) {
      throw new ProvisionerError(
        "Rejected",
        `redfish BMC ${target.address.display}: ${operation}: the EventService at ${eventService} has no Subscriptions collection`,
      );
    }
    const path = subscriptions.replace(/\/+$/, "");
    this.#bmcs.set(key, { subscriptionsPath: path });
    trim(this.#bmcs, this.#maxCached);
    return path;
  }

  async #getObject(target: RedfishTarget, path: string, operation: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const req: RedfishRequest = { method: "GET", path, operation };
    const response = await this.#transport.send(target, req, signal);
    if (response.status !== 200 || !isObject(response.body)) throw this.#transport.failure(target, req, response);
    return response.body;
  }
}

/**
 * `undefined` when the resource is still the one the light belongs to (the
 * system's or chassis's UUID, the drive's Id); else what it is now.
 */
function identityOf(light: LightLocation, body: Record<string, unknown>): string | undefined {
  const { indicator } = light;
  const expected = indicator.component === "disk" ? indicator.drive?.id : parseIndicatorId(indicator.id)?.name;
  const actual = indicator.component === "disk" ? body.Id : body.UUID;
  if (expected === undefined || actual === expected) return undefined;
  return `${indicator.component === "disk" ? "drive" : indicator.component} ${JSON.stringify(actual ?? null)}`;
}

function indicatorsOf(inventory: HostInventory): HostIndicator[] {
  return [...inventory.lights.values()].map((l) => structuredClone(l.indicator));
}

/** The key of what is kept for a host: its address and a hash of its credentials. */
function cacheKey(host: HostAccess, target: RedfishTarget): string {
  return `${target.address.display} ${credentialsHash(host)}`;
}

function credentialsHash(host: HostAccess): string {
  return createHash("sha256").update(`${host.username}\0${host.password}`).digest("base64url");
}

/** Drops the oldest entries of a map beyond `max`. */
function trim(map: Map<string, unknown>, max: number): void {
  while (map.size > max) map.delete(map.keys().next().value!);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function linkOf(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const id = value["@odata.id"];
  return typeof id === "string" && id.startsWith("/") ? id : undefined;
}

function memberPaths(value: unknown): string[] {
  return Array.isArray(value) ? value.map(linkOf).filter((p): p is string => p !== undefined) : [];
}

function lastSegment(path: string): string {
  const segments = path.replace(/\/+$/, "").split("/");
  return decodeURIComponent(segments.at(-1) ?? "");
}

/** The new subscription's ID: the body's `Id`, else the last segment of `Location` or of the body's `@odata.id`. */
function createdId(response: RedfishResponse): string | undefined {
  if (isObject(response.body) && typeof response.body.Id === "string" && response.body.Id !== "") return response.body.Id;
  if (response.location !== undefined) {
    const path = new URL(response.location, "http://bmc.invalid").pathname;
    const id = lastSegment(path);
    if (id !== "") return id;
  }
  const odataId = isObject(response.body) ? linkOf(response.body) : undefined;
  return odataId === undefined ? undefined : lastSegment(odataId) || undefined;
}

/** Refuses a destination a BMC could not POST Redfish events to, without a BMC call. */
function checkDestination(target: RedfishTarget, request: SubscriptionRequest, operation: string): void {
  let url: URL | undefined;
  try {
    url = new URL(request.destination);
  } catch {
    url = undefined;
  }
  if (url !== undefined && (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "") return;
  throw new ProvisionerError(
    "Rejected",
    redactSecrets(
      `redfish BMC ${target.address.display}: ${operation}: destination ${JSON.stringify(request.destination)} ` +
        "is not an http or https URL, so the BMC could not deliver events to it",
      target.secrets,
    ),
  );
}

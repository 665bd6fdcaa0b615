/**
 * A host's indicator lights over Redfish, with the fewest requests the
 * protocol allows: the inventory read at registration (each path once), or on
 * first use of a light a search from its ID ({@link locateLight}) that reads
 * the inventory only when it fails, reusing what it read; the last reading of
 * each light kept ({@link LightCache}), so a toggle after a read is one PATCH
 * with `If-Match`.
 *
 * @module
 */
import type { HostIndicator } from "../../api/baremetalhost.ts";
import { parseIndicatorId } from "../indicator-id.ts";
import { type IndicatorState, ProvisionerError } from "../provisioner.ts";
import { redactSecrets } from "../redact.ts";
import {
  chassisLightId,
  type Getter,
  type HostInventory,
  type LightLocation,
  locateLight,
  type Reading,
  readingOf,
  readInventory,
  systemLightId,
} from "./inventory.ts";
import type { HostCache, LightCache } from "./light-cache.ts";
import { lightPatch, readLight } from "./light.ts";
import { isObject } from "./redfish-json.ts";
import { redfishErrorText, type RedfishRequest, type RedfishResponse, type RedfishTarget, type RedfishTransport } from "./transport.ts";

/** Answers already read in this call, by path, for the inventory read to reuse instead of asking again. */
type Answers = Map<string, { response: RedfishResponse; at: number }>;

/** Reads and switches hosts' lights. */
export class HostLights {
  readonly #transport: RedfishTransport;
  readonly #cache: LightCache;

  constructor(transport: RedfishTransport, cache: LightCache) {
    this.#transport = transport;
    this.#cache = cache;
  }

  /** The host's inventory, read afresh. */
  discover(target: RedfishTarget, operation: string, signal?: AbortSignal): Promise<HostInventory> {
    return this.#discover(target, operation, signal);
  }

  async get(target: RedfishTarget, id: string, operation: string, signal?: AbortSignal): Promise<IndicatorState> {
    const { cache, light, fresh } = await this.#locate(target, id, operation, signal);
    const reading = fresh ?? (await this.#read(target, cache, light, operation, signal));
    return readLight(reading.body);
  }

  async set(target: RedfishTarget, id: string, state: IndicatorState, operation: string, signal?: AbortSignal): Promise<void> {
    const { cache, light, fresh } = await this.#locate(target, id, operation, signal);
    if (!light.indicator.states.includes(state)) {
      throw new ProvisionerError(
        "Rejected",
        `redfish BMC ${target.address.display}: ${operation}: the light can be set to ${light.indicator.states.join(", ")}, not ${JSON.stringify(state)}`,
      );
    }
    let path = light.writeAt ?? light.path;
    const usable = path === light.path ? fresh : undefined;
    let reading = usable ?? this.#cache.recent(cache, path) ?? (await this.#read(target, cache, light, operation, signal, path));
    let reread = false;
    for (;;) {
      const patch = lightPatch(reading.body, state);
      if ("refused" in patch) {
        throw new ProvisionerError("Rejected", `redfish BMC ${target.address.display}: ${operation}: ${patch.refused}`);
      }
      const req: RedfishRequest = { method: "PATCH", path, body: patch.body, operation };
      if (reading.etag !== undefined) req.ifMatch = reading.etag;
      const response = await this.#transport.send(target, req, signal);
      if (response.status >= 200 && response.status < 300) {
        this.#cache.remember(cache, path, response, { ...reading.body, ...patch.body });
        return;
      }
      cache.readings.delete(path);
      const systemPath = cache.inventory?.systemPath ?? target.address.systemPath;
      if (light.writeAt === undefined && light.indicator.component === "chassis" && systemPath !== undefined && notWritable(response)) {
        // The chassis shows the system's light and takes its writes only on the System: write there, from now on.
        light.writeAt = systemPath;
        path = systemPath;
        reading = await this.#read(target, cache, light, operation, signal, path);
        continue;
      }
      if (response.status === 412 && !reread) {
        // Someone changed the resource since it was read: read it again and retry once.
        reread = true;
        reading = await this.#read(target, cache, light, operation, signal, path);
        continue;
      }
      if (response.status === 412) throw this.#transport.failure(target, req, response, "Transient");
      if (response.status === 404) throw this.#gone(target, light, operation);
      throw this.#transport.failure(target, req, response);
    }
  }

  /**
   * Reads the host's inventory afresh and keeps it, with each light's reading.
   * `answered` holds answers this call already got, used once each in place
   * of sending the same GET again.
   */
  async #discover(target: RedfishTarget, operation: string, signal?: AbortSignal, answered?: Answers): Promise<HostInventory> {
    const cache = this.#cache.host(target);
    const readings = new Map<string, Reading>();
    const get: Getter = async (path, op) => {
      const known = answered?.get(path);
      answered?.delete(path);
      const response = known?.response ?? (await this.#transport.send(target, { method: "GET", path, operation: op }, signal));
      if (response.status === 200 && isObject(response.body)) {
        readings.set(path, readingOf(response.body, response.etag, known?.at ?? performance.now()));
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
      if (error instanceof ProvisionerError && error.kind === "HostNotFound") this.#cache.forget(target);
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
    target: RedfishTarget,
    id: string,
    operation: string,
    signal?: AbortSignal,
  ): Promise<{ cache: HostCache; light: LightLocation; fresh?: Reading }> {
    if (parseIndicatorId(id) === undefined) {
      throw new ProvisionerError(
        "IndicatorNotFound",
        `redfish BMC ${target.address.display}: ${operation}: ${JSON.stringify(id)} is not an indicator ID ` +
          "(<name>@system, <name>@chassis or <storage>:<drive>@disk)",
      );
    }
    let cache = this.#cache.host(target);
    let inventory = cache.inventory;
    const discovered = inventory === undefined;
    if (inventory === undefined) {
      const located = cache.located.get(id);
      if (located !== undefined) return { cache, light: located };
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
          cache = this.#cache.host(target);
          for (const light of [found.light, ...found.others]) {
            const answer = answered.get(light.path)!;
            cache.located.set(light.indicator.id, light);
            cache.readings.set(light.path, readingOf(answer.response.body, answer.response.etag, answer.at));
          }
          return { cache, light: found.light, fresh: cache.readings.get(found.light.path)! };
        }
      }
      inventory = await this.#discover(target, operation, signal, answered);
      cache = this.#cache.host(target);
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
    return fresh === undefined ? { cache, light } : { cache, light, fresh };
  }

  /**
   * GETs a light's resource (or `path`, where its writes go) and keeps the
   * reading; the light's own resource is checked to still be the light's.
   */
  async #read(
    target: RedfishTarget,
    cache: HostCache,
    light: LightLocation,
    operation: string,
    signal?: AbortSignal,
    path = light.path,
  ): Promise<Reading> {
    const req: RedfishRequest = { method: "GET", path, operation };
    const response = await this.#transport.send(target, req, signal);
    if (response.status === 404) throw this.#gone(target, light, operation);
    if (response.status !== 200 || !isObject(response.body)) {
      cache.readings.delete(path);
      throw this.#transport.failure(target, req, response);
    }
    const found = path === light.path ? identityOf(light, response.body) : undefined;
    if (found !== undefined) {
      // The path now holds another system, chassis or drive (hardware replaced behind the same address).
      this.#cache.forget(target);
      throw new ProvisionerError(
        "IndicatorNotFound",
        `redfish BMC ${target.address.display}: ${operation}: ${light.path} now holds ${found}, not the light's ` +
          "resource; register the host again to list its lights",
      );
    }
    const reading = readingOf(response.body, response.etag, performance.now());
    cache.readings.set(path, reading);
    return reading;
  }

  /** The error for a light whose resource returned 404: the host's paths are forgotten, to be read again. */
  #gone(target: RedfishTarget, light: LightLocation, operation: string): ProvisionerError {
    this.#cache.forget(target);
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
}

/** A 4xx answer refusing the write because the property cannot be written there (`PropertyNotWritable`). */
function notWritable(response: RedfishResponse): boolean {
  return response.status >= 400 && response.status < 500 && /PropertyNotWritable/.test(redfishErrorText(response.body));
}

/** The host's lights as the BareMetalHost lists them. */
export function indicatorsOf(inventory: HostInventory): HostIndicator[] {
  return [...inventory.lights.values()].map((l) => structuredClone(l.indicator));
}

/**
 * `undefined` when the resource is still the one the light belongs to (the
 * light ID its system or chassis gives now, the drive's Id); else what it is now.
 */
function identityOf(light: LightLocation, body: Record<string, unknown>): string | undefined {
  const { indicator } = light;
  if (indicator.component === "disk") {
    if (indicator.drive?.id === undefined || body.Id === indicator.drive.id) return undefined;
    return `drive ${JSON.stringify(body.Id ?? null)}`;
  }
  const now = indicator.component === "system" ? systemLightId(body) : chassisLightId(body);
  if (now === indicator.id) return undefined;
  return `${indicator.component} ${JSON.stringify(parseIndicatorId(now ?? "")?.name ?? null)}`;
}

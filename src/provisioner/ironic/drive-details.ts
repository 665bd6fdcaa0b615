/**
 * The drive behind each disk light Ironic lists. Ironic names a disk light
 * `<storage ID>:<drive ID>@disk` and says nothing more of the drive, yet a
 * failed disk must be matched to its light by its name, model or serial
 * number. So the provisioner reads each Drive resource itself, once, from the
 * BMC at the address and with the credentials the host already gives Ironic:
 *
 * - one GET of the drive at its normative URI
 *   (`<system>/Storage/<storage>/Drives/<drive>`, Redfish 2019.1), accepted
 *   only when its `Id` is the light's drive ID (as the direct Redfish path
 *   finds a light, {@link locateLight});
 * - where that fails for any light, or the address names no system, one walk
 *   of the system's inventory as Ironic's own driver reads it (System, each
 *   Chassis, the Storage collection, each Storage and each Drive:
 *   {@link readInventory}) for all of them.
 *
 * What was read is kept per BMC system and light, so later registrations and
 * listings cost no BMC request. Reading is best effort: when the BMC cannot be
 * reached from the operator or refuses the read, the lights keep what Ironic
 * says (storage and drive ID), and the next registration tries again.
 *
 * Callers hold the host's slot in the provisioner's limiter, so these reads
 * never overlap a call through Ironic to the same BMC.
 *
 * @module
 */
import type { HostIndicator } from "../../api/baremetalhost.ts";
import type { IndicatorDrive } from "../indicator-id.ts";
import { BmcCallLimiter } from "../limiter.ts";
import type { HostAccess } from "../provisioner.ts";
import { parseRedfishAddress } from "../redfish/address.ts";
import { type Getter, locateLight, readInventory } from "../redfish/inventory.ts";
import { type RedfishResponse, type RedfishTarget, RedfishTransport } from "../redfish/transport.ts";

/** Options of {@link DriveDetails}. */
export interface DriveDetailsOptions {
  /** Milliseconds one request to a BMC may take. Default 10 000. */
  requestTimeoutMs?: number;
  /** Most lights remembered; the oldest are forgotten beyond this. Default 100 000. */
  maxEntries?: number;
}

/** Reads and remembers the drive behind each disk light. */
export class DriveDetails {
  readonly #transport: RedfishTransport;
  readonly #maxEntries: number;
  /** `<BMC key> <system path> <indicator ID>` → the drive. */
  readonly #known = new Map<string, IndicatorDrive>();

  constructor(options: DriveDetailsOptions = {}) {
    // A limiter of its own: the caller already holds the host's slot in the shared one.
    this.#transport = new RedfishTransport({
      limiter: new BmcCallLimiter({ perKey: 1 }),
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    });
    this.#maxEntries = options.maxEntries ?? 100_000;
  }

  /**
   * The lights with each disk light's `drive` completed from its Drive
   * resource (name, model, serial number), as far as the BMC tells them.
   * Never throws for the BMC: a light whose drive cannot be read is returned
   * as it was.
   */
  async complete(host: HostAccess, indicators: HostIndicator[], signal?: AbortSignal): Promise<HostIndicator[]> {
    const disks = indicators.filter((i) => i.component === "disk");
    if (disks.length === 0) return indicators;
    let target: RedfishTarget;
    try {
      target = RedfishTransport.target(host, parseRedfishAddress(host.address));
    } catch {
      return indicators; // an address the direct path cannot use: keep what Ironic says
    }
    const prefix = `${target.address.key} ${target.address.systemPath ?? ""} `;
    const missing = disks.filter((d) => !this.#known.has(prefix + d.id));
    if (missing.length > 0) {
      try {
        await this.#read(target, prefix, missing, signal);
      } catch (error) {
        if (signal?.aborted && error === signal.reason) throw error;
        // best effort: the lights keep what Ironic says, and the next call tries again
      }
    }
    return indicators.map((indicator) => {
      const drive = indicator.component === "disk" ? this.#known.get(prefix + indicator.id) : undefined;
      return drive === undefined ? indicator : { ...indicator, drive: { ...drive } };
    });
  }

  /** Forgets every drive and closes the connections to the BMCs. */
  async close(): Promise<void> {
    this.#known.clear();
    await this.#transport.close();
  }

  async #read(target: RedfishTarget, prefix: string, lights: HostIndicator[], signal?: AbortSignal): Promise<void> {
    const operation = "read drive details";
    const answers = new Map<string, RedfishResponse>();
    const get: Getter = async (path, op) => {
      const known = answers.get(path);
      if (known !== undefined) return known;
      const response = await this.#transport.send(target, { method: "GET", path, operation: op }, signal);
      answers.set(path, response);
      return response;
    };
    const systemPath = target.address.systemPath;
    let unlocated = systemPath === undefined;
    if (systemPath !== undefined) {
      for (const light of lights) {
        const found = await locateLight(this.#transport, target, systemPath, light.id, get, operation);
        const drive = found?.light.indicator.drive;
        if (drive === undefined) unlocated = true;
        else this.#remember(prefix + light.id, drive);
      }
    }
    if (!unlocated) return;
    // Reuses the answers above: a drive read at its normative URI is not read twice.
    const inventory = await readInventory(this.#transport, target, get, operation);
    for (const light of lights) {
      const drive = inventory.lights.get(light.id)?.indicator.drive;
      if (drive !== undefined) this.#remember(prefix + light.id, drive);
    }
  }

  #remember(key: string, drive: IndicatorDrive): void {
    this.#known.delete(key);
    this.#known.set(key, drive);
    while (this.#known.size > this.#maxEntries) this.#known.delete(this.#known.keys().next().value!);
  }
}

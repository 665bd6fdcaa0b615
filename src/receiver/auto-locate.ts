/**
 * Auto-locate: when a host (or its namespace) opts in, a drive-failure event
 * lights that drive's light by creating a BareMetalHostServiceIndicator named
 * after the drive and labelled as the receiver's. The indicator controller
 * then switches the light as for any other indicator, and deleting the
 * resource turns it off. One resource per drive failure: repeats of the event
 * (BMC retries, storms) create nothing more; an event that clears the
 * failure lets a later failure light it again.
 *
 * @module
 */
import type { BareMetalHost, HostIndicator } from "../api/baremetalhost.ts";
import type { BareMetalHostServiceIndicator } from "../api/baremetalhost-service-indicator.ts";
import { SERVICE_INDICATORS } from "../controllers/resources.ts";
import { isAlreadyExists, isNotFound, type KubeClient, type KubeObject, type Logger, NAMESPACES } from "../runtime/index.ts";
import { type BmcEventRecord, messageKey } from "./redfish-event.ts";

/** Annotation of a BareMetalHost or its Namespace: `"true"` turns auto-locate on. */
export const AUTO_LOCATE_ANNOTATION = "bmc-operator.metal3.io/auto-locate";
/** Label of the indicators the receiver creates. */
export const CREATED_BY_LABEL = "bmc-operator.metal3.io/created-by";
/** Its value. */
export const CREATED_BY_RECEIVER = "event-receiver";

/** Message keys that report a failed (or failing) drive. */
const FAILURE_KEYS = new Set(["DriveFailure", "DriveFailed", "DrivePredictiveFailure", "DriveOffline", "DriveMissing"]);
/** Message keys that report the failure gone. */
const CLEARED_KEYS = new Set(["DriveFailureCleared", "DriveOK", "DriveInserted", "DrivePredictiveFailureCleared"]);

/** The name of the indicator for a drive's light: the host and the drive's ID, as a DNS subdomain. */
export function autoLocateName(hostName: string, light: HostIndicator): string {
  const drive = (light.drive?.id ?? light.id.split("@")[0] ?? "drive").toLowerCase();
  // Dots would be allowed, but a name like worker-0-disk-bay-0 reads as one word in kubectl's output.
  const name = `${hostName.toLowerCase()}-${drive}`.replace(/[^a-z0-9-]+/g, "-").replace(/-+/g, "-").replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  return name.slice(0, 253).replace(/[^a-z0-9]+$/, "");
}

/** Whether the event reports a failed drive (by its message, or a Critical event from a drive). */
export function isDriveFailure(event: BmcEventRecord): boolean {
  const key = messageKey(event.messageId);
  return FAILURE_KEYS.has(key) || (!CLEARED_KEYS.has(key) && event.severity === "Critical");
}

/** Whether the event reports a drive's failure gone. */
export function isDriveFailureCleared(event: BmcEventRecord): boolean {
  return CLEARED_KEYS.has(messageKey(event.messageId));
}

/** Creates the indicators of failed drives for hosts that opted in. */
export class AutoLocator {
  readonly #client: KubeClient;
  readonly #log: Logger;
  readonly #onCreated: (namespace: string) => void;
  /** Drives (host UID and light ID) whose failure was handled; repeats do nothing. */
  readonly #handled = new Set<string>();
  /** Namespace opt-ins, read with a GET at most once per `namespaceCacheMs`. */
  readonly #namespaces = new Map<string, { optedIn: boolean; at: number }>();
  readonly #namespaceCacheMs: number;

  constructor(options: { client: KubeClient; logger: Logger; onCreated?: (namespace: string) => void; namespaceCacheMs?: number }) {
    this.#client = options.client;
    this.#log = options.logger;
    this.#onCreated = options.onCreated ?? (() => {});
    this.#namespaceCacheMs = options.namespaceCacheMs ?? 30_000;
  }

  /** Handles one event of `host` from the drive behind `light`. Never throws (failures are logged). */
  async handle(host: BareMetalHost, event: BmcEventRecord, light: HostIndicator): Promise<void> {
    const key = `${host.metadata?.uid ?? ""}/${light.id}`;
    if (isDriveFailureCleared(event)) {
      this.#handled.delete(key);
      return;
    }
    if (!isDriveFailure(event) || this.#handled.has(key)) return;
    this.#handled.add(key);
    try {
      if (!(await this.optedIn(host))) {
        this.#handled.delete(key);
        return;
      }
      const namespace = host.metadata?.namespace ?? "";
      const hostName = host.metadata?.name ?? "";
      const name = autoLocateName(hostName, light);
      const indicator: BareMetalHostServiceIndicator = {
        apiVersion: "metal3.io/v1alpha1",
        kind: "BareMetalHostServiceIndicator",
        metadata: {
          name,
          namespace,
          labels: { [CREATED_BY_LABEL]: CREATED_BY_RECEIVER },
          annotations: { "bmc-operator.metal3.io/lit-for": `${event.messageId}${event.eventId ? ` (event ${event.eventId})` : ""}` },
        },
        spec: { hostRef: { name: hostName }, id: light.id, on: true },
      };
      await this.#client.create(SERVICE_INDICATORS, indicator);
      this.#onCreated(namespace);
      this.#log.info({ host: `${namespace}/${hostName}`, indicator: name, light: light.id }, "lit the light of a failed drive");
    } catch (error) {
      if (isAlreadyExists(error)) return;
      this.#handled.delete(key);
      this.#log.warn({ err: error, host: `${host.metadata?.namespace}/${host.metadata?.name}`, light: light.id }, "could not light the light of a failed drive");
    }
  }

  /** Whether the host, or else its namespace, carries the annotation `"true"`. */
  async optedIn(host: BareMetalHost): Promise<boolean> {
    const own = host.metadata?.annotations?.[AUTO_LOCATE_ANNOTATION];
    if (own !== undefined) return own === "true";
    const namespace = host.metadata?.namespace ?? "";
    const cached = this.#namespaces.get(namespace);
    if (cached && Date.now() - cached.at < this.#namespaceCacheMs) return cached.optedIn;
    let object: KubeObject | undefined;
    try {
      object = await this.#client.get(NAMESPACES, { name: namespace });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const optedIn = object?.metadata?.annotations?.[AUTO_LOCATE_ANNOTATION] === "true";
    this.#namespaces.set(namespace, { optedIn, at: Date.now() });
    return optedIn;
  }
}

/**
 * The Kubernetes objects of a benchmark fleet: for host `i` (on BMC `i`), its
 * credentials Secret, its BareMetalHost, its BareMetalHostServiceIndicators
 * and its BMCEventSubscriptions, and a way to create many of them at once
 * with a bounded number of requests in flight.
 *
 * @module
 */
import type { BareMetalHost } from "../../src/api/baremetalhost.ts";
import type { BareMetalHostServiceIndicator } from "../../src/api/baremetalhost-service-indicator.ts";
import type { BMCEventSubscription } from "../../src/api/bmc-event-subscription.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { type KubeClient, type KubeObject, type Resource, SECRETS, type Secret } from "../../src/runtime/index.ts";
import type { EmulatedBmcInfo } from "../../emulators/redfish-bmc/index.ts";

/** The name of host `index`: `host-0007`. */
export function hostName(index: number): string {
  return `host-${String(index).padStart(4, "0")}`;
}

/** The credentials Secret of a host, without the operator's watch label (the operator adds it, as in Metal3). */
export function credentialsSecret(namespace: string, index: number, bmc: EmulatedBmcInfo): Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: `${hostName(index)}-bmc`, namespace },
    type: "Opaque",
    stringData: { username: bmc.username, password: bmc.password },
  };
}

/** The BareMetalHost of BMC `bmc`, reached over plain-HTTP Redfish at its system's path. */
export function bareMetalHost(namespace: string, index: number, bmc: EmulatedBmcInfo): BareMetalHost {
  return {
    apiVersion: "metal3.io/v1alpha1",
    kind: "BareMetalHost",
    metadata: { name: hostName(index), namespace },
    spec: {
      online: true,
      bmc: { address: `redfish+http://${new URL(bmc.url).host}${bmc.systemPath}`, credentialsName: `${hostName(index)}-bmc` },
    },
  };
}

/** The Ironic-style IDs of a BMC's lights: system, chassis, then each drive. */
export function lightIds(bmc: EmulatedBmcInfo): string[] {
  return [`${bmc.systemUUID}@system`, `${bmc.chassisUUID}@chassis`, ...bmc.drives.map((d) => `${d.storageId}:${d.driveId}@disk`)];
}

/** The emulator's name of the light with Ironic ID `id` (`system`, `chassis`, `<storage>:<drive>`). */
export function emulatorLightName(id: string): string {
  if (id.endsWith("@system")) return "system";
  if (id.endsWith("@chassis")) return "chassis";
  return id.replace(/@disk$/, "");
}

/** An indicator that asks for light `id` of host `index` to be on. */
export function serviceIndicator(namespace: string, index: number, id: string, name: string): BareMetalHostServiceIndicator {
  return {
    apiVersion: "metal3.io/v1alpha1",
    kind: "BareMetalHostServiceIndicator",
    metadata: { name, namespace },
    spec: { hostRef: { name: hostName(index) }, id, on: true },
  };
}

/** A subscription of host `index`'s BMC events, delivered to `destination`. */
export function eventSubscription(namespace: string, index: number, name: string, destination: string): BMCEventSubscription {
  return {
    apiVersion: "metal3.io/v1alpha1",
    kind: "BMCEventSubscription",
    metadata: { name, namespace },
    spec: { hostName: hostName(index), destination, context: name },
  };
}

/** An object to create and the resource it belongs to. */
export interface PendingObject {
  resource: Resource<KubeObject>;
  object: KubeObject;
}

/** What to create per host. */
export interface HostShape {
  /** Indicators per host (its first lights, each `on: true`), 0 to the number of lights. */
  indicators: number;
  /** Subscriptions per host. */
  subscriptions: number;
}

/** The host, its indicators and subscriptions, for hosts `0 … count-1`, host by host. */
export function fleetObjects(
  namespace: string,
  bmcs: readonly EmulatedBmcInfo[],
  count: number,
  shape: HostShape,
  destination: string,
  options: { hosts?: boolean } = {},
): PendingObject[] {
  if (count > bmcs.length) throw new RangeError(`${count} hosts need ${count} BMCs; the fleet has ${bmcs.length}`);
  const objects: PendingObject[] = [];
  for (let i = 0; i < count; i++) {
    const bmc = bmcs[i]!;
    if (options.hosts !== false) objects.push({ resource: BARE_METAL_HOSTS, object: bareMetalHost(namespace, i, bmc) });
    const ids = lightIds(bmc);
    if (shape.indicators > ids.length) throw new RangeError(`host ${i} has ${ids.length} lights, not ${shape.indicators}`);
    for (let k = 0; k < shape.indicators; k++) {
      objects.push({
        resource: SERVICE_INDICATORS,
        object: serviceIndicator(namespace, i, ids[k]!, `${hostName(i)}-light-${k}`),
      });
    }
    for (let k = 0; k < shape.subscriptions; k++) {
      const name = `${hostName(i)}-events-${k}`;
      objects.push({
        resource: BMC_EVENT_SUBSCRIPTIONS,
        object: eventSubscription(namespace, i, name, `${destination}/${namespace}/${name}`),
      });
    }
  }
  return objects;
}

/** The credentials Secrets of hosts `0 … count-1`. */
export function secretObjects(namespace: string, bmcs: readonly EmulatedBmcInfo[], count: number): PendingObject[] {
  return bmcs.slice(0, count).map((bmc, i) => ({ resource: SECRETS, object: credentialsSecret(namespace, i, bmc) }));
}

/** Creates every object, in order, with at most `inFlight` requests at once; resolves when all are created. */
export async function createAll(client: KubeClient, objects: readonly PendingObject[], inFlight = 16): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      const { resource, object } = objects[next++]!;
      await client.create(resource, object);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, objects.length) }, worker));
}

/**
 * The origin of an event, in words a technician can act on: for a drive, its
 * name, model and serial number from the host's light list (the same list
 * that names the drive's light), so the Event says which disk to pull.
 *
 * @module
 */
import type { HostIndicator } from "../api/baremetalhost.ts";

/** The storage and drive IDs of a Redfish drive path (`…/Storage/<s>/Drives/<d>`, or a chassis' `…/Drives/<d>`). */
export function driveOfPath(origin: string): { storage?: string; id: string } | undefined {
  const path = origin.replace(/\/+$/, "");
  const storage = /\/Storage\/([^/]+)\/Drives\/([^/]+)$/.exec(path);
  if (storage) return { storage: decodeURIComponent(storage[1]!), id: decodeURIComponent(storage[2]!) };
  const chassis = /\/Drives\/([^/]+)$/.exec(path);
  return chassis ? { id: decodeURIComponent(chassis[1]!) } : undefined;
}

/** The light (with its drive) of the drive an event comes from, if the host lists one. */
export function driveLightOf(origin: string | undefined, lights: readonly HostIndicator[] | undefined): HostIndicator | undefined {
  if (!origin || !lights) return undefined;
  const drive = driveOfPath(origin);
  if (!drive) return undefined;
  return lights.find(
    (light) => light.drive?.id === drive.id && (drive.storage === undefined || light.drive.storage === undefined || light.drive.storage === drive.storage),
  );
}

/** How an Event's note names the origin: the drive's details when known, else the resource path. */
export function describeOrigin(origin: string | undefined, light: HostIndicator | undefined): string {
  const drive = light?.drive;
  if (drive) {
    const parts = [`drive ${JSON.stringify(drive.name ?? drive.id ?? "")}`];
    if (drive.model) parts.push(`model ${drive.model}`);
    if (drive.serialNumber) parts.push(`serial ${drive.serialNumber}`);
    parts.push(`light ${light.id}`);
    return parts.join(", ");
  }
  return origin ? `origin ${origin}` : "origin not given";
}

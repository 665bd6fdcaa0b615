/**
 * Reading a host's inventory from its BMC the way Ironic's redfish driver
 * does: the ComputerSystem (from the address, or the Systems collection's only
 * member), each Chassis in its `Links.Chassis`, and each Drive of each Storage
 * in its `Storage` collection. Every resource with a light becomes an
 * indicator with Ironic's ID; the resource paths and their last reading are
 * kept, so later calls go straight to the right resource.
 *
 * @module
 */
import type { HostIndicator } from "../../api/baremetalhost.ts";
import type { IndicatorComponent } from "../../api/baremetalhost-service-indicator.ts";
import { chassisIndicatorId, diskIndicatorId, type IndicatorDrive, systemIndicatorId } from "../indicator-id.ts";
import { ProvisionerError } from "../provisioner.ts";
import { lightProperties, switchableStates } from "./light.ts";
import type { RedfishResponse, RedfishTarget, RedfishTransport } from "./transport.ts";

/** A resource as last read: its body and ETag, and when. */
export interface Reading {
  body: Record<string, unknown>;
  etag: string | undefined;
  /** `performance.now()` when it was read. */
  at: number;
}

/** Where a light lives on the BMC. */
export interface LightLocation {
  indicator: HostIndicator;
  /** The resource path of the System, Chassis or Drive. */
  path: string;
}

/** What the provisioner knows of one host's BMC. */
export interface HostInventory {
  systemPath: string;
  provisioningID: string;
  /** Lights by indicator ID, in listing order. */
  lights: Map<string, LightLocation>;
}

/** How {@link readInventory} sends a GET, remembering what it read. */
export type Getter = (path: string, operation: string) => Promise<RedfishResponse>;

/** Reads the host's inventory: one GET per System, Chassis, Storage collection, Storage and Drive. */
export async function readInventory(
  transport: RedfishTransport,
  target: RedfishTarget,
  get: Getter,
  operation: string,
): Promise<HostInventory> {
  const systemPath = target.address.systemPath ?? (await findOnlySystem(transport, target, get, operation));
  const system = await get(systemPath, operation);
  if (system.status === 404) {
    throw new ProvisionerError(
      "HostNotFound",
      `redfish BMC ${target.address.display}: ${operation}: the BMC has no system at ${systemPath} (HTTP 404)`,
    );
  }
  const systemBody = ok(transport, target, systemPath, operation, system);
  const uuid = stringOf(systemBody.UUID);
  const lights = new Map<string, LightLocation>();
  const add = (id: string, component: IndicatorComponent, path: string, body: Record<string, unknown>, drive?: IndicatorDrive): void => {
    const properties = lightProperties(body);
    if (properties === undefined || lights.has(id)) return;
    const indicator: HostIndicator = { id, component, readonly: false, states: switchableStates(properties) };
    if (drive !== undefined) indicator.drive = drive;
    lights.set(id, { indicator, path });
  };
  // Ironic names the system light by the system's UUID; without one there is no ID to give it.
  if (uuid !== undefined) add(systemIndicatorId(uuid), "system", systemPath, systemBody);

  for (const chassisPath of links((systemBody.Links as Record<string, unknown> | undefined)?.Chassis)) {
    const body = await getOptional(transport, target, get, chassisPath, operation);
    const chassisUUID = stringOf(body?.UUID);
    if (body !== undefined && chassisUUID !== undefined) add(chassisIndicatorId(chassisUUID), "chassis", chassisPath, body);
  }

  const storagePath = linkOf(systemBody.Storage);
  const storageCollection = storagePath === undefined ? undefined : await getOptional(transport, target, get, storagePath, operation);
  for (const memberPath of links(storageCollection?.Members)) {
    const storage = await getOptional(transport, target, get, memberPath, operation);
    const storageId = stringOf(storage?.Id);
    if (storage === undefined || storageId === undefined) continue;
    for (const drivePath of links(storage.Drives)) {
      const drive = await getOptional(transport, target, get, drivePath, operation);
      const driveId = stringOf(drive?.Id);
      if (drive === undefined || driveId === undefined) continue;
      const info: IndicatorDrive = { storage: storageId, id: driveId };
      for (const [field, property] of [
        ["name", "Name"],
        ["model", "Model"],
        ["serialNumber", "SerialNumber"],
      ] as const) {
        const value = stringOf(drive[property]);
        if (value !== undefined) info[field] = value;
      }
      add(diskIndicatorId(storageId, driveId), "disk", drivePath, drive, info);
    }
  }
  return { systemPath, provisioningID: uuid ?? systemPath, lights };
}

/** The path of the BMC's only system, from the service root's Systems collection. */
async function findOnlySystem(
  transport: RedfishTransport,
  target: RedfishTarget,
  get: Getter,
  operation: string,
): Promise<string> {
  const root = ok(transport, target, "/redfish/v1/", operation, await get("/redfish/v1/", operation));
  const systemsPath = linkOf(root.Systems);
  if (systemsPath === undefined) {
    throw new ProvisionerError("HostNotFound", `redfish BMC ${target.address.display}: ${operation}: the service root links no Systems collection`);
  }
  const systems = ok(transport, target, systemsPath, operation, await get(systemsPath, operation));
  const members = links(systems.Members);
  if (members.length === 1) return members[0]!;
  if (members.length === 0) {
    throw new ProvisionerError("HostNotFound", `redfish BMC ${target.address.display}: ${operation}: the BMC lists no systems`);
  }
  throw new ProvisionerError(
    "Rejected",
    `redfish BMC ${target.address.display}: ${operation}: the address names no system and the BMC has ${members.length} ` +
      `(${members.slice(0, 8).join(", ")}${members.length > 8 ? ", …" : ""}); add the system's path to spec.bmc.address`,
  );
}

/** The body of a 2xx response; throws the mapped error otherwise. */
function ok(
  transport: RedfishTransport,
  target: RedfishTarget,
  path: string,
  operation: string,
  response: RedfishResponse,
): Record<string, unknown> {
  if (response.status >= 200 && response.status < 300 && isObject(response.body)) return response.body;
  if (response.status >= 200 && response.status < 300) {
    throw new ProvisionerError(
      "Rejected",
      `redfish BMC ${target.address.display}: ${operation}: GET ${path} returned HTTP ${response.status} without a JSON object`,
    );
  }
  throw transport.failure(target, { method: "GET", path, operation }, response);
}

/** A linked resource's body, or `undefined` when the BMC says it does not exist (404), as Ironic skips it. */
async function getOptional(
  transport: RedfishTransport,
  target: RedfishTarget,
  get: Getter,
  path: string,
  operation: string,
): Promise<Record<string, unknown> | undefined> {
  const response = await get(path, operation);
  if (response.status === 404) return undefined;
  return ok(transport, target, path, operation, response);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringOf(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The `@odata.id` of a link object. */
function linkOf(value: unknown): string | undefined {
  return isObject(value) ? stringOf(value["@odata.id"]) : undefined;
}

/** The `@odata.id`s of an array of link objects. */
function links(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.map(linkOf).filter((p): p is string => p !== undefined && p.startsWith("/"));
}

/**
 * Reading a host's inventory from its BMC the way Ironic's redfish driver
 * does: the ComputerSystem (from the address, or the Systems collection's only
 * member), each Chassis in its `Links.Chassis`, and each Drive of each Storage
 * in its `Storage` collection. Every resource with a light becomes an
 * indicator with Ironic's ID (or, for a System or Chassis without a `UUID`,
 * one named by its `Id`: see `../indicator-id.ts`); the resource paths and
 * their last reading are kept, so later calls go straight to the right
 * resource. Every path is fetched at most once per reading, however often the
 * BMC links it (an Intel BMC lists one drive 32 times). Lights the provisioner
 * cannot switch (an `IndicatorLED` value outside Redfish's, a light behind an
 * OEM action only) are reported, not silently dropped.
 *
 * {@link locateLight} finds one light without the whole inventory, from what
 * its ID and the address say: the system at the address's path, the drive at
 * its normative URI (`<system>/Storage/<storage>/Drives/<drive>`, Redfish
 * 2019.1), the chassis through the system's `Links.Chassis`. It checks the
 * identity of what it reads as the inventory would, and gives up (for the
 * caller to read the inventory) when anything does not match.
 *
 * @module
 */
import type { HostIndicator } from "../../api/baremetalhost.ts";
import type { IndicatorComponent } from "../../api/baremetalhost-service-indicator.ts";
import {
  chassisIndicatorId,
  diskIndicatorId,
  type IndicatorDrive,
  parseIndicatorId,
  resourceIndicatorName,
  systemIndicatorId,
} from "../indicator-id.ts";
import { ProvisionerError } from "../provisioner.ts";
import { lightMembers, lightProperties, switchableStates } from "./light.ts";
import { isObject, linkOf, links, pathKey, stringOf } from "./redfish-json.ts";
import { kindForStatus, type RedfishResponse, type RedfishTarget, type RedfishTransport } from "./transport.ts";

/** A resource as last read: its light's members and ETag, and when. */
export interface Reading {
  /** What {@link lightMembers} keeps of the body: enough to read and switch the light. */
  body: Record<string, unknown>;
  etag: string | undefined;
  /** `performance.now()` when it was read. */
  at: number;
}

/** A reading of a resource's body: its light's members (see {@link lightMembers}), its ETag, and when. */
export function readingOf(body: unknown, etag: string | undefined, at: number): Reading {
  return { body: lightMembers(body), etag, at };
}

/** Where a light lives on the BMC. */
export interface LightLocation {
  indicator: HostIndicator;
  /** The resource path of the System, Chassis or Drive. */
  path: string;
  /**
   * The path that takes the light's writes, learnt when the resource refused
   * one as not writable: the linked System, for a chassis that shows the
   * system's light but takes its writes only there (Lenovo XCC).
   */
  writeAt?: string;
}

/** What the provisioner knows of one host's BMC. */
export interface HostInventory {
  systemPath: string;
  provisioningID: string;
  /** Lights by indicator ID, in listing order. */
  lights: Map<string, LightLocation>;
  /** Lights the BMC has that cannot be switched through Redfish's properties, each as `<path>: <why>`. */
  unusable: string[];
}

/** How {@link readInventory} sends a GET, remembering what it read. */
export type Getter = (path: string, operation: string) => Promise<RedfishResponse>;

/**
 * Reads the host's inventory: one GET per System, Chassis, Storage collection,
 * Storage and Drive, each path once however often it is linked.
 */
export async function readInventory(
  transport: RedfishTransport,
  target: RedfishTarget,
  send: Getter,
  operation: string,
): Promise<HostInventory> {
  const get = onceEach(send);
  const systemPath = target.address.systemPath ?? (await findOnlySystem(transport, target, get, operation));
  const system = await get(systemPath, operation);
  if (system.status === 404) {
    throw new ProvisionerError(
      "HostNotFound",
      `redfish BMC ${target.address.display}: ${operation}: the BMC has no system at ${systemPath} (HTTP 404)`,
    );
  }
  const systemBody = ok(transport, target, systemPath, operation, system);
  const lights = new Map<string, LightLocation>();
  const unusable: string[] = [];
  const add = (id: string | undefined, component: IndicatorComponent, path: string, body: Record<string, unknown>, drive?: IndicatorDrive): void => {
    const light = id === undefined ? undefined : lightAt(id, component, path, body, drive);
    if (light === undefined) {
      const why = unusableLight(body, id === undefined);
      if (why !== undefined) unusable.push(`${path}: ${why}`);
    } else if (!lights.has(light.indicator.id)) {
      lights.set(light.indicator.id, light);
    }
  };
  add(systemLightId(systemBody), "system", systemPath, systemBody);

  for (const chassisPath of links((systemBody.Links as Record<string, unknown> | undefined)?.Chassis)) {
    const body = await getOptional(transport, target, get, chassisPath, operation);
    if (body !== undefined) add(chassisLightId(body), "chassis", chassisPath, body);
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
      add(diskIndicatorId(storageId, driveId), "disk", drivePath, drive, driveInfo(storageId, driveId, drive));
    }
  }
  return { systemPath, provisioningID: stringOf(systemBody.UUID) ?? systemPath, lights, unusable };
}

/** A getter that sends each path (trailing slashes aside) once, and answers repeats from the first answer. */
function onceEach(send: Getter): Getter {
  const answers = new Map<string, Promise<RedfishResponse>>();
  return (path, operation) => {
    const key = pathKey(path);
    let answer = answers.get(key);
    if (answer === undefined) {
      answer = send(path, operation);
      answers.set(key, answer);
    }
    return answer;
  };
}

/** The ID of a System's light: by its `UUID`, else by its `Id`. */
export function systemLightId(body: Record<string, unknown>): string | undefined {
  const name = resourceIndicatorName(stringOf(body.UUID), stringOf(body.Id));
  return name === undefined ? undefined : systemIndicatorId(name);
}

/** The ID of a Chassis's light: by its `UUID`, else by its `Id`. */
export function chassisLightId(body: Record<string, unknown>): string | undefined {
  const name = resourceIndicatorName(stringOf(body.UUID), stringOf(body.Id));
  return name === undefined ? undefined : chassisIndicatorId(name);
}

/** Names of OEM actions that switch an identify light (Supermicro `Indicate`, Dell `BlinkTarget`, `Identify`). */
const OEM_IDENTIFY_ACTION = /indicate|blink|identify|locat/i;

/**
 * Why a resource that has a light of some kind cannot be listed, or
 * `undefined` when it has none: an `IndicatorLED` value that is not Redfish's,
 * a light switched only by an OEM action, or a light on a resource with
 * neither `UUID` nor `Id` to name it by.
 */
function unusableLight(body: Record<string, unknown>, nameless: boolean): string | undefined {
  const hasLight = lightProperties(body) !== undefined;
  if (hasLight && nameless) return "has a light but neither a UUID nor an Id to name it by";
  if (hasLight) return undefined;
  if ("IndicatorLED" in body && body.IndicatorLED !== null) {
    return `IndicatorLED is ${JSON.stringify(body.IndicatorLED)}, not one of Lit, Blinking, Off, Unknown`;
  }
  const oem = isObject(body.Actions) && isObject(body.Actions.Oem) ? Object.keys(body.Actions.Oem) : [];
  const action = oem.find((name) => OEM_IDENTIFY_ACTION.test(name));
  if (action !== undefined) return `its light is switched only by the OEM action ${action}, which this client does not use`;
  return undefined;
}

/**
 * Finds the light `id` of the system at `systemPath` with as few GETs as the
 * ID allows, for a host whose inventory has not been read:
 *
 * - `<UUID>@system`: the system (1 GET), when its `UUID` (or, without one,
 *   its `Id`) is the ID's.
 * - `<storage>:<drive>@disk`: the drive at its normative URI (1 GET), when its
 *   `Id` is the ID's drive.
 * - `<UUID>@chassis`: the system, then each chassis in its `Links.Chassis`
 *   until one has the ID's `UUID` or `Id` (usually 2 GETs).
 *
 * Returns the light, and any other light of the host it read on the way (the
 * system's, chassis before the one asked for), each exactly as
 * {@link readInventory} would list it. Returns `undefined` when that cannot be
 * confirmed (a 404, another status, another identity, no light): reading the
 * inventory decides then, and it may reuse what `get` read here, since an
 * unexpected answer to the same request makes it fail the same way. Throws at
 * once only on a guessed path's 401/403 (wrong credentials: another request
 * could lock the account) and 408/429/503 (the BMC asks to be left alone).
 */
export async function locateLight(
  transport: RedfishTransport,
  target: RedfishTarget,
  systemPath: string,
  id: string,
  send: Getter,
  operation: string,
): Promise<{ light: LightLocation; others: LightLocation[] } | undefined> {
  const get = onceEach(send);
  const parsed = parseIndicatorId(id);
  if (parsed === undefined) return undefined;
  if (parsed.component === "disk") {
    const colon = parsed.name.indexOf(":");
    const storageId = parsed.name.slice(0, colon);
    const driveId = parsed.name.slice(colon + 1);
    if (colon < 0 || !usableSegment(storageId) || !usableSegment(driveId)) return undefined;
    const path = `${systemPath}/Storage/${pathSegment(storageId)}/Drives/${pathSegment(driveId)}`;
    const response = await get(path, operation);
    if (response.status === 401 || response.status === 403 || response.status === 408 || response.status === 429 || response.status === 503) {
      throw transport.failure(target, { method: "GET", path, operation }, response, kindForStatus(response.status));
    }
    const body = bodyOf(response);
    if (body === undefined || stringOf(body.Id) !== driveId) return undefined;
    const light = lightAt(id, "disk", path, body, driveInfo(storageId, driveId, body));
    return light === undefined ? undefined : { light, others: [] };
  }

  const system = bodyOf(await get(systemPath, operation));
  if (system === undefined) return undefined;
  const systemId = systemLightId(system);
  const systemLight = systemId === undefined ? undefined : lightAt(systemId, "system", systemPath, system);
  if (parsed.component === "system") return systemLight?.indicator.id === id ? { light: systemLight, others: [] } : undefined;

  const others: LightLocation[] = systemLight === undefined ? [] : [systemLight];
  for (const chassisPath of links((system.Links as Record<string, unknown> | undefined)?.Chassis)) {
    const response = await get(chassisPath, operation);
    // A chassis that is gone is skipped, as the inventory skips it.
    if (response.status === 404) continue;
    const chassis = bodyOf(response);
    if (chassis === undefined) return undefined;
    const chassisId = chassisLightId(chassis);
    const light = chassisId === undefined ? undefined : lightAt(chassisId, "chassis", chassisPath, chassis);
    if (light === undefined || others.some((l) => l.indicator.id === light.indicator.id)) continue;
    if (light.indicator.id === id) return { light, others };
    others.push(light);
  }
  return undefined;
}

/** The light of a resource as the inventory lists it, or `undefined` when it has none. */
function lightAt(
  id: string,
  component: IndicatorComponent,
  path: string,
  body: Record<string, unknown>,
  drive?: IndicatorDrive,
): LightLocation | undefined {
  const properties = lightProperties(body);
  if (properties === undefined) return undefined;
  const indicator: HostIndicator = { id, component, readonly: false, states: switchableStates(properties) };
  if (drive !== undefined) indicator.drive = drive;
  return { indicator, path };
}

/** The drive behind a disk light, with what the Drive resource says of itself. */
function driveInfo(storageId: string, driveId: string, drive: Record<string, unknown>): IndicatorDrive {
  const info: IndicatorDrive = { storage: storageId, id: driveId };
  for (const [field, property] of [
    ["name", "Name"],
    ["model", "Model"],
    ["serialNumber", "SerialNumber"],
  ] as const) {
    const value = stringOf(drive[property]);
    if (value !== undefined) info[field] = value;
  }
  return info;
}

/** The body of a 200 answer holding a JSON object. */
function bodyOf(response: RedfishResponse): Record<string, unknown> | undefined {
  return response.status === 200 && isObject(response.body) ? response.body : undefined;
}

/** An Id that can stand as one segment of a guessed path. */
function usableSegment(id: string): boolean {
  return id !== "" && id !== "." && id !== ".." && !id.includes("/");
}

/**
 * An Id as a path segment: percent-encoded except for the characters a segment
 * may hold as they are (RFC 3986 `pchar`), since BMCs spell URIs with them
 * (`Disk.Bay.0:Enclosure.Internal.0-1:RAID.Integrated.1-1`).
 */
function pathSegment(id: string): string {
  return encodeURIComponent(id).replace(/%(?:3A|40|24|26|2B|2C|3B|3D)/g, (escaped) => decodeURIComponent(escaped));
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

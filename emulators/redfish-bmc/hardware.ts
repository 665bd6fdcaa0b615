/**
 * The emulated hardware behind one BMC: one computer system in one chassis,
 * managed by one manager, with a RAID controller and its drives, a
 * temperature sensor, and the indicator lights of the system, the chassis
 * and each drive. Identities (UUIDs, serial numbers) are unique per BMC.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import type { EventRaiser } from "./event-service.ts";
import type { LedState } from "./led-state.ts";
import type { VendorProfile } from "./vendor-profile.ts";

/** The hardware of one BMC as the parts that change it (lights, machine) see it. */
export interface HardwareScope {
  hardware: Hardware;
  /** Where a change raises its event. */
  events: EventRaiser;
  /** Whose hardware it is, for error messages (`BMC 3`). */
  owner: string;
}

export { LED_STATES } from "./led-state.ts";
export type { LedState } from "./led-state.ts";

/** The Redfish power states the emulated system moves between. */
export type PowerState = "On" | "Off";

/** One drive and its light. */
export interface DriveState {
  /** The Storage resource it belongs to. */
  storageId: string;
  /** The Drive resource's `Id`. */
  id: string;
  name: string;
  manufacturer: string;
  model: string;
  serialNumber: string;
  capacityBytes: number;
  led: LedState;
  /** True once {@link Machine.failDrive} failed it. */
  failed: boolean;
}

/** One storage subsystem (a RAID controller) and its drives. */
export interface StorageState {
  id: string;
  name: string;
  controllerModel: string;
  drives: DriveState[];
}

/** A temperature sensor with its thresholds, in degrees Celsius. */
export interface TemperatureSensor {
  id: string;
  name: string;
  readingCelsius: number;
  upperCaution: number;
  upperCritical: number;
}

/** Everything one BMC knows about its hardware. */
export interface Hardware {
  /** The vendor whose BMC this is: IDs, resource shapes, light semantics. */
  profile: VendorProfile;
  systemId: string;
  chassisId: string;
  managerId: string;
  /** The service root's `UUID`. */
  serviceUUID: string;
  systemUUID: string;
  chassisUUID: string;
  manufacturer: string;
  model: string;
  systemSerialNumber: string;
  systemLed: LedState;
  chassisLed: LedState;
  powerState: PowerState;
  boot: {
    BootSourceOverrideTarget: string;
    BootSourceOverrideEnabled: string;
    BootSourceOverrideMode: string;
  };
  storage: StorageState[];
  temperature: TemperatureSensor;
}

const DRIVE_MODELS = [
  { manufacturer: "SAMSUNG", model: "MZ7LH480HAHQ0D3", capacityBytes: 480_103_981_056, prefix: "S45P" },
  { manufacturer: "SEAGATE", model: "ST2000NM0055", capacityBytes: 2_000_398_934_016, prefix: "ZC2" },
  { manufacturer: "INTEL", model: "SSDSC2KG960G8R", capacityBytes: 960_197_124_096, prefix: "PHYG" },
] as const;

/** Builds the hardware of the BMC with the given fleet index, as `profile`'s vendor names and lights it. */
export function createHardware(index: number, drivesPerSystem: number, profile: VendorProfile): Hardware {
  const tag = index.toString(36).toUpperCase().padStart(4, "0");
  const id = profile.identity;
  const drives: DriveState[] = [];
  for (let n = 0; n < drivesPerSystem; n++) {
    const kind = DRIVE_MODELS[n % DRIVE_MODELS.length]!;
    drives.push({
      storageId: id.storageId,
      id: id.driveId(n),
      name: id.driveName(n),
      manufacturer: kind.manufacturer,
      model: kind.model,
      serialNumber: `${kind.prefix}${tag}${n.toString().padStart(3, "0")}`,
      capacityBytes: kind.capacityBytes,
      led: profile.lights.drive.normal,
      failed: false,
    });
  }
  return {
    profile,
    systemId: id.systemId,
    chassisId: id.chassisId,
    managerId: id.managerId,
    serviceUUID: randomUUID(),
    systemUUID: randomUUID(),
    chassisUUID: randomUUID(),
    manufacturer: id.manufacturer,
    model: id.model,
    systemSerialNumber: id.serialNumber(tag),
    systemLed: profile.lights.system.normal,
    chassisLed: profile.lights.chassis.normal,
    powerState: "On",
    boot: {
      BootSourceOverrideTarget: "None",
      BootSourceOverrideEnabled: "Disabled",
      BootSourceOverrideMode: "UEFI",
    },
    storage: [{ id: id.storageId, name: id.storageName, controllerModel: id.storageName, drives }],
    temperature: {
      id: "0",
      name: "System Board Inlet Temp",
      readingCelsius: 24,
      upperCaution: 42,
      upperCritical: 47,
    },
  };
}

/** Every drive of the hardware. */
export function allDrives(hardware: Hardware): DriveState[] {
  return hardware.storage.flatMap((s) => s.drives);
}

/** The drive `<storageId>:<driveId>`; throws a RangeError naming it and the drives `owner` has. */
export function findDrive(hardware: Hardware, storageId: string, driveId: string, owner: string): DriveState {
  const drive = allDrives(hardware).find((d) => d.storageId === storageId && d.id === driveId);
  if (!drive) {
    const known = allDrives(hardware).map((d) => `${d.storageId}:${d.id}`).join(", ");
    throw new RangeError(`${owner} has no drive ${storageId}:${driveId}; it has ${known || "none"}`);
  }
  return drive;
}

/**
 * What one emulated BMC keeps across restarts of the emulator, as real
 * hardware does across a power cycle of its BMC: its identity (UUIDs and
 * serial numbers), its event subscriptions (header values included, as the
 * BMC needs them to deliver), its EventService settings, its light states
 * and its power state. Sessions are not kept (a rebooted BMC forgets them).
 * One JSON file per BMC, written atomically (a temporary file renamed over
 * it) with owner-only permissions, since it holds subscription secrets.
 *
 * @module
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { EventServiceSettings } from "./event-service.ts";
import type { Hardware, LedState, PowerState } from "./hardware.ts";
import { LED_STATES, allDrives } from "./hardware.ts";
import { DELIVERY_RETRY_POLICIES } from "./subscriptions.ts";
import type { SubscriptionRecord } from "./subscriptions.ts";
import type { ProfileName } from "./vendor-profile.ts";

/** The kept state of one BMC, as stored (format version 1). */
export interface BmcState {
  version: 1;
  /** The profile it ran with; a BMC restarted under another profile keeps its identity and light states by position. */
  profile: ProfileName;
  identity: {
    serviceUUID: string;
    systemUUID: string;
    chassisUUID: string;
    systemSerialNumber: string;
    /** Drive serial numbers in drive order. */
    driveSerialNumbers: string[];
  };
  lights: { system: LedState; chassis: LedState; drives: LedState[] };
  powerState: PowerState;
  eventService: EventServiceSettings;
  subscriptions: SubscriptionRecord[];
  nextSubscriptionId: number;
}

/** The parts of a BMC whose state is kept. */
export interface KeptParts {
  hardware: Hardware;
  eventSettings: () => EventServiceSettings;
  subscriptions: () => SubscriptionRecord[];
  nextSubscriptionId: () => number;
}

/** The state of a BMC now. */
export function captureState(parts: KeptParts): BmcState {
  const hw = parts.hardware;
  const drives = allDrives(hw);
  return {
    version: 1,
    profile: hw.profile.name,
    identity: {
      serviceUUID: hw.serviceUUID,
      systemUUID: hw.systemUUID,
      chassisUUID: hw.chassisUUID,
      systemSerialNumber: hw.systemSerialNumber,
      driveSerialNumbers: drives.map((d) => d.serialNumber),
    },
    lights: { system: hw.systemLed, chassis: hw.chassisLed, drives: drives.map((d) => d.led) },
    powerState: hw.powerState,
    eventService: { ...parts.eventSettings() },
    subscriptions: parts.subscriptions().map((s) => ({ ...s, httpHeaders: s.httpHeaders.map(([n, v]) => [n, v]) })),
    nextSubscriptionId: parts.nextSubscriptionId(),
  };
}

/**
 * Puts a kept identity, lights and power state back into `hardware`. Drives
 * are matched by position; drives beyond those kept keep their new identity.
 * Under another profile than the one kept, only the identity and power state
 * come back: the lights mean other things there (Dell's chassis is `Lit` when idle).
 */
export function restoreHardware(hardware: Hardware, state: BmcState): void {
  const sameProfile = state.profile === hardware.profile.name;
  hardware.serviceUUID = state.identity.serviceUUID;
  hardware.systemUUID = state.identity.systemUUID;
  hardware.chassisUUID = state.identity.chassisUUID;
  hardware.systemSerialNumber = state.identity.systemSerialNumber;
  hardware.powerState = state.powerState;
  if (sameProfile) {
    hardware.systemLed = state.lights.system;
    hardware.chassisLed = state.lights.chassis;
  }
  allDrives(hardware).forEach((drive, n) => {
    const serial = state.identity.driveSerialNumbers[n];
    if (serial !== undefined) drive.serialNumber = serial;
    const led = state.lights.drives[n];
    if (sameProfile && led !== undefined) drive.led = led;
  });
}

/** The state file of one BMC. */
export class BmcStateFile {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /**
   * The kept state, or undefined when there is none yet. A file that is not a
   * valid state throws an Error naming the file and what is wrong with it.
   */
  load(): BmcState | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new Error(`cannot read the BMC state file ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new Error(`the BMC state file ${this.path} is not JSON (${(error as Error).message}); delete it to start that BMC anew`, {
        cause: error,
      });
    }
    const problem = stateProblem(parsed);
    if (problem) throw new Error(`the BMC state file ${this.path} is not a valid BMC state: ${problem}; delete it to start that BMC anew`);
    return parsed as BmcState;
  }

  /** Writes the state atomically, readable by the owner only (it holds subscription header values). */
  save(state: BmcState): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(state, null, 1)}\n`, { mode: 0o600 });
    renameSync(temporary, this.path);
  }
}

const isString = (v: unknown): v is string => typeof v === "string";
const isLed = (v: unknown): v is LedState => LED_STATES.includes(v as LedState);

/** Why `value` is not a {@link BmcState} (naming the field and its value), or undefined when it is one. */
export function stateProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return "expected a JSON object";
  const s = value as Record<string, any>;
  if (s.version !== 1) return `version must be 1, got ${JSON.stringify(s.version)}`;
  if (!isString(s.profile)) return `profile must be a string, got ${JSON.stringify(s.profile)}`;
  const id = s.identity;
  if (typeof id !== "object" || id === null) return "identity is missing";
  for (const key of ["serviceUUID", "systemUUID", "chassisUUID", "systemSerialNumber"]) {
    if (!isString(id[key])) return `identity.${key} must be a string, got ${JSON.stringify(id[key])}`;
  }
  if (!Array.isArray(id.driveSerialNumbers) || !id.driveSerialNumbers.every(isString)) {
    return "identity.driveSerialNumbers must be an array of strings";
  }
  const l = s.lights;
  if (typeof l !== "object" || l === null) return "lights is missing";
  if (!isLed(l.system)) return `lights.system must be one of ${LED_STATES.join(", ")}, got ${JSON.stringify(l.system)}`;
  if (!isLed(l.chassis)) return `lights.chassis must be one of ${LED_STATES.join(", ")}, got ${JSON.stringify(l.chassis)}`;
  if (!Array.isArray(l.drives) || !l.drives.every(isLed)) return `lights.drives must be an array of ${LED_STATES.join(", ")}`;
  if (s.powerState !== "On" && s.powerState !== "Off") return `powerState must be On or Off, got ${JSON.stringify(s.powerState)}`;
  const e = s.eventService;
  if (typeof e !== "object" || e === null || typeof e.serviceEnabled !== "boolean" || typeof e.retryAttempts !== "number" || typeof e.retryIntervalSeconds !== "number") {
    return "eventService must have serviceEnabled, retryAttempts and retryIntervalSeconds";
  }
  if (!Number.isInteger(s.nextSubscriptionId) || s.nextSubscriptionId < 1) {
    return `nextSubscriptionId must be a positive integer, got ${JSON.stringify(s.nextSubscriptionId)}`;
  }
  if (!Array.isArray(s.subscriptions)) return "subscriptions must be an array";
  for (const [n, r] of (s.subscriptions as Record<string, any>[]).entries()) {
    if (typeof r !== "object" || r === null) return `subscriptions[${n}] must be an object`;
    if (!isString(r.id) || !isString(r.destination)) return `subscriptions[${n}] needs a string id and destination`;
    if (!Array.isArray(r.httpHeaders) || !r.httpHeaders.every((h: unknown) => Array.isArray(h) && h.length === 2 && h.every(isString))) {
      return `subscriptions[${n}].httpHeaders must be [name, value] pairs`;
    }
    if (!DELIVERY_RETRY_POLICIES.includes(r.deliveryRetryPolicy)) {
      return `subscriptions[${n}].deliveryRetryPolicy is not a policy: ${JSON.stringify(r.deliveryRetryPolicy)}`;
    }
    if (r.state !== "Enabled" && r.state !== "Disabled") return `subscriptions[${n}].state must be Enabled or Disabled, got ${JSON.stringify(r.state)}`;
  }
  return undefined;
}

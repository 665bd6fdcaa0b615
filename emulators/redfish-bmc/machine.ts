/**
 * The machine behind one BMC as its sensors and power controller see it:
 * the power state (`ComputerSystem.Reset`), drive failures and the inlet
 * temperature. Each change raises the event a BMC raises for it.
 *
 * @module
 */
import type { EventRaiser } from "./event-service.ts";
import { RAISED_MESSAGES } from "./events.ts";
import type { EventRecord } from "./events.ts";
import { findDrive } from "./hardware.ts";
import type { DriveState, Hardware, HardwareScope, PowerState } from "./hardware.ts";
import { drivePath, resourcePaths } from "./resources.ts";

/** The power, drives and temperature of one BMC's machine. */
export class Machine {
  readonly #hardware: Hardware;
  readonly #events: EventRaiser;
  readonly #owner: string;

  constructor(scope: HardwareScope) {
    ({ hardware: this.#hardware, events: this.#events, owner: this.#owner } = scope);
  }

  /** The system's power state. */
  powerState(): PowerState {
    return this.#hardware.powerState;
  }

  /** Applies a `ComputerSystem.Reset` type; raises a change event when the power state changes. */
  applyResetType(resetType: string): void {
    const hardware = this.#hardware;
    const before = hardware.powerState;
    switch (resetType) {
      case "On":
      case "ForceOn":
        hardware.powerState = "On";
        break;
      case "ForceOff":
      case "GracefulShutdown":
        hardware.powerState = "Off";
        break;
      case "PushPowerButton":
        hardware.powerState = before === "On" ? "Off" : "On";
        break;
      default:
        // Restarts, power cycles and NMIs leave the system on.
        if (before === "Off" && resetType !== "Nmi") hardware.powerState = "On";
        break;
    }
    if (hardware.powerState !== before) this.#events.resourceChanged(resourcePaths(hardware).system);
  }

  /** Fails a drive: its health turns Critical and a `StorageDevice.1.0.DriveFailure` alert is raised. */
  failDrive(storageId: string, driveId: string): EventRecord {
    return this.#setDriveFailed(storageId, driveId, true);
  }

  /** Repairs a failed drive: its health returns to OK and a `DriveFailureCleared` event is raised. */
  repairDrive(storageId: string, driveId: string): EventRecord {
    return this.#setDriveFailed(storageId, driveId, false);
  }

  /**
   * Sets the inlet temperature sensor's reading. Crossing the caution or
   * critical threshold upwards raises a `SensorEvent` alert; falling back
   * below caution raises `ReadingNormalRange`. Returns the raised event, if any.
   */
  setTemperature(celsius: number): EventRecord | undefined {
    if (typeof celsius !== "number" || !Number.isFinite(celsius) || celsius < -50 || celsius > 200) {
      throw new RangeError(`temperature must be a number of degrees Celsius from -50 to 200, got ${JSON.stringify(celsius)}`);
    }
    const t = this.#hardware.temperature;
    const level = (c: number) => (c >= t.upperCritical ? 2 : c >= t.upperCaution ? 1 : 0);
    const before = level(t.readingCelsius);
    t.readingCelsius = celsius;
    const after = level(celsius);
    if (after === before) return undefined;
    const origin = resourcePaths(this.#hardware).thermal;
    if (after === 0) {
      const m = RAISED_MESSAGES.readingNormal;
      return this.#events.raise({
        EventType: "Alert",
        MessageId: m.MessageId,
        Message: m.message(t.name, celsius),
        MessageArgs: [t.name, String(celsius), "Cel"],
        MessageSeverity: m.MessageSeverity,
        OriginOfCondition: origin,
      });
    }
    if (after < before) return undefined;
    const m = after === 2 ? RAISED_MESSAGES.aboveUpperCritical : RAISED_MESSAGES.aboveUpperCaution;
    const threshold = after === 2 ? t.upperCritical : t.upperCaution;
    return this.#events.raise({
      EventType: "Alert",
      MessageId: m.MessageId,
      Message: m.message(t.name, celsius, threshold),
      MessageArgs: [t.name, String(celsius), "Cel", String(threshold)],
      MessageSeverity: m.MessageSeverity,
      OriginOfCondition: origin,
    });
  }

  /** Pushes the temperature past its critical threshold (or to `celsius`); returns the raised alert. */
  raiseTemperature(celsius?: number): EventRecord | undefined {
    return this.setTemperature(celsius ?? this.#hardware.temperature.upperCritical + 3);
  }

  #setDriveFailed(storageId: string, driveId: string, failed: boolean): EventRecord {
    const drive: DriveState = findDrive(this.#hardware, storageId, driveId, this.#owner);
    drive.failed = failed;
    const m = failed ? RAISED_MESSAGES.driveFailure : RAISED_MESSAGES.driveFailureCleared;
    return this.#events.raise({
      EventType: "Alert",
      MessageId: m.MessageId,
      Message: m.message(drive.name),
      MessageArgs: [drive.name],
      MessageSeverity: m.MessageSeverity,
      OriginOfCondition: drivePath(this.#hardware, drive),
    });
  }
}

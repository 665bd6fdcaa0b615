/**
 * The indicator lights of one BMC: the system's, the chassis's and each
 * drive's. A change, whether from a Redfish PATCH or from someone at the
 * machine, raises a `ResourceChanged` event for the resource whose light it is.
 *
 * @module
 */
import type { EventRaiser } from "./event-service.ts";
import { LED_STATES, allDrives, findDrive } from "./hardware.ts";
import type { DriveState, Hardware, HardwareScope, LedState } from "./hardware.ts";
import { drivePath, resourcePaths } from "./resources.ts";

/** The light states of one BMC, in Redfish `IndicatorLED` words. */
export interface LightStates {
  system: LedState;
  chassis: LedState;
  /** Keyed `<storage Id>:<drive Id>`, the name Ironic gives disk lights. */
  drives: Record<string, LedState>;
}

/** The lights of one BMC. */
export class Lights {
  readonly #hardware: Hardware;
  readonly #events: EventRaiser;
  readonly #owner: string;

  constructor(scope: HardwareScope) {
    ({ hardware: this.#hardware, events: this.#events, owner: this.#owner } = scope);
  }

  /** The state of every light (a chassis that shows the system's light reports the system's state). */
  states(): LightStates {
    const hw = this.#hardware;
    const drives: Record<string, LedState> = {};
    for (const d of allDrives(hw)) drives[`${d.storageId}:${d.id}`] = d.led;
    const chassis = hw.profile.lights.chassis.writableAt === "system" ? hw.systemLed : hw.chassisLed;
    return { system: hw.systemLed, chassis, drives };
  }

  /**
   * Switches a light as someone at the machine would (front-panel button):
   * `target` is `system`, `chassis` or `<storage Id>:<drive Id>`. Raises the
   * same change event as a PATCH.
   */
  set(target: string, state: LedState): void {
    if (!LED_STATES.includes(state)) {
      throw new RangeError(`light state must be one of ${LED_STATES.join(", ")}, got ${JSON.stringify(state)}`);
    }
    if (target === "system") this.setSystem(state);
    else if (target === "chassis") this.setChassis(state);
    else {
      const [storageId, driveId] = target.split(":");
      this.setDrive(findDrive(this.#hardware, storageId ?? "", driveId ?? "", this.#owner), state);
    }
  }

  /** Sets the system light, raising a change event if it changed. */
  setSystem(state: LedState): void {
    if (this.#hardware.systemLed === state) return;
    this.#hardware.systemLed = state;
    this.#events.resourceChanged(resourcePaths(this.#hardware).system);
  }

  /**
   * Sets the chassis light, raising a change event if it changed. Where the
   * chassis only shows the system's light, this is the system's light.
   */
  setChassis(state: LedState): void {
    if (this.#hardware.profile.lights.chassis.writableAt === "system") {
      this.setSystem(state);
      return;
    }
    if (this.#hardware.chassisLed === state) return;
    this.#hardware.chassisLed = state;
    this.#events.resourceChanged(resourcePaths(this.#hardware).chassis);
  }

  /** Sets a drive's light, raising a change event if it changed. */
  setDrive(drive: DriveState, state: LedState): void {
    if (drive.led === state) return;
    drive.led = state;
    this.#events.resourceChanged(drivePath(this.#hardware, drive));
  }

  /** Returns every light to its normal state (off, or Dell's chassis `Lit`) without an event, as a BMC reset does. */
  allOff(): void {
    const lights = this.#hardware.profile.lights;
    this.#hardware.systemLed = lights.system.normal;
    this.#hardware.chassisLed = lights.chassis.normal;
    for (const d of allDrives(this.#hardware)) d.led = lights.drive.normal;
  }
}

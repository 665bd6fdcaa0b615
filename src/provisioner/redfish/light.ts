/**
 * A Redfish resource's indicator light: how to read its state and how to
 * change it. `LocationIndicatorActive` (boolean, Redfish 2020.3) is preferred
 * where the resource has it; the deprecated `IndicatorLED` (`Lit`, `Blinking`,
 * `Off`, `Unknown`) is used otherwise, and for blinking, which the boolean
 * cannot express.
 *
 * "on" is what makes the light identify the hardware on that vendor. Mostly
 * that is `LocationIndicatorActive: true` or `IndicatorLED: Lit`; but on a Dell
 * chassis `IndicatorLED` is the health light, `Lit` its normal state and
 * `Blinking` what identifies (and what `LocationIndicatorActive: true` shows).
 * So a Dell chassis light offers "off" and "on" only: "on" is
 * `LocationIndicatorActive: true` where the chassis has it, else `Blinking`;
 * "off" is `false`, else `Lit`; `Blinking` reads as "on", `Lit` and `Off` as
 * "off".
 *
 * @module
 */
import { SWITCHABLE_STATES } from "../indicator-id.ts";
import type { IndicatorState } from "../provisioner.ts";

/** Which light properties a resource has. */
export interface LightProperties {
  locationIndicatorActive: boolean;
  indicatorLED: boolean;
  /** `IndicatorLED` is a health light: `Blinking` identifies, `Lit` is the normal state (a Dell chassis). */
  identifyBlinks: boolean;
}

const LED_TO_STATE: Record<string, IndicatorState> = {
  Lit: "on",
  Off: "off",
  Blinking: "blinking",
  Unknown: "unknown",
};

/** The members of a resource that {@link readLight} and {@link lightPatch} look at. */
const LIGHT_MEMBERS = ["LocationIndicatorActive", "IndicatorLED", "@odata.type", "Manufacturer"] as const;

/**
 * The members of a resource that say what its light is and how to switch it,
 * and nothing else: what a reading keeps of a System or Chassis body, which
 * is kilobytes (a thousand hosts' registrations kept 5 MiB of them).
 */
export function lightMembers(resource: unknown): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  if (typeof resource !== "object" || resource === null) return kept;
  for (const member of LIGHT_MEMBERS) if (member in resource) kept[member] = (resource as Record<string, unknown>)[member];
  return kept;
}

/** The light properties of a resource, or `undefined` when it has no light. */
export function lightProperties(resource: Record<string, unknown>): LightProperties | undefined {
  const locationIndicatorActive =
    "LocationIndicatorActive" in resource &&
    (typeof resource.LocationIndicatorActive === "boolean" || resource.LocationIndicatorActive === null);
  const indicatorLED = typeof resource.IndicatorLED === "string" && resource.IndicatorLED in LED_TO_STATE;
  if (!locationIndicatorActive && !indicatorLED) return undefined;
  return { locationIndicatorActive, indicatorLED, identifyBlinks: indicatorLED && isDellChassis(resource) };
}

/** A Chassis resource made by Dell, whose `IndicatorLED` blinks to identify. */
function isDellChassis(resource: Record<string, unknown>): boolean {
  const type = resource["@odata.type"];
  const manufacturer = resource.Manufacturer;
  return typeof type === "string" && type.startsWith("#Chassis.") && typeof manufacturer === "string" && /^dell\b/i.test(manufacturer);
}

/** The states a light with these properties can be put in, as Ironic lists them. */
export function switchableStates(properties: LightProperties): string[] {
  return properties.indicatorLED && !properties.identifyBlinks ? [...SWITCHABLE_STATES] : ["off", "on"];
}

/** The light's state as a resource reports it. */
export function readLight(resource: Record<string, unknown>): IndicatorState {
  const active = resource.LocationIndicatorActive;
  const led = typeof resource.IndicatorLED === "string" ? LED_TO_STATE[resource.IndicatorLED] : undefined;
  if (lightProperties(resource)?.identifyBlinks) {
    if (typeof active === "boolean") return active ? "on" : "off";
    return led === "blinking" ? "on" : led === "unknown" ? "unknown" : "off";
  }
  if (typeof active === "boolean") {
    if (!active) return "off";
    return led === "blinking" ? "blinking" : "on";
  }
  return led ?? "unknown";
}

/**
 * The PATCH body that puts the light in `state`, given the resource as last
 * read, or an explanation of why it cannot be done.
 */
export function lightPatch(
  resource: Record<string, unknown>,
  state: IndicatorState,
): { body: Record<string, unknown> } | { refused: string } {
  const properties = lightProperties(resource);
  if (properties === undefined) return { refused: "the resource has no indicator light" };
  if (state === "unknown") return { refused: 'a light cannot be set to "unknown"' };
  if (properties.identifyBlinks) {
    if (state === "blinking") return { refused: 'this light identifies by blinking: set it to "on"' };
    if (properties.locationIndicatorActive) return { body: { LocationIndicatorActive: state === "on" } };
    return { body: { IndicatorLED: state === "on" ? "Blinking" : "Lit" } };
  }
  if (state === "blinking") {
    return properties.indicatorLED
      ? { body: { IndicatorLED: "Blinking" } }
      : { refused: "the light offers only LocationIndicatorActive, which cannot blink" };
  }
  if (properties.locationIndicatorActive) {
    // Switching a blinking light to steady on needs IndicatorLED: the boolean is already true.
    if (state === "on" && properties.indicatorLED && readLight(resource) === "blinking") {
      return { body: { IndicatorLED: "Lit" } };
    }
    return { body: { LocationIndicatorActive: state === "on" } };
  }
  return { body: { IndicatorLED: state === "on" ? "Lit" : "Off" } };
}

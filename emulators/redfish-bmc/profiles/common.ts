/**
 * Pieces several vendor profiles share: the light of the tidy default, the
 * Base registry errors most BMCs answer with.
 *
 * @module
 */
import { baseMessages } from "../redfish-errors.ts";
import type { LightModel, SubscriptionRules } from "../vendor-profile.ts";

/** A light with both properties, off when idle and `Lit` when identifying (DSP2046's reading). */
export const PLAIN_LIGHT: LightModel = {
  properties: ["IndicatorLED", "LocationIndicatorActive"],
  normal: "Off",
  identify: "Lit",
  writableAt: "self",
};

/** A light with only `LocationIndicatorActive`. */
export const LOCATION_ONLY_LIGHT: LightModel = { ...PLAIN_LIGHT, properties: ["LocationIndicatorActive"] };

/** A light with only the deprecated `IndicatorLED`. */
export const INDICATOR_ONLY_LIGHT: LightModel = { ...PLAIN_LIGHT, properties: ["IndicatorLED"] };

/** The Base registry's answer to a full subscription collection: 400 `CreateLimitReachedForResource`. */
export const createLimitReached: SubscriptionRules["limitError"] = () => ({
  status: 400,
  message: baseMessages.createLimitReachedForResource(),
});

/** Every `EventType` except `MetricReport`, which the emulator does not send. */
export const EVENT_TYPES_FOR_SUBSCRIPTION = ["StatusChange", "ResourceUpdated", "ResourceAdded", "ResourceRemoved", "Alert", "Other"] as const;

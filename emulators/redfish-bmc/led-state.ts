/**
 * The states an indicator light can be in, in Redfish `IndicatorLED` words.
 * A leaf module: the hardware and the vendor profiles both speak of them.
 *
 * @module
 */

/** The deprecated Redfish `IndicatorLED` values a light can be set to (`Unknown` is read-only). */
export const LED_STATES = ["Lit", "Blinking", "Off"] as const;
/** The state of one indicator light, in Redfish `IndicatorLED` words. */
export type LedState = (typeof LED_STATES)[number];

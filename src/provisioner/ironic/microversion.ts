/**
 * Ironic API microversions (`1.63`): parsing, comparing, and choosing the
 * version to send from the range a server advertises in its
 * `X-OpenStack-Ironic-API-Minimum-Version` and `-Maximum-Version` headers.
 *
 * @module
 */

/** A microversion, `major.minor`. */
export interface Microversion {
  major: number;
  minor: number;
}

/** Indicators (`/management/indicators`) need this version. */
export const REQUIRED_VERSION: Microversion = { major: 1, minor: 63 };

/**
 * The newest version the client knows: the maximum of the newest Ironic it is
 * tested with (29.0.5, API 1.96; the other tested release, 21.4.4, offers up
 * to 1.82). A newer server is spoken to at this version, so its responses
 * keep the shapes the client knows. Nothing the client sends or reads changed
 * between 1.63 and 1.96: newer versions only add node fields it ignores
 * (`parent_node` 1.83, `firmware_interface` 1.86, `service_step` 1.87,
 * `disable_power_off` 1.95). What Ironic 29 does better for bmc-operator
 * (disk lights from Storage → Drives) comes from its redfish driver, at any
 * version from 1.63.
 */
export const PREFERRED_VERSION: Microversion = { major: 1, minor: 96 };

/** Parses `1.63`; throws naming the value when it is not a microversion. */
export function parseMicroversion(text: string): Microversion {
  const match = /^\s*(\d+)\.(\d+)\s*$/.exec(text);
  if (match === null) throw new Error(`not an Ironic API microversion (major.minor): ${JSON.stringify(text)}`);
  return { major: Number(match[1]), minor: Number(match[2]) };
}

/** `1.63`. */
export function formatMicroversion(version: Microversion): string {
  return `${version.major}.${version.minor}`;
}

/** Negative when `a` is older than `b`, zero when equal, positive when newer. */
export function compareMicroversions(a: Microversion, b: Microversion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

/**
 * The version to speak with a server that accepts `minimum` to `maximum`:
 * {@link PREFERRED_VERSION}, or the server's maximum when that is older, as
 * long as it is at least {@link REQUIRED_VERSION}. Throws when no version in
 * the range will do.
 */
export function negotiateMicroversion(
  minimum: Microversion,
  maximum: Microversion,
  required: Microversion = REQUIRED_VERSION,
  preferred: Microversion = PREFERRED_VERSION,
): Microversion {
  if (compareMicroversions(maximum, required) < 0) {
    throw new Error(
      `Ironic API ${formatMicroversion(required)} or newer is required (for indicators), ` +
        `but the server offers ${formatMicroversion(minimum)} to ${formatMicroversion(maximum)}`,
    );
  }
  let chosen = compareMicroversions(maximum, preferred) < 0 ? maximum : preferred;
  if (compareMicroversions(chosen, minimum) < 0) chosen = minimum;
  if (chosen.major !== required.major) {
    throw new Error(
      `Ironic API major version ${chosen.major} is not supported; the client speaks ${required.major}.x ` +
        `(server offers ${formatMicroversion(minimum)} to ${formatMicroversion(maximum)})`,
    );
  }
  return chosen;
}

/**
 * Every vendor profile by name, and the parser of `--profile`.
 *
 * @module
 */
import { PROFILE_NAMES } from "../vendor-profile.ts";
import type { ProfileName, VendorProfile } from "../vendor-profile.ts";
import { DELL_IDRAC9 } from "./dell-idrac9.ts";
import { GENERIC } from "./generic.ts";
import { HPE_ILO5, HPE_ILO6 } from "./hpe-ilo.ts";
import { LENOVO_XCC } from "./lenovo-xcc.ts";
import { OPENBMC } from "./openbmc.ts";
import { SUPERMICRO } from "./supermicro.ts";

/** Every profile by name. */
export const PROFILES: Readonly<Record<ProfileName, VendorProfile>> = {
  generic: GENERIC,
  "dell-idrac9": DELL_IDRAC9,
  "hpe-ilo5": HPE_ILO5,
  "hpe-ilo6": HPE_ILO6,
  "lenovo-xcc": LENOVO_XCC,
  supermicro: SUPERMICRO,
  openbmc: OPENBMC,
};

/** The profile called `name`; a RangeError naming the value and the known names otherwise. */
export function profileNamed(name: string): VendorProfile {
  if (!(PROFILE_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(`unknown BMC profile ${JSON.stringify(name)}; known: ${PROFILE_NAMES.join(", ")}`);
  }
  return PROFILES[name as ProfileName];
}

/**
 * Parses a comma-separated profile list (`dell-idrac9,openbmc`): BMC `i` gets
 * entry `i` modulo the list's length, so one name gives every BMC that profile.
 */
export function parseProfileList(text: string): ProfileName[] {
  const names = text.split(",").map((n) => n.trim());
  if (names.length === 0 || names.some((n) => n === "")) {
    throw new RangeError(`a profile list must name profiles separated by commas, got ${JSON.stringify(text)}`);
  }
  return names.map((n) => profileNamed(n).name);
}

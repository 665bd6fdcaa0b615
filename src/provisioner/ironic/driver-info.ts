/**
 * The `driver_info` of an Ironic `redfish` node, built from a host's BMC
 * address and credentials the way the Metal3 baremetal-operator builds it:
 * `redfish://10.0.0.5/redfish/v1/Systems/1` becomes `redfish_address`
 * `https://10.0.0.5` and `redfish_system_id` `/redfish/v1/Systems/1`; the
 * `+http` and `+https` suffixes choose the scheme. Also what has to change
 * on an existing node to match ({@link driverInfoPatch}).
 *
 * @module
 */
import type { HostAccess } from "../provisioner.ts";
import { addressWithoutCredentials } from "../redfish/address.ts";
import type { JsonPatchOperation } from "./client.ts";

/** The Ironic driver every host is enrolled with. */
export const IRONIC_DRIVER = "redfish";

/** BMC address schemes that reach a Redfish BMC (Metal3's names), without the `+http`/`+https` suffix. */
export const REDFISH_SCHEMES: readonly string[] = ["redfish", "redfish-virtualmedia", "redfish-uefihttp"];

/** The `driver_info` keys bmc-operator manages. */
export interface RedfishDriverInfo {
  redfish_address: string;
  redfish_system_id?: string;
  redfish_username: string;
  redfish_password: string;
  redfish_verify_ca?: boolean;
}

/** Why an address cannot be used; the message names the address. */
export class UnsupportedAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsupportedAddressError";
  }
}

/**
 * Splits a BMC address into Ironic's `redfish_address` (scheme, host and
 * port) and `redfish_system_id` (the path, when there is one). Throws an
 * {@link UnsupportedAddressError} for any other scheme.
 */
export function redfishEndpoint(address: string): { address: string; systemId?: string } {
  const quoted = JSON.stringify(addressWithoutCredentials(address));
  const match = /^([a-z][a-z0-9-]*)(?:\+(https?))?:\/\//i.exec(address);
  if (match === null) {
    throw new UnsupportedAddressError(`BMC address ${quoted} has no scheme such as redfish://`);
  }
  const scheme = match[1]!.toLowerCase();
  if (!REDFISH_SCHEMES.includes(scheme)) {
    throw new UnsupportedAddressError(
      `BMC address ${quoted} uses ${scheme}://, but the Ironic provisioner enrolls only ` +
        `Redfish BMCs (${REDFISH_SCHEMES.map((s) => `${s}://`).join(", ")}, with an optional +http or +https)`,
    );
  }
  const transport = (match[2] ?? "https").toLowerCase();
  let url: URL;
  try {
    url = new URL(`${transport}://${address.slice(match[0].length)}`);
  } catch {
    throw new UnsupportedAddressError(`BMC address ${quoted} is not a valid URL`);
  }
  if (url.hostname === "") throw new UnsupportedAddressError(`BMC address ${quoted} has no host`);
  if (url.username !== "" || url.password !== "") {
    throw new UnsupportedAddressError("BMC address must not hold credentials; they belong in the credentials Secret");
  }
  const path = url.pathname.replace(/\/+$/, "");
  const systemId = path === "" || path === "/redfish/v1" ? undefined : decodeURI(path);
  return { address: `${url.protocol}//${url.host}`, ...(systemId !== undefined ? { systemId } : {}) };
}

/** The `driver_info` for a host: its Redfish endpoint, system, credentials and certificate check. */
export function redfishDriverInfo(host: HostAccess): RedfishDriverInfo {
  const endpoint = redfishEndpoint(host.address);
  return {
    redfish_address: endpoint.address,
    ...(endpoint.systemId !== undefined ? { redfish_system_id: endpoint.systemId } : {}),
    redfish_username: host.username,
    redfish_password: host.password,
    ...(host.disableCertificateVerification ? { redfish_verify_ca: false } : {}),
  };
}

/** Whether a `redfish_verify_ca` value turns verification off (Ironic reads strings as booleans too). */
function verificationOff(value: unknown): boolean {
  if (value === false) return true;
  return typeof value === "string" && ["false", "f", "no", "n", "off", "0"].includes(value.trim().toLowerCase());
}

/**
 * The JSON patch that brings a node's `driver_info` in line with `desired`,
 * leaving keys bmc-operator does not manage alone. Passwords cannot be
 * compared (Ironic masks them), so `includePassword` says whether to write it.
 */
export function driverInfoPatch(
  current: Record<string, unknown>,
  desired: RedfishDriverInfo,
  includePassword: boolean,
): JsonPatchOperation[] {
  const patch: JsonPatchOperation[] = [];
  const set = (key: keyof RedfishDriverInfo, value: unknown): void => {
    patch.push({ op: "add", path: `/driver_info/${key}`, value });
  };
  if (current.redfish_address !== desired.redfish_address) set("redfish_address", desired.redfish_address);
  if (desired.redfish_system_id !== undefined) {
    if (current.redfish_system_id !== desired.redfish_system_id) set("redfish_system_id", desired.redfish_system_id);
  } else if (current.redfish_system_id !== undefined) {
    patch.push({ op: "remove", path: "/driver_info/redfish_system_id" });
  }
  if (current.redfish_username !== desired.redfish_username) set("redfish_username", desired.redfish_username);
  if (includePassword) set("redfish_password", desired.redfish_password);
  if (desired.redfish_verify_ca === false) {
    if (!verificationOff(current.redfish_verify_ca)) set("redfish_verify_ca", false);
  } else if (current.redfish_verify_ca !== undefined && verificationOff(current.redfish_verify_ca)) {
    // Verification wanted: drop the "off"; a CA bundle path set by someone else stays.
    patch.push({ op: "remove", path: "/driver_info/redfish_verify_ca" });
  }
  return patch;
}

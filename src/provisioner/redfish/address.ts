/**
 * Metal3 BMC addresses for Redfish: `redfish://host[:port]/redfish/v1/Systems/1`
 * (HTTPS), `redfish+http://…` and `redfish+https://…`, and the other Metal3
 * schemes that reach a BMC over Redfish (`redfish-virtualmedia`,
 * `redfish-uefihttp`, `idrac-redfish`, `idrac-virtualmedia`, `ilo5-redfish`,
 * each with `+http` or `+https`). The path, when there is one, is the system's
 * resource path; without it, the BMC's only system is used.
 *
 * @module
 */
import { ProvisionerError } from "../provisioner.ts";

/** Schemes that reach a BMC over Redfish, as Metal3 names them (each also with `+http` and `+https`). */
export const REDFISH_SCHEMES: readonly string[] = [
  "redfish",
  "redfish-virtualmedia",
  "redfish-uefihttp",
  "idrac-redfish",
  "idrac-virtualmedia",
  "ilo5-redfish",
];

/** A parsed Redfish BMC address. */
export interface RedfishAddress {
  /** The scheme as written, for example `redfish+http`. */
  scheme: string;
  /** `http:` or `https:`. */
  protocol: "http:" | "https:";
  /** Where requests go, for example `https://10.0.0.5` or `http://[fd00::5]:8000`. */
  origin: string;
  /** `host:port` with the port always given: the BMC's key for the call limiter. */
  key: string;
  /** The system's resource path, or `undefined` when the address names none. */
  systemPath: string | undefined;
  /** The address for messages and logs: never holds credentials. */
  display: string;
}

/**
 * Parses a Metal3 Redfish BMC address. Throws a `ProvisionerError` of kind
 * `Unsupported`, naming the address, for any other scheme (`ipmi://`,
 * `idrac://`, a bare `host:port`, …) or an address that cannot be used.
 */
export function parseRedfishAddress(address: string): RedfishAddress {
  const trimmed = address.trim();
  if (trimmed === "") throw new ProvisionerError("Unsupported", "the host has no BMC address (spec.bmc.address is empty)");
  const match = /^([A-Za-z][A-Za-z0-9.+-]*):\/\/(.*)$/s.exec(trimmed);
  if (match === null) {
    // Metal3 reads an address without a scheme as IPMI.
    throw unsupported(address, "it has no scheme, which Metal3 reads as IPMI");
  }
  const scheme = match[1]!.toLowerCase();
  const rest = match[2]!;
  const plus = scheme.indexOf("+");
  const base = plus < 0 ? scheme : scheme.slice(0, plus);
  const transport = plus < 0 ? "https" : scheme.slice(plus + 1);
  if (!REDFISH_SCHEMES.includes(base) || (transport !== "http" && transport !== "https")) {
    throw unsupported(address, `scheme "${scheme}" does not reach the BMC over Redfish`);
  }
  let url: URL;
  try {
    url = new URL(`${transport}://${rest}`);
  } catch {
    throw unsupported(address, "it is not a valid URL");
  }
  if (url.username !== "" || url.password !== "") {
    throw unsupported(
      address,
      "it carries credentials in the URL; put them in the Secret named by spec.bmc.credentialsName",
    );
  }
  if (url.hostname === "") throw unsupported(address, "it has no host");
  const protocol = url.protocol as "http:" | "https:";
  const port = url.port === "" ? (protocol === "https:" ? "443" : "80") : url.port;
  const path = url.pathname.replace(/\/+$/, "");
  const systemPath = path === "" || path === "/redfish/v1" ? undefined : path;
  return {
    scheme,
    protocol,
    origin: url.origin,
    key: `${url.hostname}:${port}`,
    systemPath,
    display: `${scheme}://${url.host}${systemPath ?? ""}`,
  };
}

/** The address with everything up to its last `@` after `//` removed, so any credentials in it are gone: safe to quote. */
export function addressWithoutCredentials(address: string): string {
  return address.replace(/^([^/]*\/\/).*@/s, "$1");
}

function unsupported(address: string, why: string): ProvisionerError {
  return new ProvisionerError(
    "Unsupported",
    `BMC address ${JSON.stringify(addressWithoutCredentials(address))} cannot be used by the redfish provisioner: ${why}; ` +
      `use redfish://, redfish+http:// or redfish+https:// followed by the host and the system path`,
  );
}

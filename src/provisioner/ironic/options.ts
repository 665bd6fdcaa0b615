/**
 * The Ironic provisioner's settings from the environment, with the Metal3
 * baremetal-operator's variable names and file locations, so a deployment
 * made for it works unchanged:
 *
 * | Variable | Meaning | Default |
 * |---|---|---|
 * | `IRONIC_ENDPOINT` | Ironic's URL | required |
 * | `METAL3_AUTH_ROOT_DIR` | holds `ironic/username` and `ironic/password` for HTTP Basic auth | `/opt/metal3/auth` |
 * | `IRONIC_CACERT_FILE` | CA bundle for Ironic's certificate | `/opt/metal3/certs/ca/tls.crt`, when present |
 * | `IRONIC_CLIENT_CERT_FILE`, `IRONIC_CLIENT_PRIVATE_KEY_FILE` | client certificate and key (mutual TLS) | `/opt/metal3/certs/client/tls.{crt,key}`, when present |
 * | `IRONIC_INSECURE` | `true`: do not verify Ironic's certificate | `false` |
 * | `IRONIC_CLIENT_TIMEOUT` | per-request timeout (`30s`, `2m`, or seconds) | `30s` |
 * | `IRONIC_REGISTER_HOSTS` | `false`: never enroll nodes, only look them up | `true` |
 *
 * Command-line flags (`--ironic-endpoint` …) override the variables; see
 * {@link IronicSettings}.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDuration } from "../../cli/duration.ts";
import type { IronicClientOptions } from "./client.ts";
import type { IronicProvisionerOptions } from "./provisioner.ts";

/** Where Metal3 mounts Ironic's credentials and certificates. */
export const METAL3_DEFAULTS = {
  authRootDir: "/opt/metal3/auth",
  caCertFile: "/opt/metal3/certs/ca/tls.crt",
  clientCertFile: "/opt/metal3/certs/client/tls.crt",
  clientKeyFile: "/opt/metal3/certs/client/tls.key",
} as const;

/** The settings, before any file is read. Each matches a flag and a variable. */
export interface IronicSettings {
  /** `--ironic-endpoint`, `IRONIC_ENDPOINT`. */
  endpoint: string;
  /** `--ironic-auth-dir`, `METAL3_AUTH_ROOT_DIR`: HTTP Basic credentials in `<dir>/ironic/{username,password}`. */
  authRootDir: string;
  /** `--ironic-cacert-file`, `IRONIC_CACERT_FILE`. */
  caCertFile?: string;
  /** `--ironic-client-cert-file`, `IRONIC_CLIENT_CERT_FILE`. */
  clientCertFile?: string;
  /** `--ironic-client-key-file`, `IRONIC_CLIENT_PRIVATE_KEY_FILE`. */
  clientKeyFile?: string;
  /** `--ironic-insecure`, `IRONIC_INSECURE`. */
  insecure: boolean;
  /** `--ironic-timeout`, `IRONIC_CLIENT_TIMEOUT`, in milliseconds. */
  timeoutMs: number;
  /** `--ironic-register-hosts`, `IRONIC_REGISTER_HOSTS`. */
  registerHosts: boolean;
}

/** Reads a boolean variable: true/false, yes/no, 1/0 (any case). Throws naming the variable and value. */
export function parseBoolean(text: string, what: string): boolean {
  const value = text.trim().toLowerCase();
  if (["true", "yes", "1", "on"].includes(value)) return true;
  if (["false", "no", "0", "off", ""].includes(value)) return false;
  throw new Error(`${what} must be true or false, got ${JSON.stringify(text)}`);
}

/**
 * The settings from environment variables, each overridden by `flags` where
 * given. Throws, naming the variable, when one is malformed or the endpoint is
 * missing.
 */
export function ironicSettingsFromEnv(
  env: Record<string, string | undefined> = process.env,
  flags: Partial<IronicSettings> = {},
): IronicSettings {
  const endpoint = flags.endpoint ?? env.IRONIC_ENDPOINT;
  if (endpoint === undefined || endpoint.trim() === "") {
    throw new Error("the Ironic provisioner needs Ironic's URL: set --ironic-endpoint or IRONIC_ENDPOINT");
  }
  const settings: IronicSettings = {
    endpoint: endpoint.trim(),
    authRootDir: flags.authRootDir ?? env.METAL3_AUTH_ROOT_DIR ?? METAL3_DEFAULTS.authRootDir,
    insecure: flags.insecure ?? parseBoolean(env.IRONIC_INSECURE ?? "false", "IRONIC_INSECURE"),
    timeoutMs: flags.timeoutMs ?? parseDuration(env.IRONIC_CLIENT_TIMEOUT ?? "30s", "IRONIC_CLIENT_TIMEOUT"),
    registerHosts: flags.registerHosts ?? parseBoolean(env.IRONIC_REGISTER_HOSTS ?? "true", "IRONIC_REGISTER_HOSTS"),
  };
  const caCertFile = flags.caCertFile ?? env.IRONIC_CACERT_FILE;
  const clientCertFile = flags.clientCertFile ?? env.IRONIC_CLIENT_CERT_FILE;
  const clientKeyFile = flags.clientKeyFile ?? env.IRONIC_CLIENT_PRIVATE_KEY_FILE;
  if (caCertFile) settings.caCertFile = caCertFile;
  if (clientCertFile) settings.clientCertFile = clientCertFile;
  if (clientKeyFile) settings.clientKeyFile = clientKeyFile;
  if (!(settings.timeoutMs > 0)) throw new Error(`IRONIC_CLIENT_TIMEOUT must be positive, got ${settings.timeoutMs} ms`);
  return settings;
}

type ReadFile = (path: string) => string;

const readText: ReadFile = (path) => readFileSync(path, "utf8");

function readNamed(path: string, what: string, read: ReadFile): string {
  try {
    return read(path);
  } catch (error) {
    throw new Error(`cannot read ${what} ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The client options for the settings: reads the Basic credentials when both
 * files exist under `authRootDir/ironic/`, and the certificates. A file named
 * explicitly must exist; the Metal3 default paths are used only when present.
 */
export function ironicClientOptions(
  settings: IronicSettings,
  read: ReadFile = readText,
  exists: (path: string) => boolean = existsSync,
): IronicClientOptions {
  const options: IronicClientOptions = { endpoint: settings.endpoint, timeoutMs: settings.timeoutMs };
  const usernameFile = join(settings.authRootDir, "ironic", "username");
  const passwordFile = join(settings.authRootDir, "ironic", "password");
  const hasUsername = exists(usernameFile);
  const hasPassword = exists(passwordFile);
  if (hasUsername !== hasPassword) {
    throw new Error(
      `Ironic HTTP Basic auth needs both ${usernameFile} and ${passwordFile}; only ${hasUsername ? usernameFile : passwordFile} exists`,
    );
  }
  if (hasUsername) {
    options.username = readNamed(usernameFile, "the Ironic username file", read).trim();
    // The password is read as written, without its last line break only.
    options.password = readNamed(passwordFile, "the Ironic password file", read).replace(/\r?\n$/, "");
  }
  if (settings.endpoint.startsWith("https:")) {
    const ca = settings.caCertFile ?? (exists(METAL3_DEFAULTS.caCertFile) ? METAL3_DEFAULTS.caCertFile : undefined);
    if (ca !== undefined) options.ca = readNamed(ca, "the Ironic CA file", read);
    let cert = settings.clientCertFile;
    let key = settings.clientKeyFile;
    if (cert === undefined && key === undefined && exists(METAL3_DEFAULTS.clientCertFile) && exists(METAL3_DEFAULTS.clientKeyFile)) {
      cert = METAL3_DEFAULTS.clientCertFile;
      key = METAL3_DEFAULTS.clientKeyFile;
    }
    if ((cert === undefined) !== (key === undefined)) {
      throw new Error("an Ironic client certificate needs both IRONIC_CLIENT_CERT_FILE and IRONIC_CLIENT_PRIVATE_KEY_FILE");
    }
    if (cert !== undefined && key !== undefined) {
      options.cert = readNamed(cert, "the Ironic client certificate", read);
      options.key = readNamed(key, "the Ironic client key", read);
    }
    if (settings.insecure) options.insecure = true;
  } else if (settings.caCertFile !== undefined || settings.clientCertFile !== undefined || settings.insecure) {
    throw new Error(`TLS settings were given but the Ironic endpoint ${settings.endpoint} is plain http`);
  }
  return options;
}

/** The provisioner options (without the limiter) from the environment and flags. */
export function ironicProvisionerOptionsFromEnv(
  env: Record<string, string | undefined> = process.env,
  flags: Partial<IronicSettings> = {},
): IronicProvisionerOptions {
  const settings = ironicSettingsFromEnv(env, flags);
  return { client: ironicClientOptions(settings), registerHosts: settings.registerHosts };
}

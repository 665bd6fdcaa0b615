/**
 * A real Ironic for the tests: one all-in-one process (API and conductor,
 * sqlite, no RPC) per call to {@link startIronic}, on a free port of
 * 127.0.0.1, with the `redfish` and `fake-hardware` hardware types enabled.
 *
 * Two releases, both from Debian's archive (`scripts/install-ironic.sh`):
 *
 * - `bookworm`: Ironic 21.4.4 with sushy 4.3.3, Debian bookworm's
 *   `python3-ironic` on this machine, run by `/usr/bin/python3` (or
 *   `IRONIC_PYTHON`).
 * - `trixie`: Ironic 29.0.5 with sushy 5.5.0, in a Debian trixie root made
 *   with debootstrap at `IRONIC_TRIXIE_ROOT` (default
 *   `/var/cache/bmc-operator/ironic-trixie`), run with `chroot <root>
 *   /usr/bin/python3` (which needs root). It shares this machine's network,
 *   so it reaches emulated BMCs on 127.0.0.1; its configuration, database and
 *   log live in a directory under the root's `/tmp`.
 *
 * The suites run once per release of {@link ironicReleases} (`IRONIC_RELEASES`,
 * default `bookworm,trixie`), titled with {@link IronicRelease.label}
 * (`Ironic 21.4.4`). {@link startIronic} starts `options.release`, else
 * `IRONIC_RELEASE` (default `bookworm`). Where a release is missing,
 * {@link ironicSkipReason} skips its suites, except on CI (`CI=true`), where
 * it fails and names the install script.
 *
 * ```ts
 * for (const release of ironicReleases()) {
 *   describe(`my suite (${release.label})`, { skip: ironicSkipReason(release) }, () => {
 *     let ironic: IronicServer;
 *     before(async () => (ironic = await startIronic({ release })));
 *     after(() => ironic.close());
 *   });
 * }
 * ```
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { TestContext } from "node:test";

/** The Python that runs bookworm's Ironic: Debian's, which has the `python3-ironic` modules. */
export const IRONIC_PYTHON: string = process.env.IRONIC_PYTHON ?? "/usr/bin/python3";

/** The Debian trixie root holding Ironic 29 (made by the install script). */
export const IRONIC_TRIXIE_ROOT: string = process.env.IRONIC_TRIXIE_ROOT ?? "/var/cache/bmc-operator/ironic-trixie";

/** The script that installs Ironic, named in every "Ironic is missing" message. */
export const INSTALL_SCRIPT = "scripts/install-ironic.sh";

/** The Debian releases whose Ironic the tests run. */
export const IRONIC_RELEASE_NAMES = ["bookworm", "trixie"] as const;
export type IronicReleaseName = (typeof IRONIC_RELEASE_NAMES)[number];

/** Ironic ≥30 moved its entry points from `ironic.cmd` to `ironic.command`. */
const COMMAND_PACKAGES = ["ironic.command", "ironic.cmd"] as const;

/** Where a release's Ironic is: the package of its entry points, the `ironic` package's directory, the versions. */
interface IronicInstall {
  commandPackage: string;
  /** As the release's Python sees it (inside the root for trixie). */
  packageDir: string;
  ironicVersion: string;
  sushyVersion: string;
}

/** One Ironic release the tests can run. */
export interface IronicRelease {
  readonly name: IronicReleaseName;
  /** For suite titles: `Ironic 21.4.4`, or `Ironic (trixie, not installed)`. */
  readonly label: string;
  /** Ironic's version (`29.0.5`), or undefined when it is not installed. */
  readonly version: string | undefined;
  /** sushy's version (`5.5.0`), or undefined when it is not installed. */
  readonly sushyVersion: string | undefined;
  /**
   * Whether it lists disk lights: Ironic ≥ 23.1 reads them from the System's
   * Storage → Drives; older ones read SimpleStorage, where sushy 4.x finds no drives.
   */
  readonly listsDiskLights: boolean;
  /**
   * Whether, stopped (SIGTERM), it answers the API calls in flight before it
   * exits: 29.0.5 does; 21.4.4 finishes the work at the BMC but cuts the answer off.
   */
  readonly answersInFlightOnStop: boolean;
  /** The root Ironic runs in (`/` for bookworm). */
  readonly root: string;
  /** The command that runs the release's Python, before the Python arguments. */
  readonly python: readonly string[];
}

const installs = new Map<IronicReleaseName, IronicInstall | null>();

function pythonCommand(name: IronicReleaseName): string[] {
  return name === "trixie" ? ["/usr/sbin/chroot", IRONIC_TRIXIE_ROOT, "/usr/bin/python3"] : [IRONIC_PYTHON];
}

function rootOf(name: IronicReleaseName): string {
  return name === "trixie" ? IRONIC_TRIXIE_ROOT : "/";
}

/** Finds a release's Ironic (without starting it), or null when Ironic (or sushy) cannot be imported. */
function findIronic(name: IronicReleaseName): IronicInstall | null {
  const known = installs.get(name);
  if (known !== undefined) return known;
  installs.set(name, null);
  const [command, ...args] = pythonCommand(name);
  if (name === "trixie" ? !existsSync(join(IRONIC_TRIXIE_ROOT, "usr/bin/python3")) : !existsSync(command!)) return null;
  const probe = [
    "import importlib.util, importlib.metadata, sys",
    "if importlib.util.find_spec('sushy') is None: sys.exit(1)",
    "versions = importlib.metadata.version('ironic') + ' ' + importlib.metadata.version('sushy')",
    ...COMMAND_PACKAGES.map(
      (pkg) =>
        `try:\n  if importlib.util.find_spec('${pkg}.singleprocess'):\n` +
        `    print('${pkg}'); print(importlib.util.find_spec('ironic').submodule_search_locations[0]); print(versions); sys.exit(0)\n` +
        `except ImportError: pass`,
    ),
    "sys.exit(1)",
  ].join("\n");
  const result = spawnSync(command!, [...args, "-c", probe], { encoding: "utf8", timeout: 30_000 });
  const [commandPackage, packageDir, versions] = (result.stdout ?? "").trim().split("\n");
  const [ironicVersion, sushyVersion] = (versions ?? "").split(" ");
  if (result.status === 0 && commandPackage && packageDir && ironicVersion && sushyVersion) {
    installs.set(name, { commandPackage, packageDir, ironicVersion, sushyVersion });
  }
  return installs.get(name) ?? null;
}

/** Whether a version (`29.0.5`) is at least `[major, minor]`. */
function atLeast(version: string, [major, minor]: [number, number]): boolean {
  const [a = 0, b = 0] = version.split(".").map(Number);
  return a !== major ? a > major : b >= minor;
}

/** The release called `name`. */
export function ironicRelease(name: IronicReleaseName): IronicRelease {
  const found = findIronic(name);
  return {
    name,
    label: found ? `Ironic ${found.ironicVersion}` : `Ironic (${name}, not installed)`,
    version: found?.ironicVersion,
    sushyVersion: found?.sushyVersion,
    listsDiskLights: found !== undefined && found !== null && atLeast(found.ironicVersion, [23, 1]),
    answersInFlightOnStop: found !== undefined && found !== null && atLeast(found.ironicVersion, [29, 0]),
    root: rootOf(name),
    python: pythonCommand(name),
  };
}

function parseReleaseName(value: string, variable: string): IronicReleaseName {
  const name = value.trim();
  if (!(IRONIC_RELEASE_NAMES as readonly string[]).includes(name)) {
    throw new Error(`${variable}: unknown Ironic release ${JSON.stringify(name)} (expected ${IRONIC_RELEASE_NAMES.join(" or ")})`);
  }
  return name as IronicReleaseName;
}

/** The releases the Ironic suites run against: `IRONIC_RELEASES` (comma-separated), default every release. */
export function ironicReleases(): IronicRelease[] {
  const value = process.env.IRONIC_RELEASES;
  const names = value === undefined || value.trim() === ""
    ? [...IRONIC_RELEASE_NAMES]
    : [...new Set(value.split(",").filter((v) => v.trim() !== "").map((v) => parseReleaseName(v, "IRONIC_RELEASES")))];
  return names.map(ironicRelease);
}

/** The release {@link startIronic} starts when not told: `IRONIC_RELEASE`, default `bookworm`. */
export function defaultIronicRelease(): IronicRelease {
  const value = process.env.IRONIC_RELEASE;
  return ironicRelease(value === undefined || value.trim() === "" ? "bookworm" : parseReleaseName(value, "IRONIC_RELEASE"));
}

function releaseOf(release: IronicRelease | IronicReleaseName | undefined): IronicRelease {
  if (release === undefined) return defaultIronicRelease();
  return typeof release === "string" ? ironicRelease(release) : release;
}

/**
 * Where a database with Ironic's schema is kept between test runs, so each
 * start copies it instead of running `dbsync` (about 1.5 s). Keyed by the
 * Ironic installation and its migrations, so an upgrade makes a new one.
 */
function schemaTemplatePath(release: IronicRelease, found: IronicInstall): string {
  const migrations = join(release.root, found.packageDir, "db", "sqlalchemy", "alembic", "versions");
  let stamp = "none";
  try {
    const stat = statSync(migrations);
    stamp = `${stat.mtimeMs}:${readdirSync(migrations).length}`;
  } catch {
    // no migrations directory: key on the package directory alone
  }
  const key = createHash("sha256")
    .update(`${release.python.join(" ")}\0${found.packageDir}\0${found.ironicVersion}\0${stamp}`)
    .digest("hex")
    .slice(0, 16);
  return join(tmpdir(), `bmc-operator-ironic-schema-${key}.sqlite`);
}

/** Whether a release's Ironic can be started here (default: {@link defaultIronicRelease}). */
export function ironicAvailable(release?: IronicRelease | IronicReleaseName): boolean {
  return findIronic(releaseOf(release).name) !== null;
}

function missingMessage(release: IronicRelease): string {
  if (release.name === "trixie") {
    return (
      `Ironic 29 (Debian trixie) is not installed: chroot ${IRONIC_TRIXIE_ROOT} /usr/bin/python3 cannot import ironic ` +
      `(${COMMAND_PACKAGES.join(" or ")}) and sushy (the root is missing, or this process is not root); ` +
      `run ${INSTALL_SCRIPT} trixie`
    );
  }
  return (
    `Ironic is not installed: ${IRONIC_PYTHON} cannot import ironic (${COMMAND_PACKAGES.join(" or ")}) ` +
    `and sushy; run ${INSTALL_SCRIPT}`
  );
}

/**
 * For `describe(name, { skip: ironicSkipReason(release) }, …)`: false when
 * the release's Ironic is available, else the reason to skip. Throws when
 * `CI=true`, because CI must run the Ironic tests.
 */
export function ironicSkipReason(release?: IronicRelease | IronicReleaseName): string | false {
  const chosen = releaseOf(release);
  if (ironicAvailable(chosen)) return false;
  if (process.env.CI === "true") throw new Error(`${missingMessage(chosen)} (CI=true: the Ironic tests must run on CI)`);
  return missingMessage(chosen);
}

/**
 * For the first line of a test: `if (!requireIronic(t)) return;`. Skips the
 * test when the release's Ironic is missing, or throws when `CI=true`.
 */
export function requireIronic(t: TestContext, release?: IronicRelease | IronicReleaseName): boolean {
  const reason = ironicSkipReason(release);
  if (reason === false) return true;
  t.skip(reason);
  return false;
}

/** What to run Ironic with. */
export interface IronicOptions {
  /** Which Ironic to start. Default {@link defaultIronicRelease} (`IRONIC_RELEASE`, else bookworm). */
  release?: IronicRelease | IronicReleaseName;
  /** Require HTTP Basic auth (`auth_strategy = http_basic`) with this one user. */
  httpBasic?: { username: string; password: string };
  /** Serve HTTPS with this certificate; with `clientCAFile`, require client certificates it signed. */
  tls?: { certFile: string; keyFile: string; clientCAFile?: string };
  /**
   * More configuration, section name to option to value; wins over the
   * defaults. Ironic 29 reads any file path in it inside its root.
   */
  config?: Record<string, Record<string, string | number | boolean>>;
  /** How long to wait for Ironic to answer after starting it. Default 90 s (a busy 2-core machine). */
  startTimeoutMs?: number;
}

/** A running Ironic. */
export interface IronicServer {
  /** `http://127.0.0.1:<port>` (or `https://`), no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Ironic's log, stdout and stderr included (a path on this machine, also for trixie). */
  readonly logPath: string;
  /** The directory holding the configuration, database and log (on this machine). */
  readonly dir: string;
  /** The release running. */
  readonly release: IronicRelease;
  /** Whether the process is running now. */
  readonly running: boolean;
  /** Stops the process (SIGTERM, then SIGKILL); the database and port stay for {@link start}. */
  stop(): Promise<void>;
  /** Starts the process again after {@link stop}, with the same database and port. */
  start(): Promise<void>;
  /** Stops and starts again. */
  restart(): Promise<void>;
  /** Kills the process at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** The last lines of the log, for failure messages. */
  logTail(lines?: number): string;
  /** Stops the process and removes its directory, unless `IRONIC_KEEP_DIR=1`. */
  close(): Promise<void>;
}

const STOP_GRACE_MS = 10_000;

/** Every Ironic process this test process started, killed when it exits. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of running) child.kill("SIGKILL");
  });
}

/** A port on 127.0.0.1 that no socket holds now (bound without SO_REUSEPORT, so a reuse-port holder blocks it too). */
async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}

function iniValue(value: string | number | boolean): string {
  return String(value);
}

function renderConfig(sections: Record<string, Record<string, string | number | boolean>>): string {
  return Object.entries(sections)
    .map(
      ([section, options]) =>
        `[${section}]\n` +
        Object.entries(options)
          .map(([key, value]) => `${key} = ${iniValue(value)}\n`)
          .join(""),
    )
    .join("\n");
}

function baseConfig(dir: string, port: number, logPath: string): Record<string, Record<string, string | number | boolean>> {
  return {
    DEFAULT: {
      host: `test-conductor-${port}`,
      auth_strategy: "noauth",
      rpc_transport: "none",
      state_path: dir,
      log_file: logPath,
      debug: false,
      enabled_hardware_types: "redfish,fake-hardware",
      enabled_power_interfaces: "redfish,fake",
      enabled_management_interfaces: "redfish,fake",
      enabled_vendor_interfaces: "redfish,fake,no-vendor",
      enabled_boot_interfaces: "fake,pxe",
      enabled_deploy_interfaces: "fake,direct",
      enabled_inspect_interfaces: "no-inspect",
      enabled_bios_interfaces: "no-bios",
      enabled_raid_interfaces: "no-raid",
      enabled_network_interfaces: "noop",
      default_network_interface: "noop",
      enabled_console_interfaces: "no-console",
    },
    api: { host_ip: "127.0.0.1", port },
    database: { connection: `sqlite:///${join(dir, "ironic.sqlite")}` },
    dhcp: { dhcp_provider: "none" },
    conductor: { sync_power_state_interval: -1 },
    // An unreachable BMC fails after one try instead of 5 tries 4 s apart.
    redfish: { connection_attempts: 1, connection_retry_interval: 1 },
  };
}

function mergeConfig(
  base: Record<string, Record<string, string | number | boolean>>,
  extra: Record<string, Record<string, string | number | boolean>> | undefined,
): Record<string, Record<string, string | number | boolean>> {
  const merged = structuredClone(base);
  for (const [section, options] of Object.entries(extra ?? {})) {
    merged[section] = { ...merged[section], ...options };
  }
  return merged;
}

/** Runs an Ironic entry point (`dbsync`, `singleprocess`) with the given arguments. */
function entryPointArgs(module: string, args: string[]): string[] {
  // Kill Ironic when the test process dies, however it dies (PR_SET_PDEATHSIG = 1, SIGKILL = 9).
  const code = [
    "import ctypes, sys",
    "try: ctypes.CDLL(None).prctl(1, 9)",
    "except Exception: pass",
    `from ${module} import main`,
    "sys.exit(main())",
  ].join("\n");
  return ["-c", code, ...args];
}

function tail(text: string, lines: number): string {
  return text.split("\n").slice(-lines - 1).join("\n");
}

/** Inodes of the sockets listening on 127.0.0.1:port (or any address) over TCP, from /proc/net/tcp. */
function listeningInodes(port: number): string[] | null {
  let table: string;
  try {
    table = readFileSync("/proc/net/tcp", "utf8");
  } catch {
    return null; // not Linux: cannot check
  }
  const portHex = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes: string[] = [];
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (local === undefined || fields[3] !== "0A") continue; // 0A = LISTEN
    if (local.endsWith(`:${portHex}`) && fields[9] !== undefined) inodes.push(fields[9]);
  }
  return inodes;
}

function socketInodesOf(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1] !== undefined) inodes.add(match[1]);
    } catch {
      // the descriptor closed meanwhile
    }
  }
  return inodes;
}

/**
 * Checks that every socket listening on the port belongs to the process we
 * started: eventlet binds with SO_REUSEPORT, so a second Ironic on the same
 * port would silently share the requests.
 */
function assertSoleListener(port: number, pid: number): void {
  const inodes = listeningInodes(port);
  if (inodes === null) return;
  const ours = socketInodesOf(pid);
  const foreign = inodes.filter((inode) => !ours.has(inode));
  if (inodes.length === 0 || foreign.length > 0) {
    throw new Error(
      `port ${port} is not served by our Ironic (pid ${pid}) alone: ` +
        `${inodes.length} listening socket(s), ${foreign.length} of another process`,
    );
  }
}

/** Resolves once a TLS handshake with 127.0.0.1:port completes (the certificate is not checked). */
async function tlsHandshake(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false, timeout: 5_000 });
    socket.once("secureConnect", () => {
      socket.destroy();
      resolve();
    });
    socket.once("timeout", () => {
      socket.destroy();
      reject(new Error("TLS handshake timed out"));
    });
    socket.once("error", reject);
  });
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Starts Ironic: writes its configuration in a new temporary directory,
 * creates the sqlite schema, starts the all-in-one process on a free port and
 * waits until `GET /` answers. Stop it with `close()`; it is also killed when
 * the test process exits.
 */
export async function startIronic(options: IronicOptions = {}): Promise<IronicServer> {
  const release = releaseOf(options.release);
  const found = findIronic(release.name);
  if (found === null) throw new Error(missingMessage(release));
  const pkg = found.commandPackage;
  const [pythonCommandName, ...pythonArgs] = release.python as [string, ...string[]];
  installExitHook();

  // Ironic in a root sees only the root: its files live in the root's /tmp, named there by `inRoot`.
  const base = release.root === "/" ? tmpdir() : join(release.root, "tmp");
  if (release.root !== "/") mkdirSync(base, { recursive: true, mode: 0o1777 });
  const dir = await mkdtemp(join(base, "bmc-operator-ironic-"));
  const inRoot = (path: string): string => (release.root === "/" ? path : `/${relative(release.root, path)}`);
  const logPath = join(dir, "ironic.log");
  const configPath = join(dir, "ironic.conf");
  const scheme = options.tls ? "https" : "http";
  const startTimeoutMs = options.startTimeoutMs ?? 90_000;

  const extra = structuredClone(options.config ?? {});
  if (options.httpBasic) {
    const { username, password } = options.httpBasic;
    if (username.includes(":")) throw new Error(`HTTP Basic username ${JSON.stringify(username)} contains ":"`);
    const hashed = spawnSync(
      pythonCommandName,
      [...pythonArgs, "-c", "import bcrypt, sys; print(bcrypt.hashpw(sys.stdin.read().encode(), bcrypt.gensalt(4)).decode())"],
      { input: password, encoding: "utf8", timeout: 30_000 },
    );
    if (hashed.status !== 0) throw new Error(`hashing the HTTP Basic password failed: ${hashed.stderr}`);
    const htpasswd = join(dir, "htpasswd");
    await writeFile(htpasswd, `${username}:${hashed.stdout.trim()}\n`, { mode: 0o600 });
    extra.DEFAULT = { auth_strategy: "http_basic", http_basic_auth_user_file: inRoot(htpasswd), ...extra.DEFAULT };
  }
  if (options.tls) {
    // Copied into Ironic's directory, where Ironic in a root can read them too.
    const copy = async (from: string, name: string): Promise<string> => {
      const to = join(dir, name);
      await copyFile(from, to);
      return inRoot(to);
    };
    extra.api = { enable_ssl_api: true, ...extra.api };
    extra.ssl = {
      cert_file: await copy(options.tls.certFile, "tls-cert.pem"),
      key_file: await copy(options.tls.keyFile, "tls-key.pem"),
      ...(options.tls.clientCAFile ? { ca_file: await copy(options.tls.clientCAFile, "tls-client-ca.pem") } : {}),
      ...extra.ssl,
    };
  }

  let port = 0;
  const writeConfig = async (): Promise<void> => {
    await writeFile(configPath, renderConfig(mergeConfig(baseConfig(inRoot(dir), port, inRoot(logPath)), extra)));
  };

  const run = async (module: string, args: string[], timeoutMs: number): Promise<void> => {
    const log = openSync(logPath, "a");
    try {
      const child = spawn(pythonCommandName, [...pythonArgs, ...entryPointArgs(module, args)], {
        cwd: dir,
        stdio: ["ignore", log, log],
      });
      running.add(child);
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const code = await new Promise<number | null>((resolve, reject) => {
        child.once("error", reject);
        child.once("exit", (status) => resolve(status));
      }).finally(() => {
        clearTimeout(timer);
        running.delete(child);
      });
      if (code !== 0) {
        throw new Error(`${module} ${args.join(" ")} exited with ${code}:\n${tail(readFileSync(logPath, "utf8"), 20)}`);
      }
    } finally {
      closeSync(log);
    }
  };

  /** Copies the cached schema, or runs `dbsync` and caches its result (atomically: other test files may race). */
  const createSchema = async (): Promise<void> => {
    const database = join(dir, "ironic.sqlite");
    const template = schemaTemplatePath(release, found);
    if (existsSync(template)) {
      await copyFile(template, database);
      return;
    }
    await run(`${pkg}.dbsync`, ["--config-file", inRoot(configPath), "create_schema"], 120_000);
    const partial = `${template}.${process.pid}.partial`;
    await copyFile(database, partial);
    await rename(partial, template);
  };

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const waitReady = async (proc: ChildProcess): Promise<void> => {
    const deadline = Date.now() + startTimeoutMs;
    let lastError = "no answer yet";
    let dead = false;
    void exited.then(() => (dead = true));
    while (Date.now() < deadline) {
      if (dead) break;
      try {
        if (scheme === "https") {
          await tlsHandshake(port);
          return;
        }
        const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5_000) });
        const body = (await response.json()) as { name?: string };
        if (response.ok && typeof body.name === "string" && body.name.includes("Ironic")) return;
        lastError = `GET / answered ${response.status}`;
      } catch (error) {
        lastError = describeError(error);
      }
      await sleep(200);
    }
    const why = dead ? `exited with ${proc.exitCode ?? proc.signalCode}` : `did not answer within ${startTimeoutMs} ms (${lastError})`;
    throw new Error(`Ironic on port ${port} ${why}; log ${logPath}:\n${tail(readFileSync(logPath, "utf8"), 30)}`);
  };

  const launch = async (): Promise<void> => {
    const log = openSync(logPath, "a");
    let proc: ChildProcess;
    try {
      proc = spawn(pythonCommandName, [...pythonArgs, ...entryPointArgs(`${pkg}.singleprocess`, ["--config-file", inRoot(configPath)])], {
        cwd: dir,
        stdio: ["ignore", log, log],
      });
    } finally {
      closeSync(log);
    }
    child = proc;
    running.add(proc);
    exited = new Promise<void>((resolve) => {
      proc.once("exit", () => {
        running.delete(proc);
        resolve();
      });
      proc.once("error", () => {
        running.delete(proc);
        resolve();
      });
    });
    try {
      await waitReady(proc);
      assertSoleListener(port, proc.pid ?? -1);
    } catch (error) {
      await stopProcess("SIGKILL");
      throw error;
    }
  };

  const stopProcess = async (signal: "SIGTERM" | "SIGKILL"): Promise<void> => {
    const proc = child;
    if (proc === undefined) return;
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill(signal);
      const killer = setTimeout(() => proc.kill("SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(killer);
    }
    child = undefined;
  };

  // Pick a port, write the config, create the schema and start; retry on a port race.
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    port = await freePort();
    await writeConfig();
    try {
      if (attempt === 0) await createSchema();
      await launch();
      lastError = undefined;
      break;
    } catch (error) {
      lastError = error instanceof Error ? error : new Error(String(error));
      if (!lastError.message.includes("is not served by our Ironic")) break;
    }
  }
  if (lastError !== undefined) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw lastError;
  }

  const url = `${scheme}://127.0.0.1:${port}`;
  const server: IronicServer = {
    url,
    port,
    logPath,
    dir,
    release,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    stop: () => stopProcess("SIGTERM"),
    kill: () => stopProcess("SIGKILL"),
    async start() {
      if (server.running) return;
      await launch();
    },
    async restart() {
      await stopProcess("SIGTERM");
      await launch();
    },
    logTail(lines = 30) {
      try {
        return tail(readFileSync(logPath, "utf8"), lines);
      } catch {
        return "";
      }
    },
    async close() {
      await stopProcess("SIGTERM");
      if (process.env.IRONIC_KEEP_DIR !== "1") await rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Reads the whole log of a server (for assertions about what Ironic logged). */
export async function readIronicLog(server: IronicServer): Promise<string> {
  return await readFile(server.logPath, "utf8");
}

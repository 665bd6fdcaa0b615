/**
 * `npm run bmc-emulator -- --count <n> [--port <first port>] …`: starts a
 * fleet of emulated Redfish BMCs, prints their addresses and credentials,
 * serves them as JSON on the control API (`GET /bmcs`), logs subscription
 * changes and failed deliveries to stderr, and stops cleanly on SIGINT or
 * SIGTERM.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { pino } from "pino";
import { parseProfileList, startBmcFleet } from "./index.ts";
import type { ProfileName } from "./index.ts";

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

function profiles(value: string): ProfileName[] {
  try {
    return parseProfileList(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function seconds(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 86_400)) throw new InvalidArgumentError(`must be seconds from above 0 to 86400, got ${JSON.stringify(value)}`);
  return n;
}

/** The soft limit on open files, from /proc (Linux); undefined elsewhere. */
function openFileLimit(): number | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === "unlimited" ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

/** Expands `{i}` in a credential template. */
function template(value: string | undefined): ((index: number) => string) | undefined {
  return value === undefined ? undefined : (index) => value.replaceAll("{i}", String(index));
}

const program = new Command()
  .name("bmc-emulator")
  .description("A fleet of emulated Redfish BMCs with eventing and indicator lights, on 127.0.0.1.")
  .addOption(new Option("-c, --count <n>", "how many BMCs").argParser(integer("--count", 1, 10_000)).default(1))
  .addOption(
    new Option("-p, --port <port>", "first BMC port; BMC i listens on port+i (default: free ports)").argParser(
      integer("--port", 1, 65_535),
    ),
  )
  .addOption(
    new Option("--control-port <port>", "control API port (default: a free port)").argParser(integer("--control-port", 1, 65_535)),
  )
  .addOption(
    new Option(
      "--profile <names>",
      "vendor profile of every BMC, or a comma-separated list BMC i takes entry i (mod its length) from: generic, dell-idrac9, hpe-ilo5, hpe-ilo6, lenovo-xcc, supermicro, openbmc",
    )
      .argParser(profiles)
      .default(["generic"], "generic"),
  )
  .addOption(new Option("--drives <n>", "drives per system").argParser(integer("--drives", 0, 64)).default(2))
  .option("--username <template>", "user name of every BMC, {i} is replaced by its index (default: admin{i})")
  .option("--password <template>", "password of every BMC, {i} is replaced by its index (default: random per BMC)")
  .option("--tls", "serve HTTPS with a self-signed certificate")
  .option("--simple-storage", "also link SimpleStorage from each System (breaks Ironic 21.4's indicator list)")
  .addOption(
    new Option("--retry-attempts <n>", "DeliveryRetryAttempts (default: the profile's)").argParser(integer("--retry-attempts", 0, 100)),
  )
  .addOption(new Option("--retry-interval <seconds>", "DeliveryRetryIntervalSeconds (default: the profile's)").argParser(seconds))
  .option("--state-dir <dir>", "keep each BMC's identity, subscriptions and lights in this directory across restarts")
  .option("--json", "print the BMC list as JSON instead of one line per BMC")
  .option("--quiet", "log only warnings and errors");

program.parse();
const opts = program.opts<{
  count: number;
  port?: number;
  controlPort?: number;
  profile: ProfileName[];
  drives: number;
  username?: string;
  password?: string;
  tls?: boolean;
  simpleStorage?: boolean;
  retryAttempts?: number;
  retryInterval?: number;
  stateDir?: string;
  json?: boolean;
  quiet?: boolean;
}>();

const logger = pino({ name: "bmc-emulator", level: opts.quiet ? "warn" : "info" }, pino.destination(2));

const limit = openFileLimit();
if (limit !== undefined && opts.count * 2 + 64 > limit) {
  logger.warn(
    { count: opts.count, openFileLimit: limit },
    "the open file limit may be too low: each BMC holds a listening socket plus its connections (raise it with ulimit -n)",
  );
}

let fleet;
try {
  fleet = await startBmcFleet({
    count: opts.count,
    port: opts.port,
    controlPort: opts.controlPort,
    profile: opts.profile,
    stateDir: opts.stateDir,
    drivesPerSystem: opts.drives,
    username: template(opts.username),
    password: template(opts.password),
    tls: opts.tls ?? false,
    simpleStorage: opts.simpleStorage ?? false,
    eventDelivery: { retryAttempts: opts.retryAttempts, retryIntervalSeconds: opts.retryInterval },
    logger,
  });
} catch (error) {
  process.stderr.write(`bmc-emulator: ${(error as Error).message}\n`);
  process.exit(1);
}

if (opts.json) {
  process.stdout.write(`${JSON.stringify({ controlUrl: fleet.controlUrl, bmcs: fleet.bmcs }, null, 2)}\n`);
} else {
  for (const b of fleet.bmcs) {
    process.stdout.write(`BMC ${b.index} (${b.profile}): ${b.url}${b.systemPath} user ${b.username} password ${b.password}\n`);
  }
  process.stdout.write(`Control API: ${fleet.controlUrl} (GET ${fleet.controlUrl}/bmcs lists the BMCs as JSON)\n`);
}
logger.info({ count: fleet.bmcs.length, controlUrl: fleet.controlUrl, memory: process.memoryUsage().rss }, "BMC fleet ready");

const running = fleet;
let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "stopping the BMC fleet");
  running
    .close()
    .then(() => process.exit(0))
    .catch((error: unknown) => {
      process.stderr.write(`bmc-emulator: stopping failed: ${(error as Error).message}\n`);
      process.exit(1);
    });
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));

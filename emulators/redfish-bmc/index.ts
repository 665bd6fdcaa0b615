/**
 * A fleet of emulated Redfish BMCs in one process, each on its own port of
 * 127.0.0.1 with its own credentials, system, chassis, drives, lights,
 * sessions and event subscriptions, plus a control API for tests and
 * benchmarks. Real Ironic (redfish driver), sushy and redfishtool accept it.
 *
 * ```ts
 * import { startBmcFleet } from "../emulators/redfish-bmc/index.ts";
 * const fleet = await startBmcFleet({ count: 3 });
 * const { url, systemPath, username, password } = fleet.bmcs[0]!;
 * fleet.bmc(0).setLatency(50);
 * await fleet.close();
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { Agent } from "undici";
import type { BmcLogger } from "./bmc-settings.ts";
import { EmulatedBmc } from "./emulated-bmc.ts";
import type { EmulatedBmcInfo } from "./emulated-bmc.ts";
import { startControlServer, sumStats } from "./control-server.ts";
import type { FleetStats } from "./control-server.ts";
import { selfSignedCertificate } from "./tls.ts";
import { profileNamed } from "./profiles/index.ts";
import type { DriveLinkQuirks } from "./bmc-settings.ts";
import type { ProfileName } from "./vendor-profile.ts";

export { EmulatedBmc } from "./emulated-bmc.ts";
export type { BmcLogger } from "./bmc-settings.ts";
export type { EmulatedBmcInfo, EmulatedDriveInfo } from "./emulated-bmc.ts";
export type { SubscriptionInfo } from "./event-subscriptions.ts";
export type { LightStates } from "./lights.ts";
export type { TestEventParameters } from "./test-event.ts";
export type { DeliveryAttempt } from "./event-delivery.ts";
export type { EventRecord } from "./events.ts";
export type { FaultSettings } from "./faults.ts";
export type { LedState, PowerState } from "./hardware.ts";
export type { RequestStats } from "./request-stats.ts";
export type { FleetStats } from "./control-server.ts";
export type { DriveLinkQuirks } from "./bmc-settings.ts";
export type { ProfileName, VendorProfile } from "./vendor-profile.ts";
export { PROFILE_NAMES } from "./vendor-profile.ts";
export { PROFILES, parseProfileList, profileNamed } from "./profiles/index.ts";

/** How to start a fleet. */
export interface BmcFleetOptions {
  /** How many BMCs, 1 to 10000. */
  count: number;
  /**
   * The vendor each BMC emulates (docs/vendor-profiles.md): one name for
   * every BMC, or a list BMC `i` takes entry `i` modulo its length from.
   * Default `generic`.
   */
  profile?: ProfileName | readonly ProfileName[];
  /** Repeated and dead drive links in every Storage resource (as the Intel capture has); default none. */
  driveLinkQuirks?: DriveLinkQuirks;
  /**
   * A directory where each BMC keeps its identity (UUIDs, serial numbers),
   * subscriptions, EventService settings, lights and power state across
   * restarts, as real hardware does (`bmc-<index>.json`, owner-only). A BMC
   * with a kept state comes back with it ({@link EmulatedBmc.restored}).
   * Default: nothing is kept, every start is new hardware.
   */
  stateDir?: string;
  /** The first BMC's port; BMC `i` listens on `port + i`. 0 or absent: each takes a free port. */
  port?: number;
  /** The control API's port; 0 or absent: a free port. */
  controlPort?: number;
  /** Drives behind each system's RAID controller, 0 to 64; default 2. */
  drivesPerSystem?: number;
  /** The user name of BMC `index`; default `admin<index>`. */
  username?: (index: number) => string;
  /** The password of BMC `index`; default a random one per BMC. */
  password?: (index: number) => string;
  /** Serve HTTPS with a self-signed certificate (see {@link RunningBmcFleet.tlsCertificate}); default false. */
  tls?: boolean;
  /**
   * Also link a `SimpleStorage` collection from each System (the drives as
   * devices), as older BMCs do. Default false: Ironic 21.4 with sushy 4.3.3
   * fails its whole indicator list with a 500 when SimpleStorage is present
   * (see docs/redfish-bmc-emulator.md).
   */
  simpleStorage?: boolean;
  /**
   * Refuse `EventTypes` in a subscription create request (400
   * `PropertyUnknown`), as OpenBMC's bmcweb does; Ironic always sends it.
   * Default false.
   */
  refuseEventTypes?: boolean;
  /**
   * Offer `#EventDestination.ResumeSubscription` on each subscription
   * (shown in its `Actions`, POST answered 204). False: not shown, and its
   * POST answered 404, as a BMC that can only have a suspended subscription
   * deleted and created again. Default true.
   */
  resumeSubscription?: boolean;
  /** Event delivery defaults of every BMC's EventService. */
  eventDelivery?: {
    /** `DeliveryRetryAttempts`: retries after a failed delivery; default the profile's (3 for `generic`). */
    retryAttempts?: number;
    /** `DeliveryRetryIntervalSeconds`; fractions allowed for fast tests; default the profile's (5 for `generic`). */
    retryIntervalSeconds?: number;
    /** Milliseconds before a delivery without response headers fails; default 5000. */
    timeoutMs?: number;
  };
  /** Subscriptions each BMC holds at most; default the profile's limit (64 for `generic`). */
  maxSubscriptions?: number;
  /** Sessions each BMC holds at most; default 64. */
  maxSessions?: number;
  /** Idle seconds before a session expires; default 1800. */
  sessionTimeoutSeconds?: number;
  /** Where to log subscription changes, failed deliveries and resets (never secrets); default silent. */
  logger?: BmcLogger;
}

/** A running fleet. */
export interface RunningBmcFleet {
  /** Every BMC's address and credentials, by index. */
  bmcs: EmulatedBmcInfo[];
  /** The control API's base URL, `http://127.0.0.1:PORT`. */
  controlUrl: string;
  /** The PEM certificate the BMCs serve with when `tls` is on, for clients to trust. */
  tlsCertificate?: string;
  /** Programmatic control of BMC `index`; throws a RangeError for an index outside the fleet. */
  bmc(index: number): EmulatedBmc;
  /** Request totals over every BMC. */
  stats(): FleetStats;
  /** Zeroes every BMC's request counts. */
  resetStats(): void;
  /** Stops every BMC and the control API and cancels every delivery. */
  close(): Promise<void>;
}

function integerOption(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function numberOption(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !(value >= min && value <= max)) {
    throw new RangeError(`${name} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function randomPassword(): string {
  return `pw-${crypto.randomUUID().slice(0, 13)}`;
}

/** How many BMCs start listening at once. */
const LISTEN_BATCH = 100;

/** Starts `options.count` BMCs and the control API. */
export async function startBmcFleet(options: BmcFleetOptions): Promise<RunningBmcFleet> {
  const count = integerOption("count", options.count, 1, 10_000);
  const firstPort = integerOption("port", options.port ?? 0, 0, 65_535);
  if (firstPort !== 0 && firstPort + count - 1 > 65_535) {
    throw new RangeError(`port ${firstPort} leaves no room for ${count} BMCs: the last would need port ${firstPort + count - 1}`);
  }
  const controlPort = integerOption("controlPort", options.controlPort ?? 0, 0, 65_535);
  const drivesPerSystem = integerOption("drivesPerSystem", options.drivesPerSystem ?? 2, 0, 64);
  const profileList = typeof options.profile === "string" ? [options.profile] : (options.profile ?? ["generic"]);
  if (!Array.isArray(profileList) || profileList.length === 0) {
    throw new RangeError(`profile must be a profile name or a non-empty list of them, got ${JSON.stringify(options.profile)}`);
  }
  const profiles = profileList.map((name) => profileNamed(name));
  const retryAttemptsOption = options.eventDelivery?.retryAttempts;
  if (retryAttemptsOption !== undefined) integerOption("eventDelivery.retryAttempts", retryAttemptsOption, 0, 100);
  const retryIntervalOption = options.eventDelivery?.retryIntervalSeconds;
  if (retryIntervalOption !== undefined) numberOption("eventDelivery.retryIntervalSeconds", retryIntervalOption, 0.001, 86_400);
  const deliveryTimeoutMs = integerOption("eventDelivery.timeoutMs", options.eventDelivery?.timeoutMs ?? 5_000, 1, 600_000);
  if (options.maxSubscriptions !== undefined) integerOption("maxSubscriptions", options.maxSubscriptions, 1, 10_000);
  const quirks = options.driveLinkQuirks ?? {};
  integerOption("driveLinkQuirks.repeatDriveLinks", quirks.repeatDriveLinks ?? 1, 1, 64);
  integerOption("driveLinkQuirks.deadDriveLinks", quirks.deadDriveLinks ?? 0, 0, 64);
  const maxSessions = integerOption("maxSessions", options.maxSessions ?? 64, 1, 10_000);
  const sessionTimeoutSeconds = integerOption("sessionTimeoutSeconds", options.sessionTimeoutSeconds ?? 1800, 1, 86_400);

  const tls = options.tls ? await selfSignedCertificate() : undefined;
  const verifyingDispatcher = new Agent({ connections: 8, keepAliveTimeout: 4_000 });
  const trustingDispatcher = new Agent({ connections: 8, keepAliveTimeout: 4_000, connect: { rejectUnauthorized: false } });

  const bmcs: EmulatedBmc[] = [];
  for (let index = 0; index < count; index++) {
    const username = options.username ? options.username(index) : `admin${index}`;
    const password = options.password ? options.password(index) : randomPassword();
    if (typeof username !== "string" || username === "" || username.includes(":")) {
      throw new RangeError(`username(${index}) must be a non-empty string without ":", got ${JSON.stringify(username)}`);
    }
    if (typeof password !== "string" || password === "") {
      throw new RangeError(`password(${index}) must be a non-empty string`);
    }
    const profile = profiles[index % profiles.length]!;
    bmcs.push(
      new EmulatedBmc(
        {
          index,
          profile,
          driveLinkQuirks: quirks,
          ...(options.stateDir === undefined ? {} : { stateFile: join(options.stateDir, `bmc-${index}.json`) }),
          username,
          password,
          drivesPerSystem,
          simpleStorage: options.simpleStorage ?? false,
          refuseEventTypes: options.refuseEventTypes ?? false,
          resumeSubscription: options.resumeSubscription ?? true,
          maxSubscriptions: options.maxSubscriptions ?? profile.subscriptions.limit,
          maxSessions,
          sessionTimeoutSeconds,
          eventService: {
            retryAttempts: retryAttemptsOption ?? profile.eventService.retryAttempts,
            retryIntervalSeconds: retryIntervalOption ?? profile.eventService.retryIntervalSeconds,
          },
          deliveryTimeoutMs,
        },
        { verifyingDispatcher, trustingDispatcher, logger: options.logger, tls },
      ),
    );
  }

  let control: Awaited<ReturnType<typeof startControlServer>> | undefined;
  const closeAll = async () => {
    await Promise.all(bmcs.map((b) => b.close()));
    if (control) {
      const server = control.server;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    }
    await Promise.all([verifyingDispatcher.destroy(), trustingDispatcher.destroy()]);
  };

  try {
    for (let start = 0; start < count; start += LISTEN_BATCH) {
      await Promise.all(
        bmcs.slice(start, start + LISTEN_BATCH).map((b) => b.listen(firstPort === 0 ? 0 : firstPort + b.settings.index)),
      );
    }
    const fleetView = {
      bmcCount: () => count,
      bmc: (index: number) => bmcs[index]!,
      infos: () => bmcs.map((b) => b.info),
      stats: () => sumStats(bmcs.map((b) => b.stats())),
      resetStats: () => bmcs.forEach((b) => b.resetStats()),
    };
    control = await startControlServer(fleetView, controlPort);
  } catch (error) {
    await closeAll();
    throw error;
  }

  let closing: Promise<void> | undefined;
  const fleet: RunningBmcFleet = {
    bmcs: bmcs.map((b) => b.info),
    controlUrl: control.url,
    bmc(index: number) {
      const bmc = Number.isInteger(index) ? bmcs[index] : undefined;
      if (!bmc) throw new RangeError(`no BMC ${index} in this fleet: indexes run from 0 to ${count - 1}`);
      return bmc;
    },
    stats: () => sumStats(bmcs.map((b) => b.stats())),
    resetStats: () => bmcs.forEach((b) => b.resetStats()),
    close: () => (closing ??= closeAll()),
  };
  if (tls) fleet.tlsCertificate = tls.cert;
  return fleet;
}

/**
 * What the fleet decides for each emulated BMC (its settings) and what the
 * BMCs of a fleet share (HTTP clients for event delivery, the logger, the
 * TLS certificate).
 *
 * @module
 */
import type { Dispatcher } from "undici";
import type { VendorProfile } from "./vendor-profile.ts";

/** A pino-compatible logger; the emulator never passes it a password or header value. */
export interface BmcLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/**
 * Link faults some BMCs' Storage resources have (the Intel capture lists one
 * drive 32 times, and that drive answers 404): each drive link repeated, and
 * links to drives that do not exist.
 */
export interface DriveLinkQuirks {
  /** How many times each drive is listed; 1 (the default) is once. */
  repeatDriveLinks?: number;
  /** How many links to absent drives (`…/Drives/Absent.N`, answered 404) follow the real ones. */
  deadDriveLinks?: number;
}

/** The settings of one BMC, filled in by the fleet. */
export interface BmcSettings {
  index: number;
  /** The vendor whose BMC this is (see vendor-profile.ts). */
  profile: VendorProfile;
  /** Repeated and dead drive links in the Storage resources. */
  driveLinkQuirks?: DriveLinkQuirks;
  /** Where the BMC keeps its identity, subscriptions and lights across restarts; nothing is kept without it. */
  stateFile?: string;
  username: string;
  password: string;
  drivesPerSystem: number;
  /** Whether the System links a `SimpleStorage` collection. */
  simpleStorage: boolean;
  /** Refuse `EventTypes` in a subscription create request, as OpenBMC does (see subscriptions.ts). */
  refuseEventTypes?: boolean;
  /** `false`: subscriptions offer no `ResumeSubscription` action (see redfish-service.ts). */
  resumeSubscription?: boolean;
  maxSubscriptions: number;
  maxSessions: number;
  sessionTimeoutSeconds: number;
  /** Defaults of the EventService, restored by a reset. */
  eventService: { retryAttempts: number; retryIntervalSeconds: number };
  /** Milliseconds before an event POST without response headers counts as failed. */
  deliveryTimeoutMs: number;
}

/** What the BMCs of a fleet share. */
export interface SharedResources {
  verifyingDispatcher: Dispatcher;
  trustingDispatcher: Dispatcher;
  logger?: BmcLogger;
  /** A certificate and key to serve HTTPS with, if TLS is on. */
  tls?: { cert: string; key: string };
}

/**
 * The provisioner interface: everything the controllers ask of the systems
 * that own the BMCs. Two implementations sit behind it, `redfish` (talks to
 * each BMC directly) and `ironic` (asks Ironic, which owns the BMCs), plus
 * `fixture`, an in-memory one for unit tests. One conformance suite runs
 * against all of them.
 *
 * Indicator IDs are Ironic's everywhere (`<system UUID>@system`,
 * `<chassis UUID>@chassis`, `<storage ID>:<drive ID>@disk`), so a resource
 * means the same light whichever provisioner runs; a System or Chassis without
 * a UUID, which Ironic cannot name, is named by its `Id` (`indicator-id.ts`).
 *
 * @module
 */
import type { HostIndicator } from "../api/baremetalhost.ts";

/** Everything a provisioner needs to reach one host's BMC. Holds a secret: never log it whole. */
export interface HostAccess {
  /** Namespace of the BareMetalHost. */
  namespace: string;
  /** Name of the BareMetalHost. */
  name: string;
  /** The provisioner's ID for the host (`status.provisioning.ID`), when one was recorded. */
  provisioningID?: string;
  /** `spec.bmc.address`, for example `redfish+http://127.0.0.1:8000/redfish/v1/Systems/1`. */
  address: string;
  /** `spec.bmc.disableCertificateVerification`. */
  disableCertificateVerification: boolean;
  /** From the `spec.bmc.credentialsName` Secret. */
  username: string;
  /** From the `spec.bmc.credentialsName` Secret. Never logged, never in an error message. */
  password: string;
  /** `spec.bootMACAddress`, when set. */
  bootMACAddress?: string;
}

/** What registering a host found. */
export interface HostRegistration {
  /** The provisioner's ID for the host, recorded as `status.provisioning.ID`. */
  provisioningID: string;
  /** The host's indicator lights, with the drive behind each disk light. */
  indicators: HostIndicator[];
  /**
   * Lights the BMC has that this provisioner cannot switch, each as
   * `<resource>: <why>` (an OEM-only light, a value outside Redfish's), for the
   * host to say so rather than list fewer lights in silence.
   */
  unusableLights?: string[];
}

/** An indicator light's state, in Ironic's lowercase words. */
export type IndicatorState = "on" | "off" | "blinking" | "unknown";

/** A subscription as the BMC holds it. */
export interface Subscription {
  /** The ID the BMC gave it. */
  id: string;
  destination: string;
  /** The BMC's copy of the context; empty when none was given. */
  context: string;
  /**
   * True when the BMC holds it but has stopped sending events to it
   * (`Status.State: Disabled`, after failed deliveries); such a subscription is
   * to be resumed ({@link Provisioner.resumeSubscription}), or re-created where
   * the BMC cannot resume it.
   */
  suspended?: boolean;
}

/** A subscription to create. Holds secrets (header values): never log it whole. */
export interface SubscriptionRequest {
  destination: string;
  context: string;
  /** Header name to value; values are secrets. */
  httpHeaders: Record<string, string>;
}

/** What kind of failure a {@link ProvisionerError} is, which decides how the controller reacts. */
export type ProvisionerErrorKind =
  /** The host is not known to the provisioner (no node, no system). Register it, or give up on cleanup. */
  | "HostNotFound"
  /** The indicator ID is not one of the host's. Not retried until the spec changes. */
  | "IndicatorNotFound"
  /** The BMC or provisioner refused the request as invalid (4xx). Not retried until something changes. */
  | "Rejected"
  /** The BMC's credentials were refused (401/403). */
  | "Unauthorized"
  /** The host's BMC address or scheme cannot be used by this provisioner. */
  | "Unsupported"
  /** The BMC holds as many subscriptions as it can: retried with backoff, since one may be deleted. */
  | "SubscriptionLimit"
  /** Busy (409 NodeLocked), unreachable, timed out or 5xx: retried with backoff. */
  | "Transient"
  /**
   * The provisioner's own service (Ironic), not the BMC, cannot be reached, is
   * overloaded (503) or answers outside its API: retried with backoff.
   */
  | "ProvisionerUnavailable";

/**
 * A provisioner failure. The message says what failed and why, with the BMC's
 * or Ironic's own error text, and never contains a password or header value.
 */
export class ProvisionerError extends Error {
  readonly kind: ProvisionerErrorKind;
  constructor(kind: ProvisionerErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProvisionerError";
    this.kind = kind;
  }
}

/** The names of the {@link Provisioner} operations, for counting and instrumenting them. */
export const PROVISIONER_OPERATIONS = [
  "registerHost",
  "listSubscriptions",
  "createSubscription",
  "deleteSubscription",
  "resumeSubscription",
  "listIndicators",
  "getIndicator",
  "setIndicator",
] as const;
/** One of {@link PROVISIONER_OPERATIONS}. */
export type ProvisionerOperation = (typeof PROVISIONER_OPERATIONS)[number];

/** The operations the controllers need. Every method may throw {@link ProvisionerError}. */
export interface Provisioner {
  /** Short name, for logs and metrics: `redfish`, `ironic` or `fixture`. */
  readonly name: string;

  /**
   * Registers the host (or finds its existing registration) and reads its
   * inventory. Called only when the host's spec or credentials change, or a
   * user asks: it reads the BMC.
   */
  registerHost(host: HostAccess, signal?: AbortSignal): Promise<HostRegistration>;

  /** The subscriptions the host's BMC holds now. */
  listSubscriptions(host: HostAccess, signal?: AbortSignal): Promise<Subscription[]>;

  /** Creates a subscription on the host's BMC; returns it with the BMC's ID. */
  createSubscription(
    host: HostAccess,
    request: SubscriptionRequest,
    signal?: AbortSignal,
  ): Promise<Subscription>;

  /** Deletes a subscription; `"gone"` when the BMC no longer had it (which counts as deleted). */
  deleteSubscription(host: HostAccess, id: string, signal?: AbortSignal): Promise<"deleted" | "gone">;

  /**
   * Asks the BMC to send events again to a subscription it suspended, keeping
   * its ID (Redfish `#EventDestination.ResumeSubscription`). `"unsupported"`
   * when the BMC (or the provisioner) offers no such thing, and `"gone"` when
   * the BMC no longer holds the subscription: the caller then creates it
   * again instead.
   */
  resumeSubscription(host: HostAccess, id: string, signal?: AbortSignal): Promise<"resumed" | "unsupported" | "gone">;

  /** The host's indicator lights. */
  listIndicators(host: HostAccess, signal?: AbortSignal): Promise<HostIndicator[]>;

  /** Reads one light's state from the BMC. */
  getIndicator(host: HostAccess, id: string, signal?: AbortSignal): Promise<IndicatorState>;

  /** Sets one light's state on the BMC. */
  setIndicator(host: HostAccess, id: string, state: IndicatorState, signal?: AbortSignal): Promise<void>;

  /** Releases what the provisioner holds (connections, Agents) at shutdown; calls still in flight finish first. */
  close?(): Promise<void> | void;
}

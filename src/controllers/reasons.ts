/**
 * Condition reasons and Event reasons shared by the controllers, and how a
 * failure maps to one.
 *
 * @module
 */
import { ProvisionerError, type ProvisionerErrorKind } from "../provisioner/provisioner.ts";
import { TerminalError } from "../runtime/index.ts";
import { HostAccessError } from "./host-access.ts";
import { InvalidHeadersError } from "./http-headers.ts";

/** The `Ready` condition's reason for a failure, and whether retrying can help. */
export interface FailureClass {
  reason: string;
  /** True when only a change (of spec, host or Secret) can fix it: no retry with backoff. */
  terminal: boolean;
}

/** The failure class of each provisioner error kind. */
const PROVISIONER_FAILURES: Readonly<Record<ProvisionerErrorKind, FailureClass>> = {
  HostNotFound: { reason: "HostNotRegistered", terminal: false },
  IndicatorNotFound: { reason: "UnknownIndicator", terminal: true },
  Rejected: { reason: "BMCRejected", terminal: false },
  Unauthorized: { reason: "BMCUnauthorized", terminal: false },
  Unsupported: { reason: "UnsupportedBMC", terminal: true },
  Transient: { reason: "BMCUnavailable", terminal: false },
  SubscriptionLimit: { reason: "BMCSubscriptionLimit", terminal: false },
  ProvisionerUnavailable: { reason: "ProvisionerUnavailable", terminal: false },
};

/** Classifies a reconcile failure. */
export function classifyFailure(error: unknown): FailureClass {
  if (error instanceof ProvisionerError) return { ...PROVISIONER_FAILURES[error.kind] };
  if (error instanceof HostAccessError) return { reason: error.reason, terminal: error.reason === "InvalidSpec" };
  if (error instanceof InvalidHeadersError) return { reason: "InvalidHeaders", terminal: true };
  if (error instanceof TerminalError) return { reason: "Invalid", terminal: true };
  return { reason: "ReconcileError", terminal: false };
}

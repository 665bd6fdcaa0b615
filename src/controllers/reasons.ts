/**
 * Condition reasons and Event reasons shared by the controllers, and how a
 * failure maps to one.
 *
 * @module
 */
import { ProvisionerError } from "../provisioner/provisioner.ts";
import { TerminalError } from "../runtime/index.ts";
import { HostAccessError } from "./host-access.ts";
import { InvalidHeadersError } from "./http-headers.ts";

/** The `Ready` condition's reason for a failure, and whether retrying can help. */
export interface FailureClass {
  reason: string;
  /** True when only a change (of spec, host or Secret) can fix it: no retry with backoff. */
  terminal: boolean;
}

/** Classifies a reconcile failure. */
export function classifyFailure(error: unknown): FailureClass {
  if (error instanceof ProvisionerError) {
    switch (error.kind) {
      case "HostNotFound":
        return { reason: "HostNotRegistered", terminal: false };
      case "IndicatorNotFound":
        return { reason: "UnknownIndicator", terminal: true };
      case "Rejected":
        return { reason: "BMCRejected", terminal: false };
      case "Unauthorized":
        return { reason: "BMCUnauthorized", terminal: false };
      case "Unsupported":
        return { reason: "UnsupportedBMC", terminal: true };
      case "Transient":
        return { reason: "BMCUnavailable", terminal: false };
      case "SubscriptionLimit":
        return { reason: "BMCSubscriptionLimit", terminal: false };
      case "ProvisionerUnavailable":
        return { reason: "ProvisionerUnavailable", terminal: false };
    }
  }
  if (error instanceof HostAccessError) return { reason: error.reason, terminal: error.reason === "InvalidSpec" };
  if (error instanceof InvalidHeadersError) return { reason: "InvalidHeaders", terminal: true };
  if (error instanceof TerminalError) return { reason: "Invalid", terminal: true };
  return { reason: "ReconcileError", terminal: false };
}

/**
 * The fault proxy's rules for a BMCEventSubscription's status writes that
 * record a BMC side effect: the crash tests hold one, kill the operator, and
 * check the BMC after a restart (see fault-proxy.ts).
 *
 * @module
 */
import type { HoldRule } from "./fault-proxy.ts";

/** The status subresource of subscription `name` in `ns`. */
export function subscriptionStatusPath(ns: string, name: string): string {
  return `/apis/metal3.io/v1alpha1/namespaces/${ns}/bmceventsubscriptions/${name}/status`;
}

/** The status write that records a new subscription ID (after the BMC created it). */
export function recordingTheID(ns: string, name: string): HoldRule {
  return {
    method: "PATCH",
    path: subscriptionStatusPath(ns, name),
    body: (patch: { status?: { subscriptionID?: string | null } } | undefined) => typeof patch?.status?.subscriptionID === "string",
  };
}

/** The status write that clears the stale IDs (after the BMC deleted the replaced subscriptions). */
export function clearingTheStale(ns: string, name: string): HoldRule {
  return {
    method: "PATCH",
    path: subscriptionStatusPath(ns, name),
    body: (patch: { status?: { staleSubscriptionIDs?: string[] | null } } | undefined) =>
      !!patch?.status && "staleSubscriptionIDs" in patch.status && !patch.status.staleSubscriptionIDs?.length,
  };
}

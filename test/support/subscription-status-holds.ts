/**
 * The fault proxy's rules for a BMCEventSubscription's writes that record a
 * BMC side effect (its status, and the release of its finalizer): the crash
 * tests hold one, kill the operator, and check the BMC after a restart (see
 * fault-proxy.ts).
 *
 * @module
 */
import { BMC_EVENT_SUBSCRIPTION_FINALIZER } from "../../src/api/names.ts";
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

/** The release of the finalizer (after the BMC deleted the subscription): a patch of the resource that leaves none of ours. */
export function releasingTheFinalizer(ns: string, name: string): HoldRule {
  return {
    method: "PATCH",
    path: `/apis/metal3.io/v1alpha1/namespaces/${ns}/bmceventsubscriptions/${name}`,
    body: (patch: { metadata?: { finalizers?: string[] } } | undefined) =>
      !!patch?.metadata?.finalizers && !patch.metadata.finalizers.includes(BMC_EVENT_SUBSCRIPTION_FINALIZER),
  };
}

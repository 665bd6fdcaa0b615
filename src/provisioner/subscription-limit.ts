/**
 * Recognises a BMC's refusal of a new event subscription because it holds as
 * many as it can, from the BMC's error text. Both provisioners read it: the
 * Redfish one from the BMC's own answer, the Ironic one from the BMC's answer
 * as Ironic quotes it (sushy's "HTTP POST … returned code 400.
 * Base.1.8.CreateLimitReachedForResource: …"), so a full BMC is the same
 * `SubscriptionLimit` error whichever provisioner runs.
 *
 * @module
 */

/**
 * bmcweb's `EventSubscriptionLimitExceeded` (503), the Base registry's
 * `CreateLimitReachedForResource` (which, on a create of the Subscriptions
 * collection, can only mean subscriptions), and vendors' words for it.
 */
const SUBSCRIPTION_LIMIT =
  /SubscriptionLimitExceeded|CreateLimitReachedForResource|maximum number of (event )?subscriptions|subscription limit/i;

/**
 * Whether `text`, a BMC's error for a subscription create (its message IDs
 * and messages, or Ironic's quote of them), says the BMC is full. Only
 * meaningful for a create of the Subscriptions collection: the same message
 * IDs on another collection (sessions) mean that one is full.
 */
export function saysSubscriptionLimit(text: string): boolean {
  return SUBSCRIPTION_LIMIT.test(text);
}

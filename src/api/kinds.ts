/**
 * Every kind of the metal3.io/v1alpha1 API that bmc-operator serves.
 *
 * @module
 */
import { bareMetalHostKind } from "./baremetalhost.ts";
import { serviceIndicatorKind } from "./baremetalhost-service-indicator.ts";
import { bmcEventSubscriptionKind } from "./bmc-event-subscription.ts";
import type { KindDefinition } from "./meta.ts";

/** The kinds, in the order their CRDs are listed. */
export const KINDS: readonly KindDefinition[] = [
  bareMetalHostKind,
  bmcEventSubscriptionKind,
  serviceIndicatorKind,
];

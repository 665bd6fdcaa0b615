/**
 * Every kind of the metal3.io/v1alpha1 API that bmc-operator serves.
 *
 * @module
 */
import { bareMetalHostKind } from "./baremetalhost.ts";
import { serviceIndicatorKind } from "./baremetalhost-service-indicator.ts";
import { bmcEventSubscriptionKind } from "./bmc-event-subscription.ts";
import { hostIndicatorsKind } from "./host-indicators.ts";
import type { KindDefinition } from "./meta.ts";

/** The kinds of the standalone install (`config/crd/`), in the order their CRDs are listed. */
export const KINDS: readonly KindDefinition[] = [
  bareMetalHostKind,
  bmcEventSubscriptionKind,
  serviceIndicatorKind,
];

/**
 * The kinds of the install next to the Metal3 baremetal-operator
 * (`config/metal3/crd/`): BareMetalHost and BMCEventSubscription are BMO's
 * there, and the light list is a kind of its own.
 */
export const METAL3_MODE_KINDS: readonly KindDefinition[] = [serviceIndicatorKind, hostIndicatorsKind];

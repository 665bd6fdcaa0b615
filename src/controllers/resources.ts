/**
 * The resources the controllers read and write, typed with their objects.
 *
 * @module
 */
import type { BareMetalHost } from "../api/baremetalhost.ts";
import type { BareMetalHostServiceIndicator } from "../api/baremetalhost-service-indicator.ts";
import type { BMCEventSubscription } from "../api/bmc-event-subscription.ts";
import type { HostIndicators } from "../api/host-indicators.ts";
import { GROUP, VERSION } from "../api/names.ts";
import { defineResource } from "../runtime/index.ts";

/** `metal3.io/v1alpha1` BareMetalHosts. */
export const BARE_METAL_HOSTS = defineResource<BareMetalHost>({
  group: GROUP,
  version: VERSION,
  plural: "baremetalhosts",
  kind: "BareMetalHost",
  namespaced: true,
});

/** `metal3.io/v1alpha1` BMCEventSubscriptions. */
export const BMC_EVENT_SUBSCRIPTIONS = defineResource<BMCEventSubscription>({
  group: GROUP,
  version: VERSION,
  plural: "bmceventsubscriptions",
  kind: "BMCEventSubscription",
  namespaced: true,
});

/** `metal3.io/v1alpha1` BareMetalHostServiceIndicators. */
export const SERVICE_INDICATORS = defineResource<BareMetalHostServiceIndicator>({
  group: GROUP,
  version: VERSION,
  plural: "baremetalhostserviceindicators",
  kind: "BareMetalHostServiceIndicator",
  namespaced: true,
});

/** `metal3.io/v1alpha1` HostIndicators: the light list of each host, in metal3 mode. */
export const HOST_INDICATORS = defineResource<HostIndicators>({
  group: GROUP,
  version: VERSION,
  plural: "hostindicators",
  kind: "HostIndicators",
  namespaced: true,
});

/**
 * Wires the controllers into a manager: the informers and their indexes, the
 * secondary watches that map a host or a Secret to the resources that depend
 * on it, and the shared helpers.
 *
 * Standalone mode runs the BareMetalHost, BMCEventSubscription and
 * BareMetalHostServiceIndicator controllers (or those asked for). Metal3 mode,
 * next to the Metal3 baremetal-operator that owns BareMetalHosts, their
 * Secrets and BMCEventSubscriptions, runs only the indicator controller and
 * the HostIndicators publisher: hosts are watched, Secrets read one GET at a
 * time, and none of BMO's objects is ever written.
 *
 * @module
 */
import type { BareMetalHost } from "../api/baremetalhost.ts";
import type { BareMetalHostServiceIndicator } from "../api/baremetalhost-service-indicator.ts";
import type { BMCEventSubscription } from "../api/bmc-event-subscription.ts";
import type { HostIndicators } from "../api/host-indicators.ts";
import type { HostRegistration, Provisioner } from "../provisioner/provisioner.ts";
import { type Informer, type Manager, objectKey, refOf, contentChanged, SECRETS, TerminalError } from "../runtime/index.ts";
import { setUpBareMetalHostController } from "./baremetalhost-controller.ts";
import { type ExtraHeaders, setUpBMCEventSubscriptionController } from "./bmc-event-subscription-controller.ts";
import { HostAccessResolver } from "./host-access-resolver.ts";
import { setUpHostIndicatorsPublisher } from "./host-indicators-controller.ts";
import { instrumentProvisioner } from "./instrumented-provisioner.ts";
import { BARE_METAL_HOSTS, HOST_INDICATORS } from "./resources.ts";
import { SECRET_LABEL_SELECTOR, SecretReader } from "./secret-reader.ts";
import { indicatorsOfHost, setUpServiceIndicatorController } from "./service-indicator-controller.ts";

/** Options of {@link setUpOperator}. */
export interface OperatorOptions {
  /** standalone (bmc-operator owns BareMetalHosts) or metal3 (the Metal3 baremetal-operator does). @default "standalone" */
  mode?: "standalone" | "metal3";
  /**
   * The controllers to run. @default all three in standalone mode; in metal3
   * mode only `indicators` can run (with the HostIndicators publisher).
   */
  controllers?: readonly ("hosts" | "subscriptions" | "indicators")[];
  /**
   * In metal3 mode: finds a host's node and lists its lights, never enrolling
   * or changing a node. @default the provisioner's `registerHost`, which must
   * then be an Ironic provisioner with registration off
   */
  readLights?: (access: Parameters<Provisioner["registerHost"]>[0], signal?: AbortSignal) => Promise<HostRegistration>;
  provisioner: Provisioner;
  /**
   * Reconciles running at once, per controller. They mostly wait for a slot of
   * the BMC call limiter, which orders them; workers well above its global cap
   * let every new host queue for its BMC at once. @default 512
   */
  maxConcurrentReconciles?: number;
  /** How often to check that BMCs still hold their subscriptions, in ms; 0 never checks. @default 0 */
  subscriptionCheckIntervalMs?: number;
  /** The wall clock the controllers judge objects' ages by (tests move it on). @default the real one */
  now?: () => Date;
  /** Headers subscriptions get besides their `httpHeadersRef` ones (the event receiver's token). */
  subscriptionExtraHeaders?: ExtraHeaders;
}

/** The informers the operator set up, for tests and tools; those of controllers that do not run are absent. */
export interface Operator {
  hosts: Informer<BareMetalHost>;
  subscriptions?: Informer<BMCEventSubscription>;
  indicators?: Informer<BareMetalHostServiceIndicator>;
  /** The published light lists (metal3 mode). */
  hostIndicators?: Informer<HostIndicators>;
  provisioner: Provisioner;
}

/** What every controller of a mode shares. */
function shared(manager: Manager, options: OperatorOptions, access: HostAccessResolver) {
  return {
    client: manager.client,
    provisioner: instrumentProvisioner(options.provisioner, manager.registry),
    hosts: manager.informer(BARE_METAL_HOSTS),
    access,
    now: options.now,
    workers: options.maxConcurrentReconciles ?? 512,
  };
}

/** Adds the controllers of the mode to `manager`. */
export function setUpOperator(manager: Manager, options: OperatorOptions): Operator {
  if (options.mode === "metal3") return setUpMetal3Mode(manager, options);
  const run = new Set(options.controllers ?? ["hosts", "subscriptions", "indicators"]);
  const secretInformer = manager.informer(SECRETS, { labelSelector: SECRET_LABEL_SELECTOR });
  const secrets = new SecretReader(manager.client, secretInformer, manager.logger);
  const common = shared(manager, options, new HostAccessResolver(secrets));
  const operator: Operator = { hosts: common.hosts, provisioner: common.provisioner };
  if (run.has("hosts")) {
    setUpBareMetalHostController(manager, { ...common, secrets: secretInformer, events: manager.eventRecorder("metal3.io/baremetalhost-controller") });
  }
  if (run.has("subscriptions")) {
    operator.subscriptions = setUpBMCEventSubscriptionController(manager, {
      ...common,
      secrets,
      secretCache: secretInformer,
      events: manager.eventRecorder("metal3.io/bmceventsubscription-controller"),
      checkIntervalMs: options.subscriptionCheckIntervalMs ?? 0,
      now: options.now && (() => options.now!().getTime()),
      ...(options.subscriptionExtraHeaders ? { extraHeaders: options.subscriptionExtraHeaders } : {}),
    }).subscriptions;
  }
  if (run.has("indicators")) {
    operator.indicators = setUpServiceIndicatorController(manager, { ...common, events: manager.eventRecorder(INDICATOR_EVENTS) }).indicators;
  }
  return operator;
}

/** The indicator controller's Event source, in both modes. */
const INDICATOR_EVENTS = "metal3.io/baremetalhostserviceindicator-controller";

/**
 * Metal3 mode: the HostIndicators publisher and the indicator controller.
 * BareMetalHosts are only watched; credentials Secrets are read with a GET
 * (not labelled, not cached), only to keep their values out of messages.
 */
function setUpMetal3Mode(manager: Manager, options: OperatorOptions): Operator {
  const foreign = (options.controllers ?? []).filter((name) => name !== "indicators");
  if (foreign.length > 0) {
    throw new Error(`in metal3 mode the Metal3 baremetal-operator runs the ${foreign.join(" and ")} controllers; only indicators can run`);
  }
  const common = shared(manager, options, new HostAccessResolver(new SecretReader(manager.client, undefined, manager.logger), { lookUpOnly: true }));
  const { hosts, provisioner } = common;
  const readLights = options.readLights ?? lookUpOnly(options.provisioner, provisioner);
  const published = manager.informer(HOST_INDICATORS);

  setUpHostIndicatorsPublisher(manager, { ...common, published, readLights });

  const { indicators, controller } = setUpServiceIndicatorController(manager, {
    ...common,
    events: manager.eventRecorder(INDICATOR_EVENTS),
    lightsOf: (host) => {
      const list = published.get(refOf(host));
      if (list?.status?.errorMessage && !list.status.indicators) {
        // Terminal: retrying cannot help; the light list's next change requeues the indicator (watch below).
        throw new TerminalError(
          `the lights of BareMetalHost "${objectKey(host)}" could not be read (see HostIndicators "${objectKey(host)}"): ${list.status.errorMessage}`,
        );
      }
      return list?.status?.indicators;
    },
  });
  // A published (or changed) light list requeues the indicators of its host.
  controller.watch(published, { map: (object) => indicatorsOfHost(indicators, object), predicates: [contentChanged] });
  return { hosts, indicators, hostIndicators: published, provisioner };
}

/** `registerHost` of a provisioner that only looks nodes up; refuses one that would enroll. */
function lookUpOnly(raw: Provisioner, instrumented: Provisioner): NonNullable<OperatorOptions["readLights"]> {
  if ((raw as { registerHosts?: unknown }).registerHosts !== false) {
    throw new Error(
      `metal3 mode needs the Ironic provisioner with host registration off (it must never enroll or change a node); got ${raw.name}`,
    );
  }
  return (access, signal) => instrumented.registerHost(access, signal);
}

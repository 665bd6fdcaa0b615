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
import type { BareMetalHost, HostIndicator } from "../api/baremetalhost.ts";
import type { BareMetalHostServiceIndicator } from "../api/baremetalhost-service-indicator.ts";
import type { BMCEventSubscription } from "../api/bmc-event-subscription.ts";
import type { HostIndicators } from "../api/host-indicators.ts";
import type { HostRegistration, Provisioner } from "../provisioner/provisioner.ts";
import {
  annotationsChanged,
  type Controller,
  deletionStarted,
  finalizerRemoved,
  generationChanged,
  type Informer,
  type Manager,
  objectKey,
  or,
  refOf,
  resourceVersionChanged,
  SECRETS,
  TerminalError,
} from "../runtime/index.ts";
import { BareMetalHostReconciler, credentialsKey, HOSTS_BY_CREDENTIALS, REFRESH_ANNOTATION } from "./baremetalhost-controller.ts";
import {
  BMCEventSubscriptionReconciler,
  type ExtraHeaders,
  SUBSCRIPTIONS_BY_HOST,
  SUBSCRIPTIONS_BY_SECRET,
  sameTargetSubscriptions,
  subscriptionHostKey,
  subscriptionSecretKeys,
} from "./bmc-event-subscription-controller.ts";
import { HostAccessResolver } from "./host-access-resolver.ts";
import { HostIndicatorsReconciler } from "./host-indicators-controller.ts";
import { instrumentProvisioner } from "./instrumented-provisioner.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS, HOST_INDICATORS, SERVICE_INDICATORS } from "./resources.ts";
import { SECRET_LABEL_SELECTOR, SecretReader } from "./secret-reader.ts";
import {
  INDICATORS_BY_HOST,
  INDICATORS_BY_LIGHT,
  indicatorHostKey,
  indicatorLightKey,
  ServiceIndicatorReconciler,
} from "./service-indicator-controller.ts";

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

/**
 * Spec changes, the start of deletion and a finalizer taken off (to put back);
 * not status writes nor finalizers added (the controllers' own) nor resyncs.
 * Each controller also lets through, with its reconciler's `cacheCaughtUp`,
 * the update that shows the cache its own last write when a reconcile was put
 * off waiting for it.
 */
const specOrDeletion = or(generationChanged, deletionStarted, finalizerRemoved);

/** Adds the controllers of the mode to `manager`. */
export function setUpOperator(manager: Manager, options: OperatorOptions): Operator {
  if (options.mode === "metal3") return setUpMetal3Mode(manager, options);
  const provisioner = instrumentProvisioner(options.provisioner, manager.registry);
  const workers = options.maxConcurrentReconciles ?? 512;
  const run = new Set(options.controllers ?? ["hosts", "subscriptions", "indicators"]);

  const secretInformer = manager.informer(SECRETS, { labelSelector: SECRET_LABEL_SELECTOR });
  const hosts = manager.informer(BARE_METAL_HOSTS);
  const secrets = new SecretReader(manager.client, secretInformer, manager.logger);
  const access = new HostAccessResolver(secrets);
  const operator: Operator = { hosts, provisioner };

  if (run.has("hosts")) {
    hosts.addIndex(HOSTS_BY_CREDENTIALS, credentialsKey);
    const hostReconciler = new BareMetalHostReconciler({
      client: manager.client,
      provisioner,
      hosts,
      access,
      events: manager.eventRecorder("metal3.io/baremetalhost-controller"),
    });
    manager
      .controller({
        name: "baremetalhost",
        for: hosts,
        predicates: [or(specOrDeletion, annotationsChanged(REFRESH_ANNOTATION), hostReconciler.cacheCaughtUp)],
        reconcile: hostReconciler.reconcile,
        maxConcurrentReconciles: workers,
      })
      .watch(secretInformer, {
        // Not the hosts that have read this version already (above all the one whose reconcile
        // labelled it, which brings it into the cache); every host when it is deleted.
        map: (secret) => {
          const current = secretInformer.get(refOf(secret))?.metadata?.resourceVersion === secret.metadata?.resourceVersion;
          return hosts
            .byIndex(HOSTS_BY_CREDENTIALS, objectKey(secret))
            .filter((host) => !(current && hostReconciler.hasRead(host, secret)))
            .map(refOf);
        },
        predicates: [resourceVersionChanged],
      });
  }

  if (run.has("subscriptions")) {
    const subscriptions = manager.informer(BMC_EVENT_SUBSCRIPTIONS);
    subscriptions.addIndex(SUBSCRIPTIONS_BY_HOST, (s) => [subscriptionHostKey(s)]);
    subscriptions.addIndex(SUBSCRIPTIONS_BY_SECRET, subscriptionSecretKeys);
    const subscriptionReconciler = new BMCEventSubscriptionReconciler({
      client: manager.client,
      provisioner,
      subscriptions,
      hosts,
      secrets,
      access,
      events: manager.eventRecorder("metal3.io/bmceventsubscription-controller"),
      checkIntervalMs: options.subscriptionCheckIntervalMs ?? 0,
      ...(options.subscriptionExtraHeaders ? { extraHeaders: options.subscriptionExtraHeaders } : {}),
    });
    manager
      .controller({
        name: "bmceventsubscription",
        for: subscriptions,
        predicates: [or(specOrDeletion, subscriptionReconciler.cacheCaughtUp)],
        reconcile: subscriptionReconciler.reconcile,
        maxConcurrentReconciles: workers,
      })
      .watch(hosts, {
        map: (host) => subscriptions.byIndex(SUBSCRIPTIONS_BY_HOST, objectKey(host)).map(refOf),
        predicates: [resourceVersionChanged],
      })
      .watch(secretInformer, {
        map: (secret) => subscriptions.byIndex(SUBSCRIPTIONS_BY_SECRET, objectKey(secret)).map(refOf),
        predicates: [resourceVersionChanged],
      })
      .watch(subscriptions, {
        // A subscription's deletion lets a later one with the same destination and context go ahead.
        map: (gone) => sameTargetSubscriptions(subscriptions, gone).map(refOf),
        predicates: [{ add: () => false, update: () => false }],
      });
    operator.subscriptions = subscriptions;
  }

  if (run.has("indicators")) {
    operator.indicators = setUpIndicatorController(manager, { provisioner, hosts, access, workers }).indicators;
  }
  return operator;
}

/** The indicator controller, reading each host's lights with `lightsOf` (default: its status). */
function setUpIndicatorController(
  manager: Manager,
  d: {
    provisioner: Provisioner;
    hosts: Informer<BareMetalHost>;
    access: HostAccessResolver;
    workers: number;
    lightsOf?: (host: BareMetalHost) => HostIndicator[] | undefined;
  },
): { indicators: Informer<BareMetalHostServiceIndicator>; controller: Controller } {
  const indicators = manager.informer(SERVICE_INDICATORS);
  indicators.addIndex(INDICATORS_BY_HOST, (i) => [indicatorHostKey(i)]);
  indicators.addIndex(INDICATORS_BY_LIGHT, (i) => [indicatorLightKey(i)]);
  const indicatorReconciler = new ServiceIndicatorReconciler({
    client: manager.client,
    provisioner: d.provisioner,
    indicators,
    hosts: d.hosts,
    access: d.access,
    events: manager.eventRecorder("metal3.io/baremetalhostserviceindicator-controller"),
    lightsOf: d.lightsOf,
  });
  const controller = manager
    .controller({
      name: "baremetalhostserviceindicator",
      for: indicators,
      predicates: [or(specOrDeletion, indicatorReconciler.cacheCaughtUp)],
      reconcile: indicatorReconciler.reconcile,
      maxConcurrentReconciles: d.workers,
    })
    .watch(d.hosts, {
      map: (host) => indicators.byIndex(INDICATORS_BY_HOST, objectKey(host)).map(refOf),
      predicates: [resourceVersionChanged],
    })
    .watch(indicators, {
      // An indicator created or gone changes which indicator of its light switches it.
      map: (indicator) => indicators.byIndex(INDICATORS_BY_LIGHT, indicatorLightKey(indicator)).map(refOf),
      predicates: [{ update: () => false }],
    });
  return { indicators, controller };
}

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
  const provisioner = instrumentProvisioner(options.provisioner, manager.registry);
  const readLights = options.readLights ?? lookUpOnly(options.provisioner, provisioner);
  const workers = options.maxConcurrentReconciles ?? 512;
  const hosts = manager.informer(BARE_METAL_HOSTS);
  const published = manager.informer(HOST_INDICATORS);
  const access = new HostAccessResolver(new SecretReader(manager.client, undefined, manager.logger), { lookUpOnly: true });

  const publisher = new HostIndicatorsReconciler({ client: manager.client, hosts, published, access, readLights });
  manager
    .controller({ name: "hostindicators", for: hosts, reconcile: publisher.reconcile, maxConcurrentReconciles: workers })
    .watch(published, { map: (object) => [refOf(object)], predicates: [resourceVersionChanged] });

  const { indicators, controller } = setUpIndicatorController(manager, {
    provisioner,
    hosts,
    access,
    workers,
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
  controller.watch(published, {
      map: (object) => indicators.byIndex(INDICATORS_BY_HOST, objectKey(object)).map(refOf),
      predicates: [resourceVersionChanged],
    });
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

/**
 * Wires the three controllers into a manager: the informers and their
 * indexes, the secondary watches that map a host or a Secret to the
 * resources that depend on it, and the shared helpers.
 *
 * @module
 */
import type { BareMetalHost } from "../api/baremetalhost.ts";
import type { BareMetalHostServiceIndicator } from "../api/baremetalhost-service-indicator.ts";
import type { BMCEventSubscription } from "../api/bmc-event-subscription.ts";
import type { Provisioner } from "../provisioner/provisioner.ts";
import {
  annotationsChanged,
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
} from "../runtime/index.ts";
import { BareMetalHostReconciler, credentialsKey, HOSTS_BY_CREDENTIALS, REFRESH_ANNOTATION } from "./baremetalhost-controller.ts";
import {
  BMCEventSubscriptionReconciler,
  SUBSCRIPTIONS_BY_HOST,
  SUBSCRIPTIONS_BY_SECRET,
  sameTargetSubscriptions,
  subscriptionHostKey,
  subscriptionSecretKeys,
} from "./bmc-event-subscription-controller.ts";
import { HostAccessResolver } from "./host-access-resolver.ts";
import { instrumentProvisioner } from "./instrumented-provisioner.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS, SERVICE_INDICATORS } from "./resources.ts";
import { SECRET_LABEL_SELECTOR, SecretReader } from "./secret-reader.ts";
import { INDICATORS_BY_HOST, indicatorHostKey, ServiceIndicatorReconciler } from "./service-indicator-controller.ts";

/** Options of {@link setUpOperator}. */
export interface OperatorOptions {
  provisioner: Provisioner;
  /**
   * Reconciles running at once, per controller. They mostly wait for a slot of
   * the BMC call limiter, which orders them; workers well above its global cap
   * let every new host queue for its BMC at once. @default 512
   */
  maxConcurrentReconciles?: number;
  /** How often to check that BMCs still hold their subscriptions, in ms; 0 never checks. @default 0 */
  subscriptionCheckIntervalMs?: number;
}

/** The informers the operator set up, for tests and tools. */
export interface Operator {
  hosts: Informer<BareMetalHost>;
  subscriptions: Informer<BMCEventSubscription>;
  indicators: Informer<BareMetalHostServiceIndicator>;
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

/** Adds the BareMetalHost, BMCEventSubscription and BareMetalHostServiceIndicator controllers to `manager`. */
export function setUpOperator(manager: Manager, options: OperatorOptions): Operator {
  const provisioner = instrumentProvisioner(options.provisioner, manager.registry);
  const workers = options.maxConcurrentReconciles ?? 512;

  const secretInformer = manager.informer(SECRETS, { labelSelector: SECRET_LABEL_SELECTOR });
  const hosts = manager.informer(BARE_METAL_HOSTS);
  hosts.addIndex(HOSTS_BY_CREDENTIALS, credentialsKey);
  const subscriptions = manager.informer(BMC_EVENT_SUBSCRIPTIONS);
  subscriptions.addIndex(SUBSCRIPTIONS_BY_HOST, (s) => [subscriptionHostKey(s)]);
  subscriptions.addIndex(SUBSCRIPTIONS_BY_SECRET, subscriptionSecretKeys);
  const indicators = manager.informer(SERVICE_INDICATORS);
  indicators.addIndex(INDICATORS_BY_HOST, (i) => [indicatorHostKey(i)]);

  const secrets = new SecretReader(manager.client, secretInformer, manager.logger);
  const access = new HostAccessResolver(secrets);

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

  const subscriptionReconciler = new BMCEventSubscriptionReconciler({
    client: manager.client,
    provisioner,
    subscriptions,
    hosts,
    secrets,
    access,
    events: manager.eventRecorder("metal3.io/bmceventsubscription-controller"),
    checkIntervalMs: options.subscriptionCheckIntervalMs ?? 0,
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

  const indicatorReconciler = new ServiceIndicatorReconciler({
    client: manager.client,
    provisioner,
    indicators,
    hosts,
    access,
    events: manager.eventRecorder("metal3.io/baremetalhostserviceindicator-controller"),
  });
  manager
    .controller({
      name: "baremetalhostserviceindicator",
      for: indicators,
      predicates: [or(specOrDeletion, indicatorReconciler.cacheCaughtUp)],
      reconcile: indicatorReconciler.reconcile,
      maxConcurrentReconciles: workers,
    })
    .watch(hosts, {
      map: (host) => indicators.byIndex(INDICATORS_BY_HOST, objectKey(host)).map(refOf),
      predicates: [resourceVersionChanged],
    });

  return { hosts, subscriptions, indicators, provisioner };
}

/**
 * Wires the event receiver into the operator process: its caches (token
 * Secrets, subscriptions, hosts, sink ConfigMaps, shared with the controllers
 * through the manager), the token controller, the token header for the
 * subscription controller, the Event series writer, auto-locate, the
 * CloudEvents forwarder and the HTTPS listener.
 *
 * The receiver is a listener of the operator process (enabled by
 * `--event-receiver-bind-address`), not a Deployment of its own: mapping a
 * delivery to its host needs the subscriptions, token Secrets and hosts the
 * operator already caches, and recording needs its client and metrics; a
 * second Deployment would hold a second copy of those caches and a second
 * set of API watches for nothing. The listener runs in every replica (it
 * only reads caches and writes Events), the token controller only in the
 * leader.
 *
 * @module
 */
import { unwatchFile, watchFile } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { BareMetalHost, HostIndicator } from "../api/baremetalhost.ts";
import type { BMCEventSubscription } from "../api/bmc-event-subscription.ts";
import type { ExtraHeaders } from "../controllers/bmc-event-subscription-controller.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS, SERVICE_INDICATORS } from "../controllers/resources.ts";
import {
  EVENTS,
  type Informer,
  isDeleting,
  type Manager,
  NAMESPACES,
  type Permission,
  permissionOn,
  resourceVersionChanged,
  SECRETS,
  type Secret,
} from "../runtime/index.ts";
import { AutoLocator } from "./auto-locate.ts";
import { CloudEventForwarder, CONFIGMAPS, type ConfigMap, EVENT_SINKS_SELECTOR, sinkUrls } from "./cloudevents.ts";
import { acceptedTokenHashes, isTokenSecretOf, TOKEN_FOR_LABEL } from "./event-token.ts";
import { EventReceiver, eventNote, eventReason, type RunningReceiver, type TokenLookup } from "./event-receiver.ts";
import { EventSeriesWriter } from "./event-series.ts";
import { ReceiverMetrics } from "./receiver-metrics.ts";
import { normalReceiverUrl } from "./receiver-url.ts";
import { aimedAtReceiver, receiverTokenHeaders, TokenReconciler } from "./token-controller.ts";

/** Index of token Secrets by the SHA-256 of each token they accept. */
export const TOKEN_SECRETS_BY_HASH = "event-token-hash";
/** Name of the token controller (and the Events' reporting controller of the receiver). */
export const TOKEN_CONTROLLER = "bmceventreceivertoken";
/** The reporting controller of the Events the receiver writes on hosts. */
export const RECEIVER_REPORTING_CONTROLLER = "metal3.io/bmc-event-receiver";

/** The receiver's API calls, from which the RBAC manifests are generated. */
export const EVENT_RECEIVER_PERMISSIONS: readonly Permission[] = [
  permissionOn(SECRETS, ["list", "watch", "create", "patch", "get"]),
  permissionOn(BMC_EVENT_SUBSCRIPTIONS, ["list", "watch"]),
  permissionOn(BARE_METAL_HOSTS, ["list", "watch"]),
  permissionOn(SERVICE_INDICATORS, ["create"]),
  permissionOn(NAMESPACES, ["get"]),
  permissionOn(CONFIGMAPS, ["list", "watch"]),
  permissionOn(EVENTS, ["create", "patch"]),
];

/** Settings of the receiver. */
export interface EventReceiverSettings {
  /** Where to listen, `[host]:port`. */
  bindAddress: string;
  /** The URL BMCs deliver to (a Service's external address); subscriptions under it get a token. */
  url: string;
  /** A folder with `tls.crt` and `tls.key` (a `kubernetes.io/tls` Secret mounted as a volume). */
  certDir?: string;
  /** The certificate and key themselves (instead of `certDir`). */
  tls?: { cert: string; key: string };
  /** Run the token controller (standalone and metal3 mode alike; off only in tests of the listener alone). @default true */
  tokenController?: boolean;
  /** The operator's mode: in metal3 mode the token is never rotated in place (see the token controller's `rotate`). @default "standalone" */
  mode?: "standalone" | "metal3";
  /** Bytes a delivery may hold. @default 262144 */
  maxBodyBytes?: number;
  /** Ms between patches of a series' count. @default 10000 */
  flushIntervalMs?: number;
  /** How often to look for a renewed certificate in `certDir`, ms. @default 30000 */
  certCheckIntervalMs?: number;
}

/** A receiver set up on a manager, to start once the manager runs. */
export interface PreparedEventReceiver {
  /** The token header, for the subscription controller (standalone mode). */
  extraHeaders: ExtraHeaders;
  /** Adds the token controller, and the token Secrets' watch of the subscription controller if it runs. Call after setting the operator up. */
  addControllers(options: { lightsOf?: (host: BareMetalHost) => readonly HostIndicator[] | undefined }): void;
  /** Starts listening (the manager should be starting); resolves with where. */
  start(): Promise<StartedEventReceiver>;
}

/** A listening receiver and its parts, for tests and benchmarks. */
export interface StartedEventReceiver extends RunningReceiver {
  receiver: EventReceiver;
  series: EventSeriesWriter;
  forwarder: CloudEventForwarder;
  metrics: ReceiverMetrics;
}

/** Prepares the receiver on `manager`; call before setting up the operator, so that it gets {@link PreparedEventReceiver.extraHeaders}. */
export function prepareEventReceiver(manager: Manager, settings: EventReceiverSettings): PreparedEventReceiver {
  const receiverUrl = normalReceiverUrl(settings.url);
  const bind = parseBind(settings.bindAddress);
  if (!settings.tls && !settings.certDir) {
    throw new RangeError("the event receiver serves HTTPS only: give --event-receiver-cert-dir (a folder with tls.crt and tls.key)");
  }
  const secrets: Informer<Secret> = manager.informer(SECRETS, { labelSelector: TOKEN_FOR_LABEL });
  secrets.addIndex(TOKEN_SECRETS_BY_HASH, acceptedTokenHashes);
  const subscriptions: Informer<BMCEventSubscription> = manager.informer(BMC_EVENT_SUBSCRIPTIONS);
  const hosts: Informer<BareMetalHost> = manager.informer(BARE_METAL_HOSTS);
  const sinks: Informer<ConfigMap> = manager.informer(CONFIGMAPS, { labelSelector: EVENT_SINKS_SELECTOR });
  let lightsOf: (host: BareMetalHost) => readonly HostIndicator[] | undefined = (host) => host.status?.hardware?.indicators;

  const lookup = (hash: string): TokenLookup => {
    if (!secrets.hasSynced() || !subscriptions.hasSynced() || !hosts.hasSynced()) return "not_ready";
    for (const secret of secrets.byIndex(TOKEN_SECRETS_BY_HASH, hash)) {
      const namespace = secret.metadata?.namespace ?? "";
      const subscription = subscriptions.get({ namespace, name: secret.metadata?.labels?.[TOKEN_FOR_LABEL] ?? "" });
      if (!subscription || isDeleting(subscription) || !aimedAtReceiver(subscription, receiverUrl) || !isTokenSecretOf(secret, subscription)) continue;
      const host = hosts.get({ namespace, name: subscription.spec.hostName });
      if (host) return { host, subscription: subscription.metadata?.name ?? "" };
    }
    return "unknown";
  };

  return {
    extraHeaders: receiverTokenHeaders({ client: manager.client, secrets, receiverUrl }),
    addControllers(options) {
      if (options.lightsOf) lightsOf = options.lightsOf;
      if (settings.tokenController === false) return;
      const tokens = new TokenReconciler({ client: manager.client, subscriptions, secrets, receiverUrl, rotate: settings.mode !== "metal3" });
      manager
        .controller({ name: TOKEN_CONTROLLER, for: subscriptions, reconcile: tokens.reconcile, maxConcurrentReconciles: 4 })
        .watch(secrets, { map: (secret) => tokens.subscriptionOf(secret), predicates: [resourceVersionChanged] });
      // A new or rotated token re-creates the BMC subscription with it (the header-change path).
      manager.controllers
        .find((c) => c.name === "bmceventsubscription")
        ?.watch(secrets, { map: (secret) => tokens.subscriptionOf(secret), predicates: [resourceVersionChanged] });
    },
    async start() {
      const tls = settings.tls ?? {
        cert: await readFile(join(settings.certDir!, "tls.crt"), "utf8"),
        key: await readFile(join(settings.certDir!, "tls.key"), "utf8"),
      };
      const logger = manager.logger.child({ component: "event-receiver" });
      const metrics = new ReceiverMetrics(manager.registry);
      const series = new EventSeriesWriter({
        client: manager.client,
        reportingController: RECEIVER_REPORTING_CONTROLLER,
        reportingInstance: manager.identity,
        ...(settings.flushIntervalMs !== undefined ? { flushIntervalMs: settings.flushIntervalMs } : {}),
        onWrite: (kind, ok) => metrics.writes.inc({ kind, result: ok ? "ok" : "failed" }),
        logger,
      });
      const warned = new Set<string>();
      const forwarder = new CloudEventForwarder({
        sinksOf: (namespace) =>
          sinks.list(namespace).flatMap((configMap) => {
            const { urls, invalid } = sinkUrls(configMap);
            const version = `${namespace}/${configMap.metadata?.name}@${configMap.metadata?.resourceVersion}`;
            if (invalid.length > 0 && !warned.has(version)) {
              warned.add(version);
              logger.warn({ configMap: `${namespace}/${configMap.metadata?.name}`, lines: invalid.length }, "ConfigMap lists CloudEvents sinks that are not http(s) URLs; they are skipped");
            }
            return urls;
          }),
        onResult: (namespace, result) => metrics.forwarded.inc({ namespace, result }),
        logger,
      });
      const locator = new AutoLocator({ client: manager.client, logger, onCreated: (namespace) => metrics.autoLocated.inc({ namespace }) });
      const receiver = new EventReceiver({
        lookup,
        lightsOf: (host) => lightsOf(host),
        metrics,
        logger,
        path: receiverUrl.pathname,
        ...(settings.maxBodyBytes !== undefined ? { maxBodyBytes: settings.maxBodyBytes } : {}),
        handlers: {
          record: (host, event, light) =>
            series.record(host, {
              type: event.severity === "Critical" || event.severity === "Warning" ? "Warning" : "Normal",
              reason: eventReason(event.messageId),
              action: "ReceiveBMCEvent",
              note: eventNote(event, light),
            }),
          autoLocate: (host, event, light) => locator.handle(host, event, light),
          forward: (host, event, id) => forwarder.forward({ namespace: host.metadata?.namespace ?? "", host: host.metadata?.name ?? "", record: event, id }),
        },
      });
      const running = await receiver.listen(bind, tls);
      logger.info({ listening: running.url, url: receiverUrl.href }, "event receiver listening");
      // A renewed certificate (the mounted Secret's files swapped by the kubelet) serves new connections.
      const certFile = settings.certDir ? join(settings.certDir, "tls.crt") : undefined;
      if (certFile) {
        watchFile(certFile, { interval: settings.certCheckIntervalMs ?? 30_000, persistent: false }, () => {
          void Promise.all([readFile(certFile, "utf8"), readFile(join(settings.certDir!, "tls.key"), "utf8")])
            .then(([cert, key]) => {
              running.setCertificate({ cert, key });
              logger.info({ certDir: settings.certDir }, "event receiver: serving the renewed certificate");
            })
            .catch((error: unknown) => logger.warn({ err: error, certDir: settings.certDir }, "event receiver: the renewed certificate could not be loaded; serving the previous one"));
        });
      }
      return {
        ...running,
        receiver,
        series,
        forwarder,
        metrics,
        close: async () => {
          if (certFile) unwatchFile(certFile);
          await running.close();
          await series.close();
          await forwarder.close();
        },
      };
    },
  };
}

function parseBind(address: string): { host?: string; port: number } {
  const colon = address.lastIndexOf(":");
  const host = colon >= 0 ? address.slice(0, colon).replace(/^\[(.*)\]$/, "$1") : "";
  const port = Number(colon >= 0 ? address.slice(colon + 1) : address);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`--event-receiver-bind-address must be "host:port" or ":port", got ${JSON.stringify(address)}`);
  }
  return host ? { host, port } : { port };
}


/**
 * Starts the operator from its settings: the mode (standalone or next to the
 * Metal3 baremetal-operator), the provisioner (Redfish or Ironic) with the
 * process-wide BMC call limiter, the manager and the controllers.
 *
 * @module
 */
import type { KubeConfigLike } from "../runtime/kube-config.ts";
import { Gauge } from "../runtime/prometheus.ts";
import { type Operator, setUpOperator } from "../controllers/operator.ts";
import { createIronicProvisioner, ironicProvisionerOptionsFromEnv } from "../provisioner/ironic/mod.ts";
import { parseBoolean } from "../provisioner/ironic/options.ts";
import { BmcCallLimiter } from "../provisioner/limiter.ts";
import type { Provisioner } from "../provisioner/provisioner.ts";
import { RedfishProvisioner } from "../provisioner/redfish/redfish-provisioner.ts";
import { createLogger, loadKubeConfig, type Logger, Manager } from "../runtime/index.ts";
import { prepareEventReceiver, type StartedEventReceiver } from "../receiver/setup.ts";
import type { OperatorSettings } from "./operator-options.ts";
import { type ControllerName, controllersFor, decideMode, lookUpBareMetalHostCrd, ModeError, type OperatorMode } from "./operator-mode.ts";

/** A started operator. */
export interface RunningOperator extends Operator {
  manager: Manager;
  /** The mode it runs in. */
  mode: OperatorMode;
  /** The controllers it runs. */
  controllers: ControllerName[];
  /** Settles when the manager has stopped (rejects when it failed, for example on a lost lease). */
  done: Promise<void>;
  /** The BMC event receiver, when enabled. */
  eventReceiver?: StartedEventReceiver;
}

/** Options of {@link startOperator} beyond the settings. */
export interface StartOperatorOptions {
  /** Stops the operator gracefully when aborted. */
  signal: AbortSignal;
  /** The cluster; from the settings' kubeconfig flags when unset. */
  kubeConfig?: KubeConfigLike;
  logger?: Logger;
  /** Environment for the Ironic settings. @default process.env */
  env?: Record<string, string | undefined>;
  /** The event receiver's certificate and key (instead of `--event-receiver-cert-dir`). */
  eventReceiverTls?: { cert: string; key: string };
}

/**
 * Makes the provisioner the settings ask for, sharing `limiter`. In metal3
 * mode that is always Ironic, configured as the baremetal-operator's, and it
 * only looks nodes up: BMO enrolls them and owns their settings.
 */
export function createProvisioner(
  settings: OperatorSettings,
  limiter: BmcCallLimiter,
  env: Record<string, string | undefined> = process.env,
  mode: OperatorMode = "standalone",
): Provisioner {
  if (mode === "metal3") {
    if (settings.provisionerGiven && settings.provisioner !== "ironic") {
      throw new ModeError(
        `--provisioner ${settings.provisioner} refused in metal3 mode: the Metal3 baremetal-operator's Ironic owns the BMCs there; use --provisioner ironic`,
      );
    }
    const register = settings.ironic.registerHosts ?? parseBoolean(env.IRONIC_REGISTER_HOSTS ?? "false", "IRONIC_REGISTER_HOSTS");
    if (register) {
      throw new ModeError(
        "--ironic-register-hosts (IRONIC_REGISTER_HOSTS) true refused in metal3 mode: the Metal3 baremetal-operator enrolls " +
          "the nodes and owns their settings; bmc-operator only looks them up",
      );
    }
    return createIronicProvisioner({ ...ironicProvisionerOptionsFromEnv(env, { ...settings.ironic, registerHosts: false }), limiter });
  }
  if (settings.provisioner === "ironic") {
    return createIronicProvisioner({ ...ironicProvisionerOptionsFromEnv(env, settings.ironic), limiter });
  }
  return new RedfishProvisioner({ limiter, requestTimeoutMs: settings.bmcTimeoutMs });
}

/**
 * Starts the operator; stop it by aborting `options.signal` and awaiting
 * `done`. Rejects with a {@link ModeError} when the mode cannot be chosen or
 * the one asked for cannot run in this cluster.
 */
export async function startOperator(settings: OperatorSettings, options: StartOperatorOptions): Promise<RunningOperator> {
  const logger =
    options.logger ??
    createLogger({ level: settings.logLevel as "info", pretty: settings.logFormat === "pretty", base: { component: "bmc-operator" } });
  const kubeConfig = options.kubeConfig ?? loadKubeConfig({ kubeconfig: settings.kubeconfig, context: settings.context });
  const manager = new Manager({
    kubeConfig,
    namespaces: settings.namespaces,
    metricsAddress: settings.metricsBindAddress,
    probeAddress: settings.healthProbeBindAddress,
    logger,
    leaderElection: settings.leaderElect
      ? {
          name: settings.leaderElectionId,
          namespace: settings.leaderElectionNamespace,
          leaseDurationMs: settings.leaseDurationMs,
          renewDeadlineMs: settings.renewDeadlineMs,
          retryPeriodMs: settings.retryPeriodMs,
        }
      : undefined,
  });
  // One GET of the BareMetalHost CRD, to choose (auto) or check (standalone) the mode.
  const crd = settings.mode === "metal3" ? ({ found: "none" } as const) : await lookUpBareMetalHostCrd(manager.client, options.signal);
  const decision = decideMode(settings.mode, crd);
  const controllers = controllersFor(decision.mode, settings.controllers);
  const inFlight = new Gauge({
    name: "bmc_operator_bmc_calls_in_flight",
    help: "BMC (or Ironic node) calls running now, over all BMCs.",
    registers: [manager.registry],
  });
  const waiting = new Gauge({
    name: "bmc_operator_bmc_calls_waiting",
    help: "BMC calls waiting for their BMC's (or the global) limit.",
    registers: [manager.registry],
  });
  const limiter = new BmcCallLimiter({
    perKey: settings.bmcMaxInFlight,
    global: settings.bmcMaxTotal,
    observer: {
      changed(running, queued) {
        inFlight.set(running);
        waiting.set(queued);
      },
    },
  });
  const provisioner = createProvisioner(settings, limiter, options.env, decision.mode);
  const receiverOn = settings.eventReceiverBindAddress !== "0" && settings.eventReceiverBindAddress !== "";
  const receiver = receiverOn
    ? prepareEventReceiver(manager, {
        bindAddress: settings.eventReceiverBindAddress,
        mode: decision.mode,
        url: settings.eventReceiverUrl ?? "",
        ...(settings.eventReceiverCertDir ? { certDir: settings.eventReceiverCertDir } : {}),
        ...(options.eventReceiverTls ? { tls: options.eventReceiverTls } : {}),
      })
    : undefined;
  const operator = setUpOperator(manager, {
    ...(receiver ? { subscriptionExtraHeaders: receiver.extraHeaders } : {}),
    mode: decision.mode,
    controllers,
    provisioner,
    maxConcurrentReconciles: settings.concurrency,
    subscriptionCheckIntervalMs: settings.subscriptionCheckIntervalMs,
  });
  logger.info({ mode: decision.mode, reason: decision.reason, controllers }, `running in ${decision.mode} mode: ${decision.reason}`);
  logger.info(
    {
      mode: decision.mode,
      provisioner: provisioner.name,
      namespaces: settings.namespaces.length ? settings.namespaces : "all",
      concurrency: settings.concurrency,
      bmcMaxInFlight: settings.bmcMaxInFlight,
      bmcMaxTotal: settings.bmcMaxTotal,
      leaderElect: settings.leaderElect,
    },
    "starting bmc-operator",
  );
  const published = operator.hostIndicators;
  receiver?.addControllers(published ? { lightsOf: (host) => published.get({ namespace: host.metadata?.namespace ?? "", name: host.metadata?.name ?? "" })?.status?.indicators } : {});
  // Listening before the manager starts: a port in use fails the start; until the caches sync, deliveries get 503.
  const eventReceiver = await receiver?.start();
  const done = manager.start(options.signal);
  const stopped = done.finally(async () => {
    await eventReceiver?.close();
    await provisioner.close?.();
  });
  return { ...operator, manager, mode: decision.mode, controllers, done: stopped, ...(eventReceiver ? { eventReceiver } : {}) };
}

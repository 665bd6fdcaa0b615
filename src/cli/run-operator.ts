/**
 * Starts the operator from its settings: the provisioner (Redfish or Ironic)
 * with the process-wide BMC call limiter, the manager and the controllers.
 *
 * @module
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { Gauge } from "prom-client";
import { type Operator, setUpOperator } from "../controllers/operator.ts";
import { createIronicProvisioner, ironicProvisionerOptionsFromEnv } from "../provisioner/ironic/mod.ts";
import { BmcCallLimiter } from "../provisioner/limiter.ts";
import type { Provisioner } from "../provisioner/provisioner.ts";
import { RedfishProvisioner } from "../provisioner/redfish/redfish-provisioner.ts";
import { createLogger, loadKubeConfig, type Logger, Manager } from "../runtime/index.ts";
import type { OperatorSettings } from "./operator-options.ts";

/** A started operator. */
export interface RunningOperator extends Operator {
  manager: Manager;
  /** Settles when the manager has stopped (rejects when it failed, for example on a lost lease). */
  done: Promise<void>;
}

/** Options of {@link startOperator} beyond the settings. */
export interface StartOperatorOptions {
  /** Stops the operator gracefully when aborted. */
  signal: AbortSignal;
  /** The cluster; from the settings' kubeconfig flags when unset. */
  kubeConfig?: KubeConfig;
  logger?: Logger;
  /** Environment for the Ironic settings. @default process.env */
  env?: Record<string, string | undefined>;
}

/** Makes the provisioner the settings ask for, sharing `limiter`. */
export function createProvisioner(
  settings: OperatorSettings,
  limiter: BmcCallLimiter,
  env: Record<string, string | undefined> = process.env,
): Provisioner {
  if (settings.provisioner === "ironic") {
    return createIronicProvisioner({ ...ironicProvisionerOptionsFromEnv(env, settings.ironic), limiter });
  }
  return new RedfishProvisioner({ limiter, requestTimeoutMs: settings.bmcTimeoutMs });
}

/** Starts the operator; stop it by aborting `options.signal` and awaiting `done`. */
export function startOperator(settings: OperatorSettings, options: StartOperatorOptions): RunningOperator {
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
  const provisioner = createProvisioner(settings, limiter, options.env);
  const operator = setUpOperator(manager, {
    provisioner,
    maxConcurrentReconciles: settings.concurrency,
    subscriptionCheckIntervalMs: settings.subscriptionCheckIntervalMs,
  });
  logger.info(
    {
      provisioner: provisioner.name,
      namespaces: settings.namespaces.length ? settings.namespaces : "all",
      concurrency: settings.concurrency,
      bmcMaxInFlight: settings.bmcMaxInFlight,
      bmcMaxTotal: settings.bmcMaxTotal,
      leaderElect: settings.leaderElect,
    },
    "starting bmc-operator",
  );
  const done = manager.start(options.signal).finally(() => provisioner.close?.());
  return { ...operator, manager, done };
}

/**
 * The operator's command line: every flag, its environment variable and its
 * default. `npm run operator -- --help` prints them.
 *
 * @module
 */
import { Command, InvalidArgumentError, Option } from "commander";
import type { IronicSettings } from "../provisioner/ironic/mod.ts";
import { parseBoolean } from "../provisioner/ironic/options.ts";
import { parseDuration } from "./duration.ts";
import { type ControllerName, MODE_CHOICES, type ModeChoice, parseControllers } from "./operator-mode.ts";

/** The operator's settings, after parsing. */
export interface OperatorSettings {
  kubeconfig?: string;
  context?: string;
  /** `--mode`: standalone, metal3, or auto (chosen from the cluster's BareMetalHost CRD). */
  mode: ModeChoice;
  /** `--controllers`; undefined: the mode's default. */
  controllers?: ControllerName[];
  provisioner: "redfish" | "ironic";
  /** Whether `--provisioner` (or its variable) was given, rather than defaulted; metal3 mode defaults to ironic. */
  provisionerGiven: boolean;
  /** Watched namespaces; empty means all. */
  namespaces: string[];
  concurrency: number;
  bmcMaxInFlight: number;
  bmcMaxTotal: number;
  bmcTimeoutMs: number;
  subscriptionCheckIntervalMs: number;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  /** `--event-receiver-bind-address`: where the event receiver listens; "0" (the default) disables it. */
  eventReceiverBindAddress: string;
  /** `--event-receiver-url`: the URL BMCs deliver to. */
  eventReceiverUrl?: string;
  /** `--event-receiver-cert-dir`: holds tls.crt and tls.key. */
  eventReceiverCertDir?: string;
  leaderElect: boolean;
  leaderElectionId: string;
  leaderElectionNamespace?: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** Ironic flags given on the command line (environment variables are read by the Ironic provisioner). */
  ironic: Partial<IronicSettings>;
  logLevel: string;
  logFormat: "json" | "pretty";
}

function wholeNumber(flag: string, min: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) {
      throw new InvalidArgumentError(`${flag} must be a whole number of at least ${min}, got ${JSON.stringify(text)}`);
    }
    return value;
  };
}

/** A commander argument parser from a parse function that throws: its error becomes commander's. */
function parsedBy<T>(parse: (text: string, flag: string) => T, flag: string) {
  return (text: string): T => {
    try {
      return parse(text, flag);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}

const duration = (flag: string) => parsedBy(parseDuration, flag);
const bool = (flag: string) => parsedBy(parseBoolean, flag);

/** The commander program of `npm run operator`. */
export function operatorCommand(): Command {
  return new Command("bmc-operator")
    .description(
      "Runs the bmc-operator controllers (BareMetalHost, BMCEventSubscription, BareMetalHostServiceIndicator) " +
        "against a Kubernetes cluster. Every flag can also be set through the environment variable shown.",
    )
    .addOption(new Option("--kubeconfig <file>", "kubeconfig file; else $KUBECONFIG, the in-cluster config, or ~/.kube/config"))
    .addOption(new Option("--context <name>", "kubeconfig context to use").env("KUBECONTEXT"))
    .addOption(
      new Option(
        "--mode <mode>",
        "standalone: bmc-operator owns BareMetalHosts (config/default); metal3: next to the Metal3 baremetal-operator, " +
          "which owns them, lights through its Ironic (config/metal3); auto: metal3 when the cluster's BareMetalHost CRD is not bmc-operator's",
      )
        .choices(MODE_CHOICES)
        .default("auto")
        .env("BMC_OPERATOR_MODE"),
    )
    .addOption(
      new Option(
        "--controllers <list>",
        "comma-separated controllers to run, of hosts, subscriptions, indicators; default all in standalone mode, indicators in metal3 mode",
      )
        .default("")
        .env("BMC_OPERATOR_CONTROLLERS"),
    )
    .addOption(
      new Option("--provisioner <name>", "who talks to the BMCs: redfish (directly) or ironic; always ironic in metal3 mode")
        .choices(["redfish", "ironic"])
        .default("redfish")
        .env("BMC_OPERATOR_PROVISIONER"),
    )
    .addOption(
      new Option("--namespaces <list>", "comma-separated namespaces to watch; all when empty").default("").env("WATCH_NAMESPACE"),
    )
    .addOption(
      new Option(
        "--concurrency <n>",
        "reconciles at once per controller; they mostly wait for a BMC slot, so keep it well above --bmc-max-total: a host that waits for a worker has not even queued for the BMC",
      )
        .argParser(wholeNumber("--concurrency", 1))
        .default(512)
        .env("BMC_OPERATOR_CONCURRENCY"),
    )
    .addOption(
      new Option("--bmc-max-in-flight <n>", "BMC (or Ironic node) calls in flight per BMC")
        .argParser(wholeNumber("--bmc-max-in-flight", 1))
        .default(1)
        .env("BMC_MAX_IN_FLIGHT"),
    )
    .addOption(
      new Option("--bmc-max-total <n>", "BMC calls in flight over all BMCs")
        .argParser(wholeNumber("--bmc-max-total", 1))
        .default(64)
        .env("BMC_MAX_TOTAL"),
    )
    .addOption(
      new Option("--bmc-timeout <duration>", "timeout of one Redfish request").argParser(duration("--bmc-timeout")).default(30_000, "30s").env("BMC_TIMEOUT"),
    )
    .addOption(
      new Option("--subscription-check-interval <duration>", "how often to check that each BMC still holds its subscriptions (jittered); 0 disables")
        .argParser(duration("--subscription-check-interval"))
        .default(3_600_000, "1h")
        .env("SUBSCRIPTION_CHECK_INTERVAL"),
    )
    .addOption(
      new Option("--metrics-bind-address <address>", "where /metrics listens ([host]:port); 0 disables").default(":8080").env("METRICS_BIND_ADDRESS"),
    )
    .addOption(
      new Option("--health-probe-bind-address <address>", "where /healthz and /readyz listen; 0 disables").default(":8081").env("HEALTH_PROBE_BIND_ADDRESS"),
    )
    .addOption(
      new Option(
        "--event-receiver-bind-address <address>",
        "where the BMC event receiver listens (HTTPS, [host]:port); 0 disables it",
      )
        .default("0")
        .env("EVENT_RECEIVER_BIND_ADDRESS"),
    )
    .addOption(
      new Option(
        "--event-receiver-url <url>",
        "the https URL BMCs deliver events to (the receiver's Service as BMCs reach it); BMCEventSubscriptions whose destination is under it get a token and land on their host",
      ).env("EVENT_RECEIVER_URL"),
    )
    .addOption(
      new Option("--event-receiver-cert-dir <dir>", "folder with the receiver's tls.crt and tls.key (a kubernetes.io/tls Secret mounted as a volume)").env(
        "EVENT_RECEIVER_CERT_DIR",
      ),
    )
    .addOption(
      new Option("--leader-elect [enabled]", "run only while holding the leader Lease (for more than one replica)")
        .argParser(bool("--leader-elect"))
        .default(false)
        .env("LEADER_ELECT"),
    )
    .addOption(new Option("--leader-election-id <name>", "name of the leader Lease").default("bmc-operator").env("LEADER_ELECTION_ID"))
    .addOption(
      new Option("--leader-election-namespace <namespace>", "namespace of the leader Lease; default the pod's").env("POD_NAMESPACE"),
    )
    .addOption(
      new Option("--lease-duration <duration>", "leader Lease duration").argParser(duration("--lease-duration")).default(15_000, "15s").env("LEASE_DURATION"),
    )
    .addOption(
      new Option("--renew-deadline <duration>", "how long the leader keeps trying to renew").argParser(duration("--renew-deadline")).default(10_000, "10s").env("RENEW_DEADLINE"),
    )
    .addOption(
      new Option("--retry-period <duration>", "time between leader election attempts").argParser(duration("--retry-period")).default(2_000, "2s").env("RETRY_PERIOD"),
    )
    .addOption(new Option("--ironic-endpoint <url>", "Ironic's URL (also IRONIC_ENDPOINT)"))
    .addOption(new Option("--ironic-auth-dir <dir>", "holds ironic/username and ironic/password for HTTP Basic auth (also METAL3_AUTH_ROOT_DIR)"))
    .addOption(new Option("--ironic-cacert-file <file>", "CA bundle for Ironic's certificate (also IRONIC_CACERT_FILE)"))
    .addOption(new Option("--ironic-client-cert-file <file>", "client certificate for mutual TLS (also IRONIC_CLIENT_CERT_FILE)"))
    .addOption(new Option("--ironic-client-key-file <file>", "client key for mutual TLS (also IRONIC_CLIENT_PRIVATE_KEY_FILE)"))
    .addOption(new Option("--ironic-insecure [enabled]", "do not verify Ironic's certificate (also IRONIC_INSECURE)").argParser(bool("--ironic-insecure")))
    .addOption(new Option("--ironic-timeout <duration>", "timeout of one Ironic request (also IRONIC_CLIENT_TIMEOUT)").argParser(duration("--ironic-timeout")))
    .addOption(
      new Option("--ironic-register-hosts [enabled]", "enroll hosts that have no Ironic node; false: only look nodes up (also IRONIC_REGISTER_HOSTS)").argParser(
        bool("--ironic-register-hosts"),
      ),
    )
    .addOption(
      new Option("--log-level <level>", "log level")
        .choices(["trace", "debug", "info", "warn", "error", "fatal", "silent"])
        .default("info")
        .env("LOG_LEVEL"),
    )
    .addOption(new Option("--log-format <format>", "log format").choices(["json", "pretty"]).default("json").env("LOG_FORMAT"))
    .allowExcessArguments(false);
}

/** Parses the operator's arguments (without `node` and the script). Throws a commander error for bad input. */
export function parseOperatorArgs(args: readonly string[], command: Command = operatorCommand()): OperatorSettings {
  command.exitOverride().configureOutput({ writeErr: () => {} });
  command.parse([...args], { from: "user" });
  const o = command.opts<Record<string, unknown>>();
  const ironic: Partial<IronicSettings> = {};
  if (o.ironicEndpoint !== undefined) ironic.endpoint = o.ironicEndpoint as string;
  if (o.ironicAuthDir !== undefined) ironic.authRootDir = o.ironicAuthDir as string;
  if (o.ironicCacertFile !== undefined) ironic.caCertFile = o.ironicCacertFile as string;
  if (o.ironicClientCertFile !== undefined) ironic.clientCertFile = o.ironicClientCertFile as string;
  if (o.ironicClientKeyFile !== undefined) ironic.clientKeyFile = o.ironicClientKeyFile as string;
  if (o.ironicInsecure !== undefined) ironic.insecure = o.ironicInsecure === true;
  if (o.ironicTimeout !== undefined) ironic.timeoutMs = o.ironicTimeout as number;
  if (o.ironicRegisterHosts !== undefined) ironic.registerHosts = o.ironicRegisterHosts === true;
  let controllers: ControllerName[] | undefined;
  try {
    controllers = parseControllers(typeof o.controllers === "string" ? o.controllers : "");
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  const settings: OperatorSettings = {
    mode: o.mode as ModeChoice,
    provisioner: o.provisioner as OperatorSettings["provisioner"],
    provisionerGiven: command.getOptionValueSource("provisioner") !== "default",
    namespaces: (typeof o.namespaces === "string" ? o.namespaces : "")
      .split(",")
      .map((n) => n.trim())
      .filter(Boolean),
    concurrency: Number(o.concurrency),
    bmcMaxInFlight: Number(o.bmcMaxInFlight),
    bmcMaxTotal: Number(o.bmcMaxTotal),
    bmcTimeoutMs: Number(o.bmcTimeout),
    subscriptionCheckIntervalMs: Number(o.subscriptionCheckInterval),
    metricsBindAddress: String(o.metricsBindAddress),
    healthProbeBindAddress: String(o.healthProbeBindAddress),
    eventReceiverBindAddress: String(o.eventReceiverBindAddress),
    leaderElect: o.leaderElect === true,
    leaderElectionId: String(o.leaderElectionId),
    leaseDurationMs: Number(o.leaseDuration),
    renewDeadlineMs: Number(o.renewDeadline),
    retryPeriodMs: Number(o.retryPeriod),
    ironic,
    logLevel: String(o.logLevel),
    logFormat: o.logFormat as OperatorSettings["logFormat"],
  };
  if (controllers) settings.controllers = controllers;
  if (typeof o.kubeconfig === "string") settings.kubeconfig = o.kubeconfig;
  if (typeof o.context === "string") settings.context = o.context;
  if (typeof o.eventReceiverUrl === "string") settings.eventReceiverUrl = o.eventReceiverUrl;
  if (typeof o.eventReceiverCertDir === "string") settings.eventReceiverCertDir = o.eventReceiverCertDir;
  if (settings.eventReceiverBindAddress !== "0" && settings.eventReceiverBindAddress !== "") {
    if (!settings.eventReceiverUrl) {
      throw new InvalidArgumentError("--event-receiver-bind-address needs --event-receiver-url: the URL BMCs deliver to, which subscriptions aim at");
    }
    if (!settings.eventReceiverCertDir) {
      throw new InvalidArgumentError("--event-receiver-bind-address needs --event-receiver-cert-dir: the receiver serves HTTPS only (some BMCs deliver only to https)");
    }
  }
  if (typeof o.leaderElectionNamespace === "string") settings.leaderElectionNamespace = o.leaderElectionNamespace;
  if (settings.renewDeadlineMs >= settings.leaseDurationMs) {
    throw new InvalidArgumentError(
      `--renew-deadline (${settings.renewDeadlineMs} ms) must be shorter than --lease-duration (${settings.leaseDurationMs} ms)`,
    );
  }
  return settings;
}

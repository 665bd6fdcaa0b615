/**
 * `npm start`: the embedded default. Runs, all on 127.0.0.1 and with no
 * cluster: the Kubernetes API emulator (objects kept under `--data-dir`), a
 * few emulated Redfish BMCs of several vendors (each keeping its identity,
 * subscriptions and lights under `--data-dir`, as real hardware does; `--fresh`
 * starts anew) with sample BareMetalHosts and their credentials,
 * an event sink that prints each event it receives, and the operator. It
 * prints the KUBECONFIG to use with kubectl and what to try. Ctrl-C stops
 * everything cleanly.
 *
 * @module
 */
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { describeEvent, startEventSink } from "../emulators/event-sink/index.ts";
import { startKubeApiServer } from "../emulators/kube-apiserver/index.ts";
import { parseProfileList, startBmcFleet } from "../emulators/redfish-bmc/index.ts";
import { installManifests } from "../src/api/install.ts";
import { REFRESH_ANNOTATION } from "../src/controllers/baremetalhost-controller.ts";
import { BARE_METAL_HOSTS } from "../src/controllers/resources.ts";
import {
  createLogger,
  isAlreadyExists,
  KubeClient,
  kubeConfigFromString,
  NAMESPACES,
  SECRETS,
  setupSignalHandler,
} from "../src/runtime/index.ts";
import { parseOperatorArgs } from "../src/cli/operator-options.ts";
import { startOperator } from "../src/cli/run-operator.ts";

const NAMESPACE = "demo";
/** The vendors the sample BMCs emulate, in turn: the tidy default first, then real vendors' quirks. */
const DEFAULT_PROFILES = "generic,dell-idrac9,hpe-ilo5,openbmc,lenovo-xcc,supermicro,hpe-ilo6";

/** A port flag's parser: 0 takes free ports. */
function port(flag: string) {
  return (text: string) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0 || value > 65535) {
      throw new InvalidArgumentError(`${flag} must be a port from 0 (any free one) to 65535, got ${JSON.stringify(text)}`);
    }
    return value;
  };
}

const command = new Command("npm start")
  .description("Runs bmc-operator with an emulated cluster, emulated BMCs and an event sink, all on 127.0.0.1.")
  .addOption(new Option("--data-dir <dir>", "where the API emulator keeps its objects and the kubeconfig").default(".data/embedded"))
  .addOption(new Option("--bmcs <n>", "emulated BMCs, one BareMetalHost each").argParser((t) => {
    const n = Number(t);
    if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError(`--bmcs must be from 1 to 100, got ${JSON.stringify(t)}`);
    return n;
  }).default(3))
  .addOption(new Option("--bmc-port <port>", "port of the first BMC; BMC i listens on port + i (0: free ports)").argParser(port("--bmc-port")).default(18000))
  .addOption(new Option("--sink-port <port>", "port of the event sink (0: a free port)").argParser(port("--sink-port")).default(18900))
  .addOption(new Option("--log-level <level>", "the operator's log level").default("info"))
  .addOption(
    new Option("--profiles <names>", "vendor profiles the BMCs take in turn (docs/vendor-profiles.md)")
      .argParser((t) => {
        try {
          return parseProfileList(t);
        } catch (error) {
          throw new InvalidArgumentError((error as Error).message);
        }
      })
      .default(parseProfileList(DEFAULT_PROFILES), DEFAULT_PROFILES),
  )
  .option("--fresh", "forget the kept cluster objects and BMC hardware and start anew")
  .parse(process.argv);
const flags = command.opts<{
  dataDir: string;
  bmcs: number;
  bmcPort: number;
  sinkPort: number;
  logLevel: string;
  profiles: ReturnType<typeof parseProfileList>;
  fresh?: boolean;
}>();

const dataDir = resolve(flags.dataDir);
// --fresh forgets only what npm start keeps there, never anything else in the directory.
if (flags.fresh) for (const kept of ["kube", "bmcs", "kubeconfig"]) rmSync(join(dataDir, kept), { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });
const kubeconfigPath = join(dataDir, "kubeconfig");
const log = createLogger({ level: flags.logLevel as "info", pretty: true, base: { component: "bmc-operator" } });
const say = (text: string) => process.stdout.write(`${text}\n`);

const api = await startKubeApiServer({ dataDir: join(dataDir, "kube"), kubeconfigPath }).catch(fatal);
const fleet = await startBmcFleet({
  count: flags.bmcs,
  port: flags.bmcPort,
  profile: flags.profiles,
  // Each BMC keeps its identity, subscriptions and lights across restarts, so the kept objects stay true.
  stateDir: join(dataDir, "bmcs"),
  // Fixed demo credentials, so that the Secrets kept in the data directory still match after a restart.
  password: (index) => `demo-password-${index}`,
}).catch(async (error: unknown) => {
  await api.close();
  return fatal(error, "pick other ports with --bmc-port");
});
const sink = await startEventSink({
  port: flags.sinkPort,
  onEvent: (event) => say(`[event-sink] ${describeEvent(event, ["Authorization", "X-Token"])}`),
}).catch(async (error: unknown) => {
  await fleet.close();
  await api.close();
  return fatal(error, "pick another port with --sink-port");
});

const client = new KubeClient(kubeConfigFromString(api.kubeconfig));
await installManifests(client);
await client.create(NAMESPACES, { metadata: { name: NAMESPACE } }).catch(ignoreExisting);
await client
  .create(SECRETS, {
    metadata: { name: "webhook-headers", namespace: NAMESPACE },
    stringData: { Authorization: "Bearer demo-token" },
  })
  .catch(ignoreExisting);
for (const bmc of fleet.bmcs) {
  const name = `worker-${bmc.index}`;
  await client
    .create(SECRETS, {
      metadata: { name: `${name}-bmc`, namespace: NAMESPACE },
      stringData: { username: bmc.username, password: bmc.password },
    })
    .catch(ignoreExisting);
  const address = `redfish+http://${new URL(bmc.url).host}${bmc.systemPath}`;
  try {
    await client.create(BARE_METAL_HOSTS, {
      apiVersion: "metal3.io/v1alpha1",
      kind: "BareMetalHost",
      metadata: { name, namespace: NAMESPACE },
      spec: { online: true, bootMACAddress: `52:54:00:00:00:${bmc.index.toString(16).padStart(2, "0")}`, bmc: { address, credentialsName: `${name}-bmc` } },
    });
  } catch (error) {
    ignoreExisting(error);
    // A BMC that kept its hardware needs nothing (its port may have moved); new hardware is read again.
    const refresh = fleet.bmc(bmc.index).restored ? {} : { annotations: { [REFRESH_ANNOTATION]: new Date().toISOString() } };
    await client.patch(
      BARE_METAL_HOSTS,
      { namespace: NAMESPACE, name },
      { metadata: refresh, spec: { bmc: { address } } },
      { type: "merge" },
    );
  }
}

const signal = setupSignalHandler();
const settings = parseOperatorArgs([
  "--metrics-bind-address",
  "127.0.0.1:0",
  "--health-probe-bind-address",
  "127.0.0.1:0",
  "--subscription-check-interval",
  "1m",
]);
const operator = await startOperator(settings, { signal, kubeConfig: kubeConfigFromString(api.kubeconfig), logger: log });

const drive = fleet.bmcs[0]?.drives[0];
say(`
bmc-operator is running on an emulated cluster.

  Kubernetes API   ${api.url}   (objects kept in ${join(dataDir, "kube")})
  Emulated BMCs    ${fleet.bmcs.map((b) => `${b.url} (${b.profile})`).join(", ")}   (hardware kept in ${join(dataDir, "bmcs")}; --fresh starts anew)
  BMC control API  ${fleet.controlUrl}
  Event sink       ${sink.url}   (prints every event it receives)

Use it with kubectl:

  export KUBECONFIG=${kubeconfigPath}
  kubectl get baremetalhosts -n ${NAMESPACE}
  kubectl get bmh worker-0 -n ${NAMESPACE} -o jsonpath='{range .status.hardware.indicators[*]}{.id}{"\\t"}{.component}{"\\t"}{.drive.serialNumber}{"\\n"}{end}'

Turn the chassis light of worker-0 on (and off again by deleting the resource):

  kubectl apply -f - <<EOF
  apiVersion: metal3.io/v1alpha1
  kind: BareMetalHostServiceIndicator
  metadata: {name: worker-0-chassis, namespace: ${NAMESPACE}}
  spec: {hostRef: {name: worker-0}, id: ${fleet.bmcs[0]?.chassisUUID}@chassis, "on": true}
  EOF
  curl -s ${fleet.controlUrl}/bmcs/0/lights

Subscribe the event sink to worker-0's events, then make the BMC send a test event:

  kubectl apply -f - <<EOF
  apiVersion: metal3.io/v1alpha1
  kind: BMCEventSubscription
  metadata: {name: worker-0-events, namespace: ${NAMESPACE}}
  spec: {hostName: worker-0, destination: ${sink.url}/webhook, context: demo, httpHeadersRef: {name: webhook-headers}}
  EOF
  kubectl wait --for=condition=Ready bmcevent/worker-0-events -n ${NAMESPACE}
  curl -s -X POST ${fleet.controlUrl}/bmcs/0/events -H 'content-type: application/json' -d '{"MessageId":"Base.1.0.Test","Message":"hello"}'

Fail a drive and find its light from the serial number in the event:

  curl -s -X POST ${fleet.controlUrl}/bmcs/0/drives/${drive?.storageId}/${drive?.driveId}/fail

Walkthrough: docs/walkthrough.md. Press Ctrl-C to stop.
`);
if (operator.manager.metricsUrl) say(`Operator metrics at ${operator.manager.metricsUrl}/metrics, probes at ${operator.manager.probeUrl}/readyz`);

try {
  await operator.done;
} catch (error) {
  log.error({ err: error }, "the operator stopped with an error");
  process.exitCode = 1;
} finally {
  await client.close();
  await sink.close();
  await fleet.close();
  await api.close();
  say("Stopped.");
}

/** Stops with a one-line message instead of a stack trace. */
function fatal(error: unknown, hint?: string): never {
  process.stderr.write(`npm start: ${(error as Error).message}${hint ? ` (${hint})` : ""}\n`);
  process.exit(1);
}

function ignoreExisting(error: unknown): void {
  if (!isAlreadyExists(error)) throw error;
}

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
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { describeEvent, startEventSink } from "../emulators/event-sink/index.ts";
import { startKubeApiServer } from "../emulators/kube-apiserver/index.ts";
import { parseProfileList, startBmcFleet } from "../emulators/redfish-bmc/index.ts";
import { selfSignedCertificate } from "../emulators/redfish-bmc/tls.ts";
import { installManifests } from "../src/api/install.ts";
import { REFRESH_ANNOTATION } from "../src/controllers/baremetalhost-controller.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS } from "../src/controllers/resources.ts";
import { AUTO_LOCATE_ANNOTATION } from "../src/receiver/auto-locate.ts";
import { CONFIGMAPS, EVENT_SINKS_LABEL } from "../src/receiver/cloudevents.ts";
import {
  createLogger,
  isAlreadyExists,
  isNotFound,
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
  .addOption(new Option("--receiver-port <port>", "port of the BMC event receiver (HTTPS; 0: a free port)").argParser(port("--receiver-port")).default(18950))
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
  receiverPort: number;
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
  onEvent: (event) =>
    say(
      event.headers["ce-type"]
        ? `[event-sink] CloudEvent ${String(event.headers["ce-type"])} from ${String(event.headers["ce-source"])}: ${String(event.headers["ce-messageid"])} ${JSON.stringify((event.body as { Message?: string })?.Message ?? "")}`
        : `[event-sink] ${describeEvent(event, ["Authorization", "X-Token"])}`,
    ),
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

// The event receiver's certificate, as a kubernetes.io/tls Secret mounted in the operator's pod would hold it.
const receiverTls = join(dataDir, "event-receiver-tls");
mkdirSync(receiverTls, { recursive: true });
const certificate = await selfSignedCertificate();
writeFileSync(join(receiverTls, "tls.crt"), certificate.cert);
writeFileSync(join(receiverTls, "tls.key"), certificate.key, { mode: 0o600 });
const receiverPort = flags.receiverPort || (await freePort());
const receiverUrl = `https://127.0.0.1:${receiverPort}/events`;
// Forwarded CloudEvents go to the event sink (whose port may differ from the kept ConfigMap's).
const sinks = { metadata: { name: "bmc-event-sinks", namespace: NAMESPACE, labels: { [EVENT_SINKS_LABEL]: "true" } }, data: { sinks: `${sink.url}/cloudevents\n` } };
await client.create(CONFIGMAPS, sinks).catch(async (error: unknown) => {
  ignoreExisting(error);
  await client.patch(CONFIGMAPS, { namespace: NAMESPACE, name: "bmc-event-sinks" }, { data: sinks.data }, { type: "merge" });
});

const signal = setupSignalHandler();
const settings = parseOperatorArgs([
  "--event-receiver-bind-address",
  `127.0.0.1:${receiverPort}`,
  "--event-receiver-url",
  receiverUrl,
  "--event-receiver-cert-dir",
  receiverTls,
  "--metrics-bind-address",
  "127.0.0.1:0",
  "--health-probe-bind-address",
  "127.0.0.1:0",
  "--subscription-check-interval",
  "1m",
]);
const operator = await startOperator(settings, { signal, kubeConfig: kubeConfigFromString(api.kubeconfig), logger: log });

await ensureDemoSubscription();

const drive = fleet.bmcs[0]?.drives[0];
say(`
bmc-operator is running on an emulated cluster.

  Kubernetes API   ${api.url}   (objects kept in ${join(dataDir, "kube")})
  Emulated BMCs    ${fleet.bmcs.map((b) => `${b.url} (${b.profile})`).join(", ")}   (hardware kept in ${join(dataDir, "bmcs")}; --fresh starts anew)
  BMC control API  ${fleet.controlUrl}
  Event receiver   ${receiverUrl}   (BMC events land on their host)
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

Subscribe the event sink (a webhook of yours) to worker-0's events too, then make the BMC send a test event:

  kubectl apply -f - <<EOF
  apiVersion: metal3.io/v1alpha1
  kind: BMCEventSubscription
  metadata: {name: worker-0-webhook, namespace: ${NAMESPACE}}
  spec: {hostName: worker-0, destination: ${sink.url}/webhook, context: webhook, httpHeadersRef: {name: webhook-headers}}
  EOF
  kubectl wait --for=condition=Ready bmcevent/worker-0-webhook -n ${NAMESPACE}
  curl -s -X POST ${fleet.controlUrl}/bmcs/0/events -H 'content-type: application/json' -d '{"MessageId":"Base.1.0.Test","Message":"hello"}'

BMC events land on their host: the demo subscription worker-0-events sends worker-0's events to the
event receiver. Fail a drive, then read the Event, with the drive's name, model and serial number:

  kubectl wait --for=condition=Ready bmcevent/worker-0-events -n ${NAMESPACE}
  curl -s -X POST ${fleet.controlUrl}/bmcs/0/drives/${drive?.storageId}/${drive?.driveId}/fail
  kubectl describe bmh worker-0 -n ${NAMESPACE}

Let a failed drive light its own light (auto-locate), then fail another one:

  kubectl annotate bmh worker-0 -n ${NAMESPACE} ${AUTO_LOCATE_ANNOTATION}=true
  curl -s -X POST ${fleet.controlUrl}/bmcs/0/drives/${fleet.bmcs[0]?.drives[1]?.storageId ?? drive?.storageId}/${fleet.bmcs[0]?.drives[1]?.driveId ?? drive?.driveId}/fail
  kubectl get bmhsi -n ${NAMESPACE}
  curl -s ${fleet.controlUrl}/bmcs/0/lights

The event sink also gets each event as a CloudEvent (ConfigMap bmc-event-sinks in ${NAMESPACE}).

Walkthrough: docs/walkthrough.md. Press Ctrl-C to stop.
`);
if (operator.eventReceiver) say(`Event receiver ${receiverUrl} (listening at ${operator.eventReceiver.url}; BMC events land on their host)`);
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

/**
 * The demo subscription of worker-0, aimed at the receiver. One kept from an
 * earlier start whose receiver listened elsewhere is deleted first (a
 * subscription's spec is immutable), once the operator runs to release it.
 */
async function ensureDemoSubscription(): Promise<void> {
  const ref = { namespace: NAMESPACE, name: "worker-0-events" };
  const demo = {
    apiVersion: "metal3.io/v1alpha1" as const,
    kind: "BMCEventSubscription" as const,
    metadata: ref,
    spec: { hostName: "worker-0", destination: receiverUrl, context: "demo" },
  };
  const kept = await client.get(BMC_EVENT_SUBSCRIPTIONS, ref).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
  if (kept?.spec.destination === receiverUrl) return;
  if (kept) {
    await client.delete(BMC_EVENT_SUBSCRIPTIONS, ref);
    for (let i = 0; i < 300 && (await client.get(BMC_EVENT_SUBSCRIPTIONS, ref).catch(() => undefined)); i++) {
      await new Promise((done) => setTimeout(done, 100));
    }
  }
  await client.create(BMC_EVENT_SUBSCRIPTIONS, demo).catch(ignoreExisting);
}

/** A free port of 127.0.0.1 (the receiver's URL must be known before it listens). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Stops with a one-line message instead of a stack trace. */
function fatal(error: unknown, hint?: string): never {
  process.stderr.write(`npm start: ${(error as Error).message}${hint ? ` (${hint})` : ""}\n`);
  process.exit(1);
}

function ignoreExisting(error: unknown): void {
  if (!isAlreadyExists(error)) throw error;
}

/**
 * The event receiver's figures, with the operator running as its own process
 * (receiver on) against the API emulator and the BMC emulator:
 *
 * 1. Throughput: authenticated deliveries POSTed straight to the receiver
 *    over HTTPS, 64 at a time, one event each, spread over the hosts and 20
 *    messages per host; events recorded per CPU-second of the operator's
 *    process (token check, parsing, metrics and Event series included).
 * 2. A storm across `hosts` hosts: 1,000 deliveries of the same message, 10
 *    per host, all at once; the API writes of the Events that record them,
 *    counted once every series' count is written (`bmc_event_api_writes_total`
 *    after the flush interval), per 1,000 events.
 * 3. Delivery-to-Event latency: one new event at a time raised at an emulated
 *    BMC (control API), delivered by the BMC over HTTPS, until its Event is
 *    seen through a watch; p50 and p99.
 *
 * `node bench/scenarios/receiver.ts [--quick] [--out docs]` runs it alone and
 * writes the `receiver` section of `<out>/benchmarks.md`; `npm run bench --
 * --only receiver` runs it as one of the figures.
 *
 * @module
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import { startEventSink } from "../../emulators/event-sink/index.ts";
import { selfSignedCertificate } from "../../emulators/redfish-bmc/tls.ts";
import { BMC_EVENT_SUBSCRIPTIONS } from "../../src/controllers/resources.ts";
import { TOKEN_FOR_LABEL, TOKEN_HEADER } from "../../src/receiver/event-token.ts";
import { EVENTS, Informer, type KubeEvent, SECRETS, silentLogger } from "../../src/runtime/index.ts";
import { type BenchContext, OPERATOR_CAPS, sleep } from "../lib/bench-context.ts";
import { startBmcFleetProcess } from "../lib/bmc-fleet-process.ts";
import { startCluster } from "../lib/cluster.ts";
import { createAll, eventSubscription, fleetObjects, hostName, secretObjects } from "../lib/fleet-objects.ts";
import { writeSection } from "../lib/markdown-section.ts";
import { startOperatorProcess } from "../lib/operator-process.ts";
import { sumOf } from "../lib/prometheus-text.ts";
import { percentile, round } from "../lib/statistics.ts";

const NAMESPACE = "receiver-bench";
/** The receiver's default flush interval of a series' count, ms (src/receiver/event-series.ts). */
const FLUSH_INTERVAL_MS = 10_000;

/** What to measure. */
export interface ReceiverPlan {
  hosts: number;
  throughputEvents: number;
  stormEvents: number;
  latencySamples: number;
}

export const RECEIVER_FULL: ReceiverPlan = { hosts: 100, throughputEvents: 20_000, stormEvents: 1_000, latencySamples: 200 };
export const RECEIVER_QUICK: ReceiverPlan = { hosts: 100, throughputEvents: 2_000, stormEvents: 1_000, latencySamples: 40 };

/** The receiver's figures. */
export interface ReceiverResult {
  plan: ReceiverPlan;
  throughput: { events: number; wallSeconds: number; cpuSeconds: number; eventsPerCpuSecond: number; eventsPerWallSecond: number };
  storm: { hosts: number; events: number; writes: number; creates: number; patches: number; writesPer1000: number; bound: number };
  latency: { samples: number; p50Ms: number; p99Ms: number; maxMs: number };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** Runs the three measurements. */
export async function runReceiverBench(ctx: BenchContext, plan: ReceiverPlan): Promise<ReceiverResult> {
  const { fleet } = ctx;
  await fleet.setLatency(0);
  await fleet.resetAll();
  const cluster = await startCluster(ctx.dir, NAMESPACE);
  const tlsDir = join(ctx.dir, "receiver-tls");
  await mkdir(tlsDir, { recursive: true });
  const certificate = await selfSignedCertificate();
  await writeFile(join(tlsDir, "tls.crt"), certificate.cert);
  await writeFile(join(tlsDir, "tls.key"), certificate.key);
  const port = await freePort();
  const url = `https://127.0.0.1:${port}/events`;
  const agent = new Agent({ connections: 64, connect: { rejectUnauthorized: false } });
  const operator = await startOperatorProcess({
    kubeconfigPath: cluster.api.kubeconfigPath,
    logPath: join(ctx.dir, "operator-receiver.log"),
    args: ["--event-receiver-bind-address", `127.0.0.1:${port}`, "--event-receiver-url", url, "--event-receiver-cert-dir", tlsDir],
  });
  const events = new Informer<KubeEvent>(cluster.client, EVENTS, { namespaces: [NAMESPACE], logger: silentLogger });
  try {
    const { hosts } = plan;
    await createAll(cluster.client, secretObjects(NAMESPACE, fleet.bmcs, hosts));
    await createAll(cluster.client, fleetObjects(NAMESPACE, fleet.bmcs, hosts, { indicators: 0, subscriptions: 0 }, url));
    await createAll(
      cluster.client,
      Array.from({ length: hosts }, (_, i) => ({ resource: BMC_EVENT_SUBSCRIPTIONS, object: eventSubscription(NAMESPACE, i, `${hostName(i)}-events`, url) })),
    );
    await cluster.tracker.waitFor({ host: hosts, subscription: hosts }, 120_000);
    ctx.log(`receiver: ${hosts} hosts with a subscription aimed at the receiver`);
    const secrets = await cluster.client.list(SECRETS, { namespace: NAMESPACE, labelSelector: TOKEN_FOR_LABEL });
    const tokens = secrets.items.map((s) => Buffer.from(s.data![TOKEN_HEADER]!, "base64").toString("utf8"));
    if (tokens.length !== hosts) throw new Error(`expected ${hosts} token Secrets, found ${tokens.length}`);

    const post = async (token: string, messageId: string, message: string) => {
      const body = JSON.stringify({ Id: messageId, Events: [{ MessageId: messageId, Message: message, MessageSeverity: "Warning", EventTimestamp: new Date().toISOString() }] });
      const response = await request(url, { method: "POST", body, headers: { "content-type": "application/json", [TOKEN_HEADER]: token }, dispatcher: agent });
      await response.body.dump();
      if (response.statusCode !== 200) throw new Error(`the receiver answered ${response.statusCode}`);
    };
    const inParallel = async (count: number, limit: number, one: (k: number) => Promise<void>) => {
      let next = 0;
      await Promise.all(Array.from({ length: limit }, async () => {
        while (next < count) await one(next++);
      }));
    };
    const received = async () => sumOf(await operator.metrics(), "bmc_events_received_total");
    const writes = async () => {
      const text = await operator.metrics();
      return { creates: sumOf(text, "bmc_event_api_writes_total", { kind: "create" }), patches: sumOf(text, "bmc_event_api_writes_total", { kind: "patch" }) };
    };
    const waitReceived = async (count: number) => {
      const deadline = Date.now() + 120_000;
      while ((await received()) < count) {
        if (Date.now() > deadline) throw new Error(`the receiver did not count ${count} events within 120 s`);
        await sleep(50);
      }
    };

    // 2. The storm first, on fresh series.
    const before = await writes();
    const base = await received();
    await inParallel(plan.stormEvents, 64, (k) => post(tokens[k % hosts]!, "Base.1.0.StormTest", "storm"));
    await waitReceived(base + plan.stormEvents);
    // Every series' last count is written at most one flush interval after its previous write.
    await sleep(FLUSH_INTERVAL_MS + 2_000);
    const after = await writes();
    const creates = after.creates - before.creates;
    const patches = after.patches - before.patches;
    const storm = {
      hosts,
      events: plan.stormEvents,
      writes: creates + patches,
      creates,
      patches,
      writesPer1000: round(((creates + patches) * 1000) / plan.stormEvents, 1),
      bound: 2 * Math.min(hosts, plan.stormEvents),
    };
    ctx.log(`receiver: storm of ${storm.events} events over ${hosts} hosts cost ${storm.writes} API writes`);

    // 1. Throughput.
    const usage0 = operator.usage()!;
    const t0 = performance.now();
    const base1 = await received();
    const creates0 = (await writes()).creates;
    await inParallel(plan.throughputEvents, 64, (k) => post(tokens[k % hosts]!, `Bench.1.0.Throughput${Math.floor(k / hosts) % 20}`, "throughput"));
    await waitReceived(base1 + plan.throughputEvents);
    const wallSeconds = (performance.now() - t0) / 1000;
    // Recording included: every series' Event created, and its last count patched (one flush interval later).
    const series = Math.min(plan.throughputEvents, hosts * 20);
    const deadline = Date.now() + 120_000;
    while ((await writes()).creates - creates0 < series) {
      if (Date.now() > deadline) throw new Error(`the receiver did not write ${series} Events within 120 s (${(await writes()).creates - creates0} written)`);
      await sleep(50);
    }
    await sleep(FLUSH_INTERVAL_MS + 2_000);
    const cpuSeconds = operator.usage()!.cpuSeconds - usage0.cpuSeconds;
    const throughput = {
      events: plan.throughputEvents,
      wallSeconds: round(wallSeconds, 2),
      cpuSeconds: round(cpuSeconds, 2),
      eventsPerCpuSecond: Math.round(plan.throughputEvents / cpuSeconds),
      eventsPerWallSecond: Math.round(plan.throughputEvents / wallSeconds),
    };
    ctx.log(`receiver: ${throughput.events} events in ${throughput.wallSeconds} s, ${throughput.eventsPerCpuSecond} per CPU-second of the operator`);

    // 3. Latency, BMC raise → Event seen through a watch.
    const seen = new Map<string, number>();
    const waiting = new Map<string, () => void>();
    events.addEventHandler({
      add: (event) => {
        const reason = event.reason;
        if (!reason?.startsWith("Latency")) return;
        seen.set(reason, performance.now());
        waiting.get(reason)?.();
      },
    });
    events.start();
    await events.waitForSync();
    const latencies: number[] = [];
    for (let k = 0; k < plan.latencySamples; k++) {
      const reason = `Latency${k}`;
      const arrived = new Promise<void>((done) => waiting.set(reason, done));
      const sent = performance.now();
      const r = await fetch(`${fleet.controlUrl}/bmcs/${k % hosts}/events`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ MessageId: `Bench.1.0.${reason}`, Message: "latency", MessageSeverity: "Warning" }),
      });
      if (r.status !== 201) throw new Error(`the control API answered ${r.status}: ${await r.text()}`);
      const timeout = sleep(30_000).then(() => "timeout" as const);
      if ((await Promise.race([arrived, timeout])) === "timeout") throw new Error(`no Event for ${reason} within 30 s`);
      latencies.push(seen.get(reason)! - sent);
      waiting.delete(reason);
    }
    const latency = {
      samples: plan.latencySamples,
      p50Ms: round(percentile(latencies, 50), 1),
      p99Ms: round(percentile(latencies, 99), 1),
      maxMs: round(Math.max(...latencies), 1),
    };
    ctx.log(`receiver: delivery to Event p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms`);
    return { plan, throughput, storm, latency };
  } finally {
    await events.stop();
    await operator.stop();
    await agent.close();
    await cluster.close();
  }
}

/** The `receiver` section of docs/benchmarks.md. */
export function receiverSection(result: ReceiverResult, meta: { command: string; cores: number; cpu: string; loadAverage: number[] }): string {
  const { throughput: t, storm: s, latency: l } = result;
  return `## Event receiver

\`${meta.command}\` on ${meta.cores} cores (${meta.cpu}; load average ${meta.loadAverage.map((l) => l.toFixed(1)).join(", ")} at the end,
other work included); the operator in its own process with the receiver on, the API emulator and
the BMC emulator in theirs. See docs/receiver.md.

| Figure | Value |
|---|---|
| Throughput, token check and recording included | **${t.eventsPerCpuSecond} events per CPU-second** of the operator (${t.events} deliveries, 64 at a time, ${t.cpuSeconds} CPU-s in all; answered at ${t.eventsPerWallSecond} events/s wall) |
| API writes per 1,000 events, storm across ${s.hosts} hosts | **${s.writesPer1000}** (${s.events} events, ${s.creates} creates + ${s.patches} patches; bound ${s.bound}: one create and one patch per host and message within a flush interval) |
| Delivery-to-Event latency (BMC raises → Event seen by a watch) | **p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms** (max ${l.maxMs} ms, ${l.samples} events, one at a time) |

Throughput counts the operator's CPU only (the load generator, the API emulator and the BMC
emulator run in other processes), from the first delivery until every Event of the run is
written, its last count included (${Math.min(result.plan.throughputEvents, result.plan.hosts * 20)} series: 20 messages per host), idle time of that last flush interval included. The storm's writes are counted after every series' last count
is written (one flush interval, 10 s). Latency includes the BMC's own delivery over HTTPS.`;
}

/** As a figure of `npm run bench`: runs on its fleet and writes the `receiver` section of `<outDir>/benchmarks.md`. */
export async function receiverFigure(ctx: BenchContext, outDir: string, command: string): Promise<ReceiverResult> {
  const base = ctx.quick ? RECEIVER_QUICK : RECEIVER_FULL;
  const plan = { ...base, hosts: Math.min(base.hosts, ctx.fleet.bmcs.length) };
  const result = await runReceiverBench(ctx, plan);
  const { cpus, loadavg } = await import("node:os");
  await mkdir(outDir, { recursive: true });
  await writeSection(join(outDir, "benchmarks.md"), "receiver", receiverSection(result, { command, cores: cpus().length, cpu: cpus()[0]?.model ?? "unknown", loadAverage: loadavg() }));
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { quick: { type: "boolean", default: false }, out: { type: "string" } } });
  const quick = values.quick === true;
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const outDir = resolve(root, values.out ?? (quick ? ".data/bench-quick" : "docs"));
  const plan = quick ? RECEIVER_QUICK : RECEIVER_FULL;
  const dir = await mkdtemp(join(tmpdir(), "bmc-operator-bench-receiver-"));
  const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
  const fleet = await startBmcFleetProcess(plan.hosts);
  const sink = await startEventSink();
  try {
    const result = await runReceiverBench({ dir, fleet, sink, caps: OPERATOR_CAPS, quick, log }, plan);
    const { cpus, loadavg } = await import("node:os");
    const command = `node bench/scenarios/receiver.ts${quick ? " --quick" : ""}`;
    await mkdir(outDir, { recursive: true });
    await writeSection(join(outDir, "benchmarks.md"), "receiver", receiverSection(result, { command, cores: cpus().length, cpu: cpus()[0]?.model ?? "unknown", loadAverage: loadavg() }));
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
  } finally {
    await sink.close();
    await fleet.close();
  }
}

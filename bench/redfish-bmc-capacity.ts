/**
 * Capacity of the Redfish BMC emulator: requests per second and latency for
 * GET and PATCH spread over 1,000 BMCs in one emulator process, and memory
 * per BMC. The emulator runs as its own process (`npm run bmc-emulator`), the
 * load comes from this one, so the figures are the emulator's, on a machine
 * both share. Writes the `redfish-bmc` section of docs/benchmarks.md.
 *
 * `npm run bench:redfish-bmc [-- --count 1000 --seconds 8 --concurrency 128 --no-write]`
 *
 * @module
 */
import { spawn } from "node:child_process";
import type { ChildProcessByStdio } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import type { EmulatedBmcInfo } from "../emulators/redfish-bmc/index.ts";

const USAGE = `Usage: npm run bench:redfish-bmc -- [flags]

Measures the Redfish BMC emulator's capacity and writes the redfish-bmc section of docs/benchmarks.md.

  --count <n>          BMCs in the emulator (default 1000)
  --seconds <s>        seconds of load per row, after 2 s of warm-up (default 8)
  --concurrency <n>    requests in flight (default 128)
  --no-write           print the section only, without writing docs/benchmarks.md
  -h, --help           this text`;

let parsed;
try {
  parsed = parseArgs({
    options: {
      count: { type: "string", default: "1000" },
      seconds: { type: "string", default: "8" },
      concurrency: { type: "string", default: "128" },
      "no-write": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
} catch (error) {
  console.error(`bench:redfish-bmc: ${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
const args = parsed.values;
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
/** A positive integer flag, or exit 2 naming the flag and the value. */
function positive(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1) {
    console.error(`bench:redfish-bmc: --${flag} takes a positive integer; got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return value;
}
const COUNT = positive("count", args.count);
const SECONDS = positive("seconds", args.seconds);
const CONCURRENCY = positive("concurrency", args.concurrency);
const WARMUP_SECONDS = 2;

const CLI = fileURLToPath(new URL("../emulators/redfish-bmc/cli.ts", import.meta.url));
const BENCHMARKS = fileURLToPath(new URL("../docs/benchmarks.md", import.meta.url));

interface Emulator {
  child: ChildProcessByStdio<null, Readable, Readable>;
  controlUrl: string;
  bmcs: EmulatedBmcInfo[];
}

interface ProcessInfo {
  memory: NodeJS.MemoryUsage;
  cpu: NodeJS.CpuUsage;
  uptime: number;
}

/** Starts the emulator CLI with `count` BMCs; resolves once it printed its fleet. */
async function startEmulator(count: number): Promise<Emulator> {
  const child = spawn(process.execPath, ["--expose-gc", CLI, "--count", String(count), "--json", "--quiet"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  child.stdout.setEncoding("utf8");
  const deadline = Date.now() + 120_000;
  for await (const chunk of child.stdout) {
    out += chunk as string;
    try {
      const parsed = JSON.parse(out) as { controlUrl: string; bmcs: EmulatedBmcInfo[] };
      return { child, controlUrl: parsed.controlUrl, bmcs: parsed.bmcs };
    } catch {
      if (Date.now() > deadline) break;
    }
  }
  child.kill("SIGKILL");
  throw new Error(`the emulator did not print its fleet: ${err}`);
}

async function stopEmulator(emulator: Emulator): Promise<void> {
  const exited = new Promise((resolve) => emulator.child.once("exit", resolve));
  emulator.child.kill("SIGTERM");
  await exited;
}

async function processInfo(emulator: Emulator): Promise<ProcessInfo> {
  const response = await fetch(`${emulator.controlUrl}/process?gc=1`);
  return (await response.json()) as ProcessInfo;
}

async function resetStats(emulator: Emulator): Promise<void> {
  await (await fetch(`${emulator.controlUrl}/stats`, { method: "DELETE" })).arrayBuffer();
}

async function fleetStats(emulator: Emulator): Promise<{ total: number; maxPeakInFlight: number }> {
  return (await (await fetch(`${emulator.controlUrl}/stats`)).json()) as { total: number; maxPeakInFlight: number };
}

interface Scenario {
  name: string;
  /** One request to BMC `bmc`, the `n`th of the run. */
  send(bmc: EmulatedBmcInfo, n: number): Promise<void>;
}

interface Result {
  name: string;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Share of one core the emulator used during the measured run. */
  emulatorCpu: number;
  /** Emulator CPU time per request, microseconds. */
  cpuMicrosPerRequest: number;
  maxPeakInFlight: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `scenario` with CONCURRENCY requests in flight over every BMC for `seconds`. */
async function measure(emulator: Emulator, scenario: Scenario, seconds: number, record: boolean): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const before = record ? await processInfo(emulator) : undefined;
  if (record) await resetStats(emulator);
  const started = performance.now();
  const end = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const n = next++;
      const bmc = emulator.bmcs[n % emulator.bmcs.length]!;
      const t0 = performance.now();
      try {
        await scenario.send(bmc, n);
        latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = (performance.now() - started) / 1000;
  const after = record ? await processInfo(emulator) : undefined;
  const stats = record ? await fleetStats(emulator) : { maxPeakInFlight: 0 };
  const sorted = Float64Array.from(latencies).sort();
  const cpuMicros = before && after ? after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system : 0;
  return {
    name: scenario.name,
    requests: latencies.length,
    errors,
    rps: latencies.length / elapsed,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    emulatorCpu: cpuMicros / 1e6 / elapsed,
    cpuMicrosPerRequest: latencies.length > 0 ? cpuMicros / latencies.length : Number.NaN,
    maxPeakInFlight: stats.maxPeakInFlight,
  };
}

function basic(bmc: EmulatedBmcInfo): string {
  return `Basic ${Buffer.from(`${bmc.username}:${bmc.password}`).toString("base64")}`;
}

async function expectStatus(response: Awaited<ReturnType<typeof request>>, status: number): Promise<void> {
  await response.body.dump();
  if (response.statusCode !== status) throw new Error(`status ${response.statusCode}`);
}

async function main(): Promise<void> {
  const loadAtStart = loadavg()[0]!;
  // Memory: one BMC against COUNT BMCs, each measured after a full GC, before any load.
  const single = await startEmulator(1);
  const one = await processInfo(single);
  await stopEmulator(single);
  const emulator = await startEmulator(COUNT);
  const idle = await processInfo(emulator);
  const perBmc = {
    rss: (idle.memory.rss - one.memory.rss) / (COUNT - 1),
    heap: (idle.memory.heapUsed - one.memory.heapUsed) / (COUNT - 1),
  };

  const keepAlive = new Agent({ connections: 2, keepAliveTimeout: 30_000, pipelining: 1 });
  const scenarios: Scenario[] = [
    {
      name: "GET system, keep-alive",
      send: async (bmc) => {
        const r = await request(`${bmc.url}${bmc.systemPath}`, { headers: { authorization: basic(bmc) }, dispatcher: keepAlive });
        await expectStatus(r, 200);
      },
    },
    {
      name: "PATCH system light, keep-alive",
      send: async (bmc, n) => {
        const r = await request(`${bmc.url}${bmc.systemPath}`, {
          method: "PATCH",
          headers: { authorization: basic(bmc), "content-type": "application/json" },
          body: JSON.stringify({ IndicatorLED: Math.floor(n / emulator.bmcs.length) % 2 === 0 ? "Lit" : "Off" }),
          dispatcher: keepAlive,
        });
        await expectStatus(r, 200);
      },
    },
    {
      name: "GET system, new connection each (as sushy)",
      send: async (bmc) => {
        const r = await request(`${bmc.url}${bmc.systemPath}`, {
          headers: { authorization: basic(bmc), connection: "close" },
          reset: true,
          dispatcher: keepAlive,
        });
        await expectStatus(r, 200);
      },
    },
  ];

  const results: Result[] = [];
  for (const scenario of scenarios) {
    await measure(emulator, scenario, WARMUP_SECONDS, false);
    const result = await measure(emulator, scenario, SECONDS, true);
    results.push(result);
    process.stdout.write(
      `${result.name}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, ` +
        `errors ${result.errors}, emulator CPU ${(result.emulatorCpu * 100).toFixed(0)}% of a core, ${result.cpuMicrosPerRequest.toFixed(0)} µs per request\n`,
    );
  }
  const loaded = await processInfo(emulator);
  await keepAlive.close();
  await stopEmulator(emulator);

  const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
  const kib = (b: number) => (b / 1024).toFixed(1);
  const lines = [
    "## Redfish BMC emulator capacity",
    "",
    `Written by \`npm run bench:redfish-bmc\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model.trim() ?? "CPU"}, ` +
      `Node ${process.version}, load average ${loadAtStart.toFixed(1)} at the start (other work shares the machine). One emulator process with ${COUNT} BMCs (\`npm run bmc-emulator\`); the load comes ` +
      `from a second process on the same machine, ${CONCURRENCY} requests in flight spread round-robin over every BMC ` +
      `(HTTP Basic auth, undici, 2 connections per BMC), ${SECONDS} s per row after ${WARMUP_SECONDS} s of warm-up. ` +
      "Emulator CPU is the emulator process's CPU time over the run (100% = one core): where it is below 100%, the load generator, " +
      "not the emulator, was the limit. CPU per request is the emulator's own cost, and one core divided by it is what " +
      "the emulator could serve with a core to itself.",
    "",
    "| Load | Requests/s | p50 ms | p95 ms | p99 ms | max ms | Errors | Emulator CPU | CPU per request | Requests/s per emulator core |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...results.map(
      (r) =>
        `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(1)} | ${r.errors} | ${(r.emulatorCpu * 100).toFixed(0)}% | ${r.cpuMicrosPerRequest.toFixed(0)} µs | ${(1e6 / r.cpuMicrosPerRequest).toFixed(0)} |`,
    ),
    "",
    "| Memory | Value |",
    "|---|---:|",
    `| RSS with 1 BMC, idle | ${mib(one.memory.rss)} MiB |`,
    `| RSS with ${COUNT} BMCs, idle | ${mib(idle.memory.rss)} MiB |`,
    `| RSS with ${COUNT} BMCs, after the load | ${mib(loaded.memory.rss)} MiB |`,
    `| Per BMC, RSS | ${kib(perBmc.rss)} KiB |`,
    `| Per BMC, JS heap | ${kib(perBmc.heap)} KiB |`,
    "",
    `What it means for the operator benchmarks: a light toggle costs one GET and one PATCH, so a toggle on each of ${COUNT} hosts ` +
      `costs the emulator ${((COUNT * (results[0]!.cpuMicrosPerRequest + results[1]!.cpuMicrosPerRequest)) / 1e6).toFixed(2)} s of CPU ` +
      `(${(COUNT / results[0]!.rps + COUNT / results[1]!.rps).toFixed(2)} s of wall time at the rates measured here).`,
  ];
  const section = lines.join("\n");
  process.stdout.write(`\n${section}\n`);
  if (!args["no-write"]) {
    const doc = await readFile(BENCHMARKS, "utf8");
    const begin = "<!-- begin:redfish-bmc -->";
    const end = "<!-- end:redfish-bmc -->";
    const from = doc.indexOf(begin);
    const to = doc.indexOf(end);
    if (from === -1 || to === -1 || to < from) throw new Error(`${BENCHMARKS} has no ${begin} … ${end} section`);
    await writeFile(BENCHMARKS, `${doc.slice(0, from + begin.length)}\n${section}\n${doc.slice(to)}`);
    process.stdout.write(`\nwrote the redfish-bmc section of ${BENCHMARKS}\n`);
  }
}

await main();

/**
 * `npm run bench`: every figure of issue #7, measured with the operator
 * running as its own process against the Kubernetes API emulator and the
 * Redfish BMC emulator (and a real Ironic where installed), as ratios against
 * baselines measured in the same run. Writes the `operator` section of
 * `docs/benchmarks.md`, `docs/benchmarks.json` (the raw numbers) and
 * `docs/convergence.svg` (the chart).
 *
 * ```sh
 * npm run bench                         # full mode, about 25 minutes (10 of them idle), writes docs/
 * npm run bench -- --quick              # smoke run, a few minutes, small N, writes .data/bench-quick/
 * npm run bench -- --only latency,ironic --out .data/bench-dev
 * ```
 *
 * `npm run bench -- --render docs/benchmarks.json` renders the report and the
 * chart again from a run's raw numbers, without measuring.
 *
 * Flags: `--quick`; `--only <figures>` (comma-separated: convergence — which
 * also measures figures 2 and 3 —, footprint, latency, ironic); `--hosts` and
 * `--latencies` (comma-separated: the convergence runs' N and BMC latencies
 * in ms, instead of the mode's; for a probe while working on the operator);
 * `--warmup <hosts>` (how many hosts the operator converges before each
 * convergence window, instead of the mode's; 0 measures a just-started
 * operator on a new stack, without the mode's *just restarted* rows, which
 * `--hosts` leaves out too); `--repeats <runs>` (runs of each convergence row and of the
 * Ironic figure, which report the median one: 3 in full mode, 7 for the
 * convergence rows at its smallest N, 1 in quick mode); `--out <dir>`
 * (where the three files go; default `docs` in full mode, `.data/bench-quick`
 * in quick mode). The report names the commit measured: `git rev-parse HEAD`
 * (with `+changes` for a checkout with uncommitted changes), or
 * `$BENCH_COMMIT` when running from a copy of a commit's tree.
 *
 * For probes: `$BENCH_OPERATOR_NODE_ARGS` adds Node.js flags to the operator's
 * process (`--cpu-prof --cpu-prof-dir=…`, `--heapsnapshot-signal=SIGUSR2`), and
 * `$BENCH_OPERATOR_WRAPPER` names an executable that runs (and must `exec`) the
 * operator's command line, for example one that moves itself into a cgroup
 * with the Deployment's 512 MiB memory limit first.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startEventSink } from "../emulators/event-sink/index.ts";
import { type BenchContext, OPERATOR_CAPS, OPERATOR_DEFAULTS } from "./lib/bench-context.ts";
import { startBmcFleetProcess } from "./lib/bmc-fleet-process.ts";
import { type BenchPlan, type BenchResults, repeatsFor } from "./lib/results.ts";
import { writeReport } from "./lib/write-report.ts";
import { runConvergence, runConvergenceRepeated } from "./scenarios/convergence.ts";
import { runFootprint } from "./scenarios/footprint.ts";
import { runIronicConvergenceRepeated } from "./scenarios/ironic.ts";
import { IRONIC_RELEASE_NAMES, type IronicReleaseName } from "../test/support/ironic.ts";
import { runLatency } from "./scenarios/latency.ts";
import { measureOperations, type OperationsResult } from "./scenarios/operations.ts";
import { receiverFigure } from "./scenarios/receiver.ts";

const FIGURES = ["convergence", "footprint", "latency", "ironic", "receiver"] as const;
type Figure = (typeof FIGURES)[number];

const FULL: BenchPlan = {
  fleetBmcs: 1000,
  convergenceHosts: [100, 300, 1000],
  convergenceLatencies: [0, 50, 200],
  // As many as the smallest N: after 20 warm-up hosts the operator still spent about a quarter
  // more CPU on a burst of 100 hosts than after 100 (probes with --warmup 20 and --warmup 100).
  warmupHosts: 100,
  convergenceRepeats: 3,
  // A run at N = 100 lasts about a second, where one run's ratio can be a tenth off the next one's.
  shortRowRepeats: 7,
  justRestarted: [{ hosts: 100, latencyMs: 50 }],
  variantArgs: [],
  idleMs: 600_000,
  // 50,000 resources: the row users size a large Deployment from.
  footprintHosts: [100, 1000, 5000],
  settleMs: 60_000,
  latencyHosts: 100,
  latencySamples: 200,
  latencyPaceMs: 150,
  slowBmcLatencyMs: 200,
  ironicHosts: 100,
};

const QUICK: BenchPlan = {
  fleetBmcs: 50,
  convergenceHosts: [20, 50],
  convergenceLatencies: [0, 50],
  warmupHosts: 5,
  convergenceRepeats: 1,
  justRestarted: [{ hosts: 20, latencyMs: 50 }],
  variantArgs: [],
  idleMs: 30_000,
  footprintHosts: [5, 20],
  settleMs: 5_000,
  latencyHosts: 20,
  latencySamples: 40,
  latencyPaceMs: 150,
  slowBmcLatencyMs: 200,
  ironicHosts: 10,
};

const USAGE = `Usage: npm run bench -- [flags]

Measures the operator's figures (docs/benchmarks.md) against baselines from the same run.

  --quick                 a smoke run (small N, a few minutes), into .data/bench-quick
  --only <figures>        comma-separated, of: ${FIGURES.join(", ")}
                          (convergence also measures BMC requests per operation and API writes)
  --hosts <n,...>         the convergence runs' N, instead of the mode's (leaves out the
                          just-restarted rows)
  --latencies <ms,...>    the convergence runs' BMC latencies, instead of the mode's
  --footprint-hosts <n,...>
                          the footprint runs' hosts (ten resources each), instead of the mode's
  --settle <seconds>      the footprint runs' idle after convergence, instead of the mode's
                          (60 s; a shorter one measures the burst alone, and its settled RSS
                          is then not the table's)
  --warmup <hosts>        hosts converged before each convergence window (0: a just-started
                          operator on a new stack)
  --repeats <runs>        runs of each convergence row and of the Ironic figure (the median
                          is reported)
  --ironic-release <name> the Ironic of the Ironic figure: bookworm (21.4.4, the default) or
                          trixie (29.0.5 in its debootstrap root); see scripts/install-ironic.sh
  --out <dir>             where benchmarks.md, benchmarks.json and convergence.svg go
                          (default: docs, or .data/bench-quick with --quick)
  --render <json>         render the report and chart again from a run's benchmarks.json
  -h, --help              this text

Environment: BENCH_OPERATOR_NODE_ARGS (Node.js flags for the operator's process),
BENCH_KEEP_WORK_DIR (keep the work directory with the processes' logs),
BENCH_OPERATOR_WRAPPER (an executable that execs the operator's command line),
BENCH_COMMIT (the commit to name when running from a copy of a tree).`;

let parsed;
try {
  parsed = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      out: { type: "string" },
      render: { type: "string" },
      hosts: { type: "string" },
      "footprint-hosts": { type: "string" },
      settle: { type: "string" },
      latencies: { type: "string" },
      warmup: { type: "string" },
      repeats: { type: "string" },
      "ironic-release": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
} catch (error) {
  console.error(`bench: ${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
const flags = parsed.values;
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
const quick = flags.quick === true;
const only = new Set<Figure>(
  (flags.only ?? FIGURES.join(","))
    .split(",")
    .map((f) => f.trim())
    .filter(Boolean)
    .map((f) => {
      if (!(FIGURES as readonly string[]).includes(f)) {
        console.error(`bench: --only takes ${FIGURES.join(", ")}, comma-separated; got ${JSON.stringify(f)}`);
        process.exit(2);
      }
      return f as Figure;
    }),
);
const root = fileURLToPath(new URL("..", import.meta.url));
const outDir = resolve(root, flags.out ?? (quick ? ".data/bench-quick" : "docs"));
/** A comma-separated list of non-negative integers from a flag, or undefined when the flag is absent. */
function integerList(flag: string, text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const values = text.split(",").map((v) => Number(v.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 0)) {
    console.error(`bench: --${flag} takes non-negative integers, comma-separated; got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return values;
}
const hostsFlag = integerList("hosts", flags.hosts);
const footprintHostsFlag = integerList("footprint-hosts", flags["footprint-hosts"]);
const latenciesFlag = integerList("latencies", flags.latencies);
const warmupFlag = integerList("warmup", flags.warmup);
const repeatsFlag = integerList("repeats", flags.repeats);
const settleFlag = integerList("settle", flags.settle);
for (const [flag, values] of [["warmup", warmupFlag], ["repeats", repeatsFlag], ["settle", settleFlag]] as const) {
  if (values !== undefined && (values.length !== 1 || (flag === "repeats" && values[0]! < 1))) {
    console.error(`bench: --${flag} takes one ${flag === "repeats" ? "positive" : "non-negative"} integer; got ${JSON.stringify(flags[flag])}`);
    process.exit(2);
  }
}
const plan: BenchPlan = {
  ...(quick ? QUICK : FULL),
  ...(hostsFlag ? { convergenceHosts: hostsFlag } : {}),
  ...(footprintHostsFlag ? { footprintHosts: footprintHostsFlag } : {}),
  ...(latenciesFlag ? { convergenceLatencies: latenciesFlag } : {}),
  ...(warmupFlag ? { warmupHosts: warmupFlag[0]! } : {}),
  ...(repeatsFlag ? { convergenceRepeats: repeatsFlag[0]!, shortRowRepeats: repeatsFlag[0]! } : {}),
  ...(settleFlag ? { settleMs: settleFlag[0]! * 1000 } : {}),
};
plan.fleetBmcs = Math.max(plan.fleetBmcs, ...plan.convergenceHosts) + plan.warmupHosts;
// Every footprint host has a BMC of its own too; a run of the footprint alone starts that many at once.
if (only.size === 1 && only.has("footprint")) plan.fleetBmcs = Math.max(plan.fleetBmcs, ...plan.footprintHosts);
const shownFlags = [
  ...(quick ? ["--quick"] : []),
  ...(flags.only ? ["--only", flags.only] : []),
  ...(flags.hosts ? ["--hosts", flags.hosts] : []),
  ...(flags["footprint-hosts"] ? ["--footprint-hosts", flags["footprint-hosts"]] : []),
  ...(flags.latencies ? ["--latencies", flags.latencies] : []),
  ...(flags.warmup ? ["--warmup", flags.warmup] : []),
  ...(flags.repeats ? ["--repeats", flags.repeats] : []),
  ...(flags.settle ? ["--settle", flags.settle] : []),
  ...(flags["ironic-release"] ? ["--ironic-release", flags["ironic-release"]] : []),
];
const ironicRelease = flags["ironic-release"] ?? "bookworm";
if (!(IRONIC_RELEASE_NAMES as readonly string[]).includes(ironicRelease)) {
  console.error(`bench: --ironic-release takes ${IRONIC_RELEASE_NAMES.join(" or ")}; got ${JSON.stringify(ironicRelease)}`);
  process.exit(2);
}
const command = ["npm run bench", ...(shownFlags.length > 0 ? ["--", ...shownFlags] : [])].join(" ");

/** The commit measured: `$BENCH_COMMIT` (for a copy of a commit's tree), else the checkout's HEAD and whether it has changes. */
function measuredCommit(): string {
  if (process.env.BENCH_COMMIT) return process.env.BENCH_COMMIT;
  const head = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" });
  if (head.status !== 0) return "unknown";
  const status = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, encoding: "utf8" });
  return `${head.stdout.trim()}${status.stdout.trim() ? "+changes" : ""}`;
}

if (flags.render !== undefined) {
  // Only render: the report and chart again from a run's raw numbers, without measuring.
  const saved = JSON.parse(await readFile(resolve(root, flags.render), "utf8")) as BenchResults;
  const into = resolve(root, flags.out ?? dirname(flags.render));
  // footprint.json renders the footprint section, benchmarks.json the operator's.
  const footprintFile = flags.render.endsWith("footprint.json");
  await writeReport(saved, into, join(root, "docs"), { operator: !footprintFile, footprint: footprintFile });
  process.stderr.write(`bench: rendered ${flags.render} into ${into}\n`);
  process.exit(0);
}

const started = new Date();
const loadAverageStart = loadavg();
const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
log(`${quick ? "quick" : "full"} mode, figures: ${[...only].join(", ")}; load average ${loadAverageStart.map((l) => l.toFixed(2)).join(", ")}; writing to ${outDir}`);

const dir = await mkdtemp(join(tmpdir(), "bmc-operator-bench-"));
let fleet = await startBmcFleetProcess(plan.fleetBmcs);
const sink = await startEventSink();
const ctx: BenchContext = { dir, fleet, sink, caps: OPERATOR_CAPS, quick, log };
const results: BenchResults = {
  mode: quick ? "quick" : "full",
  command,
  commit: measuredCommit(),
  startedAt: started.toISOString(),
  durationSeconds: 0,
  machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, node: process.version, loadAverageStart, loadAverageEnd: [] },
  plan,
  caps: OPERATOR_CAPS,
  operatorDefaults: OPERATOR_DEFAULTS,
  convergence: [],
  footprint: [],
};

let failed = false;
try {
  if (only.has("convergence")) {
    const largest = Math.max(...plan.convergenceHosts);
    for (const latencyMs of plan.convergenceLatencies) {
      for (const hosts of plan.convergenceHosts) {
        let operations: OperationsResult | undefined;
        const afterConverged =
          hosts === largest && latencyMs === 0 ? measureOperations(ctx, plan.idleMs, (r) => (operations = r)) : undefined;
        const warmupHosts = plan.warmupHosts;
        results.convergence.push(
          await runConvergenceRepeated(ctx, { hosts, latencyMs, warmupHosts, ...(afterConverged ? { afterConverged } : {}) }, repeatsFor(plan, hosts)),
        );
        if (operations) results.operations = operations;
      }
    }
    for (const { hosts, latencyMs } of hostsFlag || plan.warmupHosts === 0 ? [] : plan.justRestarted) {
      results.convergence.push(
        await runConvergenceRepeated(ctx, { hosts, latencyMs, warmupHosts: plan.warmupHosts, restartAfterWarmUp: true }, repeatsFor(plan, hosts)),
      );
    }
    if (plan.variantArgs.length > 0) {
      const latencyMs = Math.max(...plan.convergenceLatencies);
      results.convergence.push(
        await runConvergence(ctx, { hosts: largest, latencyMs, warmupHosts: plan.warmupHosts, operatorArgs: plan.variantArgs }),
      );
    }
  }
  if (only.has("footprint")) {
    // The other figures ran on the plan's fleet; the footprint's largest row needs a BMC per host.
    const needed = Math.max(...plan.footprintHosts);
    if (needed > fleet.bmcs.length) {
      await fleet.close();
      fleet = await startBmcFleetProcess(needed);
      ctx.fleet = fleet;
    }
    for (const hosts of plan.footprintHosts) results.footprint.push(await runFootprint(ctx, hosts, plan.settleMs));
  }
  if (only.has("latency")) {
    results.latency = await runLatency(ctx, plan.latencyHosts, plan.latencySamples, plan.slowBmcLatencyMs, plan.latencyPaceMs);
  }
  if (only.has("ironic")) {
    results.ironic = await runIronicConvergenceRepeated(ctx, plan.ironicHosts, plan.convergenceRepeats, ironicRelease as IronicReleaseName);
    if ("skipped" in results.ironic) log(`ironic: skipped: ${results.ironic.skipped}`);
  }
  if (only.has("receiver")) await receiverFigure(ctx, outDir, command);
} catch (error) {
  failed = true;
  log(`failed: ${(error as Error).stack ?? String(error)}`);
  log(`logs kept in ${dir}`);
} finally {
  await sink.close();
  await fleet.close();
}

results.durationSeconds = (Date.now() - started.getTime()) / 1000;
results.machine.loadAverageEnd = loadavg();
if (failed) process.exit(1);

await mkdir(outDir, { recursive: true });
// The footprint has a section and raw numbers of its own: a run of it alone leaves the other figures' as they are.
const footprintOnly = only.size === 1 && only.has("footprint");
if (!footprintOnly) await writeFile(join(outDir, "benchmarks.json"), `${JSON.stringify(results, null, 2)}\n`);
if (results.footprint.length > 0) await writeFile(join(outDir, "footprint.json"), `${JSON.stringify(results, null, 2)}\n`);
await writeReport(results, outDir, join(root, "docs"), { operator: !footprintOnly, footprint: results.footprint.length > 0 });
if (process.env.BENCH_KEEP_WORK_DIR) log(`kept the work directory (the processes' logs): ${dir}`);
else await rm(dir, { recursive: true, force: true });
log(`done in ${Math.round(results.durationSeconds)} s: ${join(outDir, "benchmarks.md")}${footprintOnly ? ", footprint.json" : ", benchmarks.json, convergence.svg"}`);

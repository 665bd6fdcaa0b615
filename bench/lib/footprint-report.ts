/**
 * Renders the footprint runs of `npm run bench` as the `footprint` section of
 * `docs/benchmarks.md`: the operator's memory and CPU time against the
 * number of resources, the goals, the memory per cached object of each kind,
 * and what the figures mean for the Deployment's requests and limits.
 *
 * @module
 */
import type { FootprintResult } from "../scenarios/footprint.ts";
import type { BenchResults } from "./results.ts";

/** RSS with caches synced and no resources, bytes. */
export const EMPTY_RSS_GOAL = 80 * 1048576;
/** RSS at 10,000 resources, settled and peak, bytes. */
export const RSS_10K_GOAL = 150 * 1048576;
/** Operator CPU per converged resource at 10,000 resources, seconds. */
export const CPU_PER_RESOURCE_GOAL = 0.5e-3;

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MiB`;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function pct(share: number | undefined): string {
  return share === undefined ? "—" : `${Math.round(share * 100)}%`;
}

function table(header: string[], rows: (string | number)[][]): string {
  const align = header.map((h) => (h.startsWith(">") ? "---:" : "---"));
  const clean = header.map((h) => h.replace(/^>/, ""));
  return [`| ${clean.join(" | ")} |`, `| ${align.join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

function cpuPerResource(f: FootprintResult): number {
  return f.cpuSecondsToConverge / f.resources;
}

/** Growth of the settled RSS per resource between the smallest and the largest run, bytes. */
export function rssPerResource(runs: readonly FootprintResult[]): number | undefined {
  if (runs.length < 2) return undefined;
  const sorted = [...runs].sort((a, b) => a.resources - b.resources);
  const small = sorted[0]!;
  const large = sorted.at(-1)!;
  return (Math.max(large.rssSettledBytes, large.peakRssBytes) - Math.max(small.rssSettledBytes, small.peakRssBytes)) / (large.resources - small.resources);
}

/**
 * The line to size a Deployment by: the slope of {@link rssPerResource}, raised
 * until no run's RSS (the higher of peak and settled) is above it, so that it
 * bounds every measured fleet rather than only the smallest and the largest.
 */
export function sizingLine(runs: readonly FootprintResult[]): { base: number; slope: number } | undefined {
  const slope = rssPerResource(runs);
  if (slope === undefined) return undefined;
  const base = Math.max(...runs.map((f) => Math.max(f.rssSettledBytes, f.peakRssBytes) - f.resources * slope));
  return { base, slope };
}

/** The Markdown of the `footprint` section. */
export function renderFootprint(r: BenchResults): string {
  const runs = [...r.footprint].sort((a, b) => a.resources - b.resources);
  const cmd = `${r.mode === "quick" ? "npm run bench -- --quick --only footprint" : "npm run bench -- --only footprint"}${
    r.plan.footprintHosts.join(",") === "100,1000,5000" || r.mode === "quick" ? "" : ` --footprint-hosts ${r.plan.footprintHosts.join(",")}`
  }`;
  const load = (l: number[] | undefined) => (l ? l.map((v) => v.toFixed(2)).join(", ") : "—");
  const out: string[] = [
    "## Operator footprint",
    "",
    `Written by \`${cmd}\` at commit ${r.commit} on ${r.startedAt.slice(0, 10)}: ${r.machine.cores} × ${r.machine.cpu.split(" ").slice(0, 3).join(" ")}, ` +
      `Node ${r.machine.node}, load average ${load(r.machine.loadAverageStart)} at the start and ${load(r.machine.loadAverageEnd)} at the end ` +
      "(1, 5, 15 min; other work shares the machine, so CPU *time*, not wall time, is the figure to compare). Raw numbers: [footprint.json](footprint.json).",
    "",
    "The operator process's resident memory (`VmRSS`, peak `VmHWM`) and CPU time (`utime + stime`) from `/proc/<pid>`, the process started as the " +
      "Deployment starts it (the Node.js flags of the image's `ENTRYPOINT`, which the Deployments' `command` repeats, the memory settings " +
      "of its `ENV`, and a compile cache written as the image's build writes it, all read from the `Dockerfile`; no memory limit, so V8 sizes its heap from the machine's memory). A resource is a BareMetalHost, a " +
      "BareMetalHostServiceIndicator or a BMCEventSubscription; the fleet has ten per host (the host, an indicator on each of its 4 lights, " +
      "5 subscriptions), one emulated BMC per host, all created at once against the Kubernetes API emulator. *Empty* is with the caches synced and " +
      `no resource yet, once idle (after the idle collection that follows start-up; *at ready*, the moment the caches had synced); *settled* after ${runs[0]?.settleSeconds ?? 0} s of idle after convergence; *peak* the highest RSS of the process's life; ` +
      "*speed probe*, how long this machine took for a fixed piece of JavaScript just before the burst (`bench/lib/speed-probe.ts`; lower is faster): " +
      "the machine's speed drifts, and CPU times are comparable only between runs with similar probes.",
    "",
    table(
      [
        ">Resources",
        ">Hosts",
        ">RSS empty",
        ">RSS at ready",
        ">Peak RSS",
        ">RSS at convergence",
        ">RSS settled",
        ">CPU to converge",
        ">CPU per resource",
        ">Converged in",
        ">CPU while settling",
        ">Load average at start",
        ">Speed probe",
      ],
      runs.map((f) => [
        f.resources,
        f.hosts,
        mib(f.rssEmptyBytes),
        f.rssAtReadyBytes === undefined ? "—" : mib(f.rssAtReadyBytes),
        mib(f.peakRssBytes),
        mib(f.rssConvergedBytes),
        mib(f.rssSettledBytes),
        `${f.cpuSecondsToConverge.toFixed(2)} s`,
        `${(cpuPerResource(f) * 1000).toFixed(2)} ms`,
        duration(f.convergeMs),
        `${f.cpuSecondsSettle.toFixed(2)} s`,
        f.loadAverage ? f.loadAverage[0]!.toFixed(2) : "—",
        f.speedProbeMs === undefined ? "—" : `${f.speedProbeMs.toFixed(0)} ms`,
      ]),
    ),
    "",
  ];

  const at10k = runs.find((f) => f.resources === 10_000);
  const goals: (string | number)[][] = [
    ["RSS with caches synced, no resources", `≤ ${mib(EMPTY_RSS_GOAL)}`, runs.map((f) => mib(f.rssEmptyBytes)).join(", "), met(runs.every((f) => f.rssEmptyBytes <= EMPTY_RSS_GOAL))],
  ];
  if (at10k) {
    goals.push(
      ["RSS at 10,000 resources, settled and peak", `≤ ${mib(RSS_10K_GOAL)}`, `${mib(at10k.rssSettledBytes)}, ${mib(at10k.peakRssBytes)}`, met(Math.max(at10k.rssSettledBytes, at10k.peakRssBytes) <= RSS_10K_GOAL)],
      ["Operator CPU per converged resource at 10,000", `≤ ${(CPU_PER_RESOURCE_GOAL * 1000).toFixed(1)} ms`, `${(cpuPerResource(at10k) * 1000).toFixed(2)} ms`, met(cpuPerResource(at10k) <= CPU_PER_RESOURCE_GOAL)],
    );
  }
  out.push(table(["Goal", "Target", "Measured", "Met"], goals), "");

  const largest = runs.at(-1);
  const kinds = largest?.cachedKinds ?? [];
  if (largest && kinds.length > 0) {
    out.push(
      `Memory per cached object of each kind, at ${largest.resources} resources: each object the operator's informers hold, as its JSON from the API ` +
        "server (with `managedFields`) and as the JavaScript heap it takes once parsed, passed through the manager's cache transform, frozen and " +
        "stored (measured in the benchmark's process by holding the same objects the same way, after a full GC).",
      "",
      table(
        ["Kind", ">Objects", ">JSON as served", ">Heap per cached object", ">Heap, all of the kind"],
        kinds.map((k) => [k.kind, k.objects, kib(k.jsonBytesPerObject), kib(k.heapBytesPerObject), mib(k.heapBytesPerObject * k.objects)]),
      ),
      "",
    );
  }

  const sizing = sizingLine(runs);
  if (sizing !== undefined && largest) {
    const floor = Math.max(...runs.map((f) => f.rssEmptyBytes));
    out.push(
      `Sizing: between ${runs[0]!.resources} and ${largest.resources} resources the operator's RSS (the higher of peak and settled) grew by ` +
        `${kib(sizing.slope)} per resource, on a floor of ${mib(floor)} with empty caches. The peak of a burst does not grow in a straight line ` +
        `(the heap V8 keeps for it), so the line to size by is the one of that slope through the highest of the rows: a fleet of R resources ` +
        `created at once needs at most about ${mib(sizing.base)} + R × ${kib(sizing.slope)}. The Deployment's requests and limits ` +
        "(config/default, config/metal3, the Helm chart's values) follow from it.",
      "",
    );
  }

  out.push(
    table(
      [">Resources", ">CPU operator", ">CPU API emulator", ">CPU BMC emulator", ">CPU benchmark", ">Peak requests in flight per BMC", ">Events dropped"],
      runs.map((f) => [
        f.resources,
        pct(f.usage.operator?.cpuShare),
        pct(f.usage.apiEmulator?.cpuShare),
        pct(f.usage.bmcEmulator?.cpuShare),
        pct(f.usage.benchmark?.cpuShare),
        f.maxPeakInFlightPerBmc,
        f.eventsDropped,
      ]),
    ),
    "",
    "The CPU columns are each process's share of one core over the convergence window (the machine has " +
      `${r.machine.cores}); the BMC emulator's measured capacity is 1,000 BMCs, so runs beyond that share its process among more.`,
  );
  for (const f of runs.filter((run) => run.eventsDropped > 0)) {
    out.push(
      "",
      `At ${f.resources} resources created at once the operator's Event recorders dropped ${f.eventsDropped} of the ${f.resources} Events ` +
        "(one per resource): more were queued than a recorder keeps.",
    );
  }
  return out.join("\n");
}

function met(ok: boolean): string {
  return ok ? "yes" : "**no**";
}

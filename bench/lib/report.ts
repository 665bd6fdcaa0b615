/**
 * Renders a run's numbers as the `operator` section of
 * `docs/benchmarks.md`: for each figure of issue #7 a table with the command,
 * N, the result, the goal and whether it was met, then the details a reader
 * needs to judge it (including how busy each emulator was, to show whether
 * it limited the figure).
 *
 * @module
 */
import type { ConvergenceResult } from "../scenarios/convergence.ts";
import type { OperationRequests } from "../scenarios/operations.ts";
import { type BenchResults, isFirstBurst, isMainRow } from "./results.ts";
import { mean, round } from "./statistics.ts";

/** The convergence ratio goal. */
export const RATIO_GOAL = 1.2;
/** The API writes per converged resource goal. */
export const WRITES_GOAL = 3;

/** "a", "a and b", "a, b and c". */
function listed(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function duration(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MiB`;
}

function pct(share: number | undefined): string {
  return share === undefined ? "—" : `${Math.round(share * 100)}%`;
}

function met(ok: boolean): string {
  return ok ? "yes" : "**no**";
}

function methods(byMethod: Record<string, number>): string {
  const parts = Object.entries(byMethod)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([m, n]) => `${n} ${m}`);
  return parts.length ? parts.join(" + ") : "0";
}

function table(header: string[], rows: (string | number)[][]): string {
  const align = header.map((h) => (h.startsWith(">") ? "---:" : "---"));
  const clean = header.map((h) => h.replace(/^>/, ""));
  return [`| ${clean.join(" | ")} |`, `| ${align.join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

/** N, with the run's extra operator flags, if any. */
function runLabel(run: ConvergenceResult): string {
  const notes = [
    ...(run.restarted ? ["just restarted"] : (run.warmupHosts ?? 0) === 0 ? ["just started"] : []),
    ...(run.operatorArgs.length ? [`\`${run.operatorArgs.join(" ")}\``] : []),
  ];
  return notes.length ? `${run.hosts} (${notes.join(", ")})` : String(run.hosts);
}

/**
 * What the processes' own CPU time says about a run that no BMC wait slows: the operator's CPU time
 * (nearly all of it on its one JavaScript thread), and every process's CPU time spread over the
 * machine's cores, which no run can beat, each as a multiple of the baseline.
 */
function cpuBound(run: ConvergenceResult, cores: number): string {
  const operator = run.usage.operator?.cpuSeconds;
  if (operator === undefined) return "";
  const processes = Object.values(run.usage);
  const all = processes.reduce((sum, u) => sum + (u?.cpuSeconds ?? 0), 0);
  const baselineSeconds = run.baselineMeanMs / 1000;
  return (
    `The operator was busy ${pct(run.usage.operator?.cpuShare)} of the window, so its own CPU was the limit: its ${round(operator, 2)} s of CPU ` +
    `alone, nearly all on its one JavaScript thread, are ${round(operator / baselineSeconds, 2)} times the baseline; the ${processes.length} processes together ` +
    `used ${round(all, 2)} CPU seconds, which take at least ${duration((all / cores) * 1000)} on ${cores} cores (${round(all / cores / baselineSeconds, 2)} times the baseline). `
  );
}

function apiRequests(run: ConvergenceResult): number {
  return Object.values(run.apiRequestsByVerb).reduce((a, b) => a + b, 0);
}

/** Writes per converged resource of each kind, counting one Event per resource (written, still queued or dropped). */
export function writesPerResource(run: ConvergenceResult): { host: number; indicator: number; subscription: number; all: number } {
  const n = run.hosts;
  const host = run.writes.host / n + 1;
  const indicator = run.writes.indicator / n + 1;
  const subscription = run.writes.subscription / n + 1;
  return { host, indicator, subscription, all: (host + indicator + subscription) / 3 };
}

function isGoodOperation(op: OperationRequests, expected: Record<string, number>): boolean {
  const keys = new Set([...Object.keys(op.byMethod), ...Object.keys(expected)]);
  return [...keys].every((k) => (op.byMethod[k] ?? 0) === (expected[k] ?? 0));
}

/** The Markdown of the `operator` section. */
export function renderReport(r: BenchResults): string {
  const cmd = r.mode === "quick" ? "npm run bench -- --quick" : "npm run bench";
  const only = (part: string) => `\`${cmd} -- --only ${part}\``.replace("-- --quick -- --only", "-- --quick --only");
  const out: string[] = [];
  // Runs from before the settings were recorded used these.
  const defaults = r.operatorDefaults ?? { concurrency: 32, bmcMaxInFlight: r.caps.perBmc, bmcMaxTotal: r.caps.global };
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(", ");
  out.push(
    "## Operator benchmarks",
    "",
    `Written by \`${cmd}\` (${r.mode} mode${r.mode === "quick" ? ": small N and a 30 s idle period, a smoke run only" : ""}) at commit ${r.commit} ` +
      `on ${r.startedAt.slice(0, 10)} in ${Math.round(r.durationSeconds / 60)} min: ` +
      `${r.machine.cores} × ${r.machine.cpu}, Node ${r.machine.node}, load average ${load(r.machine.loadAverageStart)} at the start and ` +
      `${load(r.machine.loadAverageEnd)} at the end (1, 5, 15 min; other work shares the machine). Raw numbers: [benchmarks.json](benchmarks.json).`,
    "",
    "Every figure runs four processes on 127.0.0.1: the operator as a user runs it (`node src/cli/operator.ts --kubeconfig … " +
      `--metrics-bind-address 127.0.0.1:0\`, default flags: \`--concurrency ${defaults.concurrency}\`, \`--bmc-max-in-flight ${defaults.bmcMaxInFlight}\`, ` +
      `\`--bmc-max-total ${defaults.bmcMaxTotal}\`), ` +
      `the Kubernetes API emulator (a child process, fresh for every run, with the CRDs and the admission policy), the Redfish BMC emulator (\`npm run bmc-emulator\`, ${r.plan.fleetBmcs} BMCs), ` +
      "and the benchmark itself (it creates the objects, watches them, runs the baselines and hosts the event sink the subscriptions deliver to). " +
      "Timings are ratios against a baseline measured in the same run; tests never assert on them. " +
      `Caps everywhere: ${r.caps.perBmc} BMC request in flight per BMC, ${r.caps.global} overall, the operator's defaults.`,
    "",
  );

  // ---- 1. Convergence ----------------------------------------------------------
  const repeated = r.convergence.some((c) => (c.runs?.length ?? 1) > 1);
  out.push(
    "### 1. Convergence ratio (Redfish provisioner)",
    "",
    "N hosts, each with one `BareMetalHostServiceIndicator` (`on: true`) and one `BMCEventSubscription`, created at once (16 creates in flight, host by host) " +
      "through the API emulator. The window runs from the first create until the last indicator or subscription is Ready, as a watch sees it. " +
      "**The hosts are created in the same burst, so their registration (the operator reading each BMC's inventory) is inside the window**; " +
      "their credentials Secrets exist before it (unlabelled: the operator labels each, as Metal3's does). " +
      (r.plan.warmupHosts
        ? `Before the window the operator has converged ${r.plan.warmupHosts} other hosts on BMCs of their own (namespace \`warmup\`, left in place), ` +
          "so the figure is that of a running operator, its code compiled by the JIT and its connections to the API open, as in production; " +
          (r.convergence.some((c) => c.restarted)
            ? "rows marked *just restarted* measure the first burst of a new operator process instead: after the same warm-up, the operator is stopped and a new process " +
              "started, which handles the objects it finds before the window, as after an upgrade or a failover. The stack around it stays warm: " +
              "the API emulator is a Node.js process too, and a fresh one would add a JIT warm-up of its own that a long-running kube-apiserver does not have. "
            : r.convergence.some((c) => isFirstBurst(c))
              ? "rows marked *just started* skip this and measure the first burst after the operator started. "
              : "")
        : "") +
      "The baseline (`bench/lib/redfish-baseline.ts`) makes the same BMC requests directly — per host the 6 inventory GETs, GET and PATCH of the light, " +
      "GET of the service root and of the EventService, POST of the subscription: 11 — with the same caps (one `BmcCallLimiter`: 1 per BMC, 64 overall) " +
      "against the same BMCs, once before and once after the operator's run (BMCs reset in between); the ratio divides by their mean." +
      (repeated
        ? ` The machine is shared, and identical runs of the same code can differ by a tenth or more in ratio (much more at 0 ms, where a run lasts a fraction of a second), so **each row was run ${r.plan.convergenceRepeats} times` +
          (r.plan.shortRowRepeats !== undefined && r.plan.shortRowRepeats !== r.plan.convergenceRepeats
            ? ` (${r.plan.shortRowRepeats} times at N = ${Math.min(...r.plan.convergenceHosts)}, whose windows are the shortest)`
            : "") +
          ", " +
          "each on a fresh stack with its own baselines, and shows the run with the median ratio**; *Runs* lists every run's ratio in the order they ran " +
          "(each run's times are in the JSON file)."
        : ""),
    "",
    table(
      ["Command", ">N (hosts)", ">BMC latency", ">Operator", ">Baseline (before / after)", ">Ratio", ...(repeated ? [">Runs"] : []), "Goal", "Met"],
      r.convergence.map((c) => [
        only("convergence"),
        runLabel(c),
        `${c.latencyMs} ms`,
        duration(c.operatorMs),
        `${duration(c.baselineMeanMs)} (${c.baselineMs.map(duration).join(" / ")})`,
        round(c.ratio, 2),
        ...(repeated ? [c.runs ? c.runs.map((run) => round(run.ratio, 2)).join(", ") : "1 run"] : []),
        `≤ ${RATIO_GOAL}`,
        met(c.ratio <= RATIO_GOAL),
      ]),
    ),
    "",
    "Where the time went, and whether an emulator was the limit (CPU is each process's CPU time over the window; 100% is one core of the two):",
    "",
    table(
      [
        ">N",
        ">BMC latency",
        ">Creates sent",
        ">Last host Ready",
        ">BMC requests per host (operator / baseline)",
        ">BMC requests/s",
        ">API requests per host",
        ">Reconciles per host / indicator / subscription",
        ">CPU operator",
        ">CPU API emulator",
        ">CPU BMC emulator",
        ">CPU benchmark",
      ],
      r.convergence.map((c) => [
        runLabel(c),
        `${c.latencyMs} ms`,
        duration(c.createMs),
        duration(c.hostsReadyMs),
        `${round(c.bmcRequestsPerHost, 2)} / ${round(c.baselineRequestsPerHost, 2)}`,
        Math.round((c.bmcRequestsPerHost * c.hosts) / (c.operatorMs / 1000)),
        round(apiRequests(c) / c.hosts, 1),
        c.reconcilesPerObject
          ? [c.reconcilesPerObject.host, c.reconcilesPerObject.indicator, c.reconcilesPerObject.subscription].map((v) => round(v, 1)).join(" / ")
          : "–",
        pct(c.usage.operator?.cpuShare),
        pct(c.usage.apiEmulator?.cpuShare),
        pct(c.usage.bmcEmulator?.cpuShare),
        pct(c.usage.benchmark?.cpuShare),
      ]),
    ),
    "",
  );
  const plain = r.convergence.filter((c) => isMainRow(c, r.plan));
  const zero = plain.filter((c) => c.latencyMs === 0);
  const slow = plain.filter((c) => c.latencyMs > 0);
  const variant = r.convergence.find((c) => c.operatorArgs.length > 0);
  if (zero.length > 0) {
    const biggest = zero.at(-1)!;
    out.push(
      `With no BMC latency the BMCs answer in well under a millisecond, so the baseline is bound only by how fast one process can send ` +
        `${biggest.baselineRequestsPerHost} requests per host, and **the Kubernetes API round trips dominate the operator's time**: ` +
        `at N = ${biggest.hosts} each host costs ${round(apiRequests(biggest) / biggest.hosts, 1)} API requests (the benchmark's 3 creates, ` +
        `the operator's finalizers, status writes, Secret labels and Events) against ${biggest.baselineRequestsPerHost} BMC requests, ` +
        `and the creates alone took ${duration(biggest.createMs)} of the ${duration(biggest.operatorMs)}. ` +
        cpuBound(biggest, r.machine.cores) +
        `The API emulator, one JavaScript thread like the operator, was itself busy for ` +
        `${listed(zero.map((c) => String(round(((c.usage.apiEmulator?.cpuSeconds ?? 0) * 1000) / c.baselineMeanMs, 2))))} times the baseline ` +
        `at N = ${listed(zero.map((c) => String(c.hosts)))}, serving the creates, the writes without which nothing is Ready ` +
        "(each resource's finalizer and status) and their watch events. That CPU time runs nearly all on the one thread, " +
        "so the window cannot be much shorter. " +
        "A ratio near 1 is not reachable this way; these rows measure the cost of going through Kubernetes, not BMC waiting.",
      "",
    );
  }
  const slowLatencies = [...new Set(slow.map((c) => c.latencyMs))].sort((a, b) => a - b);
  for (const latencyMs of slowLatencies) {
    const biggest = slow.filter((c) => c.latencyMs === latencyMs).at(-1)!;
    out.push(
      `With ${biggest.latencyMs} ms per BMC response the BMC waits make up most of both times, as they do in production: ` +
        `the baseline's ${round(biggest.baselineRequestsPerHost * biggest.hosts)} requests at ${biggest.latencyMs} ms over ${r.caps.global} slots need at least ` +
        `${duration((biggest.baselineRequestsPerHost * biggest.hosts * biggest.latencyMs) / r.caps.global)}. ` +
        ((biggest.usage.operator?.cpuShare ?? 0) >= 0.6
          ? `The operator process was still busy ${pct(biggest.usage.operator?.cpuShare)} of a core over the window (the API emulator ` +
            `${pct(biggest.usage.apiEmulator?.cpuShare)}, on ${r.machine.cores} cores): every BMC answer waits for its event loop, so its CPU time ` +
            `adds to each request's ${biggest.latencyMs} ms. `
          : "") +
        (defaults.concurrency < r.caps.global
          ? `The operator runs at most ${defaults.concurrency} registrations at once (\`--concurrency ${defaults.concurrency}\`, one worker per host), ` +
            `while the baseline keeps the ${r.caps.global} global slots full. `
          : `With \`--concurrency ${defaults.concurrency}\` every new host starts its registration at once and waits in the BMC limiter, as the baseline's hosts do. `) +
        `At N = ${biggest.hosts} the last host was Ready after ${duration(biggest.hostsReadyMs)}, the last resource after ${duration(biggest.operatorMs)}.` +
        (variant && variant.latencyMs === latencyMs
          ? ` With \`${variant.operatorArgs.join(" ")}\` the same N = ${variant.hosts} at ${variant.latencyMs} ms took ${duration(variant.operatorMs)} ` +
            `(ratio ${round(variant.ratio, 2)}, last host Ready after ${duration(variant.hostsReadyMs)}).`
          : ""),
      "",
    );
  }
  for (const cold of r.convergence.filter((c) => isFirstBurst(c) && (r.plan.warmupHosts ?? 0) > 0 && c.operatorArgs.length === 0)) {
    const warm = plain.find((c) => c.hosts === cold.hosts && c.latencyMs === cold.latencyMs);
    const cpu = (run: ConvergenceResult) => run.usage.operator?.cpuSeconds;
    const coldCpu = cpu(cold);
    const warmCpu = warm && cpu(warm);
    out.push(
      `${cold.restarted ? "Just restarted" : "Just started"}, the operator took ${duration(cold.operatorMs)} (ratio ${round(cold.ratio, 2)}) ` +
        `for the N = ${cold.hosts} burst at ${cold.latencyMs} ms` +
        (warm ? `, against ${duration(warm.operatorMs)} (ratio ${round(warm.ratio, 2)}) once warm` : "") +
        ": a new Node.js process runs its code unoptimised at first" +
        (coldCpu !== undefined && warmCpu !== undefined
          ? ` (the operator used ${coldCpu.toFixed(2)} s of CPU over the window, against ${warmCpu.toFixed(2)} s once warm)`
          : "") +
        (cold.restarted
          ? ", a one-off cost of each start; both runs open new connections to the measured BMCs."
          : ", and opens its connections, a one-off cost of each start."),
      "",
    );
  }

  // ---- 2. BMC requests per operation ----------------------------------------
  const ops = r.operations;
  const peak = Math.max(...r.convergence.map((c) => c.maxPeakInFlightPerBmc), ...r.footprint.map((f) => f.maxPeakInFlightPerBmc));
  out.push("### 2. BMC requests per operation", "");
  if (ops) {
    const opRow = (name: string, op: OperationRequests, goal: string, expected: Record<string, number>) => [
      only("convergence"),
      ops.hosts,
      name,
      methods(op.byMethod),
      goal,
      met(isGoodOperation(op, expected)),
    ];
    const idleLabel = ops.idleSeconds >= 90 ? `${Math.round(ops.idleSeconds / 60)} min` : `${Math.round(ops.idleSeconds)} s`;
    out.push(
      `Counted by the BMC emulator at the host's BMC, on the converged fleet of the largest 0 ms convergence run (N = ${ops.hosts}). ` +
        "The protocol minimum for a subscription is 1 POST to the Subscriptions collection to create it and 1 DELETE of its URI to delete it, once the collection's " +
        "path is known; finding the path costs 2 GETs (service root, EventService) once per BMC and process. " +
        `The restart is a full stop (SIGTERM) and a new process with \`--leader-elect\`, then ${idleLabel} of idle with everything converged` +
        (r.mode === "quick" ? " (quick mode: 30 s, not the full mode's 10 min)." : "."),
      "",
      table(
        ["Command", ">N (hosts)", "Operation", "Requests at the BMC", "Goal", "Met"],
        [
          opRow("light toggle, off", ops.toggleOff, "1 read + 1 write", { GET: 1, PATCH: 1 }),
          opRow("light toggle, on", ops.toggleOn, "1 read + 1 write", { GET: 1, PATCH: 1 }),
          opRow("subscription create", ops.subscriptionCreate, "1 POST", { POST: 1 }),
          opRow("subscription delete", ops.subscriptionDelete, "1 DELETE", { DELETE: 1 }),
          [
            only("convergence"),
            ops.hosts,
            `full restart + ${idleLabel} idle`,
            methods(ops.restartAndIdleBmcByMethod),
            "0",
            met(ops.restartAndIdleBmcRequests === 0),
          ],
          opRow("first light toggle of a host after a restart, off", ops.afterRestart.toggleOff, "1 read + 1 write", { GET: 1, PATCH: 1 }),
          opRow("… and on again", ops.afterRestart.toggleOn, "1 read + 1 write", { GET: 1, PATCH: 1 }),
          opRow("first subscription create on a BMC after a restart", ops.afterRestart.subscriptionCreate, "1 POST (+ 2 GETs to find the collection)", {
            GET: 2,
            POST: 1,
          }),
          opRow("… and its delete", ops.afterRestart.subscriptionDelete, "1 DELETE", { DELETE: 1 }),
          [
            only("convergence"),
            r.convergence.map(runLabel).join(", "),
            "converging a host (1 indicator, 1 subscription)",
            r.convergence.map((c) => round(c.bmcRequestsPerHost, 2)).join(", "),
            `the baseline's ${r.convergence[0]?.baselineRequestsPerHost ?? 11}`,
            met(r.convergence.every((c) => c.bmcRequestsPerHost <= c.baselineRequestsPerHost)),
          ],
          [
            only("convergence"),
            "every run",
            "peak requests in flight per BMC",
            peak,
            `the cap, ${r.caps.perBmc}`,
            met(peak <= r.caps.perBmc),
          ],
        ],
      ),
      "",
      (isGoodOperation(ops.afterRestart.toggleOff, { GET: 1, PATCH: 1 })
        ? ""
        : `After a restart the new process has no light paths yet: its first toggle of a host costs ${methods(ops.afterRestart.toggleOff.byMethod)} ` +
          "(the host's inventory is read again to find the light), where later toggles cost 1 GET + 1 PATCH. ") +
        (r.convergence.some((c) => c.bmcRequestsPerHost > c.baselineRequestsPerHost)
          ? "Converging a host whose subscription is created together with it costs one GET of the BMC's Subscriptions collection more than the baseline " +
            "(more with subscriptions already on the BMC: one GET per member): the first reconcile adds the finalizer and then waits for the host's " +
            "registration, so the next one cannot tell that no earlier attempt reached the BMC, and lists the BMC's subscriptions before creating."
          : ""),
      "",
    );
  } else {
    out.push("Not measured in this run.", "");
  }

  // ---- 3. API writes ------------------------------------------------------------
  out.push("### 3. Kubernetes API writes per converged resource and per idle minute", "");
  if (r.convergence.length > 0) {
    const rows = r.convergence.map((c) => {
      const w = writesPerResource(c);
      return [
        only("convergence"),
        runLabel(c),
        `${c.latencyMs} ms`,
        `${round(w.host, 2)} / ${round(w.indicator, 2)} / ${round(w.subscription, 2)}`,
        round(w.all, 2),
        `${c.writes.events} written, ${c.eventsDropped} dropped`,
        `≤ ${WRITES_GOAL}`,
        met(w.host <= WRITES_GOAL && w.indicator <= WRITES_GOAL && w.subscription <= WRITES_GOAL),
      ];
    });
    out.push(
      "From the API emulator's write counts (`stats()`) over the convergence window, the benchmark's own creates taken out. A host's writes are its status " +
        "and its credentials Secret's label; an indicator's and a subscription's are their finalizer and their status. Each converged resource also records " +
        "one Event (`Registered`, `LightOn`, `SubscriptionCreated`), counted here as one write whether the recorder had written it by convergence or not: " +
        "the recorder rate-limits its writes (`docs/runtime.md`), so at large N some are still queued when the fleet is Ready, and it drops what " +
        "goes beyond its queue limit.",
      "",
      table(["Command", ">N (hosts)", ">BMC latency", ">Writes per host / indicator / subscription", ">All", ">Events at convergence", "Goal", "Met"], rows),
      "",
    );
  }
  if (ops) {
    const leases = mean(ops.idleMinutes.map((m) => m.leaseWritesPerMinute));
    const others = Math.max(0, ...ops.idleMinutes.map((m) => m.otherWritesPerMinute));
    const restartNonLease = ops.restartWrites.total - ops.restartWrites.leases;
    const reads = Object.entries(ops.idleRequestsByVerb)
      .map(([verb, n]) => `${n} ${verb}`)
      .join(", ");
    out.push(
      table(
        ["Command", ">N (hosts)", "Measure", ">Result", "Goal", "Met"],
        [
          [only("convergence"), ops.hosts, "writes per idle minute, outside leader election (the worst minute)", round(others, 1), "0", met(others === 0)],
          [only("convergence"), ops.hosts, "Lease writes per idle minute (renewals every `--retry-period` 2 s)", round(leases, 1), "counted apart", "—"],
          [
            only("convergence"),
            ops.hosts,
            `writes of the restarted process until it had handled all ${ops.hosts * 3} objects, outside leader election`,
            restartNonLease,
            "0",
            met(restartNonLease === 0),
          ],
        ],
      ),
      "",
      `The restarted process was ready (caches synced) ${duration(ops.startToReadyMs)} after its spawn and had handled all ${ops.hosts * 3} objects ` +
        `${duration(ops.startToSettledMs)} after it (the stop of the old one took ${duration(ops.stop.ms)}). ` +
        `The idle period lasted ${Math.round(ops.idleSeconds)} s; its API requests were ${reads || "none"} (the Lease's GET and update every 2 s, ` +
        `and the informers' watches being renewed; ${ops.idleRequestsByVerb.list ? `${ops.idleRequestsByVerb.list} lists` : "nothing was listed again"}). ` +
        `The operator used ${ops.operatorCpuSecondsIdle.toFixed(2)} s of CPU over it (${pct(ops.operatorCpuSecondsIdle / ops.idleSeconds)} of a core); ` +
        `its RSS was ${mib(ops.operatorRssAfterRestartBytes)} after the restart and ${mib(ops.operatorRssAfterIdleBytes)} at the end.`,
      "",
    );
  }

  // ---- 4. Footprint ---------------------------------------------------------------
  out.push(
    "### 4. Footprint",
    "",
    r.footprint.length > 0
      ? "Measured in this run: see [Operator footprint](#operator-footprint) below (its own section, which `npm run bench -- --only footprint` rewrites)."
      : "See [Operator footprint](#operator-footprint) below, written by `npm run bench -- --only footprint`.",
    "",
  );

  // ---- 5. Ironic ---------------------------------------------------------------------
  out.push("### 5. Convergence ratio through Ironic", "");
  const ironic = r.ironic;
  if (!ironic) {
    out.push("Not measured in this run.", "");
  } else if ("skipped" in ironic) {
    out.push(table(["Command", ">N (hosts)", "Result", "Goal", "Met"], [[only("ironic"), r.plan.ironicHosts, `skipped: ${ironic.skipped}`, `≤ ${RATIO_GOAL}`, "—"]]), "");
  } else {
    out.push(
      `As figure 1, with \`--provisioner ironic --ironic-endpoint …\` against a real Ironic${ironic.ironic ? ` (${ironic.ironic})` : ""} (all-in-one, sqlite, \`noauth\`, started by \`test/support/ironic.ts\`) ` +
        "that drives the same emulated BMCs. The baseline (`bench/lib/ironic-baseline.ts`) makes the Ironic calls directly with the same caps (keyed by node): " +
        "enroll the node, list its indicators, GET and PUT the system light, `create_subscription` through the vendor passthru — 5 calls per host. " +
        "The operator makes one more: it looks the node up by name before enrolling it." +
        (ironic.runs
          ? ` As in figure 1, the figure was run ${ironic.runs.length} times (each with an Ironic of its own) and shows the run with the median ratio; *Runs* lists every run's.`
          : ""),
      "",
      table(
        ["Command", ">N (hosts)", ">Operator", ">Baseline (before / after)", ">Ratio", ...(ironic.runs ? [">Runs"] : []), "Goal", "Met"],
        [
          [
            only("ironic"),
            ironic.hosts,
            duration(ironic.operatorMs),
            `${duration(ironic.baselineMeanMs)} (${ironic.baselineMs.map(duration).join(" / ")})`,
            round(ironic.ratio, 2),
            ...(ironic.runs ? [ironic.runs.map((run) => round(run.ratio, 2)).join(", ")] : []),
            `≤ ${RATIO_GOAL}`,
            met(ironic.ratio <= RATIO_GOAL),
          ],
        ],
      ),
      "",
      table(
        [">BMC requests per host (operator / baseline)", ">Peak in flight per BMC", ">CPU Ironic", ">CPU operator", ">CPU API emulator", ">CPU BMC emulator"],
        [
          [
            `${round(ironic.bmcRequestsPerHost, 2)} / ${round(ironic.baselineBmcRequestsPerHost, 2)}`,
            ironic.maxPeakInFlightPerBmc,
            pct(ironic.usage.ironic?.cpuShare),
            pct(ironic.usage.operator?.cpuShare),
            pct(ironic.usage.apiEmulator?.cpuShare),
            pct(ironic.usage.bmcEmulator?.cpuShare),
          ],
        ],
      ),
      "",
      "Ironic is one Python process here; where its CPU is near 100% it, not the operator or the emulators, sets the pace of both runs.",
      "",
    );
  }

  // ---- 6. Latency under BMC slowness ----------------------------------------------
  out.push("### 6. Latency under BMC slowness", "");
  const lat = r.latency;
  if (lat) {
    const floor = 2 * lat.latencyMs;
    out.push(
      `Every BMC answers ${lat.latencyMs} ms late. ${lat.hosts} hosts are registered first; then ${lat.samples} indicators (\`on: true\`) are applied one every ` +
        `${lat.paceMs} ms, each timed from the moment its create is sent until its light is lit at the BMC emulator (its light state polled every 10 ms), ` +
        `and until the resource is Ready as a watch sees it. A toggle is one read and one write, so the floor is ${floor} ms. ` +
        "The issue sets no numeric goal: the figures are given against the injected latency.",
      "",
      table(
        ["Command", ">Samples", ">Injected latency", ">Floor (read + write)", ">Lit p50", ">Lit p99", ">Lit max", ">Ready p50", ">Ready p99", ">p50 / floor", ">BMC requests per sample"],
        [
          [
            only("latency"),
            lat.samples,
            `${lat.latencyMs} ms`,
            `${floor} ms`,
            duration(lat.litP50),
            duration(lat.litP99),
            duration(lat.litMax),
            duration(lat.readyP50),
            duration(lat.readyP99),
            round(lat.litP50 / floor, 2),
            round(lat.bmcRequestsPerSample, 2),
          ],
        ],
      ),
      "",
    );
  } else {
    out.push("Not measured in this run.", "");
  }

  // ---- 7. Chart and emulator capacity ----------------------------------------------
  out.push(
    "### 7. Convergence time against N",
    "",
    "![Convergence time against the number of hosts, operator and baseline](convergence.svg)",
    "",
  );
  const windows = [
    ...r.convergence.map((c) => ({ what: `convergence N = ${c.hosts}, ${c.latencyMs} ms`, usage: c.usage })),
    ...r.footprint.map((f) => ({ what: `footprint, ${f.resources} resources`, usage: f.usage })),
  ];
  const busiest = (name: string) =>
    windows.reduce<{ what: string; share: number } | undefined>((best, w) => {
      const share = w.usage[name]?.cpuShare;
      return share !== undefined && (best === undefined || share > best.share) ? { what: w.what, share } : best;
    }, undefined);
  const api = busiest("apiEmulator");
  const bmc = busiest("bmcEmulator");
  const operator = busiest("operator");
  const verdict = (share: number) => (share >= 0.8 ? "busy enough to have limited that run" : "not the limit");
  out.push(
    "### The emulators' share",
    "",
    "Their own capacity is measured by `npm run bench:kube-apiserver` and `npm run bench:redfish-bmc` (the sections above). The CPU columns show how " +
      `busy each emulator was in each window here (100% is one core; the machine has ${r.machine.cores}).` +
      (bmc ? ` The BMC emulator was busiest in ${bmc.what}: ${pct(bmc.share)} of a core, ${verdict(bmc.share)}.` : "") +
      (api ? ` The API emulator was busiest in ${api.what}: ${pct(api.share)} of a core, ${verdict(api.share)}.` : "") +
      (operator
        ? ` The operator itself was busiest in ${operator.what}: ${pct(operator.share)} of a core, ` +
          `${operator.share >= 0.8 ? "so with fast BMCs its one JavaScript thread sets the pace" : "not the limit"}.`
        : "") +
      " Where the operator, the API emulator and the benchmark together need more than the machine's cores, the machine itself is the limit, and " +
      "the 0 ms figures measure the whole Kubernetes path on it.",
    "",
  );
  return out.join("\n");
}

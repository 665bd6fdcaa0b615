/**
 * `npm run bench:kube-apiserver`: capacity figures of the Kubernetes API
 * emulator, measured against a server in its own process (as the operator
 * benchmarks use it): create throughput, LIST of 10,000 objects (whole and
 * paginated), and watch fan-out of updates to 50 watchers. The objects are
 * BareMetalHostServiceIndicators, so every write runs the CRD's schema and
 * CEL validation. Rewrites only the kube-apiserver section of
 * `docs/benchmarks.md`.
 *
 * Options (environment): `OBJECTS` (10000), `WATCHERS` (50), `UPDATES`
 * (1000), `CONCURRENCY` (16), `NO_WRITE=1` to print without updating the page.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Agent, request } from "undici";
import { parseAllDocuments } from "yaml";

const root = join(import.meta.dirname, "..");
const OBJECTS = Number(process.env.OBJECTS ?? 10_000);
const WATCHERS = Number(process.env.WATCHERS ?? 50);
const UPDATES = Number(process.env.UPDATES ?? 1000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const NAMESPACE = "bench";
const PLURAL = "/apis/metal3.io/v1alpha1/namespaces/bench/baremetalhostserviceindicators";

const agent = new Agent({ connections: CONCURRENCY * 2, pipelining: 1, keepAliveTimeout: 30_000 });
/** Watches hold their connection for good, so they get their own unlimited pool. */
const watchAgent = new Agent({ keepAliveTimeout: 30_000 });
let base = "";

async function call(method: "GET" | "POST" | "PATCH", path: string, body?: unknown, contentType = "application/json"): Promise<{ status: number; text: string }> {
  const response = await request(base + path, {
    method,
    dispatcher: agent,
    headers: { "content-type": contentType, accept: "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.body.text();
  if (response.statusCode >= 300) throw new Error(`${method} ${path}: ${response.statusCode} ${text.slice(0, 300)}`);
  return { status: response.statusCode, text };
}

/** Runs `count` tasks with at most `concurrency` in flight; returns each task's latency in ms. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<number[]> {
  const latencies = new Array<number>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const start = performance.now();
        await task(i);
        latencies[i] = performance.now() - start;
      }
    }),
  );
  return latencies;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function median(values: number[]): number {
  return percentile(values, 50);
}

const indicator = (i: number) => ({
  apiVersion: "metal3.io/v1alpha1",
  kind: "BareMetalHostServiceIndicator",
  metadata: { name: `light-${String(i).padStart(5, "0")}`, labels: { rack: `r${i % 20}` } },
  spec: { hostRef: { name: `host-${i}` }, id: `${String(i).padStart(8, "0")}-0000-4000-8000-000000000000@chassis`, on: i % 2 === 0 },
});

/** CPU time (user + system) the emulator process has used, in milliseconds; `NaN` where /proc is missing. */
async function serverCpuMs(pid: number | undefined): Promise<number> {
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

async function startServer(): Promise<{ url: string; pid: number | undefined; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [join(root, "emulators", "kube-apiserver", "cli.ts"), "--port", "0", "--watch-cache-size", String(Math.max(10_000, UPDATES * 2))], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`The emulator exited with ${code} before listening`)));
  });
  return {
    url,
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** A raw watch that counts events and remembers when the last expected one arrived. */
async function openWatcher(resourceVersion: string, expected: number): Promise<{ done: Promise<number>; close(): void }> {
  const controller = new AbortController();
  const response = await request(`${base}${PLURAL}?watch=true&resourceVersion=${resourceVersion}`, { dispatcher: watchAgent, signal: controller.signal });
  let count = 0;
  let buffered = "";
  const done = new Promise<number>((resolve, reject) => {
    response.body.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.startsWith('{"type":"MODIFIED"')) count++;
        if (count === expected) resolve(performance.now());
      }
    });
    response.body.on("error", (error: Error) => {
      if (!controller.signal.aborted) reject(error);
    });
  });
  return { done, close: () => controller.abort() };
}

async function main(): Promise<void> {
  const server = await startServer();
  base = server.url;
  const results: string[] = [];
  try {
    for (const file of ["metal3.io_baremetalhosts", "metal3.io_bmceventsubscriptions", "metal3.io_baremetalhostserviceindicators"]) {
      const [document] = parseAllDocuments(await readFile(join(root, "config", "crd", `${file}.yaml`), "utf8"));
      await call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", document!.toJS());
    }
    await call("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } });

    // Create throughput.
    let cpu = await serverCpuMs(server.pid);
    const cpuPer = async (operations: number) => {
      const now = await serverCpuMs(server.pid);
      const perOperation = (now - cpu) / operations;
      cpu = now;
      if (Number.isNaN(perOperation)) return "n/a";
      return perOperation >= 1 ? `${perOperation.toFixed(1)} ms` : `${(perOperation * 1000).toFixed(0)} µs`;
    };
    const createStart = performance.now();
    const createLatencies = await pool(OBJECTS, CONCURRENCY, (i) => call("POST", PLURAL, indicator(i)));
    const createSeconds = (performance.now() - createStart) / 1000;
    results.push(
      `| Create ${OBJECTS.toLocaleString("en")} BareMetalHostServiceIndicators, ${CONCURRENCY} in flight | ${Math.round(OBJECTS / createSeconds).toLocaleString("en")} creates/s | p50 ${median(createLatencies).toFixed(1)} ms, p99 ${percentile(createLatencies, 99).toFixed(1)} ms | ${await cpuPer(OBJECTS)} per create |`,
    );

    // LIST of every object, whole and in pages of 500.
    const listTimes: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      const { text } = await call("GET", PLURAL);
      listTimes.push(performance.now() - start);
      bytes = Buffer.byteLength(text);
      if (i === 0 && (JSON.parse(text) as { items: unknown[] }).items.length !== OBJECTS) throw new Error("The list is missing objects");
    }
    results.push(`| LIST of ${OBJECTS.toLocaleString("en")} objects (${(bytes / 1024 / 1024).toFixed(1)} MiB) | ${median(listTimes).toFixed(0)} ms (median of 5) | | ${await cpuPer(5)} per list |`);
    const pagedStart = performance.now();
    let token = "";
    let pages = 0;
    do {
      const { text } = await call("GET", `${PLURAL}?limit=500${token ? `&continue=${encodeURIComponent(token)}` : ""}`);
      token = (JSON.parse(text) as { metadata: { continue?: string } }).metadata.continue ?? "";
      pages++;
    } while (token);
    results.push(`| LIST of ${OBJECTS.toLocaleString("en")} objects in pages of 500 | ${(performance.now() - pagedStart).toFixed(0)} ms for ${pages} pages | | ${await cpuPer(pages)} per page |`);
    const selectorTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      await call("GET", `${PLURAL}?labelSelector=rack%3Dr7`);
      selectorTimes.push(performance.now() - start);
    }
    results.push(`| LIST with a label selector (1 in 20 of ${OBJECTS.toLocaleString("en")}) | ${median(selectorTimes).toFixed(1)} ms (median of 5) | | ${await cpuPer(5)} per list |`);

    // Watch fan-out: every update reaches every watcher.
    const { text } = await call("GET", `${PLURAL}?limit=1`);
    const resourceVersion = (JSON.parse(text) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const watchers = await Promise.all(Array.from({ length: WATCHERS }, () => openWatcher(resourceVersion, UPDATES)));
    await cpuPer(1);
    const updateStart = performance.now();
    const updateLatencies = await pool(UPDATES, CONCURRENCY, (i) =>
      call("PATCH", `${PLURAL}/${indicator(i % OBJECTS).metadata.name}`, { spec: { on: i % 2 !== 0 } }, "application/merge-patch+json"),
    );
    const updatesDone = performance.now();
    const arrivals = await Promise.all(watchers.map((watcher) => watcher.done));
    for (const watcher of watchers) watcher.close();
    const fanOutMs = Math.max(...arrivals) - updateStart;
    results.push(
      `| ${UPDATES.toLocaleString("en")} merge patches, ${CONCURRENCY} in flight, ${WATCHERS} watchers open | ${Math.round(UPDATES / ((updatesDone - updateStart) / 1000)).toLocaleString("en")} patches/s | p50 ${median(updateLatencies).toFixed(1)} ms, p99 ${percentile(updateLatencies, 99).toFixed(1)} ms | ${await cpuPer(UPDATES)} per patch, its ${WATCHERS} watch events included |`,
      `| Watch fan-out: every patch to each of ${WATCHERS} watchers (${(UPDATES * WATCHERS).toLocaleString("en")} events) | ${Math.round((UPDATES * WATCHERS) / (fanOutMs / 1000)).toLocaleString("en")} events/s delivered | all delivered ${Math.max(0, Math.max(...arrivals) - updatesDone).toFixed(0)} ms after the last patch returned | |`,
    );
  } finally {
    await server.stop();
    await agent.close();
    await watchAgent.destroy();
  }

  const section = [
    "<!-- begin:kube-apiserver -->",
    "## Kubernetes API emulator capacity",
    "",
    `Measured by \`npm run bench:kube-apiserver\` on ${new Date().toISOString().slice(0, 10)}: the emulator in its own process (in memory), the load from another over HTTP/1.1 keep-alive on loopback; ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? "unknown"}), Node.js ${process.version}. Objects are BareMetalHostServiceIndicators, so each write runs pruning, defaulting, OpenAPI and CEL validation and field management. The load generator (and the watchers' JSON parsing) shares the two CPUs, so throughput is a lower bound; the last column is the emulator's own CPU time per operation, read from /proc (10 ms ticks, so coarse for the few LISTs).`,
    "",
    "| Operation | Throughput or time | Latency | Emulator CPU |",
    "|---|---|---|---|",
    ...results,
    "<!-- end:kube-apiserver -->",
  ].join("\n");
  console.log(section);
  if (process.env.NO_WRITE) return;
  const page = join(root, "docs", "benchmarks.md");
  const current = await readFile(page, "utf8");
  const pattern = /<!-- begin:kube-apiserver -->[\s\S]*?<!-- end:kube-apiserver -->/;
  if (!pattern.test(current)) throw new Error(`${page} has no kube-apiserver section markers`);
  await writeFile(page, current.replace(pattern, () => section));
  console.log(`updated ${page}`);
}

await main();

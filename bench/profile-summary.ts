/**
 * `node bench/profile-summary.ts <dir>`: what the operator's profiles from a
 * benchmark run say, in a few lines each — for the CPU profiles
 * (`--cpu-prof`) the self time by package or source folder and the hottest
 * functions, for the sampling heap profiles (`--heap-prof`, the memory still
 * allocated when the process exited) the bytes by package or source folder
 * and the largest allocation sites, and for heap snapshots
 * (`$BENCH_FOOTPRINT_HEAPSNAPSHOT_DIR`, taken once the operator has settled)
 * the live bytes by constructor, as the Summary view of Chrome's DevTools.
 * Made with
 *
 * ```sh
 * BENCH_OPERATOR_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p --heap-prof --heap-prof-dir=/tmp/p" \
 *   npm run bench -- --only footprint --footprint-hosts 1000 --out /tmp/p/out
 * node bench/profile-summary.ts /tmp/p
 * ```
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  samples: number[];
  timeDeltas: number[];
}

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

/** Where a frame's code lives: a package, a folder of the project, Node.js itself, or V8's own work. */
export function placeOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith("node:")) return "node: built-ins";
  const project = /\/((?:src|bench|emulators|embedded)\/[^/]+)\//.exec(url);
  return project ? project[1]! : url.replace(/^.*\//, "");
}

function frameName(frame: CallFrame): string {
  return `${frame.functionName || "(anonymous)"} ${frame.url.replace(/^.*\/(node_modules\/|src\/)/, "$1")}:${frame.lineNumber + 1}`;
}

function top(map: Map<string, number>, n: number, total: number, unit: (v: number) => string): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, value]) => `  ${((value / total) * 100).toFixed(1).padStart(5)}%  ${unit(value).padStart(10)}  ${name}`);
}

/** The summary of one CPU profile. */
export function summarizeCpu(profile: CpuProfile, n = 12): string[] {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = frames.get(id)!;
    const us = profile.timeDeltas[i] ?? 0;
    if (frame.functionName === "(idle)") return;
    total += us;
    const place = placeOf(frame);
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
    const name = frameName(frame);
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  });
  const ms = (us: number) => `${(us / 1000).toFixed(0)} ms`;
  return [`busy ${ms(total)}; self time by place:`, ...top(byPlace, n, total, ms), "hottest functions (self time):", ...top(byFunction, n, total, ms)];
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** The summary of a heap snapshot: live bytes (shallow sizes) by node type and constructor name. */
export function summarizeSnapshot(snapshot: HeapSnapshot, n = 20): string[] {
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const byName = new Map<string, number>();
  const counts = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt]!]!;
    const size = snapshot.nodes[i + sizeAt]!;
    total += size;
    const name = type === "object" || type === "native" || type === "closure" ? `${type} ${snapshot.strings[snapshot.nodes[i + nameAt]!]}` : `(${type})`;
    byName.set(name, (byName.get(name) ?? 0) + size);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  return [
    `live ${mib(total)} (shallow sizes); by constructor:`,
    ...top(byName, n, total, mib).map((line) => {
      const name = line.replace(/^.*MiB {2}/, "");
      return `${line}  ×${counts.get(name) ?? 0}`;
    }),
  ];
}

/** The summary of one sampling heap profile. */
export function summarizeHeap(root: HeapNode, n = 12): string[] {
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  const visit = (node: HeapNode) => {
    if (node.selfSize > 0) {
      total += node.selfSize;
      const place = placeOf(node.callFrame);
      byPlace.set(place, (byPlace.get(place) ?? 0) + node.selfSize);
      const name = frameName(node.callFrame);
      byFunction.set(name, (byFunction.get(name) ?? 0) + node.selfSize);
    }
    node.children.forEach(visit);
  };
  visit(root);
  const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  return [`allocated and alive ${mib(total)}; by place:`, ...top(byPlace, n, total, mib), "largest allocation sites:", ...top(byFunction, n, total, mib)];
}

if (import.meta.main) {
  const dir = process.argv[2];
  if (!dir) {
    console.error("Usage: node bench/profile-summary.ts <directory with .cpuprofile and .heapprofile files>");
    process.exit(2);
  }
  for (const file of readdirSync(dir).sort()) {
    const path = join(dir, file);
    if (file.endsWith(".cpuprofile")) console.log(`# ${file}\n${summarizeCpu(JSON.parse(readFileSync(path, "utf8")) as CpuProfile).join("\n")}\n`);
    if (file.endsWith(".heapsnapshot")) console.log(`# ${file}\n${summarizeSnapshot(JSON.parse(readFileSync(path, "utf8")) as HeapSnapshot).join("\n")}\n`);
    if (file.endsWith(".heapprofile")) {
      console.log(`# ${file}\n${summarizeHeap((JSON.parse(readFileSync(path, "utf8")) as { head: HeapNode }).head).join("\n")}\n`);
    }
  }
}

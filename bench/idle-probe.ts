/**
 * `node bench/idle-probe.ts [runs]`: the operator's resident memory with its
 * caches synced and no resources (the footprint figure's *empty* column),
 * alone and quickly: a fresh API emulator, the operator started as the
 * Deployment starts it, its `VmRSS` read once `/readyz` answers and again
 * once idle (after its first idle collection), its V8 heap, and its resident memory by mapping (`/proc/<pid>/smaps_rollup`
 * and the largest mappings of `/proc/<pid>/smaps`).
 *
 * @module
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCluster } from "./lib/cluster.ts";
import { startOperatorProcess } from "./lib/operator-process.ts";
import { residentByMapping } from "./lib/process-usage.ts";
import { samplesOf, sumOf } from "./lib/prometheus-text.ts";

const runs = Number(process.argv[2] ?? 3);
const dir = await mkdtemp(join(tmpdir(), "bmc-operator-idle-"));
const cluster = await startCluster(dir, "idle");
try {
  for (let run = 0; run < runs; run++) {
    const operator = await startOperatorProcess({ kubeconfigPath: cluster.api.kubeconfigPath, logPath: join(dir, `operator-${run}.log`) });
    const atReady = operator.usage();
    // Idle: after the start-up idle collection (src/runtime/idle-collector.ts), at most 30 s.
    for (let i = 0; i < 300 && operator.idleCollections() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    const later = operator.usage();
    const byMapping = residentByMapping(operator.pid);
    const metrics = await operator.metrics();
    const heap = (space: string) => samplesOf(metrics, "nodejs_heap_space_size_used_bytes").find((s) => s.labels.space === space)?.value;
    const committed = (space: string) => samplesOf(metrics, "nodejs_heap_space_size_total_bytes").find((s) => s.labels.space === space)?.value;
    const mib = (bytes: number | undefined) => `${((bytes ?? 0) / 1048576).toFixed(1)} MiB`;
    console.log(`run ${run + 1}: RSS at ready ${mib(atReady?.rssBytes)}, idle ${mib(later?.rssBytes)}, peak ${mib(later?.peakRssBytes)}, CPU ${later?.cpuSeconds.toFixed(2)} s`);
    console.log(
      `  V8 heap ${mib(sumOf(metrics, "nodejs_heap_size_total_bytes"))} (used ${mib(sumOf(metrics, "nodejs_heap_size_used_bytes"))}; new space ${mib(committed("new"))} committed, ${mib(heap("new"))} used; old space ${mib(committed("old"))}, code ${mib(committed("code"))}), external ${mib(sumOf(metrics, "nodejs_external_memory_bytes"))}`,
    );
    for (const { mapping, bytes } of byMapping.slice(0, 6)) console.log(`  ${mib(bytes).padStart(10)}  ${mapping}`);
    await operator.stop();
  }
} finally {
  await cluster.close();
  await rm(dir, { recursive: true, force: true });
}

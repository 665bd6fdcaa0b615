/**
 * `node bench/idle-probe.ts [runs]`: the operator's resident memory with its
 * caches synced and no resources (the footprint figure's *empty* column),
 * alone and quickly: a fresh API emulator, the operator started as the
 * Deployment starts it, its `VmRSS` read once `/readyz` answers and again
 * 3 s later, and its resident memory by mapping (`/proc/<pid>/smaps_rollup`
 * and the largest mappings of `/proc/<pid>/smaps`).
 *
 * @module
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCluster } from "./lib/cluster.ts";
import { startOperatorProcess } from "./lib/operator-process.ts";

const runs = Number(process.argv[2] ?? 3);
const dir = await mkdtemp(join(tmpdir(), "bmc-operator-idle-"));
const cluster = await startCluster(dir, "idle");
try {
  for (let run = 0; run < runs; run++) {
    const operator = await startOperatorProcess({ kubeconfigPath: cluster.api.kubeconfigPath, logPath: join(dir, `operator-${run}.log`) });
    const atReady = operator.usage();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const later = operator.usage();
    const byMapping = new Map<string, number>();
    let mapping = "";
    for (const line of (await readFile(`/proc/${operator.pid}/smaps`, "utf8")).split("\n")) {
      const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (head) mapping = head[1] || "[anonymous]";
      const rss = /^Rss:\s+(\d+) kB/.exec(line);
      if (rss) byMapping.set(mapping, (byMapping.get(mapping) ?? 0) + Number(rss[1]));
    }
    const mib = (bytes: number | undefined) => `${((bytes ?? 0) / 1048576).toFixed(1)} MiB`;
    console.log(`run ${run + 1}: RSS at ready ${mib(atReady?.rssBytes)}, 3 s later ${mib(later?.rssBytes)}, peak ${mib(later?.peakRssBytes)}, CPU ${later?.cpuSeconds.toFixed(2)} s`);
    for (const [name, kib] of [...byMapping].sort((a, b) => b[1] - a[1]).slice(0, 6)) console.log(`  ${(kib / 1024).toFixed(1).padStart(6)} MiB  ${name}`);
    await operator.stop();
  }
} finally {
  await cluster.close();
  await rm(dir, { recursive: true, force: true });
}

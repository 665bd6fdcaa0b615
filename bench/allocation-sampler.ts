/**
 * `--import` this into the operator's process to see where its garbage comes
 * from: V8's sampling heap profiler, keeping the samples of objects already
 * collected (which `--heap-prof` drops), from start-up until
 * `$BENCH_ALLOCATION_SECONDS` (default 45) have passed; the profile goes to
 * `$BENCH_ALLOCATION_DIR/allocations-<pid>.heapprofile`, which
 * `node bench/profile-summary.ts <dir>` summarises. With
 *
 * ```sh
 * BENCH_ALLOCATION_DIR=/tmp/a BENCH_OPERATOR_NODE_ARGS="--import=./bench/allocation-sampler.ts" \
 *   npm run bench -- --only footprint --footprint-hosts 1000 --out /tmp/a/out
 * ```
 *
 * @module
 */
import { Session } from "node:inspector";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.BENCH_ALLOCATION_DIR ?? ".";
const seconds = Number(process.env.BENCH_ALLOCATION_SECONDS ?? "45");
const session = new Session();
session.connect();
session.post("HeapProfiler.startSampling", {
  samplingInterval: 32_768,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
setTimeout(() => {
  session.post("HeapProfiler.stopSampling", (error, result) => {
    if (error) throw error;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `allocations-${process.pid}.heapprofile`), JSON.stringify(result.profile));
    session.disconnect();
  });
}, seconds * 1000).unref();

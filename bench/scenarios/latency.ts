/**
 * Figure 6, latency under BMC slowness: every BMC answers 200 ms late. The
 * hosts are registered first; then indicators (`on: true`) are applied one
 * at a time at a steady pace, and each is timed from the moment the
 * benchmark sends its create until its light is lit at the BMC emulator
 * (its light state polled every 10 ms through the control API), and until
 * the resource reports Ready. A toggle needs one read and one write, so the
 * floor is twice the injected latency.
 *
 * @module
 */
import { join } from "node:path";
import { SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { type BenchContext, sleep } from "../lib/bench-context.ts";
import { startCluster } from "../lib/cluster.ts";
import { createAll, emulatorLightName, fleetObjects, hostName, lightIds, secretObjects, serviceIndicator } from "../lib/fleet-objects.ts";
import { type OperatorStop, startOperatorProcess } from "../lib/operator-process.ts";
import { percentile } from "../lib/statistics.ts";
import { NAMESPACE } from "./convergence.ts";

/** The figures of the latency run. */
export interface LatencyResult {
  hosts: number;
  latencyMs: number;
  /** Indicators applied, and the pace between two, ms. */
  samples: number;
  paceMs: number;
  /** Create sent → light lit at the BMC, ms, per sample. */
  litMs: number[];
  /** Create sent → Ready seen through a watch, ms, per sample. */
  readyMs: number[];
  litP50: number;
  litP99: number;
  litMax: number;
  readyP50: number;
  readyP99: number;
  /** BMC requests per sample (a GET and a PATCH is 2). */
  bmcRequestsPerSample: number;
  stop: OperatorStop;
}

/** Applies `samples` indicators, one every `paceMs`, to `hosts` registered hosts whose BMCs answer `latencyMs` late. */
export async function runLatency(ctx: BenchContext, hosts: number, samples: number, latencyMs: number, paceMs: number): Promise<LatencyResult> {
  const { fleet, sink } = ctx;
  const lightsPerHost = Math.min(...fleet.bmcs.slice(0, hosts).map((b) => lightIds(b).length));
  if (samples > hosts * lightsPerHost) throw new RangeError(`${samples} samples need more than ${hosts} hosts × ${lightsPerHost} lights`);
  await fleet.setLatency(latencyMs);
  await fleet.resetAll();
  const cluster = await startCluster(ctx.dir, NAMESPACE);
  try {
    await createAll(cluster.client, secretObjects(NAMESPACE, fleet.bmcs, hosts));
    const operator = await startOperatorProcess({
      kubeconfigPath: cluster.api.kubeconfigPath,
      logPath: join(ctx.dir, `operator-latency-${latencyMs}.log`),
    });
    let result: Omit<LatencyResult, "stop"> | undefined;
    let stop: OperatorStop = { ms: 0, graceful: true };
    try {
      await createAll(cluster.client, fleetObjects(NAMESPACE, fleet.bmcs, hosts, { indicators: 0, subscriptions: 0 }, sink.url));
      await cluster.tracker.waitFor({ host: hosts }, 120_000 + hosts * 20 * latencyMs);
      ctx.log(`latency ${latencyMs} ms: ${hosts} hosts registered; applying ${samples} indicators, one every ${paceMs} ms`);
      await fleet.resetStats();

      const litMs: number[] = new Array<number>(samples);
      const readyMs: number[] = new Array<number>(samples);
      const one = async (k: number): Promise<void> => {
        const index = k % hosts;
        const light = Math.floor(k / hosts);
        const id = lightIds(fleet.bmcs[index]!)[light]!;
        const target = emulatorLightName(id);
        const name = `${hostName(index)}-light-${light}`;
        const sent = performance.now();
        await cluster.client.create(SERVICE_INDICATORS, serviceIndicator(NAMESPACE, index, id, name));
        const deadline = sent + 60_000 + 10 * latencyMs;
        for (;;) {
          const lights = await fleet.lights(index);
          const state = target === "system" ? lights.system : target === "chassis" ? lights.chassis : lights.drives[target];
          if (state === "Lit") break;
          if (performance.now() > deadline) throw new Error(`light ${target} of BMC ${index} was not lit within ${Math.round(deadline - sent)} ms`);
          await sleep(10);
        }
        litMs[k] = performance.now() - sent;
        while (cluster.tracker.readyAt("indicator", name) === undefined) {
          if (performance.now() > deadline) throw new Error(`indicator ${name} was not Ready within ${Math.round(deadline - sent)} ms`);
          await sleep(10);
        }
        readyMs[k] = cluster.tracker.readyAt("indicator", name)! - sent;
      };
      const running: Promise<void>[] = [];
      for (let k = 0; k < samples; k++) {
        running.push(one(k));
        await sleep(paceMs);
      }
      await Promise.all(running);
      const bmcStats = await fleet.stats();
      result = {
        hosts,
        latencyMs,
        samples,
        paceMs,
        litMs,
        readyMs,
        litP50: percentile(litMs, 50),
        litP99: percentile(litMs, 99),
        litMax: Math.max(...litMs),
        readyP50: percentile(readyMs, 50),
        readyP99: percentile(readyMs, 99),
        bmcRequestsPerSample: bmcStats.total / samples,
      };
      ctx.log(`latency ${latencyMs} ms: lit p50 ${Math.round(result.litP50)} ms, p99 ${Math.round(result.litP99)} ms`);
    } finally {
      stop = await operator.stop();
    }
    if (!result) throw new Error("latency: no result");
    return { ...result, stop };
  } finally {
    await fleet.setLatency(0);
    await cluster.close();
  }
}

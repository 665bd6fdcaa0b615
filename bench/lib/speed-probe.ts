/**
 * How fast the machine runs JavaScript right now: a fixed piece of work
 * (JSON written and parsed, objects made and dropped, as the operator does
 * per request) timed in this process. The machines the benchmarks run on are
 * shared, and their speed drifts: the same operator took 8 s and, 20 minutes
 * later, 15 s of CPU to converge the same fleet. A figure of CPU time is
 * comparable to another only beside this one.
 *
 * @module
 */

const SAMPLE = {
  apiVersion: "metal3.io/v1alpha1",
  kind: "BareMetalHostServiceIndicator",
  metadata: { namespace: "fleet", name: "worker-0-system", uid: "5b0c8a52-7a3e-4a8f-9d0e-2f8f5c1d9e11", resourceVersion: "123456", generation: 1, finalizers: ["baremetalhostserviceindicator.metal3.io"] },
  spec: { hostRef: { name: "worker-0" }, id: "1@system", on: true },
  status: { on: true, observedGeneration: 1, conditions: [{ type: "Ready", status: "True", reason: "LightOn", message: "the light is on", lastTransitionTime: "2026-12-03T06:00:00Z" }] },
};

/** Milliseconds this process takes for the fixed work now (the median of five). */
export function speedProbeMs(): number {
  const runs: number[] = [];
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    let sink = 0;
    for (let i = 0; i < 50_000; i++) {
      const text = JSON.stringify({ ...SAMPLE, metadata: { ...SAMPLE.metadata, resourceVersion: String(i) } });
      const parsed = JSON.parse(text) as typeof SAMPLE;
      sink += parsed.metadata.resourceVersion.length + text.length;
    }
    runs.push(performance.now() - started);
    if (sink < 0) throw new Error("unreachable");
  }
  return runs.sort((a, b) => a - b)[2]!;
}

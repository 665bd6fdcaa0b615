import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as promClient from "prom-client";
import { collectDefaultMetrics, Counter, Registry } from "./prometheus.ts";

describe("prometheus", () => {
  it("registers the same default metrics as prom-client's collectDefaultMetrics, with their types", async () => {
    const ours = new Registry();
    collectDefaultMetrics(ours);
    const theirs = new promClient.Registry();
    promClient.collectDefaultMetrics({ register: theirs });
    const shape = async (registry: promClient.Registry) => (await registry.getMetricsAsJSON()).map((m) => `${m.name} ${String(m.type)}`).sort();
    assert.deepEqual(await shape(ours), await shape(theirs));
  });

  it("counts the process's CPU time, user and system summing to the total", async () => {
    const registry = new Registry();
    collectDefaultMetrics(registry);
    const started = performance.now();
    while (performance.now() - started < 20) Math.sqrt(Math.random());
    const values = Object.fromEntries(
      (await registry.getMetricsAsJSON())
        .filter((m) => m.name.startsWith("process_cpu_"))
        .map((m) => [m.name, m.values[0]?.value ?? Number.NaN]),
    );
    assert.ok(values.process_cpu_user_seconds_total! > 0, JSON.stringify(values));
    assert.ok(Math.abs(values.process_cpu_user_seconds_total! + values.process_cpu_system_seconds_total! - values.process_cpu_seconds_total!) < 1e-9);
  });

  it("hands out prom-client's own classes", () => {
    const registry = new Registry();
    const counter = new Counter({ name: "x_total", help: "x", registers: [registry] });
    assert.equal(registry.getSingleMetric("x_total"), counter);
    assert.equal(Counter, promClient.Counter, "the very class the package's index exports");
  });
});

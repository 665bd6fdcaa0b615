/**
 * Crash windows of the BareMetalHostServiceIndicator controller, hit every
 * time: the operator runs as its own process behind a fault proxy that holds
 * the status write recording a switch the BMC has just made; the process is
 * killed (SIGKILL) while it is held, so the light is switched and the record
 * says it is not. The indicator is then deleted or switched back while no
 * operator runs (or left as it is), another process starts, and the BMC's
 * own light (read through the emulator's control API) must end as the spec
 * says.
 *
 * @module
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import type { HostIndicator } from "../../src/api/baremetalhost.ts";
import { BARE_METAL_HOSTS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { isNotFound } from "../../src/runtime/index.ts";
import { waitUntilHandled } from "../../bench/lib/operator-settled.ts";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.ts";
import { OperatorProcesses } from "../support/operator-process.ts";
import { indicatorObject, isReady, type OperatorStack, startOperatorStack, waitFor } from "../support/operator-stack.ts";

const NS = "crash-indicators";
const HOST = "worker-0";

let stack: OperatorStack;
let proxy: FaultProxy;
let lights: HostIndicator[];
let processes: OperatorProcesses;

before(async () => {
  stack = await startOperatorStack({ bmcs: 1, fleet: { drivesPerSystem: 4 } });
  proxy = await startFaultProxy(stack.api.url);
  processes = new OperatorProcesses(stack, { apiUrl: proxy.url });
  await stack.namespace(NS);
  await stack.createHost(NS, HOST, 0);
  const operator = await start();
  const host = await waitFor(
    "the host to list its lights",
    () => stack.client.get(BARE_METAL_HOSTS, { namespace: NS, name: HOST }),
    (h) => isReady(h) && (h.status?.hardware?.indicators?.length ?? 0) >= 6,
  );
  lights = host.status!.hardware!.indicators!.filter((i) => !i.readonly);
  await operator.dispose();
});
// One operator at a time: each test ends with none running.
afterEach(() => processes?.disposeAll());
after(async () => {
  await processes?.disposeAll();
  await proxy?.close();
  await stack?.close();
});

/** Starts an operator process behind the proxy. */
const start = () => processes.start();

/** The light's state on the BMC, through the emulator's control API. */
async function lightOnBmc(light: HostIndicator): Promise<string> {
  const response = await fetch(`${stack.fleet.controlUrl}/bmcs/0/lights`);
  assert.equal(response.status, 200);
  const states = (await response.json()) as { system: string; chassis: string; drives: Record<string, string> };
  const [name, component] = light.id.split("@") as [string, string];
  if (component === "system") return states.system;
  if (component === "chassis") return states.chassis;
  const state = states.drives[name];
  assert.ok(state, `no drive ${name} on the BMC: ${JSON.stringify(states.drives)}`);
  return state;
}

const get = (name: string) => stack.client.get(SERVICE_INDICATORS, { namespace: NS, name });

function readyWith(name: string, on: boolean) {
  return waitFor(
    `indicator ${name} to be Ready with on=${on} for its generation`,
    () => get(name),
    (i) => i.status?.on === on && i.status.observedGeneration === i.metadata.generation && isReady(i),
  );
}

/**
 * Creates indicator `name` for `light` with `spec.on = from`, lets a process
 * converge it, then switches it to `!from` and kills that process once it has
 * switched the light and is writing that down. Returns with no operator running.
 */
async function crashAfterSwitch(name: string, light: HostIndicator, from: boolean): Promise<void> {
  const operator = await start();
  await stack.create(SERVICE_INDICATORS, indicatorObject(NS, name, HOST, light.id, from));
  await readyWith(name, from);
  assert.equal(await lightOnBmc(light), from ? "Lit" : "Off");

  const hold = proxy.hold({
    method: "PATCH",
    path: `/apis/metal3.io/v1alpha1/namespaces/${NS}/baremetalhostserviceindicators/${name}/status`,
    body: (patch) => patch?.status?.on === !from,
  });
  await stack.client.patch(SERVICE_INDICATORS, { namespace: NS, name }, { spec: { on: !from } }, { type: "merge" });
  await hold.held;
  assert.equal(await lightOnBmc(light), from ? "Off" : "Lit", "the BMC was switched before the status write");
  await operator.kill();
  await hold.dropped;
  const recorded = await get(name);
  assert.equal(recorded.status?.on, from, "the switch was not recorded");
}

function waitForGone(name: string) {
  return waitFor(
    `indicator ${name} to be gone`,
    () => get(name).then(() => false, (e: unknown) => isNotFound(e)),
    (gone) => gone,
  );
}

for (const from of [false, true]) {
  const to = !from;
  const switching = to ? "on" : "off";
  describe(`a crash after switching a light ${switching}, before its status is written`, () => {
    it("then deleting the indicator leaves the light off", async () => {
      const light = lights[from ? 0 : 1]!;
      const name = `delete-${switching}`;
      await crashAfterSwitch(name, light, from);
      // Deleted while no operator runs, so the next one's first look at it is the deletion.
      await stack.client.delete(SERVICE_INDICATORS, { namespace: NS, name });
      await start();
      await waitForGone(name);
      assert.equal(await lightOnBmc(light), "Off");
    });

    it(`then switching it back turns the light ${from ? "on" : "off"} again`, async () => {
      const light = lights[from ? 2 : 3]!;
      const name = `back-${switching}`;
      await crashAfterSwitch(name, light, from);
      // Switched back while no operator runs: the spec now says what the record says.
      await stack.client.patch(SERVICE_INDICATORS, { namespace: NS, name }, { spec: { on: from } }, { type: "merge" });
      await start();
      await readyWith(name, from);
      assert.equal(await lightOnBmc(light), from ? "Lit" : "Off");
    });

    it("then a restart records the light as the spec says, and the next restart costs the BMC nothing", async () => {
      const light = lights[from ? 4 : 5]!;
      const name = `restart-${switching}`;
      await crashAfterSwitch(name, light, from);
      const operator = await start();
      const recorded = await readyWith(name, to);
      assert.equal(await lightOnBmc(light), to ? "Lit" : "Off");
      // Converged and proven by its record now: a restart reads nothing.
      await operator.stop();
      stack.fleet.resetStats();
      const next = await start();
      const indicators = (await stack.client.list(SERVICE_INDICATORS, { namespace: NS })).items.length;
      await waitUntilHandled(next, indicators + 1, 15_000); // and the host
      assert.equal((await get(name)).metadata.resourceVersion, recorded.metadata.resourceVersion);
      await next.stop();
      assert.equal(stack.fleet.stats().total, 0, JSON.stringify(stack.fleet.stats().byMethod));
      assert.equal(await lightOnBmc(light), to ? "Lit" : "Off");
    });
  });
}

describe("an indicator whose record proves its light", () => {
  it("off is deleted without a BMC request", async () => {
    const light = lights[0]!;
    await start();
    await stack.create(SERVICE_INDICATORS, indicatorObject(NS, "proven-off", HOST, light.id, false));
    await readyWith("proven-off", false);
    stack.fleet.resetStats();
    await stack.client.delete(SERVICE_INDICATORS, { namespace: NS, name: "proven-off" });
    await waitForGone("proven-off");
    assert.equal(stack.fleet.stats().total, 0, JSON.stringify(stack.fleet.stats().byMethod));
  });
});

/**
 * The crash window of a light written somewhere else than where it shows: a
 * Lenovo XCC chassis shows the system's light but refuses writes there, so
 * the Redfish provisioner learns to PATCH the linked System instead. The
 * operator runs as its own process behind the fault proxy, which holds the
 * status write recording the switch; the process is killed (SIGKILL) while it
 * is held, after the System took the PATCH. After a restart the BMC's own
 * light (the System's, and the chassis's as the BMC shows it) must be as the
 * spec says, the indicator Ready with that `status.on`, and the BMC must not
 * have been written more than needed: nothing when the light already is as
 * asked, and when it is not, one refused PATCH at the chassis (a new process
 * knows nothing of where the light takes writes) and one at the System.
 *
 * @module
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { BARE_METAL_HOSTS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { isNotFound } from "../../src/runtime/index.ts";
import { waitUntilHandled } from "../../bench/lib/operator-settled.ts";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.ts";
import { OperatorProcesses } from "../support/operator-process.ts";
import { indicatorObject, isReady, type OperatorStack, startOperatorStack, waitFor } from "../support/operator-stack.ts";
import { within } from "../support/within.ts";

const NS = "crash-lenovo";
/** One Lenovo XCC BMC per test, so that each has its own chassis light. */
const BMCS = 4;

let stack: OperatorStack;
let proxy: FaultProxy;
let processes: OperatorProcesses;

before(async () => {
  stack = await startOperatorStack({ bmcs: BMCS, policies: false, fleet: { profile: "lenovo-xcc" } });
  proxy = await startFaultProxy(stack.api.url);
  processes = new OperatorProcesses(stack, { apiUrl: proxy.url });
  await stack.namespace(NS);
  for (let index = 0; index < BMCS; index++) await stack.createHost(NS, hostName(index), index);
});
// One operator at a time: each test ends with none running.
afterEach(() => processes?.disposeAll());
after(async () => {
  await processes?.disposeAll();
  await proxy?.close();
  await stack?.close();
});

const hostName = (index: number) => `xcc-${index}`;

/** Starts an operator process behind the proxy. */
const start = () => processes.start();

/** The ID of the chassis light the host of BMC `index` lists, once it is registered. */
async function chassisLight(index: number): Promise<string> {
  const host = await waitFor(
    `host ${hostName(index)} to list its chassis light`,
    () => stack.client.get(BARE_METAL_HOSTS, { namespace: NS, name: hostName(index) }),
    (h) => isReady(h) && (h.status?.hardware?.indicators ?? []).some((i) => i.id.endsWith("@chassis")),
  );
  const light = host.status!.hardware!.indicators!.find((i) => i.id.endsWith("@chassis"))!;
  assert.equal(light.readonly ?? false, false, `the chassis light ${light.id} is listed as switchable`);
  return light.id;
}

/** The light as BMC `index` holds it: the System's, and the chassis's as the BMC shows it (its control API). */
async function lightsOnBmc(index: number): Promise<{ system: string; chassis: string }> {
  const response = await fetch(`${stack.fleet.controlUrl}/bmcs/${index}/lights`);
  assert.equal(response.status, 200);
  const { system, chassis } = (await response.json()) as { system: string; chassis: string };
  return { system, chassis };
}

/** The chassis's `IndicatorLED` as a Redfish client reads it from BMC `index`. */
async function chassisShows(index: number): Promise<unknown> {
  const bmc = stack.fleet.bmcs[index]!;
  const response = await fetch(`${bmc.url}/redfish/v1/Chassis/1`, {
    headers: { authorization: `Basic ${Buffer.from(`${bmc.username}:${bmc.password}`).toString("base64")}` },
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { IndicatorLED?: unknown }).IndicatorLED;
}

const state = (on: boolean) => (on ? "Lit" : "Off");
const get = (name: string) => stack.client.get(SERVICE_INDICATORS, { namespace: NS, name });

function readyWith(name: string, on: boolean) {
  return waitFor(
    `indicator ${name} to be Ready with on=${on} for its generation`,
    () => get(name),
    (i) => i.status?.on === on && i.status.observedGeneration === i.metadata.generation && isReady(i),
  );
}

/** The PATCHes BMC `index` took since its counts were reset, by path. */
function patches(index: number): Record<string, number> {
  return Object.fromEntries(Object.entries(stack.fleet.bmc(index).stats().byMethodPath).filter(([key]) => key.startsWith("PATCH ")));
}

/**
 * Creates indicator `name` for the chassis light of BMC `index` with
 * `spec.on = from`, lets a process converge it, then switches it to `!from`
 * and kills that process once the System took the PATCH and the status write
 * recording it is held. Returns with no operator running.
 */
async function crashAfterSwitchAtSystem(index: number, name: string, from: boolean): Promise<void> {
  const operator = await start();
  const id = await chassisLight(index);
  await stack.create(SERVICE_INDICATORS, indicatorObject(NS, name, hostName(index), id, from));
  await readyWith(name, from);
  assert.deepEqual(await lightsOnBmc(index), { system: state(from), chassis: state(from) });

  const hold = proxy.hold({
    method: "PATCH",
    path: `/apis/metal3.io/v1alpha1/namespaces/${NS}/baremetalhostserviceindicators/${name}/status`,
    body: (patch) => patch?.status?.on === !from,
  });
  stack.fleet.bmc(index).resetStats();
  await stack.client.patch(SERVICE_INDICATORS, { namespace: NS, name }, { spec: { on: !from } }, { type: "merge" });
  await within(hold.held, `the status write recording on=${!from} for ${name}`);
  assert.deepEqual(await lightsOnBmc(index), { system: state(!from), chassis: state(!from) }, "the System was switched before the status write");
  // Created on, the indicator taught this process where the light takes writes; created off, nothing was
  // written then, so it learns now, from the chassis's refusal. Either way the switch went to the System.
  const learnt = from ? {} : { "PATCH /redfish/v1/Chassis/1": 1 };
  assert.deepEqual(patches(index), { ...learnt, "PATCH /redfish/v1/Systems/1": 1 });
  await operator.kill();
  await within(hold.dropped, "the held status write to be dropped");
  assert.equal((await get(name)).status?.on, from, "the switch was not recorded");
}

for (const from of [false, true]) {
  const to = !from;
  const switching = to ? "on" : "off";
  describe(`a crash after switching a Lenovo chassis light ${switching} at its System, before its status is written`, () => {
    it("then a restart records the light as the spec says without writing the BMC, and the next restart reads nothing", async () => {
      const index = from ? 1 : 0;
      const name = `restart-${switching}`;
      await crashAfterSwitchAtSystem(index, name, from);
      stack.fleet.bmc(index).resetStats();
      const operator = await start();
      const recorded = await readyWith(name, to);
      assert.deepEqual(await lightsOnBmc(index), { system: state(to), chassis: state(to) });
      assert.deepEqual(patches(index), {}, "the light already was as asked: nothing written");
      // Converged and proven by its record now: a restart costs the BMC nothing.
      await operator.stop();
      stack.fleet.bmc(index).resetStats();
      const next = await start();
      const objects = (await stack.client.list(SERVICE_INDICATORS, { namespace: NS })).items.length + BMCS;
      await waitUntilHandled(next, objects, 15_000);
      assert.equal((await get(name)).metadata.resourceVersion, recorded.metadata.resourceVersion);
      await next.stop();
      assert.equal(stack.fleet.bmc(index).stats().total, 0, JSON.stringify(stack.fleet.bmc(index).stats().byMethodPath));
      assert.equal(await chassisShows(index), state(to), "the chassis shows the System's light");
    });
  });
}

describe("a crash after switching a Lenovo chassis light on at its System, then switched back while no operator runs", () => {
  it("a new process learns again that the System takes the write: one refused PATCH at the chassis, one at the System", async () => {
    const index = 2;
    const name = "back-off";
    await crashAfterSwitchAtSystem(index, name, false);
    await stack.client.patch(SERVICE_INDICATORS, { namespace: NS, name }, { spec: { on: false } }, { type: "merge" });
    stack.fleet.bmc(index).resetStats();
    await start();
    await readyWith(name, false);
    assert.deepEqual(await lightsOnBmc(index), { system: "Off", chassis: "Off" });
    assert.deepEqual(patches(index), { "PATCH /redfish/v1/Chassis/1": 1, "PATCH /redfish/v1/Systems/1": 1 });
    assert.equal(await chassisShows(index), "Off");
  });
});

describe("a crash after switching a Lenovo chassis light on at its System, then the indicator deleted while no operator runs", () => {
  it("a new process switches the light off at the System before the indicator goes", async () => {
    const index = 3;
    const name = "delete-on";
    await crashAfterSwitchAtSystem(index, name, false);
    await stack.client.delete(SERVICE_INDICATORS, { namespace: NS, name });
    stack.fleet.bmc(index).resetStats();
    await start();
    await waitFor(
      `indicator ${name} to be gone`,
      () => get(name).then(() => false, (e: unknown) => isNotFound(e)),
      (gone) => gone,
    );
    assert.deepEqual(await lightsOnBmc(index), { system: "Off", chassis: "Off" });
    assert.deepEqual(patches(index), { "PATCH /redfish/v1/Chassis/1": 1, "PATCH /redfish/v1/Systems/1": 1 });
    assert.equal(await chassisShows(index), "Off");
  });
});

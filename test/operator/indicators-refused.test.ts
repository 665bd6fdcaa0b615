/**
 * Indicators that cannot switch their light say why, naming what is wrong:
 * a second indicator of a light another one already switches, and an
 * indicator whose host could not be registered. The BMC's own light is read
 * through the emulator's control API.
 *
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BareMetalHost } from "../../src/api/baremetalhost.ts";
import { BARE_METAL_HOSTS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { findStatusCondition, isNotFound, SECRETS } from "../../src/runtime/index.ts";
import { indicatorObject, isReady, type OperatorStack, startOperatorStack, waitFor } from "../support/operator-stack.ts";

let stack: OperatorStack;
before(async () => {
  stack = await startOperatorStack({ bmcs: 2 });
  await stack.startOperator();
});
after(() => stack.close());

async function registeredHost(namespace: string, name: string, index: number): Promise<BareMetalHost> {
  await stack.createHost(namespace, name, index);
  return waitFor(
    `host ${name} to be registered`,
    () => stack.client.get(BARE_METAL_HOSTS, { namespace, name }),
    (h) => (h.status?.hardware?.indicators?.length ?? 0) > 0 && isReady(h),
  );
}

/** The chassis light of BMC `index`, through the control API. */
async function chassisLight(index: number): Promise<string> {
  const response = await fetch(`${stack.fleet.controlUrl}/bmcs/${index}/lights`);
  return ((await response.json()) as { chassis: string }).chassis;
}

function readyWith(namespace: string, name: string, on: boolean) {
  return waitFor(
    `indicator ${name} to be Ready with on=${on}`,
    () => stack.client.get(SERVICE_INDICATORS, { namespace, name }),
    (i) => i.status?.on === on && i.status.observedGeneration === i.metadata.generation && isReady(i),
  );
}

function reason(namespace: string, name: string, expected: string) {
  return waitFor(
    `indicator ${name} to say ${expected}`,
    () => stack.client.get(SERVICE_INDICATORS, { namespace, name }),
    (i) => findStatusCondition(i.status?.conditions, "Ready")?.reason === expected,
  );
}

async function deleteAndWait(namespace: string, name: string) {
  await stack.client.delete(SERVICE_INDICATORS, { namespace, name });
  await waitFor(
    `indicator ${name} to be gone`,
    () => stack.client.get(SERVICE_INDICATORS, { namespace, name }).then(() => false, (e: unknown) => isNotFound(e)),
    (gone) => gone,
  );
}

describe("two indicators of one light", () => {
  it("the later is refused naming the earlier, which keeps working; when the earlier goes, the later takes over", async () => {
    const ns = await stack.namespace("duplicate-light");
    const host = await registeredHost(ns, "worker-0", 0);
    const id = host.status!.hardware!.indicators!.find((i) => i.component === "chassis")!.id;
    await stack.create(SERVICE_INDICATORS, indicatorObject(ns, "first", "worker-0", id, false));
    await readyWith(ns, "first", false);

    await stack.create(SERVICE_INDICATORS, indicatorObject(ns, "second", "worker-0", id, true));
    const refused = await reason(ns, "second", "DuplicateIndicator");
    const ready = findStatusCondition(refused.status?.conditions, "Ready");
    assert.equal(ready?.status, "False");
    assert.match(ready?.message ?? "", /is already switched by BareMetalHostServiceIndicator "first"/);
    assert.match(ready?.message ?? "", new RegExp(`indicator "${id}" of BareMetalHost "worker-0"`));
    assert.equal(refused.status?.errorMessage, ready?.message);
    assert.equal(refused.status?.on, undefined);
    assert.equal(await chassisLight(0), "Off", "the refused indicator did not switch the light");

    // The earlier one keeps working; the refused one stays refused.
    await stack.client.patch(SERVICE_INDICATORS, { namespace: ns, name: "first" }, { spec: { on: true } }, { type: "merge" });
    await readyWith(ns, "first", true);
    assert.equal(await chassisLight(0), "Lit");
    await stack.client.patch(SERVICE_INDICATORS, { namespace: ns, name: "first" }, { spec: { on: false } }, { type: "merge" });
    await readyWith(ns, "first", false);
    assert.equal(await chassisLight(0), "Off");
    assert.equal(findStatusCondition((await stack.client.get(SERVICE_INDICATORS, { namespace: ns, name: "second" })).status?.conditions, "Ready")?.reason, "DuplicateIndicator");

    // The earlier one goes: the later one takes the light over.
    await deleteAndWait(ns, "first");
    await readyWith(ns, "second", true);
    assert.equal(await chassisLight(0), "Lit");

    // Deleting a refused indicator leaves the light to the one that switches it.
    await stack.create(SERVICE_INDICATORS, indicatorObject(ns, "third", "worker-0", id, false));
    await reason(ns, "third", "DuplicateIndicator");
    await deleteAndWait(ns, "third");
    assert.equal(await chassisLight(0), "Lit");
    assert.ok(isReady(await stack.client.get(SERVICE_INDICATORS, { namespace: ns, name: "second" })));
  });
});

describe("an indicator of a host whose registration failed", () => {
  it("shows that failure's reason and message, not 'not listed yet'", async () => {
    const ns = await stack.namespace("host-refused");
    const bmc = stack.fleet.bmcs[1]!;
    await stack.create(SECRETS, {
      metadata: { name: "worker-1-bmc", namespace: ns },
      type: "Opaque",
      stringData: { username: bmc.username, password: "not-the-password" },
    });
    await stack.create(BARE_METAL_HOSTS, {
      apiVersion: "metal3.io/v1alpha1",
      kind: "BareMetalHost",
      metadata: { name: "worker-1", namespace: ns },
      spec: { online: true, bmc: { address: `redfish+http://${new URL(bmc.url).host}${bmc.systemPath}`, credentialsName: "worker-1-bmc" } },
    });
    const host = await waitFor(
      "the host's registration to fail",
      () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name: "worker-1" }),
      (h) => findStatusCondition(h.status?.conditions, "Ready")?.status === "False",
    );
    const hostReady = findStatusCondition(host.status?.conditions, "Ready")!;
    assert.equal(hostReady.reason, "BMCUnauthorized");

    await stack.create(SERVICE_INDICATORS, indicatorObject(ns, "locate", "worker-1", `${bmc.chassisUUID}@chassis`, true));
    const failed = await reason(ns, "locate", "BMCUnauthorized");
    assert.equal(
      failed.status?.errorMessage,
      `BareMetalHost "${ns}/worker-1" could not be registered (BMCUnauthorized): ${hostReady.message}`,
    );
    assert.doesNotMatch(failed.status?.errorMessage ?? "", /not-the-password/);
  });
});

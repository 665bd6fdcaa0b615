/**
 * What a host and a subscription say about BMCs that differ from the tidy
 * one, through the real stack (API emulator, operator with the Redfish
 * provisioner): a BMC with lights the operator cannot switch says so on the
 * host, and a BMC that holds as many subscriptions as it can gives
 * `Ready=False` reason `BMCSubscriptionLimit` naming the limit.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BMCEventSubscription } from "../../src/api/bmc-event-subscription.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS } from "../../src/controllers/resources.ts";
import { EVENTS, findStatusCondition, SECRETS } from "../../src/runtime/index.ts";
import { type OperatorStack, startOperatorStack, subscriptionObject, waitFor } from "../support/operator-stack.ts";
import { sampleResources, type ScriptedBmc, startScriptedBmc } from "../provisioner/scripted-bmc.ts";

let stack: OperatorStack;
let scripted: ScriptedBmc;
let dellLike: ScriptedBmc;
before(async () => {
  stack = await startOperatorStack({ bmcs: 1, policies: false, fleet: { maxSubscriptions: 1 } });
  await stack.startOperator({ subscriptionCheckIntervalMs: 300 });
  dellLike = await startScriptedBmc({ resources: sampleResources("both"), oneSubscriptionPerDestination: true });
  const resources = sampleResources("both");
  // A drive whose light is switched only by an OEM action, as on some Supermicro firmware.
  const disk1 = resources["/redfish/v1/Systems/1/Storage/RAID1/Drives/Disk1"]!;
  delete disk1.IndicatorLED;
  delete disk1.LocationIndicatorActive;
  disk1.Actions = { Oem: { "#SmcDrive.Indicate": { target: "/redfish/v1/Systems/1/Storage/RAID1/Drives/Disk1/Actions/Oem/SmcDrive.Indicate" } } };
  scripted = await startScriptedBmc({ resources });
});
after(async () => {
  await stack.close();
  await scripted.close();
  await dellLike.close();
});

/** Creates a host whose BMC is `bmc` (a scripted one), and waits for it to be registered. */
async function scriptedHost(namespace: string, name: string, bmc: ScriptedBmc) {
  await stack.create(SECRETS, {
    metadata: { name: `${name}-bmc`, namespace },
    type: "Opaque",
    stringData: { username: bmc.username, password: bmc.password },
  });
  await stack.create(BARE_METAL_HOSTS, {
    apiVersion: "metal3.io/v1alpha1",
    kind: "BareMetalHost",
    metadata: { name, namespace },
    spec: { online: true, bmc: { address: `${bmc.address}/redfish/v1/Systems/1`, credentialsName: `${name}-bmc` } },
  });
  return waitFor(
    `host ${name} to be registered`,
    () => stack.client.get(BARE_METAL_HOSTS, { namespace, name }),
    (h) => findStatusCondition(h.status?.conditions, "Ready")?.status === "True",
  );
}

async function eventsOf(namespace: string): Promise<string[]> {
  const list = await stack.client.list(EVENTS, { namespace });
  return (list.items ?? []).map((e) => `${e.type} ${e.reason}: ${e.note ?? ""}`);
}

describe("hosts and subscriptions on vendors' BMCs", () => {
  it("says on the host which lights of its BMC the operator cannot switch", async () => {
    const ns = await stack.namespace("unusable");
    const host = await scriptedHost(ns, "oem", scripted);
    assert.equal(host.status?.hardware?.indicators?.length, 3);
    assert.match(
      findStatusCondition(host.status?.conditions, "Ready")!.message,
      /3 indicator lights; the BMC has 1 more that cannot be switched \(see the IndicatorsUnusable Event\)/,
    );
    const events = await waitFor(
      "the IndicatorsUnusable Event",
      () => eventsOf(ns),
      (list) => list.some((e) => e.startsWith("Warning IndicatorsUnusable")),
    );
    const warning = events.find((e) => e.startsWith("Warning IndicatorsUnusable"))!;
    assert.match(warning, /Drives\/Disk1: its light is switched only by the OEM action #SmcDrive\.Indicate/);
  });

  it("gives Ready=False reason BMCSubscriptionLimit, naming the limit, when the BMC is full", async () => {
    const ns = await stack.namespace("full");
    await stack.createHost(ns, "worker-0", 0);
    await waitFor(
      "host worker-0 to be registered",
      () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name: "worker-0" }),
      (h) => findStatusCondition(h.status?.conditions, "Ready")?.status === "True",
    );
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject(ns, "first", "worker-0", stack.sink.url, { context: "first" }));
    await waitFor(
      "subscription first to be Ready",
      () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "first" }),
      (s) => findStatusCondition(s.status?.conditions, "Ready")?.status === "True",
    );
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject(ns, "second", "worker-0", stack.sink.url, { context: "second" }));
    const second = await waitFor(
      "subscription second to fail",
      () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "second" }),
      (s) => findStatusCondition(s.status?.conditions, "Ready")?.status === "False",
    );
    const ready = findStatusCondition(second.status?.conditions, "Ready")!;
    assert.equal(ready.reason, "BMCSubscriptionLimit");
    assert.match(ready.message, /already holds its limit of 1 subscriptions/);
    assert.equal(stack.fleet.bmc(0).subscriptions().length, 1);
  });

  it("re-creates a subscription a BMC that takes one subscription per destination suspended, deleting it first", async () => {
    const ns = await stack.namespace("suspended");
    await scriptedHost(ns, "dell", dellLike);
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject(ns, "events", "dell", stack.sink.url, { context: "dell" }));
    const first = await waitFor(
      "subscription events to be Ready",
      () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" }),
      (s) => !!s.status?.subscriptionID && findStatusCondition(s.status.conditions, "Ready")?.status === "True",
    );
    const suspendedId = first.status!.subscriptionID!;
    // Suspended after failed deliveries: the BMC keeps it, with Status.State Disabled, and sends it nothing.
    dellLike.subscriptions.get(suspendedId)!.Status = { State: "Disabled", Health: "Warning" };
    const again = await waitFor(
      "subscription events to be created again",
      () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" }),
      (s) => !!s.status?.subscriptionID && s.status.subscriptionID !== suspendedId && findStatusCondition(s.status.conditions, "Ready")?.status === "True",
    );
    assert.deepEqual([...dellLike.subscriptions.keys()], [again.status!.subscriptionID]);
    const calls = dellLike.calls().filter((c) => /^(POST|DELETE) /.test(c));
    // The suspended one recorded as stale first; the new one refused beside it; so it is deleted, then the new one created.
    assert.deepEqual(calls, [
      "POST /redfish/v1/EventService/Subscriptions",
      "POST /redfish/v1/EventService/Subscriptions",
      `DELETE /redfish/v1/EventService/Subscriptions/${suspendedId}`,
      "POST /redfish/v1/EventService/Subscriptions",
    ]);
    const events = await eventsOf(ns);
    assert.ok(events.some((e) => e.startsWith("Warning SubscriptionSuspended")), events.join("\n"));
  });

  it("replaces a subscription whose headers changed on a BMC that takes one subscription per destination", async () => {
    const ns = await stack.namespace("headers");
    await scriptedHost(ns, "dell", dellLike);
    await stack.create(SECRETS, { metadata: { name: "hook", namespace: ns }, stringData: { Authorization: "Bearer first-0c1f" } });
    await stack.create(
      BMC_EVENT_SUBSCRIPTIONS,
      subscriptionObject(ns, "events", "dell", stack.sink.url, { context: "headers", httpHeadersRef: { name: "hook" } }),
    );
    const isReady = (s: BMCEventSubscription) => !!s.status?.subscriptionID && !s.status.staleSubscriptionIDs?.length;
    const first = await waitFor(
      "subscription events to be Ready",
      () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" }),
      (s) => isReady(s) && findStatusCondition(s.status?.conditions, "Ready")?.status === "True",
    );
    const from = dellLike.log.length;
    await stack.client.patch(SECRETS, { namespace: ns, name: "hook" }, { stringData: { Authorization: "Bearer second-7d2e" } }, { type: "merge" });
    const second = await waitFor(
      "subscription events to be created again with the new headers",
      () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" }),
      (s) => isReady(s) && s.status?.subscriptionID !== first.status?.subscriptionID && findStatusCondition(s.status?.conditions, "Ready")?.status === "True",
    );
    const mine = [...dellLike.subscriptions.entries()].filter(([, body]) => body.Context === "headers");
    assert.deepEqual(mine.map(([id]) => id), [second.status!.subscriptionID]);
    assert.deepEqual(mine[0]![1].HttpHeaders, [{ Authorization: "Bearer second-7d2e" }]);
    assert.deepEqual(
      dellLike.log.slice(from).filter((r) => r.method === "POST" || r.method === "DELETE").map((r) => `${r.method} ${r.path}`),
      [
        "POST /redfish/v1/EventService/Subscriptions",
        `DELETE /redfish/v1/EventService/Subscriptions/${first.status!.subscriptionID}`,
        "POST /redfish/v1/EventService/Subscriptions",
      ],
    );
  });
});

/**
 * A subscription the BMC suspended after failed deliveries, through the real
 * stack (API emulator, operator with the Redfish provisioner, emulated Dell
 * iDRAC9 BMCs, which suspend a subscription after 3 failed deliveries and
 * offer `#EventDestination.ResumeSubscription`): the operator's check finds it
 * suspended and resumes it, keeping its ID, with no other write to the BMC
 * and none to the resource's status. Where the BMC offers no resume, the
 * suspended subscription is created again (subscriptions.test.ts,
 * crash-subscriptions.test.ts, crash-vendor-subscriptions.test.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BMCEventSubscription } from "../../src/api/bmc-event-subscription.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS } from "../../src/controllers/resources.ts";
import { EVENTS, findStatusCondition } from "../../src/runtime/index.ts";
import { type OperatorStack, startOperatorStack, subscriptionObject, waitFor } from "../support/operator-stack.ts";

/** The Dell profile takes https destinations only: an address nothing listens on (no event is raised here). */
const DESTINATIONS = "https://127.0.0.1:9/events";
const SUBSCRIPTIONS = "/redfish/v1/EventService/Subscriptions";

let stack: OperatorStack;
before(async () => {
  stack = await startOperatorStack({ bmcs: 1, policies: false, fleet: { profile: "dell-idrac9" } });
  await stack.startOperator({ subscriptionCheckIntervalMs: 300 });
});
after(() => stack.close());

async function eventsOf(namespace: string): Promise<string[]> {
  const list = await stack.client.list(EVENTS, { namespace });
  return (list.items ?? []).map((e) => `${e.type} ${e.reason}: ${e.note ?? ""}`);
}

function isReady(s: BMCEventSubscription): boolean {
  return !!s.status?.subscriptionID && findStatusCondition(s.status.conditions, "Ready")?.status === "True";
}

describe("a subscription the BMC suspended, on a BMC that offers ResumeSubscription (Dell iDRAC9)", () => {
  it("is resumed: the same ID stays recorded and Enabled on the BMC, after one POST to the action and no other BMC write", async () => {
    const ns = await stack.namespace("resume");
    await stack.createHost(ns, "worker", 0);
    await waitFor(
      "host worker to be registered",
      () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name: "worker" }),
      (h) => findStatusCondition(h.status?.conditions, "Ready")?.status === "True",
    );
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject(ns, "events", "worker", DESTINATIONS));
    const first = await waitFor(
      "subscription events to be Ready",
      () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" }),
      isReady,
    );
    const id = first.status!.subscriptionID!;
    const bmc = stack.fleet.bmc(0);
    bmc.resetStats();
    // Suspended as the iDRAC does after failed deliveries: kept, Status.State Disabled, sent no events.
    assert.ok(bmc.suspendSubscription(id));
    assert.deepEqual(bmc.subscriptions().map((s) => [s.id, s.state]), [[id, "Disabled"]]);

    const events = await waitFor(
      "the Event of the subscription resumed",
      () => eventsOf(ns),
      (list) => list.some((e) => e.startsWith("Warning SubscriptionResumed")),
    );
    assert.match(events.find((e) => e.startsWith("Warning SubscriptionResumed"))!, new RegExp(`subscription ${id}\\b`));
    assert.ok(!events.some((e) => /SubscriptionSuspended|SubscriptionCreated.*replacing|SubscriptionDeleted/.test(e)), events.join("\n"));

    // The BMC's own state: the same subscription, Enabled again.
    assert.deepEqual(bmc.subscriptions().map((s) => [s.id, s.state]), [[id, "Enabled"]]);
    // The BMC took one POST to the resume action, and no DELETE and no new subscription.
    const writes = Object.fromEntries(Object.entries(bmc.stats().byMethodPath).filter(([key]) => !key.startsWith("GET ")));
    assert.deepEqual(writes, { [`POST ${SUBSCRIPTIONS}/${id}/Actions/EventDestination.ResumeSubscription`]: 1 });

    // The resource: the same ID, Ready, nothing stale, and its status not written since.
    const after = await stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" });
    assert.ok(isReady(after));
    assert.equal(after.status?.subscriptionID, id);
    assert.deepEqual(after.status?.staleSubscriptionIDs ?? [], []);
    assert.equal(after.metadata.resourceVersion, first.metadata.resourceVersion, "no write to the resource");
  });
});

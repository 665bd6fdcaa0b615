/**
 * Crash windows of BMC calls that no API write follows, so the fault proxy
 * has nothing to hold: the emulated BMC serves the call (its effect applied)
 * and holds its answer (`holdAnswer`), and the operator process is killed
 * (SIGKILL) at that instant, after the BMC call and before the operator
 * learned it happened. After a restart the BMC's own subscriptions are checked.
 *
 * - The resume of a subscription the BMC suspended (Dell iDRAC9 offers
 *   `#EventDestination.ResumeSubscription`): nothing records a resume, so a
 *   restart must find the subscription enabled and write nothing.
 * - On a full BMC (a limit of one), the deletion of an unrecorded subscription
 *   an earlier attempt created, found after a restart and deleted before its
 *   replacement is created: nothing records it either, so a restart must
 *   create the replacement once and leave the BMC with that one only.
 *
 * @module
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { BMC_EVENT_SUBSCRIPTION_FINALIZER, type BMCEventSubscription } from "../../src/api/bmc-event-subscription.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS } from "../../src/controllers/resources.ts";
import { findStatusCondition, SECRETS } from "../../src/runtime/index.ts";
import { redfishFetch } from "../../emulators/redfish-bmc/testing.ts";
import { startOperatorProcess, type TestOperatorProcess } from "../support/operator-process.ts";
import { type OperatorStack, startOperatorStack, subscriptionObject, waitFor } from "../support/operator-stack.ts";
import { within } from "../support/within.ts";

/** An `https://` address (Dell takes no other) that nothing listens on: no event is raised here. */
const DESTINATIONS = "https://127.0.0.1:9/events";
const SUBSCRIPTIONS = "/redfish/v1/EventService/Subscriptions";
/** The operator checks each subscription every second, to find a suspension soon. */
const OPERATOR_ARGS = ["--subscription-check-interval", "1s"];

let operator: TestOperatorProcess | undefined;
afterEach(async () => {
  await operator?.dispose();
  operator = undefined;
});

async function start(stack: OperatorStack): Promise<void> {
  await operator?.dispose();
  operator = await startOperatorProcess(stack, { args: OPERATOR_ARGS });
}

async function registered(stack: OperatorStack, ns: string, index: number): Promise<void> {
  await stack.createHost(ns, "worker", index);
  await waitFor(
    "host worker to be registered",
    () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name: "worker" }),
    (h) => findStatusCondition(h.status?.conditions, "Ready")?.status === "True",
  );
}

function ready(stack: OperatorStack, ns: string, other?: string): Promise<BMCEventSubscription> {
  return waitFor(
    `subscription events to be Ready${other ? ` with an ID other than ${other}` : ""}`,
    () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" }),
    (s) => !!s.status?.subscriptionID && s.status.subscriptionID !== other && findStatusCondition(s.status.conditions, "Ready")?.status === "True",
    20_000,
  );
}

/** The BMC's subscriptions: ID, state and header names. */
function onBmc(stack: OperatorStack, index: number): { id: string; state: string; headers: string[] }[] {
  const states = new Map(stack.fleet.bmc(index).subscriptions().map((s) => [s.id, s.state]));
  return stack.fleet.bmc(index).subscriptionRecords().map((r) => ({
    id: r.id,
    state: states.get(r.id) ?? "unknown",
    headers: r.httpHeaders.map(([name, value]) => `${name}: ${value}`),
  }));
}

/** The writes BMC `index` took since its counts were reset, as `METHOD path` with counts. */
function writesTo(stack: OperatorStack, index: number): Record<string, number> {
  return Object.fromEntries(Object.entries(stack.fleet.bmc(index).stats().byMethodPath).filter(([key]) => !key.startsWith("GET ")).sort());
}

describe("a crash right after the BMC resumed a suspended subscription (Dell iDRAC9)", () => {
  let stack: OperatorStack;
  before(async () => {
    stack = await startOperatorStack({ bmcs: 1, policies: false, fleet: { profile: "dell-idrac9" } });
  });
  after(() => stack.close());

  it("leaves the subscription enabled under its recorded ID; a restart writes nothing to the BMC or the status", async () => {
    const ns = await stack.namespace("resumed");
    await start(stack);
    await registered(stack, ns, 0);
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject(ns, "events", "worker", DESTINATIONS));
    const id = (await ready(stack, ns)).status!.subscriptionID!;
    const bmc = stack.fleet.bmc(0);

    const served = bmc.holdAnswer("POST", /\/Actions\/EventDestination\.ResumeSubscription$/);
    assert.ok(bmc.suspendSubscription(id));
    await within(served, "the operator's resume of the suspended subscription");
    await operator!.kill();
    assert.deepEqual(onBmc(stack, 0).map((s) => [s.id, s.state]), [[id, "Enabled"]], "the BMC resumed it before the operator died");
    const before = await stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" });
    assert.equal(before.status?.subscriptionID, id);

    bmc.resetStats();
    await start(stack);
    // The restarted operator's check reads the BMC's subscriptions and finds it enabled.
    await waitFor("the restarted operator to check the subscription", () => Promise.resolve(bmc.stats().byMethodPath[`GET ${SUBSCRIPTIONS}/${id}`] ?? 0), (n) => n >= 1, 20_000);
    const after = await ready(stack, ns);
    assert.equal(after.status?.subscriptionID, id);
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion, "nothing written to the resource");
    assert.deepEqual(onBmc(stack, 0).map((s) => [s.id, s.state]), [[id, "Enabled"]]);
    assert.deepEqual(writesTo(stack, 0), {}, "no write to the BMC after the restart");
  });
});

describe("a crash right after the BMC deleted an unrecorded subscription before its replacement (full BMC)", () => {
  let stack: OperatorStack;
  before(async () => {
    stack = await startOperatorStack({ bmcs: 1, policies: false, fleet: { maxSubscriptions: 1 } });
  });
  after(() => stack.close());

  it("leaves the BMC empty and nothing recorded; a restart creates the replacement once", async () => {
    const ns = await stack.namespace("unrecorded");
    await start(stack);
    await registered(stack, ns, 0);
    await operator!.kill();
    // What a process that died between its create and its record leaves: the resource with its
    // finalizer and no ID, and on the BMC a subscription of the resource's destination and context,
    // with headers the new process cannot prove current.
    await stack.client.create(SECRETS, { metadata: { name: "hook", namespace: ns }, stringData: { Authorization: "Bearer token-2" } });
    const object = subscriptionObject(ns, "events", "worker", DESTINATIONS, { httpHeadersRef: { name: "hook" } });
    const info = stack.fleet.bmcs[0]!;
    const earlier = await redfishFetch(info, SUBSCRIPTIONS, {
      method: "POST",
      body: { Destination: object.spec.destination, Context: object.spec.context, Protocol: "Redfish", HttpHeaders: [{ Authorization: "Bearer token-1" }] },
    });
    assert.equal(earlier.status, 201, JSON.stringify(earlier.body));
    const unrecorded = onBmc(stack, 0)[0]!.id;
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, { ...object, metadata: { ...object.metadata, finalizers: [BMC_EVENT_SUBSCRIPTION_FINALIZER] } });

    const bmc = stack.fleet.bmc(0);
    bmc.resetStats();
    const served = bmc.holdAnswer("DELETE", `${SUBSCRIPTIONS}/${unrecorded}`);
    await start(stack);
    await within(served, "the deletion of the unrecorded subscription");
    await operator!.kill();
    // The create beside it was refused (full), so the unrecorded one was deleted first.
    assert.deepEqual(writesTo(stack, 0), { [`DELETE ${SUBSCRIPTIONS}/${unrecorded}`]: 1, [`POST ${SUBSCRIPTIONS}`]: 1 });
    assert.deepEqual(onBmc(stack, 0), [], "the BMC deleted it before the operator died");
    const recorded = await stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" });
    assert.equal(recorded.status?.subscriptionID, undefined);

    bmc.resetStats();
    await start(stack);
    const sub = await ready(stack, ns, unrecorded);
    assert.deepEqual(onBmc(stack, 0), [{ id: sub.status!.subscriptionID!, state: "Enabled", headers: ["Authorization: Bearer token-2"] }]);
    assert.deepEqual(sub.status?.staleSubscriptionIDs ?? [], []);
    assert.deepEqual(writesTo(stack, 0), { [`POST ${SUBSCRIPTIONS}`]: 1 }, "the replacement created once, nothing deleted again");
  });
});

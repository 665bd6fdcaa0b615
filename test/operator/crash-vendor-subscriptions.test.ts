/**
 * Crash windows of replacing a subscription on a BMC that refuses the
 * replacement beside the one it replaces: one that holds one subscription per
 * destination (Dell iDRAC9: a second one to the same destination is refused
 * with `PropertyValueModified`), or one that is full (a limit of one). So the
 * operator records the old one as stale, deletes it, then creates the new one. The operator runs as
 * its own process behind the fault proxy, which holds the status write after
 * one BMC side effect until the process is killed (SIGKILL): (a) after the
 * BMC deleted the stale subscription and before the status forgets it, (b)
 * after the BMC created the new one and before `status.subscriptionID`
 * records it. The replacement is brought about two ways: the BMC suspends the
 * subscription (found by the operator's check; these BMCs offer no
 * `ResumeSubscription`, so a suspended one is replaced, not resumed), or its
 * headers Secret changes. After a restart the BMC itself must hold exactly one subscription
 * for the resource's destination and context, the one the status names, with
 * the Secret's current headers, and no stale ID may be left in the status.
 *
 * The `dell-idrac9` profile takes `https://` destinations only: the
 * destinations are `https://` addresses nothing listens on. No event
 * is raised in these tests (no light or power change, no test event), so the
 * BMC never delivers to them.
 *
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BMCEventSubscription } from "../../src/api/bmc-event-subscription.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS } from "../../src/controllers/resources.ts";
import { findStatusCondition, isNotFound, SECRETS } from "../../src/runtime/index.ts";
import { type FaultProxy, type HoldRule, startFaultProxy } from "../support/fault-proxy.ts";
import { clearingTheStale, recordingTheID } from "../support/subscription-status-holds.ts";
import { type OperatorStack, startOperatorStack, subscriptionObject, waitFor } from "../support/operator-stack.ts";
import { startOperatorProcess, type TestOperatorProcess } from "../support/operator-process.ts";
import { within } from "../support/within.ts";

/** Where the subscriptions point: an `https://` address (the profile refuses `http://`) that is never delivered to. */
const DESTINATIONS = "https://127.0.0.1:9/events";
/** The operator checks each subscription every second, to find a suspension soon. */
const OPERATOR_ARGS = ["--subscription-check-interval", "1s"];

let stack: OperatorStack;
let proxy: FaultProxy;
let operator: TestOperatorProcess | undefined;

/**
 * The BMCs that refuse a replacement beside the subscription it replaces: Dell
 * iDRAC9 (one per destination; `PropertyValueModified`), and a BMC that holds
 * one subscription at most (full: `SubscriptionLimit`). Each gets its own
 * stack, five BMCs, one per test.
 */
const BMC_KINDS = [
  { name: "dell", title: "on a BMC that holds one subscription per destination (Dell iDRAC9)", fleet: { profile: "dell-idrac9", resumeSubscription: false } },
  { name: "full", title: "on a BMC that holds one subscription at most (full)", fleet: { maxSubscriptions: 1, resumeSubscription: false } },
] as const;

/** Starts the operator process behind the proxy (after the previous one was killed). */
async function start(): Promise<void> {
  await operator?.dispose();
  operator = await startOperatorProcess(stack, { apiUrl: proxy.url, args: OPERATOR_ARGS });
}

/** Waits until the operator has sent the write `hold` picks, kills the operator, and waits until the write is dropped. */
async function killAt(hold: ReturnType<FaultProxy["hold"]>, what: string): Promise<void> {
  await within(hold.held, what);
  await operator?.kill();
  await within(hold.dropped, `${what} to be dropped`);
}

/** A subscription as the BMC holds it, header values included. */
interface OnBmc {
  id: string;
  destination: string;
  context: string | null;
  state: string;
  headers: Record<string, string>;
}

function onBmc(index: number): OnBmc[] {
  const states = new Map(stack.fleet.bmc(index).subscriptions().map((s) => [s.id, s.state]));
  return stack.fleet.bmc(index).subscriptionRecords().map((r) => ({
    id: r.id,
    destination: r.destination,
    context: r.context,
    state: states.get(r.id) ?? "unknown",
    headers: Object.fromEntries(r.httpHeaders),
  }));
}

/** Checks that BMC `index` holds exactly one subscription, `sub`'s, Enabled, the one its status names, with `headers`. */
function assertBmcHoldsOnly(index: number, sub: BMCEventSubscription, headers: Record<string, string>): void {
  const actual = onBmc(index);
  const summary = JSON.stringify(actual.map((s) => ({ ...s, headers: Object.keys(s.headers) })));
  assert.equal(actual.length, 1, `the BMC holds ${actual.length} subscriptions, expected 1: ${summary}`);
  const [held] = actual as [OnBmc];
  assert.equal(held.destination, sub.spec.destination, summary);
  assert.equal(held.context, sub.spec.context ?? "", summary);
  assert.equal(held.id, sub.status?.subscriptionID, `${sub.metadata.name} records the ID of its own subscription: ${summary}`);
  assert.equal(held.state, "Enabled", summary);
  assert.deepEqual(held.headers, headers, `the headers of ${sub.metadata.name}'s subscription are the Secret's current ones`);
  assert.deepEqual(sub.status?.staleSubscriptionIDs ?? [], [], "no stale ID left in the status");
}

/** The writes BMC `index` took since its counts were reset, as `METHOD path` in sorted order with counts. */
function writesTo(index: number): Record<string, number> {
  const byMethodPath = stack.fleet.bmc(index).stats().byMethodPath;
  return Object.fromEntries(Object.entries(byMethodPath).filter(([key]) => !key.startsWith("GET ")).sort());
}

const SUBSCRIPTIONS = "/redfish/v1/EventService/Subscriptions";

async function setToken(ns: string, token: string): Promise<void> {
  await stack.client
    .patch(SECRETS, { namespace: ns, name: "hook" }, { stringData: { Authorization: `Bearer ${token}` } }, { type: "merge" })
    .catch(async (error: unknown) => {
      if (!isNotFound(error)) throw error;
      return stack.client.create(SECRETS, { metadata: { name: "hook", namespace: ns }, stringData: { Authorization: `Bearer ${token}` } });
    });
}

/** Waits until the subscription is Ready with an ID other than `replaced`, and nothing stale is left. */
function converged(ns: string, name: string, replaced?: string): Promise<BMCEventSubscription> {
  return waitFor(
    `subscription ${name} to be Ready${replaced ? ` with an ID other than ${replaced}` : ""} and nothing stale left`,
    () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name }),
    (s) =>
      !!s.status?.subscriptionID &&
      s.status.subscriptionID !== replaced &&
      findStatusCondition(s.status.conditions, "Ready")?.status === "True" &&
      !s.status.staleSubscriptionIDs?.length,
    20_000,
  );
}

const token = (t: string) => ({ Authorization: `Bearer ${t}` });

/** How a replacement comes about: the BMC suspends the subscription, or its headers Secret changes. */
const triggers = {
  suspended: {
    what: "the BMC suspended",
    headers: token("token-1"),
    replace: (ns: string, index: number, id: string) => {
      assert.ok(stack.fleet.bmc(index).suspendSubscription(id), `BMC ${index} holds subscription ${id}`);
      return Promise.resolve();
    },
  },
  headers: {
    what: "whose headers Secret changed",
    headers: token("token-2"),
    replace: (ns: string) => setToken(ns, "token-2"),
  },
} as const;

/**
 * In namespace `ns`, a Ready subscription on BMC `index` (with the `hook`
 * Secret's headers) is replaced through `trigger`; the operator is killed at
 * the status write `rule` picks. Returns the replaced subscription's ID.
 */
async function crashWhileReplacing(
  ns: string,
  index: number,
  trigger: keyof typeof triggers,
  rule: (ns: string, name: string) => HoldRule,
  what: string,
): Promise<string> {
  await start();
  await stack.namespace(ns);
  await stack.createHost(ns, "worker", index);
  await waitFor(
    "host worker to be registered",
    () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name: "worker" }),
    (h) => findStatusCondition(h.status?.conditions, "Ready")?.status === "True",
  );
  await setToken(ns, "token-1");
  await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject(ns, "events", "worker", DESTINATIONS, { httpHeadersRef: { name: "hook" } }));
  const first = await converged(ns, "events");
  const replaced = first.status!.subscriptionID!;
  assert.equal(onBmc(index).length, 1);
  const hold = proxy.hold(rule(ns, "events"));
  await triggers[trigger].replace(ns, index, replaced);
  await killAt(hold, what);
  return replaced;
}

for (const kind of BMC_KINDS) {
  describe(kind.title, () => {
    before(async () => {
      stack = await startOperatorStack({ bmcs: 5, policies: false, fleet: kind.fleet });
      proxy = await startFaultProxy(stack.api.url);
    });
    after(async () => {
      await operator?.dispose();
      operator = undefined;
      await proxy?.close();
      await stack?.close();
    });

    for (const trigger of ["suspended", "headers"] as const) {
      const { what, headers } = triggers[trigger];
      describe(`a crash while replacing a subscription ${what}`, () => {
        it("(a) after the BMC deleted the replaced one, before the status forgets it", async () => {
          const ns = `${kind.name}-${trigger}-delete`;
          const index = trigger === "suspended" ? 0 : 2;
          const replaced = await crashWhileReplacing(ns, index, trigger, clearingTheStale, "the status write clearing the stale ID");
          assert.deepEqual(onBmc(index), [], "the BMC deleted the replaced subscription before the new one was created");
          const recorded = await stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" });
          assert.deepEqual(recorded.status?.staleSubscriptionIDs, [replaced], "the status still lists the deleted one as stale");
          assert.equal(recorded.status?.subscriptionID, undefined);

          stack.fleet.bmc(index).resetStats();
          await start();
          const sub = await converged(ns, "events", replaced);
          assertBmcHoldsOnly(index, sub, headers);
          // The stale one is seen gone, not deleted again; the new one is created once.
          assert.deepEqual(writesTo(index), { [`POST ${SUBSCRIPTIONS}`]: 1 });
        });

        it("(b) after the BMC created the new one, before status.subscriptionID records it", async () => {
          const ns = `${kind.name}-${trigger}-create`;
          const index = trigger === "suspended" ? 1 : 3;
          const replaced = await crashWhileReplacing(ns, index, trigger, recordingTheID, "the status write recording the new ID");
          const held = onBmc(index);
          assert.equal(held.length, 1, `only the new subscription, unrecorded: ${JSON.stringify(held)}`);
          assert.notEqual(held[0]!.id, replaced);
          const recorded = await stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" });
          assert.equal(recorded.status?.subscriptionID, undefined, "the new ID is not recorded");

          stack.fleet.bmc(index).resetStats();
          await start();
          const sub = await converged(ns, "events", replaced);
          assertBmcHoldsOnly(index, sub, headers);
          // Its headers cannot be proven, so the unrecorded one is replaced: refused beside it, deleted, created again.
          assert.deepEqual(writesTo(index), { [`DELETE ${SUBSCRIPTIONS}/${held[0]!.id}`]: 1, [`POST ${SUBSCRIPTIONS}`]: 2 });
        });
      });
    }

    describe("a crash between creating the first subscription and recording its ID", () => {
      it("then a restart replaces the unrecorded one (its headers cannot be proven): deleted first, then created again", async () => {
        const ns = `${kind.name}-first-create`;
        const index = 4;
        await start();
        await stack.namespace(ns);
        await stack.createHost(ns, "worker", index);
        await setToken(ns, "token-1");
        const hold = proxy.hold(recordingTheID(ns, "events"));
        await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject(ns, "events", "worker", DESTINATIONS, { httpHeadersRef: { name: "hook" } }));
        await killAt(hold, "the status write recording the first ID");
        const unrecorded = onBmc(index);
        assert.equal(unrecorded.length, 1, "the BMC subscription exists, unrecorded");

        stack.fleet.bmc(index).resetStats();
        await start();
        const sub = await converged(ns, "events", unrecorded[0]!.id);
        assertBmcHoldsOnly(index, sub, token("token-1"));
        assert.deepEqual(writesTo(index), { [`DELETE ${SUBSCRIPTIONS}/${unrecorded[0]!.id}`]: 1, [`POST ${SUBSCRIPTIONS}`]: 2 });
      });
    });
  });
}

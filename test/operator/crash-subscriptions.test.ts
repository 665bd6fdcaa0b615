/**
 * Crash windows of the BMCEventSubscription controller, hit deterministically:
 * the operator runs as its own process behind the fault proxy, which holds
 * the API write that would record a BMC side effect until the process is
 * killed (SIGKILL), so the API never sees it. Then the test changes what a
 * user might change meanwhile (nothing, the headers Secret, a deletion),
 * starts a new process, and checks the emulated BMC's own subscriptions: no
 * duplicate, no orphan, and each carrying the current header values (the
 * emulator keeps them; the Redfish API never shows them).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BMCEventSubscription } from "../../src/api/bmc-event-subscription.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS } from "../../src/controllers/resources.ts";
import { findStatusCondition, isNotFound, SECRETS } from "../../src/runtime/index.ts";
import { type FaultProxy, type HoldRule, startFaultProxy } from "../support/fault-proxy.ts";
import { clearingTheStale, recordingTheID, releasingTheFinalizer, subscriptionStatusPath } from "../support/subscription-status-holds.ts";
import { type OperatorStack, startOperatorStack, subscriptionObject, waitFor } from "../support/operator-stack.ts";
import { startOperatorProcess, type TestOperatorProcess } from "../support/operator-process.ts";

let stack: OperatorStack;
let proxy: FaultProxy;
let operator: TestOperatorProcess | undefined;

before(async () => {
  // Without ResumeSubscription, a subscription the BMC suspended is replaced: the crash windows of that replacement.
  stack = await startOperatorStack({ bmcs: 13, policies: false, fleet: { resumeSubscription: false } });
  proxy = await startFaultProxy(stack.api.url);
});
after(async () => {
  await operator?.dispose();
  await proxy.close();
  await stack.close();
});

/** Starts the operator process behind the proxy (after the previous one was killed). */
async function start(args: string[] = []): Promise<void> {
  await operator?.dispose();
  operator = await startOperatorProcess(stack, { apiUrl: proxy.url, args });
}

/** Waits until the operator has sent the write `rule` picks, kills the operator, and waits until the write is dropped. */
async function killAt(hold: ReturnType<FaultProxy["hold"]>): Promise<void> {
  await hold.held;
  await operator?.kill();
  await hold.dropped;
}

/** A subscription as the BMC holds it, header values included. */
interface OnBmc {
  id: string;
  destination: string;
  context: string | null;
  headers: Record<string, string>;
}

function onBmc(index: number): OnBmc[] {
  return stack.fleet.bmc(index).subscriptionRecords().map((r) => ({
    id: r.id,
    destination: r.destination,
    context: r.context,
    headers: Object.fromEntries(r.httpHeaders),
  }));
}

/** Checks that BMC `index` holds exactly one subscription per expected one (no duplicate, no orphan), with those headers. */
function assertBmcHolds(index: number, expected: { sub: BMCEventSubscription; headers: Record<string, string> }[]): void {
  const actual = onBmc(index);
  const summary = JSON.stringify(actual.map((s) => ({ ...s, headers: Object.keys(s.headers) })));
  assert.equal(actual.length, expected.length, `the BMC holds ${actual.length} subscriptions, expected ${expected.length}: ${summary}`);
  for (const { sub, headers } of expected) {
    const matching = actual.filter((s) => s.destination === sub.spec.destination && s.context === (sub.spec.context ?? ""));
    assert.equal(matching.length, 1, `subscriptions of ${sub.metadata.name} on the BMC: ${summary}`);
    assert.equal(matching[0]!.id, sub.status?.subscriptionID, `${sub.metadata.name} records the ID of its own subscription`);
    assert.deepEqual(matching[0]!.headers, headers, `the headers of ${sub.metadata.name}'s subscription are the Secret's current ones`);
  }
}

async function registered(ns: string, name: string, index: number): Promise<void> {
  await stack.createHost(ns, name, index);
  await waitFor(
    `host ${name} to be registered`,
    () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name }),
    (h) => findStatusCondition(h.status?.conditions, "Ready")?.status === "True",
  );
}

async function setToken(ns: string, token: string): Promise<string> {
  const secret = await stack.client
    .patch(SECRETS, { namespace: ns, name: "hook" }, { stringData: { Authorization: `Bearer ${token}` } }, { type: "merge" })
    .catch(async (error: unknown) => {
      if (!isNotFound(error)) throw error;
      return stack.client.create(SECRETS, { metadata: { name: "hook", namespace: ns }, stringData: { Authorization: `Bearer ${token}` } });
    });
  return `${secret.metadata?.uid ?? ""}/${secret.metadata?.resourceVersion ?? ""}`;
}

/** Waits until the subscription is Ready with the headers of Secret version `version`, and nothing stale is left. */
function converged(ns: string, name: string, version?: string, timeoutMs = 20_000): Promise<BMCEventSubscription> {
  return waitFor(
    `subscription ${name} to be Ready${version ? ` with headers version ${version}` : ""}`,
    () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name }),
    (s) =>
      !!s.status?.subscriptionID &&
      findStatusCondition(s.status.conditions, "Ready")?.status === "True" &&
      (version === undefined || s.status.httpHeadersVersion === version) &&
      !s.status.staleSubscriptionIDs?.length,
    timeoutMs,
  );
}

function gone(ns: string, name: string): Promise<boolean> {
  return waitFor(
    `subscription ${name} to be deleted`,
    () =>
      stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name }).then(
        () => false,
        (e: unknown) => isNotFound(e),
      ),
    (isGone) => isGone,
    20_000,
  );
}

/** A subscription with the `hook` Secret's headers. */
function hooked(ns: string, name: string, host: string): BMCEventSubscription {
  return subscriptionObject(ns, name, host, stack.sink.url, { httpHeadersRef: { name: "hook" } });
}

const token = (t: string) => ({ Authorization: `Bearer ${t}` });

/** Sets up namespace `ns` with a registered host on BMC `index` and a `hook` Secret; returns its version. */
async function setUp(ns: string, index: number, firstToken = "token-1"): Promise<string> {
  await stack.namespace(ns);
  await registered(ns, "worker", index);
  return setToken(ns, firstToken);
}

describe("a crash between creating a BMC subscription and recording its ID", () => {
  it("then a restart: exactly one subscription, with the current headers", async () => {
    const ns = "create-restart";
    await start();
    await setUp(ns, 0);
    const hold = proxy.hold(recordingTheID(ns, "events"));
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, hooked(ns, "events", "worker"));
    await killAt(hold);
    assert.equal(onBmc(0).length, 1, "the BMC subscription exists, unrecorded");

    await start();
    const sub = await converged(ns, "events");
    assertBmcHolds(0, [{ sub, headers: token("token-1") }]);
  });

  it("then the resource is deleted: no subscription left on the BMC", async () => {
    const ns = "create-delete";
    await start();
    await setUp(ns, 1);
    const hold = proxy.hold(recordingTheID(ns, "events"));
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, hooked(ns, "events", "worker"));
    await killAt(hold);
    await stack.client.delete(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" });

    await start();
    await gone(ns, "events");
    assertBmcHolds(1, []);
  });

  it("then the headers Secret changes: the BMC ends with one subscription carrying the new headers", async () => {
    const ns = "create-secret";
    await start();
    await setUp(ns, 2);
    const hold = proxy.hold(recordingTheID(ns, "events"));
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, hooked(ns, "events", "worker"));
    await killAt(hold);
    const version = await setToken(ns, "token-2");

    await start();
    const sub = await converged(ns, "events", version);
    assertBmcHolds(2, [{ sub, headers: token("token-2") }]);
  });
});

describe("a crash between re-creating a subscription for new headers and recording the new ID", () => {
  /** A Ready subscription whose Secret then changes; the operator is killed once the new BMC subscription exists. */
  async function headersChangeCrash(ns: string, index: number): Promise<void> {
    await start();
    await setUp(ns, index);
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, hooked(ns, "events", "worker"));
    // (Not yet the version setUp wrote: the operator labels the Secret when it first reads it.)
    await converged(ns, "events");
    const hold = proxy.hold(recordingTheID(ns, "events"));
    await setToken(ns, "token-2");
    await killAt(hold);
    assert.equal(onBmc(index).length, 2, "the old and the new subscription exist, the new one unrecorded");
  }

  it("then a restart: exactly one subscription, with the new headers", async () => {
    const ns = "headers-restart";
    await headersChangeCrash(ns, 3);
    await start();
    const sub = await converged(ns, "events");
    assertBmcHolds(3, [{ sub, headers: token("token-2") }]);
  });

  it("then the resource is deleted: no subscription left on the BMC", async () => {
    const ns = "headers-delete";
    await headersChangeCrash(ns, 4);
    await stack.client.delete(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" });
    await start();
    await gone(ns, "events");
    assertBmcHolds(4, []);
  });

  it("then the Secret changes again: one subscription, with the latest headers", async () => {
    const ns = "headers-secret";
    await headersChangeCrash(ns, 5);
    const version = await setToken(ns, "token-3");
    await start();
    const sub = await converged(ns, "events", version);
    assertBmcHolds(5, [{ sub, headers: token("token-3") }]);
  });
});

describe("a crash between deleting the BMC subscription and releasing the finalizer", () => {
  it("then a restart: the resource goes, nothing is left on the BMC", async () => {
    const ns = "delete-restart";
    await start();
    await setUp(ns, 6);
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, hooked(ns, "events", "worker"));
    await converged(ns, "events");
    const hold = proxy.hold(releasingTheFinalizer(ns, "events"));
    await stack.client.delete(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" });
    await killAt(hold);
    assert.equal(onBmc(6).length, 0, "the BMC subscription was deleted before the finalizer's release was sent");
    await start();
    await gone(ns, "events");
    assertBmcHolds(6, []);
  });
});

describe("a BMC reset, after which another resource's new subscription takes a lost ID", () => {
  /** `first` Ready with ID 1; the operator killed; the BMC reset; `second` created (it will get ID 1). */
  async function resetAndReuse(ns: string, index: number): Promise<void> {
    await start();
    await stack.namespace(ns);
    await registered(ns, "worker", index);
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject(ns, "first", "worker", stack.sink.url));
    const first = await converged(ns, "first");
    assert.equal(first.status?.subscriptionID, "1");
    await operator?.kill();
    stack.fleet.bmc(index).reset();
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject(ns, "second", "worker", stack.sink.url));
  }

  it("deleting the first resource leaves the second one's subscription alone", async () => {
    const ns = "reuse-delete";
    await resetAndReuse(ns, 7);
    await start();
    const second = await converged(ns, "second");
    assert.equal(second.status?.subscriptionID, "1", "the new subscription took the lost ID");
    await stack.client.delete(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "first" });
    await gone(ns, "first");
    assertBmcHolds(7, [{ sub: second, headers: {} }]);
  });

  it("the drift check sees that the first resource's subscription is lost and creates it again", async () => {
    const ns = "reuse-check";
    await resetAndReuse(ns, 8);
    // The first check of a subscription comes one interval after the restart; the second one's POST long before.
    await start(["--subscription-check-interval", "4s"]);
    const second = await converged(ns, "second");
    assert.equal(second.status?.subscriptionID, "1", "the new subscription took the lost ID");
    const first = await waitFor(
      "the first subscription to be on the BMC again, under a new ID",
      () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "first" }),
      (s) => s.status?.subscriptionID !== undefined && s.status.subscriptionID !== "1",
      15_000,
    );
    assertBmcHolds(8, [
      { sub: first, headers: {} },
      { sub: second, headers: {} },
    ]);
  });
});

describe("a crash while replacing a subscription the BMC suspended", () => {
  /** The first status write after the suspension: the one that takes the suspended ID off `subscriptionID`. */
  function retiringTheSuspended(ns: string, name: string): HoldRule {
    return {
      method: "PATCH",
      path: subscriptionStatusPath(ns, name),
      body: (patch: { status?: { subscriptionID?: string | null } } | undefined) => !!patch?.status && patch.status.subscriptionID === null,
    };
  }

  /** A Ready subscription on BMC `index`, then suspended by the BMC; the operator (checking every second) is killed at `rule`. */
  async function suspendedCrash(ns: string, index: number, rule: (ns: string, name: string) => HoldRule): Promise<string> {
    await start(["--subscription-check-interval", "1s"]);
    await setUp(ns, index);
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, hooked(ns, "events", "worker"));
    const first = await converged(ns, "events");
    const suspendedId = first.status!.subscriptionID!;
    const hold = proxy.hold(rule(ns, "events"));
    assert.ok(stack.fleet.bmc(index).suspendSubscription(suspendedId));
    await killAt(hold);
    return suspendedId;
  }

  /** After a restart: one Enabled subscription on the BMC, recorded, with the Secret's headers; the suspended one gone. */
  async function restartedAndReplaced(ns: string, index: number, suspendedId: string): Promise<void> {
    await start(["--subscription-check-interval", "1s"]);
    const sub = await waitFor(
      "the subscription to be replaced and nothing stale left",
      () => converged(ns, "events"),
      (s) => s.status?.subscriptionID !== suspendedId,
    );
    assertBmcHolds(index, [{ sub, headers: token("token-1") }]);
    assert.deepEqual(stack.fleet.bmc(index).subscriptions().map((s) => s.state), ["Enabled"]);
  }

  it("before anything reaches the BMC: the suspended subscription is still there and still recorded", async () => {
    const ns = "suspended-retire";
    const suspendedId = await suspendedCrash(ns, 10, retiringTheSuspended);
    // The suspended ID is retired on record before any BMC call: killed before that record, nothing was sent.
    assert.deepEqual(onBmc(10).map((s) => s.id), [suspendedId]);
    await restartedAndReplaced(ns, 10, suspendedId);
  });

  it("between creating the new subscription and recording its ID", async () => {
    const ns = "suspended-create";
    const suspendedId = await suspendedCrash(ns, 11, recordingTheID);
    assert.equal(onBmc(11).length, 2, "the suspended one and the new one, unrecorded");
    await restartedAndReplaced(ns, 11, suspendedId);
  });

  it("between deleting the suspended subscription and clearing it from the record", async () => {
    const ns = "suspended-delete";
    const suspendedId = await suspendedCrash(ns, 12, clearingTheStale);
    assert.deepEqual(stack.fleet.bmc(12).subscriptions().map((s) => s.state), ["Enabled"], "the suspended one was deleted");
    await restartedAndReplaced(ns, 12, suspendedId);
  });
});

/**
 * The BMCEventSubscription controller through the real stack: API emulator,
 * operator with the Redfish provisioner, emulated BMCs delivering events to a
 * local sink.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BMCEventSubscription } from "../../src/api/bmc-event-subscription.ts";
import { NEW_HOST_GRACE_MS } from "../../src/controllers/object-age.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { BMC_EVENT_SUBSCRIPTION_FINALIZER } from "../../src/api/bmc-event-subscription.ts";
import type { Provisioner } from "../../src/provisioner/provisioner.ts";
import { EVENTS, findStatusCondition, isNotFound, SECRETS } from "../../src/runtime/index.ts";
import {
  duplicateIndicators,
  indicatorObject,
  type OperatorStack,
  readyResources,
  startOperatorStack,
  subscriptionObject,
  waitFor,
} from "../support/operator-stack.ts";

let stack: OperatorStack;
before(async () => {
  // Without ResumeSubscription, a subscription the BMC suspended is created again (resume-subscriptions.test.ts: with it).
  stack = await startOperatorStack({ bmcs: 11, policies: false, fleet: { resumeSubscription: false } });
  await stack.startOperator();
});
after(() => stack.close());

function subscription(namespace: string, name: string, host: string, extra: Partial<BMCEventSubscription["spec"]> = {}): BMCEventSubscription {
  return subscriptionObject(namespace, name, host, stack.sink.url, extra);
}

async function registered(namespace: string, name: string, index: number) {
  await stack.createHost(namespace, name, index);
  await waitFor(
    `host ${name} to be registered`,
    () => stack.client.get(BARE_METAL_HOSTS, { namespace, name }),
    (h) => findStatusCondition(h.status?.conditions, "Ready")?.status === "True",
  );
}

function ready(namespace: string, name: string, accept: (s: BMCEventSubscription) => boolean = () => true) {
  return waitFor(
    `subscription ${name} to be Ready`,
    () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace, name }),
    (s) => !!s.status?.subscriptionID && findStatusCondition(s.status.conditions, "Ready")?.status === "True" && accept(s),
  );
}

function gone(namespace: string, name: string, timeoutMs?: number) {
  return waitFor(
    `subscription ${name} to be deleted`,
    () =>
      stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace, name }).then(
        () => false,
        (e: unknown) => isNotFound(e),
      ),
    (isGone) => isGone,
    timeoutMs,
  );
}

async function eventsOf(namespace: string): Promise<string[]> {
  const list = await stack.client.list(EVENTS, { namespace });
  return (list.items ?? []).map((e) => `${e.type} ${e.reason}: ${e.note ?? ""}`);
}

describe("BMCEventSubscription controller", () => {
  it("creates the subscription once; a test event reaches the destination with the context and the Secret's headers", async () => {
    const ns = await stack.namespace("deliver");
    await registered(ns, "worker-0", 0);
    await stack.create(SECRETS, {
      metadata: { name: "hook-headers", namespace: ns },
      stringData: { Authorization: "Bearer first-token-value" },
    });
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "events", "worker-0", { httpHeadersRef: { name: "hook-headers" } }));
    const sub = await ready(ns, "events");
    const onBmc = stack.fleet.bmc(0).subscriptions();
    assert.equal(onBmc.length, 1);
    assert.equal(onBmc[0]?.id, sub.status?.subscriptionID);
    assert.deepEqual(onBmc[0]?.httpHeaderNames, ["Authorization"]);

    stack.fleet.bmc(0).submitEvent({ MessageId: "Base.1.0.Test", Message: "hello from the BMC" });
    const event = await stack.sink.waitFor((e) => e.path === `/${ns}/events` && e.messageIds.includes("Base.1.0.Test"));
    assert.equal(event.context, "ctx-events");
    assert.equal(event.headers.authorization, "Bearer first-token-value");

    // The Secret changes: the subscription is created again with the new headers, and the old one deleted.
    await stack.client.patch(SECRETS, { namespace: ns, name: "hook-headers" }, { stringData: { Authorization: "Bearer second-token-value" } }, { type: "merge" });
    const recreated = await ready(ns, "events", (s) => s.status?.subscriptionID !== sub.status?.subscriptionID && !s.status?.staleSubscriptionIDs);
    const after = stack.fleet.bmc(0).subscriptions();
    assert.deepEqual(after.map((s) => s.id), [recreated.status?.subscriptionID]);
    stack.fleet.bmc(0).submitEvent({ MessageId: "Base.1.0.Second" });
    const second = await stack.sink.waitFor((e) => e.path === `/${ns}/events` && e.messageIds.includes("Base.1.0.Second"));
    assert.equal(second.headers.authorization, "Bearer second-token-value");

    // Header values never appear in Events or status.
    const notes = (await eventsOf(ns)).join("\n");
    assert.ok(notes.includes("SubscriptionCreated"), notes);
    assert.ok(!notes.includes("token-value"), notes);
    assert.ok(!JSON.stringify(recreated.status).includes("token-value"));

    // Deleting the resource deletes the BMC subscription.
    await stack.client.delete(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" });
    await gone(ns, "events");
    assert.deepEqual(stack.fleet.bmc(0).subscriptions(), []);
  });

  it("an operator killed between creating the subscription and writing its status leaves exactly one on the BMC", async () => {
    const ns = await stack.namespace("crash");
    await registered(ns, "worker-1", 1);
    await stack.stopOperator();
    let created!: () => void;
    const createdOnBmc = new Promise<void>((resolve) => {
      created = resolve;
    });
    await stack.startOperator({
      wrapProvisioner: (real: Provisioner): Provisioner =>
        Object.assign(Object.create(real) as Provisioner, {
          name: real.name,
          createSubscription: async (...args: Parameters<Provisioner["createSubscription"]>) => {
            await real.createSubscription(...args);
            created();
            return new Promise<never>(() => {}); // the process "dies" before it can write the status
          },
        }),
    });
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "once", "worker-1"));
    await createdOnBmc;
    await stack.stopOperator();
    const stranded = await stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "once" });
    assert.equal(stranded.status?.subscriptionID, undefined);
    assert.equal(stack.fleet.bmc(1).subscriptions().length, 1);

    await stack.startOperator();
    const adopted = await ready(ns, "once");
    const onBmc = stack.fleet.bmc(1).subscriptions();
    assert.equal(onBmc.length, 1, JSON.stringify(onBmc));
    assert.equal(adopted.status?.subscriptionID, onBmc[0]?.id);
    assert.ok((await eventsOf(ns)).some((e) => e.includes("SubscriptionAdopted")));
  });

  it("deletion with the BMC down retries, then completes when it returns", async () => {
    const ns = await stack.namespace("bmc-down");
    await registered(ns, "worker-2", 2);
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "down", "worker-2"));
    await ready(ns, "down");
    stack.fleet.bmc(2).setDropRate(1);
    await stack.client.delete(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "down" });
    const failing = await waitFor(
      "the deletion to fail while the BMC is down",
      () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "down" }),
      (s) => findStatusCondition(s.status?.conditions, "Ready")?.reason === "DeleteFailed",
    );
    assert.ok(failing.metadata.finalizers?.includes("bmceventsubscription.metal3.io"));
    assert.equal(stack.fleet.bmc(2).subscriptions().length, 1);
    stack.fleet.bmc(2).setDropRate(0);
    await gone(ns, "down", 30_000);
    assert.deepEqual(stack.fleet.bmc(2).subscriptions(), []);
  });

  it("waits with a clear status for a missing host, then subscribes when the host appears", async () => {
    const ns = await stack.namespace("late-host");
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "early", "worker-3"));
    const waiting = await waitFor(
      "the missing host to be reported",
      () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "early" }),
      (s) => findStatusCondition(s.status?.conditions, "Ready")?.reason === "HostNotFound",
    );
    assert.equal(waiting.status?.errorMessage, `BareMetalHost "${ns}/worker-3" not found`);
    assert.deepEqual(waiting.metadata.finalizers ?? [], [], "no finalizer before there is anything on a BMC to clean up");
    assert.equal(stack.fleet.bmc(3).stats().total, 0);
    await registered(ns, "worker-3", 3);
    const sub = await ready(ns, "early");
    assert.equal(sub.status?.errorMessage, undefined);
    assert.deepEqual(sub.metadata.finalizers, [BMC_EVENT_SUBSCRIPTION_FINALIZER]);
  });

  it("deletes at once a subscription whose host never registered: nothing on a BMC to clean up", async () => {
    const ns = await stack.namespace("never-host");
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "never", "worker-nowhere"));
    await waitFor(
      "the missing host to be reported",
      () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "never" }),
      (s) => findStatusCondition(s.status?.conditions, "Ready")?.reason === "HostNotFound",
    );
    await stack.client.delete(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "never" });
    // Nothing held it: the next read finds it gone, without waiting on the operator.
    await assert.rejects(stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "never" }), isNotFound);
  });

  it("says so when the host of a Ready subscription is deleted", async () => {
    const ns = await stack.namespace("host-deleted");
    await registered(ns, "worker-3", 3);
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "events", "worker-3"));
    await ready(ns, "events");
    stack.advanceWallClock(NEW_HOST_GRACE_MS); // past the grace a new subscription gives its host
    await stack.client.delete(BARE_METAL_HOSTS, { namespace: ns, name: "worker-3" });
    const gone = await waitFor(
      "the missing host to be reported",
      () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" }),
      (s) => findStatusCondition(s.status?.conditions, "Ready")?.reason === "HostNotFound",
    );
    assert.match(gone.status?.errorMessage ?? "", /worker-3/);
  });

  it("releases the finalizer with a Warning when the host is gone", async () => {
    const ns = await stack.namespace("host-gone");
    await registered(ns, "worker-4", 4);
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "orphan", "worker-4"));
    await ready(ns, "orphan");
    await stack.client.delete(BARE_METAL_HOSTS, { namespace: ns, name: "worker-4" });
    await stack.client.delete(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "orphan" });
    await gone(ns, "orphan");
    const events = await eventsOf(ns);
    assert.ok(events.some((e) => e.startsWith("Warning SubscriptionLeftBehind") && e.includes("no longer exists")), events.join("\n"));
  });

  it("a burst of 200 resources on one host never has more than one request in flight at that BMC", async () => {
    const ns = await stack.namespace("burst");
    await registered(ns, "worker-5", 5);
    const bmc = stack.fleet.bmcs[5]!;
    const lights = [`${bmc.systemUUID}@system`, `${bmc.chassisUUID}@chassis`, ...bmc.drives.map((d) => `${d.storageId}:${d.driveId}@disk`)];
    stack.fleet.bmc(5).resetStats();
    const creations: Promise<unknown>[] = [];
    for (let i = 0; i < 150; i++) {
      creations.push(stack.create(SERVICE_INDICATORS, indicatorObject(ns, `light-${i}`, "worker-5", lights[i % lights.length]!, true)));
    }
    for (let i = 0; i < 50; i++) creations.push(stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, `sub-${i}`, "worker-5")));
    await Promise.all(creations);
    // One indicator per light switches it; the others of that light are refused as duplicates.
    await waitFor(
      "one Ready indicator per light and every subscription Ready, the other indicators refused",
      () => Promise.all([readyResources(stack.client, ns), duplicateIndicators(stack.client, ns)]),
      ([readyCount, duplicates]) => readyCount === lights.length + 50 && duplicates === 150 - lights.length,
      60_000,
    );
    const stats = stack.fleet.bmc(5).stats();
    assert.equal(stats.peakInFlight, 1, JSON.stringify(stats));
    assert.equal(stack.fleet.bmc(5).subscriptions().length, 50);
    assert.equal(stack.fleet.bmc(5).lights().system, "Lit");
  });
});

describe("BMCEventSubscription identity and messages", () => {
  it("refuses a second resource with the same destination and context on one host, naming the first, until the first goes", async () => {
    const ns = await stack.namespace("duplicates");
    await registered(ns, "worker-7", 7);
    const same = { destination: `${stack.sink.url}/${ns}/shared`, context: "shared" };
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "a-first", "worker-7", same));
    const first = await ready(ns, "a-first");
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "b-second", "worker-7", same));
    const refused = await waitFor(
      "the second one to be refused",
      () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "b-second" }),
      (s) => findStatusCondition(s.status?.conditions, "Ready")?.reason === "DuplicateSubscription",
    );
    assert.match(refused.status?.errorMessage ?? "", new RegExp(`BMCEventSubscription "${ns}/a-first"`));
    assert.equal(refused.status?.error, refused.status?.errorMessage, "BMO's error field carries the same text");
    assert.deepEqual(refused.metadata.finalizers ?? [], []);
    assert.deepEqual(stack.fleet.bmc(7).subscriptions().map((s) => s.id), [first.status?.subscriptionID]);

    // The first goes: the second subscribes (woken by that deletion), and its error is cleared.
    await stack.client.delete(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "a-first" });
    await gone(ns, "a-first");
    const second = await ready(ns, "b-second");
    assert.equal(second.status?.errorMessage, undefined);
    assert.equal(second.status?.error, undefined);
    assert.deepEqual(stack.fleet.bmc(7).subscriptions().map((s) => s.id), [second.status?.subscriptionID]);
  });

  it("never makes a subscribed resource the duplicate of a newer one, whatever their names", async () => {
    const ns = await stack.namespace("duplicates-by-name");
    await registered(ns, "worker-7", 7);
    const same = { destination: `${stack.sink.url}/${ns}/shared`, context: "shared" };
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "z-first", "worker-7", same));
    const first = await ready(ns, "z-first");
    // Likely created in the same second as the first: the creation time cannot tell them apart.
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "a-second", "worker-7", same));
    const refused = await waitFor(
      "the newer one to be refused",
      () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "a-second" }),
      (s) => findStatusCondition(s.status?.conditions, "Ready")?.reason === "DuplicateSubscription",
    );
    assert.match(refused.status?.errorMessage ?? "", /"duplicates-by-name\/z-first"/);
    const still = await stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "z-first" });
    assert.equal(findStatusCondition(still.status?.conditions, "Ready")?.status, "True");
    assert.deepEqual(
      stack.fleet.bmc(7).subscriptions().filter((s) => s.destination === same.destination).map((s) => s.id),
      [first.status?.subscriptionID],
    );
  });

  it("names the namespace of a cross-namespace headers Secret it refuses", async () => {
    const ns = await stack.namespace("cross-namespace");
    await registered(ns, "worker-7", 7);
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "elsewhere", "worker-7", { httpHeadersRef: { name: "hook", namespace: "kube-system" } }));
    const refused = await waitFor(
      "the reference to be refused",
      () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "elsewhere" }),
      (s) => findStatusCondition(s.status?.conditions, "Ready")?.status === "False",
    );
    assert.match(refused.status?.errorMessage ?? "", /spec\.httpHeadersRef\.namespace "kube-system"/);
  });

  it("on a host whose registration failed, shows that failure instead of \"not registered yet\"", async () => {
    const ns = await stack.namespace("bad-credentials");
    const bmc = stack.fleet.bmcs[10]!;
    await stack.create(SECRETS, {
      metadata: { name: "worker-8-bmc", namespace: ns },
      stringData: { username: bmc.username, password: "not-the-password" },
    });
    await stack.create(BARE_METAL_HOSTS, {
      apiVersion: "metal3.io/v1alpha1",
      kind: "BareMetalHost",
      metadata: { name: "worker-8", namespace: ns },
      spec: { online: true, bmc: { address: `redfish+http://${new URL(bmc.url).host}${bmc.systemPath}`, credentialsName: "worker-8-bmc" } },
    });
    const host = await waitFor(
      "the registration to fail",
      () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name: "worker-8" }),
      (h) => findStatusCondition(h.status?.conditions, "Ready")?.status === "False",
    );
    const cause = findStatusCondition(host.status?.conditions, "Ready")!;
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "events", "worker-8"));
    const waiting = await waitFor(
      "the subscription to show the host's failure",
      () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" }),
      (s) => findStatusCondition(s.status?.conditions, "Ready")?.reason === "HostNotReady",
    );
    const message = waiting.status?.errorMessage ?? "";
    assert.ok(message.includes(cause.reason) && message.includes(cause.message), message);
    assert.doesNotMatch(message, /not registered yet/);
    assert.ok(!message.includes("not-the-password"), message);
  });
});

describe("BMCEventSubscription costs", () => {
  it("a subscription created with its host costs one POST, not a listing of the BMC's subscriptions", async () => {
    const ns = await stack.namespace("together");
    stack.fleet.bmc(6).resetStats();
    await Promise.all([
      stack.createHost(ns, "worker-6", 6),
      stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "with-host", "worker-6")),
    ]);
    await ready(ns, "with-host");
    const requests = Object.entries(stack.fleet.bmc(6).stats().byMethodPath).filter(([key]) => /Subscriptions|EventService|^\w+ \/redfish\/v1\/?$/.test(key));
    assert.deepEqual(Object.fromEntries(requests), {
      "GET /redfish/v1/": 1,
      "GET /redfish/v1/EventService": 1,
      "POST /redfish/v1/EventService/Subscriptions": 1,
    });
  });

  it("deleting a Ready subscription costs one DELETE, not a listing", async () => {
    const ns = "together";
    const sub = await ready(ns, "with-host");
    stack.fleet.bmc(6).resetStats();
    await stack.client.delete(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "with-host" });
    await gone(ns, "with-host");
    assert.deepEqual(stack.fleet.bmc(6).stats().byMethodPath, {
      [`DELETE /redfish/v1/EventService/Subscriptions/${sub.status?.subscriptionID}`]: 1,
    });
    assert.deepEqual(stack.fleet.bmc(6).subscriptions(), []);
  });
});

describe("BMCEventSubscription drift check", () => {
  it("re-creates a subscription that a BMC reset lost", async () => {
    await stack.stopOperator();
    await stack.startOperator({ subscriptionCheckIntervalMs: 300 });
    const ns = await stack.namespace("drift");
    await registered(ns, "worker-0", 0);
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "kept", "worker-0"));
    await ready(ns, "kept");
    stack.fleet.bmc(0).reset();
    await waitFor(
      "the subscription to be on the BMC again",
      () => Promise.resolve(stack.fleet.bmc(0).subscriptions()),
      (subs) => subs.length === 1,
    );
    const events = await eventsOf(ns);
    assert.ok(events.some((e) => e.startsWith("Warning SubscriptionLost")), events.join("\n"));
    await stack.stopOperator();
    await stack.startOperator();
  });

  it("re-creates a subscription the BMC deleted after failed deliveries", async () => {
    await stack.stopOperator();
    await stack.startOperator({ subscriptionCheckIntervalMs: 300 });
    const ns = await stack.namespace("drift-deleted");
    await registered(ns, "worker-0", 9);
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "kept", "worker-0"));
    const first = await ready(ns, "kept");
    const bmc = stack.fleet.bmc(9);
    // The BMC terminates the subscription (TerminateAfterRetries) and keeps its others.
    assert.ok(bmc.deleteSubscription(first.status!.subscriptionID!));
    const again = await ready(ns, "kept", (s) => s.status?.subscriptionID !== first.status?.subscriptionID);
    assert.deepEqual(
      bmc.subscriptions().map((s) => s.id),
      [again.status!.subscriptionID],
    );
    const events = await eventsOf(ns);
    assert.ok(events.some((e) => e.startsWith("Warning SubscriptionLost")), events.join("\n"));
    await stack.stopOperator();
    await stack.startOperator();
  });

  it("re-creates a subscription the BMC suspended and cannot resume, and deletes the suspended one", async () => {
    await stack.stopOperator();
    await stack.startOperator({ subscriptionCheckIntervalMs: 300 });
    const ns = await stack.namespace("drift-suspended");
    await registered(ns, "worker-0", 10);
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "kept", "worker-0"));
    const first = await ready(ns, "kept");
    const bmc = stack.fleet.bmcs[10]!;
    const suspendedId = first.status!.subscriptionID!;
    // Suspended as after failed deliveries (SuspendRetries): the BMC keeps it, Status.State Disabled.
    const response = await fetch(`${bmc.url}/redfish/v1/EventService/Subscriptions/${suspendedId}/Actions/EventDestination.SuspendSubscription`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${bmc.username}:${bmc.password}`).toString("base64")}`,
        "content-type": "application/json",
      },
      body: "{}",
    });
    assert.ok(response.ok, `suspending: HTTP ${response.status} ${await response.text()}`);
    assert.deepEqual(
      stack.fleet.bmc(10).subscriptions().map((s) => s.state),
      ["Disabled"],
    );
    const again = await ready(ns, "kept", (s) => s.status?.subscriptionID !== suspendedId && !s.status?.staleSubscriptionIDs?.length);
    assert.deepEqual(
      stack.fleet.bmc(10).subscriptions().map((s) => [s.id, s.state]),
      [[again.status!.subscriptionID, "Enabled"]],
    );
    const events = await eventsOf(ns);
    assert.ok(events.some((e) => e.startsWith("Warning SubscriptionSuspended")), events.join("\n"));
    await stack.stopOperator();
    await stack.startOperator();
  });
});

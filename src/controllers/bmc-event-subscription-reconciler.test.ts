/**
 * The BMCEventSubscription reconciler alone, without HTTP: a fake API server
 * and cache, the fixture provisioner as the BMCs. Every Ready reason and Event
 * it can produce, exactly-once creation, header changes, loss, deletion; the
 * wall clock is the world's.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BMC_EVENT_SUBSCRIPTION_FINALIZER, type BMCEventSubscription } from "../api/bmc-event-subscription.ts";
import { type Provisioner, ProvisionerError, type ProvisionerErrorKind } from "../provisioner/provisioner.ts";
import { findStatusCondition, SECRETS, TerminalError } from "../runtime/index.ts";
import { reconcileContext } from "../runtime/testing/fake-cluster.ts";
import { BMCEventSubscriptionReconciler, SUBSCRIPTIONS_BY_HOST, SUBSCRIPTIONS_BY_SECRET, subscriptionHostKey, subscriptionSecretKeys } from "./bmc-event-subscription-controller.ts";
import { NEW_HOST_GRACE_MS, YOUNG_OBJECT_MS } from "./object-age.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS } from "./resources.ts";
import { NS, World } from "./testing/world.ts";

const HOOK = "https://hooks.example.com/events";

function setUp(checkIntervalMs = 0, provisioner?: (world: World) => Provisioner) {
  const world = new World();
  const subscriptions = world.cluster.cache(BMC_EVENT_SUBSCRIPTIONS);
  subscriptions.addIndex(SUBSCRIPTIONS_BY_HOST, (s) => [subscriptionHostKey(s)]);
  subscriptions.addIndex(SUBSCRIPTIONS_BY_SECRET, subscriptionSecretKeys);
  let clock = 0;
  const reconciler = new BMCEventSubscriptionReconciler({
    client: world.client,
    provisioner: provisioner?.(world) ?? world.provisioner,
    subscriptions,
    hosts: world.hosts,
    secrets: world.secrets,
    access: world.access,
    events: world.events.recorder,
    checkIntervalMs,
    now: () => world.now().getTime() + clock,
    random: () => 0.5,
  });
  const reconcile = async (name = "events") => {
    world.cluster.deliver();
    return reconciler.reconcile({ namespace: NS, name }, reconcileContext("bmceventsubscription"));
  };
  const read = (name = "events") => world.cluster.read(BMC_EVENT_SUBSCRIPTIONS, { namespace: NS, name });
  const readyOf = (name = "events") => findStatusCondition(read(name)?.status?.conditions, "Ready");
  const create = (name = "events", spec: Partial<BMCEventSubscription["spec"]> = {}) =>
    world.cluster.put(BMC_EVENT_SUBSCRIPTIONS, {
      apiVersion: "metal3.io/v1alpha1",
      kind: "BMCEventSubscription",
      metadata: { namespace: NS, name },
      spec: { hostName: "worker-0", destination: HOOK, context: `ctx-${name}`, ...spec },
    });
  const headers = (values: Record<string, string>, name = "hook-headers") =>
    world.cluster.put(SECRETS, { metadata: { namespace: NS, name }, stringData: values });
  return { world, reconciler, reconcile, read, readyOf, create, headers, tick: (ms: number) => (clock += ms) };
}

describe("BMCEventSubscriptionReconciler", () => {
  it("subscribes once: finalizer, one POST, Ready Subscribed, SubscriptionCreated; nothing more when converged", async () => {
    const { world, reconcile, read, readyOf, create } = setUp();
    const { bmc } = world.addHost("worker-0", { registered: true });
    create();
    assert.deepEqual(await reconcile(), {});
    assert.deepEqual(read()!.metadata.finalizers, [BMC_EVENT_SUBSCRIPTION_FINALIZER]);
    assert.equal(readyOf()?.reason, "Subscribed");
    assert.equal(world.provisioner.calls.createSubscription, 1);
    assert.equal(world.provisioner.calls.listSubscriptions, 0, "the first attempt has nothing to look for");
    assert.equal(bmc.subscriptions.get(read()!.status!.subscriptionID!)?.destination, HOOK);
    assert.deepEqual(world.events.events.map((e) => [e.reason, e.action]), [["SubscriptionCreated", "CreateSubscription"]]);
    const calls = world.provisioner.totalCalls;
    const writes = world.cluster.writes.length;
    await reconcile();
    assert.equal(world.provisioner.totalCalls, calls);
    assert.equal(world.cluster.writes.length, writes);
  });

  it("adopts what an earlier attempt created unrecorded (SubscriptionAdopted), or replaces it when it has headers", async () => {
    const { world, reconcile, read, readyOf, create, headers } = setUp();
    const { bmc } = world.addHost("worker-0", { registered: true });
    const sub = create();
    // An earlier process put the finalizer on and created the subscription, then died before recording it.
    world.cluster.put(BMC_EVENT_SUBSCRIPTIONS, { ...sub, metadata: { ...sub.metadata, finalizers: [BMC_EVENT_SUBSCRIPTION_FINALIZER] } });
    const orphan = bmc.addSubscription(HOOK, "ctx-events", {});
    await reconcile();
    assert.equal(read()!.status?.subscriptionID, orphan.id);
    assert.equal(readyOf()?.reason, "Subscribed");
    assert.equal(world.provisioner.calls.createSubscription, 0);
    assert.deepEqual(world.events.reasons, ["SubscriptionAdopted"]);

    headers({ Authorization: "Bearer one" });
    const withHeaders = create("signed", { httpHeadersRef: { name: "hook-headers" } });
    world.cluster.put(BMC_EVENT_SUBSCRIPTIONS, { ...withHeaders, metadata: { ...withHeaders.metadata, finalizers: [BMC_EVENT_SUBSCRIPTION_FINALIZER] } });
    const unproven = bmc.addSubscription(HOOK, "ctx-signed", { Authorization: "Bearer unknown" });
    await reconcile("signed");
    const recorded = read("signed")!.status!.subscriptionID!;
    assert.notEqual(recorded, unproven.id);
    assert.equal(bmc.subscriptions.has(unproven.id), false, "the unproven one is deleted after the new one is recorded");
    assert.deepEqual(bmc.subscriptions.get(recorded)?.httpHeaders, { Authorization: "Bearer one" });
    assert.deepEqual(world.events.reasons, ["SubscriptionAdopted", "SubscriptionCreated", "SubscriptionDeleted"]);
  });

  it("on a BMC that holds one subscription per destination, deletes an unproven unrecorded one before creating its replacement", async () => {
    const { world, reconcile, read, readyOf, create, headers } = setUp();
    const { bmc } = world.addHost("worker-0", { registered: true });
    // As Dell iDRAC: a second subscription to the same destination is refused.
    const createSubscription = world.provisioner.createSubscription.bind(world.provisioner);
    world.provisioner.createSubscription = (host, request, signal) => {
      if ([...bmc.subscriptions.values()].some((s) => s.destination === request.destination)) {
        return Promise.reject(new ProvisionerError("Rejected", "Base.1.12.PropertyValueModified: a subscription to that destination already exists"));
      }
      return createSubscription(host, request, signal);
    };
    headers({ Authorization: "Bearer one" });
    const sub = create("events", { httpHeadersRef: { name: "hook-headers" } });
    // An earlier process put the finalizer on and created the subscription, then died before recording it.
    world.cluster.put(BMC_EVENT_SUBSCRIPTIONS, { ...sub, metadata: { ...sub.metadata, finalizers: [BMC_EVENT_SUBSCRIPTION_FINALIZER] } });
    const unproven = bmc.addSubscription(HOOK, "ctx-events", { Authorization: "Bearer unknown" });
    await reconcile();
    const recorded = read()!.status!.subscriptionID!;
    assert.equal(readyOf()?.reason, "Subscribed");
    assert.deepEqual([...bmc.subscriptions.keys()], [recorded]);
    assert.notEqual(recorded, unproven.id);
    assert.deepEqual(bmc.subscriptions.get(recorded)?.httpHeaders, { Authorization: "Bearer one" });
    assert.deepEqual(read()!.status!.staleSubscriptionIDs ?? [], []);
    assert.deepEqual(world.events.reasons, ["SubscriptionDeleted", "SubscriptionCreated"]);
  });

  it("creates the subscription again when the headers change (HeadersChanged), new before old", async () => {
    const { world, reconcile, read, create, headers } = setUp();
    const { bmc } = world.addHost("worker-0", { registered: true });
    headers({ Authorization: "Bearer one" });
    create("events", { httpHeadersRef: { name: "hook-headers" } });
    await reconcile();
    const first = read()!.status!.subscriptionID!;
    headers({ Authorization: "Bearer two" });
    await reconcile();
    const second = read()!.status!.subscriptionID!;
    assert.notEqual(second, first);
    assert.deepEqual([...bmc.subscriptions.keys()], [second]);
    assert.equal(read()!.status?.staleSubscriptionIDs, undefined);
    assert.deepEqual(world.events.reasons, ["SubscriptionCreated", "HeadersChanged", "SubscriptionCreated", "SubscriptionDeleted"]);
  });

  it("with a check interval, finds a subscription a BMC reset lost (SubscriptionLost) and creates it again", async () => {
    const { world, reconcile, read, create, tick } = setUp(60_000);
    const { bmc } = world.addHost("worker-0", { registered: true });
    create();
    const first = await reconcile();
    assert.equal(first.requeueAfter, 60_000, "the next check, jittered");
    bmc.subscriptions.clear();
    tick(60_000);
    await reconcile();
    assert.equal(bmc.subscriptions.size, 1);
    assert.equal(bmc.subscriptions.has(read()!.status!.subscriptionID!), true);
    assert.deepEqual(world.events.reasons, ["SubscriptionCreated", "SubscriptionLost", "SubscriptionCreated"]);
  });

  /**
   * The world's provisioner, but its BMC lists the IDs in `suspended` as
   * suspended and answers a resume with `resume` (the fixture's BMCs never suspend).
   */
  function suspending(resume: (id: string) => Promise<"resumed" | "unsupported" | "gone">) {
    const suspended = new Set<string>();
    const resumes: string[] = [];
    const wrap = (world: World): Provisioner => {
      const base = world.provisioner;
      return new Proxy(base, {
        get(target, key) {
          if (key === "listSubscriptions") {
            return async (...args: Parameters<Provisioner["listSubscriptions"]>) =>
              (await target.listSubscriptions(...args)).map((s) => (suspended.has(s.id) ? { ...s, suspended: true } : s));
          }
          if (key === "resumeSubscription") {
            return (_host: unknown, id: string) => {
              resumes.push(id);
              return resume(id);
            };
          }
          const value: unknown = Reflect.get(target, key, target);
          return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    };
    return { suspended, resumes, wrap };
  }

  /** A subscription created on worker-0's BMC, which then suspends it; returns its ID, the check due. */
  async function createdThenSuspended(set: ReturnType<typeof setUp>, bmcs: ReturnType<typeof suspending>): Promise<string> {
    set.world.addHost("worker-0", { registered: true });
    set.create();
    await set.reconcile();
    const id = set.read()!.status!.subscriptionID!;
    bmcs.suspended.add(id);
    set.tick(60_000);
    return id;
  }

  it("resumes a subscription the BMC suspended: the same ID, no status write, a SubscriptionResumed Warning", async () => {
    const bmcs = suspending((id) => (bmcs.suspended.delete(id), Promise.resolve("resumed" as const)));
    const set = setUp(60_000, bmcs.wrap);
    const { world, reconcile, read, readyOf } = set;
    const id = await createdThenSuspended(set, bmcs);
    const writes = world.cluster.writes.length;
    assert.equal((await reconcile()).requeueAfter, 60_000);
    assert.deepEqual(bmcs.resumes, [id]);
    assert.equal(read()!.status!.subscriptionID, id);
    assert.equal(readyOf()?.reason, "Subscribed");
    assert.equal(world.cluster.writes.length, writes, "nothing written to the API");
    assert.equal(world.provisioner.calls.createSubscription, 1);
    assert.equal(world.provisioner.calls.deleteSubscription, 0);
    assert.deepEqual(world.events.events.map((e) => [e.type, e.reason]), [["Normal", "SubscriptionCreated"], ["Warning", "SubscriptionResumed"]]);
  });

  it("creates a suspended subscription again as lost (SubscriptionLost) when the BMC deleted it before the resume", async () => {
    let world!: World;
    const bmcs = suspending(() => Promise.resolve("gone" as const));
    const set = setUp(60_000, (w) => ((world = w), bmcs.wrap(w)));
    const { bmc } = world.addHost("worker-0", { registered: true });
    set.create();
    await set.reconcile();
    const old = set.read()!.status!.subscriptionID!;
    bmcs.suspended.add(old);
    // Between the check's listing and the resume, the BMC let it go.
    const list = world.provisioner.listSubscriptions.bind(world.provisioner);
    world.provisioner.listSubscriptions = async (...args) => {
      const listed = await list(...args);
      bmc.subscriptions.delete(old);
      return listed;
    };
    set.tick(60_000);
    await set.reconcile();
    assert.deepEqual(bmcs.resumes, [old]);
    const now = set.read()!.status!.subscriptionID!;
    assert.notEqual(now, old);
    assert.deepEqual([...bmc.subscriptions.keys()], [now]);
    assert.deepEqual(world.events.reasons, ["SubscriptionCreated", "SubscriptionLost", "SubscriptionCreated"]);
  });

  it("reports a resume that failed (BMCUnavailable) and keeps the ID on record, then resumes it on the retry", async () => {
    let fail = true;
    const bmcs = suspending((id) => {
      if (fail) return Promise.reject(new ProvisionerError("Transient", "redfish BMC 192.0.2.1: resume subscription: HTTP 503"));
      bmcs.suspended.delete(id);
      return Promise.resolve("resumed" as const);
    });
    const set = setUp(60_000, bmcs.wrap);
    const { world, reconcile, read, readyOf } = set;
    const id = await createdThenSuspended(set, bmcs);
    await assert.rejects(reconcile());
    assert.equal(readyOf()?.reason, "BMCUnavailable");
    assert.equal(read()!.status!.subscriptionID, id, "still on record: the BMC holds it, suspended");
    fail = false;
    await reconcile();
    assert.deepEqual(bmcs.resumes, [id, id]);
    assert.equal(read()!.status!.subscriptionID, id);
    assert.equal(readyOf()?.reason, "Subscribed");
    assert.equal(world.provisioner.calls.createSubscription, 1);
    assert.deepEqual(world.events.reasons, ["SubscriptionCreated", "BMCUnavailable", "SubscriptionResumed"]);
  });

  it("refuses a second subscription with the same destination and context (DuplicateSubscription), with a Warning", async () => {
    const { world, reconcile, readyOf, create } = setUp();
    world.addHost("worker-0", { registered: true });
    create("first", { context: "same" });
    world.advance(1_000);
    create("second", { context: "same" });
    await reconcile("first");
    await assert.rejects(reconcile("second"));
    assert.equal(readyOf("second")?.reason, "DuplicateSubscription");
    assert.match(readyOf("second")?.message ?? "", /BMCEventSubscription "fleet\/first" already subscribes/);
    assert.equal(world.provisioner.calls.createSubscription, 1);
    assert.deepEqual(world.events.events.map((e) => [e.type, e.reason]), [["Normal", "SubscriptionCreated"], ["Warning", "DuplicateSubscription"]]);
  });

  it("waits for its host without an Event: quietly while young, then HostNotFound or HostNotReady", async () => {
    const { world, reconcile, readyOf, create } = setUp();
    create();
    const early = await reconcile();
    assert.ok((early.requeueAfter ?? 0) > 0 && early.requeueAfter! <= NEW_HOST_GRACE_MS);
    world.advance(NEW_HOST_GRACE_MS);
    await assert.rejects(reconcile(), /not found/);
    assert.equal(readyOf()?.reason, "HostNotFound");
    world.addHost("worker-0");
    world.advance(YOUNG_OBJECT_MS);
    await assert.rejects(reconcile(), /not registered yet/);
    assert.equal(readyOf()?.reason, "HostNotReady");
    assert.deepEqual(world.events.reasons, [], "waiting is said in the condition only");
    assert.equal(world.provisioner.totalCalls, 0);
  });

  it("reports a missing headers Secret (SecretNotFound), invalid headers (InvalidHeaders, terminal) and another namespace's Secret (Invalid)", async () => {
    const { world, reconcile, readyOf, create, headers, read } = setUp();
    world.addHost("worker-0", { registered: true });
    create("events", { httpHeadersRef: { name: "hook-headers" } });
    await assert.rejects(reconcile());
    assert.equal(readyOf()?.reason, "SecretNotFound");
    headers({ "Content-Length": "1" });
    await assert.rejects(reconcile(), TerminalError);
    assert.equal(readyOf()?.reason, "InvalidHeaders");
    const sub = read()!;
    world.cluster.put(BMC_EVENT_SUBSCRIPTIONS, { ...sub, spec: { ...sub.spec, httpHeadersRef: { name: "hook-headers", namespace: "elsewhere" } } });
    await assert.rejects(reconcile(), TerminalError);
    assert.equal(readyOf()?.reason, "Invalid");
    assert.deepEqual(world.events.reasons, ["SecretNotFound", "InvalidHeaders", "Invalid"]);
    assert.equal(world.provisioner.totalCalls, 0);
  });

  const failures: [ProvisionerErrorKind, string][] = [
    ["Transient", "BMCUnavailable"],
    ["Rejected", "BMCRejected"],
    ["Unauthorized", "BMCUnauthorized"],
    ["Unsupported", "UnsupportedBMC"],
    ["HostNotFound", "HostNotRegistered"],
    ["ProvisionerUnavailable", "ProvisionerUnavailable"],
  ];
  for (const [kind, reason] of failures) {
    it(`reports a BMC failure ${kind} as ${reason} with a Warning, and lists before creating on the retry`, async () => {
      const { world, reconcile, readyOf, create } = setUp();
      world.addHost("worker-0", { registered: true });
      create();
      world.provisioner.failNext(kind, { operation: "createSubscription" });
      await assert.rejects(reconcile());
      assert.equal(readyOf()?.reason, reason);
      assert.deepEqual(world.events.events.map((e) => [e.type, e.reason, e.action]), [["Warning", reason, "CreateSubscription"]]);
      await reconcile();
      assert.equal(readyOf()?.reason, "Subscribed");
      assert.equal(world.provisioner.calls.listSubscriptions, 1, "the failed POST may have reached the BMC: looked for first");
    });
  }

  it("deletes its subscription with one DELETE (SubscriptionDeleted), then releases the finalizer", async () => {
    const { world, reconcile, read, create } = setUp();
    const { bmc } = world.addHost("worker-0", { registered: true });
    create();
    await reconcile();
    world.cluster.delete(BMC_EVENT_SUBSCRIPTIONS, { namespace: NS, name: "events" });
    world.provisioner.resetCalls();
    await reconcile();
    assert.equal(read(), undefined);
    assert.equal(bmc.subscriptions.size, 0);
    assert.deepEqual({ list: world.provisioner.calls.listSubscriptions, delete: world.provisioner.calls.deleteSubscription }, { list: 0, delete: 1 });
    assert.deepEqual(world.events.reasons, ["SubscriptionCreated", "SubscriptionDeleted"]);
  });

  it("reports the host's missing credentials (CredentialsMissing) and an unexpected failure (ReconcileError)", async () => {
    const { world, reconcile, readyOf, create } = setUp();
    world.addHost("worker-0", { registered: true });
    world.cluster.delete(SECRETS, { namespace: NS, name: "worker-0-bmc" });
    create();
    await assert.rejects(reconcile());
    assert.equal(readyOf()?.reason, "CredentialsMissing");
    world.addHost("worker-1", { registered: true });
    create("other", { hostName: "worker-1" });
    world.provisioner.createSubscription = () => Promise.reject(new Error("something nobody expected"));
    await assert.rejects(reconcile("other"));
    assert.equal(readyOf("other")?.reason, "ReconcileError");
    assert.deepEqual(world.events.reasons, ["CredentialsMissing", "ReconcileError"]);
  });

  it("says a recorded subscription a BMC reset took was already gone when deleting (SubscriptionDeleted)", async () => {
    const { world, reconcile, read, create } = setUp();
    const { bmc } = world.addHost("worker-0", { registered: true });
    create();
    await reconcile();
    bmc.subscriptions.clear();
    world.cluster.delete(BMC_EVENT_SUBSCRIPTIONS, { namespace: NS, name: "events" });
    await reconcile();
    assert.equal(read(), undefined);
    assert.match(world.events.events.at(-1)?.note ?? "", /was already gone from the BMC/);
    assert.deepEqual(world.events.reasons, ["SubscriptionCreated", "SubscriptionDeleted"]);
  });

  it("keeps the finalizer when the DELETE fails (DeleteFailed), and releases with SubscriptionLeftBehind when the host is gone", async () => {
    const { world, reconcile, read, readyOf, create } = setUp();
    world.addHost("worker-0", { registered: true });
    create();
    await reconcile();
    world.cluster.delete(BMC_EVENT_SUBSCRIPTIONS, { namespace: NS, name: "events" });
    world.provisioner.failNext("Transient", { operation: "deleteSubscription" });
    await assert.rejects(reconcile());
    assert.ok(read());
    assert.equal(readyOf()?.reason, "DeleteFailed");
    assert.match(readyOf()?.message ?? "", /^deleting the subscription failed: /);
    world.cluster.delete(BARE_METAL_HOSTS, { namespace: NS, name: "worker-0" });
    await reconcile();
    assert.equal(read(), undefined);
    assert.deepEqual(world.events.events.map((e) => [e.reason, e.action]), [
      ["SubscriptionCreated", "CreateSubscription"],
      ["DeleteFailed", "DeleteSubscription"],
      ["SubscriptionLeftBehind", "DeleteSubscription"],
    ]);
  });

  it("never records a subscription on a copy somebody changed meanwhile: the reconcile decides again, and adopts what it created", async () => {
    const { world, reconciler, reconcile, read, readyOf, create } = setUp();
    const { bmc } = world.addHost("worker-0", { registered: true });
    create();
    await reconcile();
    // A second subscription, whose ID-recording write meets a concurrent label change.
    create("late");
    world.cluster.deliver();
    let raced = false;
    world.cluster.beforeWrite = (write) => {
      if (write.verb !== "patchStatus" || write.key !== `${NS}/late`) return;
      raced = true;
      world.cluster.beforeWrite = undefined;
      const late = read("late")!;
      world.cluster.put(BMC_EVENT_SUBSCRIPTIONS, { ...late, metadata: { ...late.metadata, labels: { team: "a" } } });
    };
    const result = await reconciler.reconcile({ namespace: NS, name: "late" }, reconcileContext());
    assert.ok(raced && (result.requeue || (result.requeueAfter ?? 0) > 0));
    assert.equal(read("late")!.status?.subscriptionID, undefined, "nothing recorded on the older copy");
    assert.equal(read("late")!.metadata.labels?.team, "a");
    await reconcile("late");
    assert.equal(readyOf("late")?.reason, "Subscribed");
    assert.equal(bmc.subscriptions.size, 2, "exactly one each: the unrecorded one was adopted, not created again");
  });
});

/**
 * The BareMetalHost reconciler alone, without HTTP: a fake API server and
 * cache, the fixture provisioner as the BMCs. Every Ready reason and Event it
 * can produce, the stale-cache guard and conditional writes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BareMetalHost } from "../api/baremetalhost.ts";
import type { ProvisionerErrorKind } from "../provisioner/provisioner.ts";
import { findStatusCondition, SECRETS, TerminalError } from "../runtime/index.ts";
import { reconcileContext } from "../runtime/testing/fake-cluster.ts";
import { BareMetalHostReconciler, REFRESH_ANNOTATION } from "./baremetalhost-controller.ts";
import { BARE_METAL_HOSTS } from "./resources.ts";
import { NS, World } from "./testing/world.ts";

function setUp() {
  const world = new World();
  const reconciler = new BareMetalHostReconciler({
    client: world.client,
    provisioner: world.provisioner,
    hosts: world.hosts,
    access: world.access,
    events: world.events.recorder,
  });
  const reconcile = async (name = "worker-0") => {
    world.cluster.deliver();
    return reconciler.reconcile({ namespace: NS, name }, reconcileContext("baremetalhost"));
  };
  const read = (name = "worker-0") => world.cluster.read(BARE_METAL_HOSTS, { namespace: NS, name })!;
  const readyOf = (host: BareMetalHost) => findStatusCondition(host.status?.conditions, "Ready");
  return { world, reconciler, reconcile, read, readyOf };
}

describe("BareMetalHostReconciler", () => {
  it("registers a host: Ready Registered, its lights, one Registered Event; nothing more when nothing changed", async () => {
    const { world, reconcile, read, readyOf } = setUp();
    const { bmc } = world.addHost("worker-0");
    assert.deepEqual(await reconcile(), {});
    const host = read();
    assert.equal(readyOf(host)?.status, "True");
    assert.equal(readyOf(host)?.reason, "Registered");
    assert.equal(host.status?.operationalStatus, "OK");
    assert.equal(host.status?.errorMessage, "");
    assert.equal(host.status?.provisioning?.ID, bmc.systemUUID);
    assert.deepEqual(host.status?.hardware?.indicators, bmc.indicators());
    assert.deepEqual(world.events.reasons, ["Registered"]);
    assert.equal(world.provisioner.calls.registerHost, 1);

    await reconcile();
    assert.equal(world.provisioner.calls.registerHost, 1, "up to date: the BMC is not read again");
    assert.deepEqual(world.events.reasons, ["Registered"]);
  });

  it("reads the BMC again for the refresh annotation, and removes it with a conditional patch", async () => {
    const { world, reconcile, read } = setUp();
    world.addHost("worker-0");
    await reconcile();
    const host = read();
    world.cluster.put(BARE_METAL_HOSTS, { ...host, metadata: { ...host.metadata, annotations: { [REFRESH_ANNOTATION]: "now" } } });
    await reconcile();
    assert.equal(world.provisioner.calls.registerHost, 2);
    assert.equal(read().metadata.annotations?.[REFRESH_ANNOTATION], undefined);
    const removal = world.cluster.writes.findLast((w) => w.verb === "patch")!;
    assert.ok((removal.body as { metadata: { resourceVersion?: string } }).metadata.resourceVersion, "the patch carries the resourceVersion");
  });

  const failures: [ProvisionerErrorKind, string, boolean][] = [
    ["HostNotFound", "HostNotRegistered", false],
    ["IndicatorNotFound", "UnknownIndicator", true],
    ["Rejected", "BMCRejected", false],
    ["Unauthorized", "BMCUnauthorized", false],
    ["Unsupported", "UnsupportedBMC", true],
    ["Transient", "BMCUnavailable", false],
    ["ProvisionerUnavailable", "ProvisionerUnavailable", false],
  ];
  for (const [kind, reason, terminal] of failures) {
    it(`reports a provisioner failure ${kind} as Ready False ${reason} with a Warning Event${terminal ? ", not retried" : ", retried"}`, async () => {
      const { world, reconcile, read, readyOf } = setUp();
      world.addHost("worker-0");
      world.provisioner.failNext(kind, { message: "the BMC said no" });
      const failed = await reconcile().then(
        () => assert.fail("the reconcile should fail"),
        (error: unknown) => error,
      );
      assert.equal(failed instanceof TerminalError, terminal);
      const host = read();
      assert.equal(readyOf(host)?.status, "False");
      assert.equal(readyOf(host)?.reason, reason);
      assert.equal(host.status?.operationalStatus, "error");
      assert.match(host.status?.errorMessage ?? "", /the BMC said no/);
      assert.deepEqual(world.events.events.map((e) => [e.type, e.reason, e.action]), [["Warning", reason, "Register"]]);
    });
  }

  it("reports missing credentials (CredentialsMissing), a host without an address (InvalidSpec, terminal) and wrong ones (BMCUnauthorized), without the password", async () => {
    const { world, reconcile, read, readyOf } = setUp();
    const { bmc } = world.addHost("worker-0");
    world.cluster.delete(SECRETS, { namespace: NS, name: "worker-0-bmc" });
    await assert.rejects(reconcile());
    assert.equal(readyOf(read())?.reason, "CredentialsMissing");

    const host = read();
    world.cluster.put(BARE_METAL_HOSTS, { ...host, spec: { ...host.spec, bmc: { ...host.spec.bmc!, address: "" } } });
    await assert.rejects(reconcile(), TerminalError);
    assert.equal(readyOf(read())?.reason, "InvalidSpec");

    const again = world.addHost("worker-1");
    again.bmc.password = "changed-on-the-bmc";
    await assert.rejects(reconcile("worker-1"));
    const refused = read("worker-1");
    assert.equal(readyOf(refused)?.reason, "BMCUnauthorized");
    assert.ok(!JSON.stringify(refused.status).includes(bmc.password) && !world.events.events.some((e) => e.note?.includes("password")));
    assert.deepEqual(world.events.reasons, ["CredentialsMissing", "InvalidSpec", "BMCUnauthorized"]);
  });

  it("reports a Secret without a password (InvalidCredentials) and an unexpected failure (ReconcileError), both retried", async () => {
    const { world, reconcile, readyOf, read } = setUp();
    world.addHost("worker-0");
    world.cluster.put(SECRETS, { metadata: { namespace: NS, name: "worker-0-bmc" }, stringData: { username: "admin" } });
    const noPassword = await reconcile().then(() => undefined, (error: unknown) => error);
    assert.ok(noPassword instanceof Error && !(noPassword instanceof TerminalError));
    assert.equal(readyOf(read())?.reason, "InvalidCredentials");
    assert.match(readyOf(read())?.message ?? "", /has no "password" key/);

    world.addHost("worker-1");
    world.provisioner.registerHost = () => Promise.reject(new Error("something nobody expected"));
    const unexpected = await reconcile("worker-1").then(() => undefined, (error: unknown) => error);
    assert.ok(unexpected instanceof Error && !(unexpected instanceof TerminalError));
    assert.equal(readyOf(read("worker-1"))?.reason, "ReconcileError");
    assert.deepEqual(world.events.reasons, ["InvalidCredentials", "ReconcileError"]);
  });

  it("does nothing for a host being deleted or gone", async () => {
    const { world, reconcile } = setUp();
    assert.deepEqual(await reconcile("nobody"), {});
    world.addHost("worker-0");
    world.cluster.put(BARE_METAL_HOSTS, { ...world.cluster.read(BARE_METAL_HOSTS, { namespace: NS, name: "worker-0" })!, metadata: { namespace: NS, name: "worker-0", finalizers: ["someone.else/keep"] } });
    world.cluster.delete(BARE_METAL_HOSTS, { namespace: NS, name: "worker-0" });
    assert.deepEqual(await reconcile(), {});
    assert.equal(world.provisioner.totalCalls, 0);
    assert.equal(world.cluster.writes.length, 0);
  });

  it("puts off a reconcile whose cache is behind its own write, and passes the update that catches up", async () => {
    const { world, reconciler, read } = setUp();
    world.addHost("worker-0");
    world.cluster.deliver();
    const ctx = reconcileContext();
    await reconciler.reconcile({ namespace: NS, name: "worker-0" }, ctx);
    const behind = world.hosts.get({ namespace: NS, name: "worker-0" })!;
    // The cache still shows the copy before the status write: the next reconcile must not act on it.
    const result = await reconciler.reconcile({ namespace: NS, name: "worker-0" }, ctx);
    assert.ok((result.requeueAfter ?? 0) > 0, "put off");
    assert.equal(world.provisioner.calls.registerHost, 1, "nothing done on the stale copy");
    assert.equal(reconciler.cacheCaughtUp.update!(behind, read()), true, "the write's watch event wakes it");
  });

  it("never overwrites a concurrent writer's status: the write is conditional, and the reconcile decides again on the newer copy", async () => {
    const { world, reconciler, reconcile, read, readyOf } = setUp();
    world.addHost("worker-0");
    world.cluster.deliver();
    // Another writer changes the host's status while the BMC is read.
    world.cluster.beforeWrite = (write) => {
      if (write.verb !== "patchStatus") return;
      world.cluster.beforeWrite = undefined;
      const host = read();
      world.cluster.put(BARE_METAL_HOSTS, { ...host, status: { ...host.status, hardware: { cpu: { count: 64 } } } as BareMetalHost["status"] });
    };
    const result = await reconciler.reconcile({ namespace: NS, name: "worker-0" }, reconcileContext());
    assert.ok(result.requeue || (result.requeueAfter ?? 0) > 0, "decides again later");
    assert.equal(readyOf(read()), undefined, "the refused write changed nothing");
    assert.deepEqual(world.events.reasons, [], "no Event for a write that did not happen");
    assert.equal(reconciler.cacheCaughtUp.update!(world.hosts.get({ namespace: NS, name: "worker-0" })!, read()), true, "the newer copy wakes it");
    await reconcile();
    const host = read();
    assert.equal(readyOf(host)?.reason, "Registered");
    assert.deepEqual((host.status?.hardware as { cpu?: unknown }).cpu, { count: 64 }, "the other writer's field is kept");
  });
});

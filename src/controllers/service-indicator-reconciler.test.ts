/**
 * The BareMetalHostServiceIndicator reconciler alone, without HTTP: a fake
 * API server and cache, the fixture provisioner as the BMCs. Every Ready
 * reason and Event it can produce; the wall clock is the world's.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SERVICE_INDICATOR_FINALIZER } from "../api/baremetalhost-service-indicator.ts";
import type { ProvisionerErrorKind } from "../provisioner/provisioner.ts";
import { findStatusCondition, TerminalError } from "../runtime/index.ts";
import { reconcileContext } from "../runtime/testing/fake-cluster.ts";
import { NEW_HOST_GRACE_MS, YOUNG_OBJECT_MS } from "./object-age.ts";
import { BARE_METAL_HOSTS, SERVICE_INDICATORS } from "./resources.ts";
import { INDICATORS_BY_HOST, INDICATORS_BY_LIGHT, indicatorHostKey, indicatorLightKey, ServiceIndicatorReconciler } from "./service-indicator-controller.ts";
import { NS, ready, World } from "./testing/world.ts";

function setUp() {
  const world = new World();
  const indicators = world.cluster.cache(SERVICE_INDICATORS);
  indicators.addIndex(INDICATORS_BY_HOST, (i) => [indicatorHostKey(i)]);
  indicators.addIndex(INDICATORS_BY_LIGHT, (i) => [indicatorLightKey(i)]);
  const reconciler = new ServiceIndicatorReconciler({
    client: world.client,
    provisioner: world.provisioner,
    indicators,
    hosts: world.hosts,
    access: world.access,
    events: world.events.recorder,
    now: world.now,
  });
  const reconcile = async (name = "locate") => {
    world.cluster.deliver();
    return reconciler.reconcile({ namespace: NS, name }, reconcileContext("baremetalhostserviceindicator"));
  };
  const read = (name = "locate") => world.cluster.read(SERVICE_INDICATORS, { namespace: NS, name });
  const readyOf = (name = "locate") => findStatusCondition(read(name)?.status?.conditions, "Ready");
  const create = (id: string, on: boolean, name = "locate", host = "worker-0") =>
    world.cluster.put(SERVICE_INDICATORS, {
      apiVersion: "metal3.io/v1alpha1",
      kind: "BareMetalHostServiceIndicator",
      metadata: { namespace: NS, name },
      spec: { hostRef: { name: host }, id, on },
    });
  const change = (on: boolean, name = "locate") => {
    const object = read(name)!;
    world.cluster.put(SERVICE_INDICATORS, { ...object, spec: { ...object.spec, on } });
  };
  return { world, reconciler, reconcile, read, readyOf, create, change };
}

/** A registered host and the ID of its chassis light. */
function registeredHost(world: World, name = "worker-0") {
  const { bmc } = world.addHost(name, { registered: true });
  const chassis = bmc.indicators().find((i) => i.component === "chassis")!.id;
  return { bmc, chassis };
}

describe("ServiceIndicatorReconciler", () => {
  it("turns a light on (LightOn, one Event), does nothing once converged, turns it off (LightOff)", async () => {
    const { world, reconcile, read, readyOf, create, change } = setUp();
    const { bmc, chassis } = registeredHost(world);
    create(chassis, true);
    assert.deepEqual(await reconcile(), {});
    assert.equal(bmc.lights.get(chassis)!.state, "on");
    assert.deepEqual(read()!.metadata.finalizers, [SERVICE_INDICATOR_FINALIZER]);
    assert.equal(readyOf()?.reason, "LightOn");
    assert.equal(read()!.status?.on, true);
    assert.deepEqual(world.events.events.map((e) => [e.reason, e.action]), [["LightOn", "TurnOn"]]);

    const calls = world.provisioner.totalCalls;
    const writes = world.cluster.writes.length;
    await reconcile();
    assert.equal(world.provisioner.totalCalls, calls, "converged: no BMC call");
    assert.equal(world.cluster.writes.length, writes, "converged: no API write");

    change(false);
    await reconcile();
    assert.equal(bmc.lights.get(chassis)!.state, "off");
    assert.equal(readyOf()?.reason, "LightOff");
    assert.deepEqual(world.events.reasons, ["LightOn", "LightOff"]);
  });

  it("reads before it switches: a light already as asked is not written, and no Event says it was switched", async () => {
    const { world, reconcile, readyOf, create } = setUp();
    const { chassis } = registeredHost(world);
    create(chassis, false);
    await reconcile();
    assert.equal(world.provisioner.calls.getIndicator, 1);
    assert.equal(world.provisioner.calls.setIndicator, 0);
    assert.equal(readyOf()?.reason, "LightOff");
    assert.deepEqual(world.events.reasons, []);
  });

  it("refuses a second indicator of the same light (DuplicateIndicator, one Event) and leaves the light to the first", async () => {
    const { world, reconcile, readyOf, create } = setUp();
    const { bmc, chassis } = registeredHost(world);
    create(chassis, true, "first");
    world.advance(1_000);
    create(chassis, false, "second");
    await reconcile("first");
    await reconcile("second");
    await reconcile("second");
    assert.equal(readyOf("second")?.reason, "DuplicateIndicator");
    assert.equal(bmc.lights.get(chassis)!.state, "on");
    assert.deepEqual(world.events.reasons, ["LightOn", "DuplicateIndicator"], "the refusal is told once");
  });

  it("waits quietly for a young host's registration and for a host applied with it; then says HostNotReady or HostNotFound", async () => {
    const { world, reconcile, readyOf, create } = setUp();
    create("chassis-x@chassis", true);
    const early = await reconcile();
    assert.ok((early.requeueAfter ?? 0) > 0 && early.requeueAfter! <= NEW_HOST_GRACE_MS, "a moment's grace for a host applied with it");
    assert.equal(world.cluster.writes.length, 0);
    world.advance(NEW_HOST_GRACE_MS);
    assert.deepEqual(await reconcile(), {}, "not retried: the host's arrival requeues it");
    assert.equal(readyOf()?.reason, "HostNotFound");

    world.addHost("worker-0");
    assert.deepEqual(await reconcile(), {});
    assert.equal(readyOf()?.reason, "HostNotFound", "registering, young: nothing written");
    world.advance(YOUNG_OBJECT_MS);
    await reconcile();
    assert.equal(readyOf()?.reason, "HostNotReady");
    assert.deepEqual(world.events.reasons, ["HostNotFound", "HostNotReady"]);
  });

  it("names the cause when the host's registration failed", async () => {
    const { world, reconcile, readyOf, create } = setUp();
    const { host } = world.addHost("worker-0");
    world.cluster.put(BARE_METAL_HOSTS, { ...host, status: { conditions: [ready("False", "BMCUnauthorized", "the BMC refused the credentials")] } });
    create("x@chassis", true);
    assert.deepEqual(await reconcile(), {});
    assert.equal(readyOf()?.reason, "BMCUnauthorized");
    assert.match(readyOf()?.message ?? "", /could not be registered \(BMCUnauthorized\): the BMC refused the credentials/);
  });

  it("refuses, terminally (Invalid), a light the host does not have, a read-only one and another namespace's host", async () => {
    const { world, reconcile, readyOf, read, create } = setUp();
    registeredHost(world);
    create("nonsense@chassis", true);
    await assert.rejects(reconcile(), TerminalError);
    assert.equal(readyOf()?.reason, "Invalid");
    assert.match(readyOf()?.message ?? "", /is not an indicator of BareMetalHost "worker-0"; its indicators are: /);

    world.addHost("worker-1", { registered: true });
    const host = world.cluster.read(BARE_METAL_HOSTS, { namespace: NS, name: "worker-1" })!;
    const lights = host.status!.hardware!.indicators!.map((i) => ({ ...i, readonly: i.component === "system" }));
    world.cluster.put(BARE_METAL_HOSTS, { ...host, status: { ...host.status, hardware: { indicators: lights } } });
    create(lights.find((i) => i.component === "system")!.id, true, "system", "worker-1");
    await assert.rejects(reconcile("system"), TerminalError);
    assert.match(readyOf("system")?.message ?? "", /read-only/);

    const other = read()!;
    world.cluster.put(SERVICE_INDICATORS, { ...other, spec: { ...other.spec, hostRef: { name: "worker-0", namespace: "elsewhere" } } });
    await assert.rejects(reconcile(), /spec\.hostRef\.namespace "elsewhere"/);
  });

  const failures: [ProvisionerErrorKind, string][] = [
    ["Transient", "BMCUnavailable"],
    ["Unauthorized", "BMCUnauthorized"],
    ["Rejected", "BMCRejected"],
    ["HostNotFound", "HostNotRegistered"],
    ["ProvisionerUnavailable", "ProvisionerUnavailable"],
  ];
  for (const [kind, reason] of failures) {
    it(`reports a BMC failure ${kind} as ${reason} with a Warning Event, keeps the finalizer, and recovers`, async () => {
      const { world, reconcile, read, readyOf, create } = setUp();
      const { bmc, chassis } = registeredHost(world);
      create(chassis, true);
      world.provisioner.failNext(kind, { operation: "setIndicator" });
      await assert.rejects(reconcile());
      assert.equal(readyOf()?.reason, reason);
      assert.deepEqual(read()!.metadata.finalizers, [SERVICE_INDICATOR_FINALIZER], "the finalizer went on before the switch");
      assert.deepEqual(world.events.events.map((e) => [e.type, e.reason, e.action]), [["Warning", reason, "SwitchLight"]]);
      await reconcile();
      assert.equal(readyOf()?.reason, "LightOn");
      assert.equal(bmc.lights.get(chassis)!.state, "on");
    });
  }

  for (const [kind, reason] of [["IndicatorNotFound", "UnknownIndicator"], ["Unsupported", "UnsupportedBMC"]] as const) {
    it(`reports ${kind} from the BMC as ${reason}, terminally: only a change can help`, async () => {
      const { world, reconcile, readyOf, create } = setUp();
      const { chassis } = registeredHost(world);
      create(chassis, true);
      world.provisioner.failNext(kind, { operation: "getIndicator" });
      await assert.rejects(reconcile(), TerminalError);
      assert.equal(readyOf()?.reason, reason);
      assert.deepEqual(world.events.reasons, [reason]);
    });
  }

  it("turns the light off before releasing a deleted indicator (LightOff TurnOff), and not when its record proves it off", async () => {
    const { world, reconcile, read, create, change } = setUp();
    const { bmc, chassis } = registeredHost(world);
    create(chassis, true);
    await reconcile();
    world.cluster.delete(SERVICE_INDICATORS, { namespace: NS, name: "locate" });
    await reconcile();
    assert.equal(bmc.lights.get(chassis)!.state, "off");
    assert.equal(read(), undefined, "released");
    assert.deepEqual(world.events.events.map((e) => [e.reason, e.action]), [["LightOn", "TurnOn"], ["LightOff", "TurnOff"]]);

    create(chassis, true, "again");
    await reconcile("again");
    change(false, "again");
    await reconcile("again");
    const calls = world.provisioner.totalCalls;
    world.cluster.delete(SERVICE_INDICATORS, { namespace: NS, name: "again" });
    await reconcile("again");
    assert.equal(read("again"), undefined);
    assert.equal(world.provisioner.totalCalls, calls, "proven off: no BMC call");
  });

  it("releases a deleted indicator whose host is gone, with a LightNotTurnedOff Warning; keeps one whose BMC fails", async () => {
    const { world, reconcile, read, readyOf, create } = setUp();
    const { chassis } = registeredHost(world);
    create(chassis, true);
    await reconcile();
    world.provisioner.failNext("Transient", { operation: "getIndicator" });
    world.cluster.delete(SERVICE_INDICATORS, { namespace: NS, name: "locate" });
    await assert.rejects(reconcile());
    assert.ok(read(), "kept while the BMC fails");
    assert.equal(readyOf()?.reason, "BMCUnavailable");
    world.cluster.delete(BARE_METAL_HOSTS, { namespace: NS, name: "worker-0" });
    await reconcile();
    assert.equal(read(), undefined);
    assert.deepEqual(world.events.reasons, ["LightOn", "BMCUnavailable", "LightNotTurnedOff"]);
  });

  it("switches nothing when the finalizer cannot be written, and decides again after a concurrent change", async () => {
    const { world, reconciler, reconcile, readyOf, create, change } = setUp();
    const { bmc, chassis } = registeredHost(world);
    create(chassis, true);
    world.cluster.deliver();
    world.cluster.beforeWrite = (write) => {
      if (write.verb !== "patch") return;
      world.cluster.beforeWrite = undefined;
      change(false); // the user changes their mind while the finalizer is written
    };
    const result = await reconciler.reconcile({ namespace: NS, name: "locate" }, reconcileContext());
    assert.ok(result.requeue || (result.requeueAfter ?? 0) > 0);
    assert.equal(bmc.lights.get(chassis)!.state, "off", "nothing switched on the older spec");
    await reconcile();
    assert.equal(readyOf()?.reason, "LightOff");
    assert.equal(world.provisioner.calls.setIndicator, 0);
  });
});

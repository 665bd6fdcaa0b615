/**
 * The BareMetalHostServiceIndicator controller through the real stack: API
 * emulator, operator with the Redfish provisioner, emulated BMCs.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Counter } from "prom-client";
import type { BareMetalHost } from "../../src/api/baremetalhost.ts";
import { NEW_HOST_GRACE_MS } from "../../src/controllers/object-age.ts";
import { BARE_METAL_HOSTS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { defineResource, findStatusCondition, isNotFound, type KubeObject, SECRETS } from "../../src/runtime/index.ts";
import { indicatorObject, isReady, type OperatorStack, startOperatorStack, waitFor } from "../support/operator-stack.ts";

/** An admission policy or binding: only what the test writes. */
type PolicyObject = KubeObject & { spec: Record<string, unknown> };
const POLICIES = defineResource<PolicyObject>({
  group: "admissionregistration.k8s.io",
  version: "v1",
  plural: "validatingadmissionpolicies",
  kind: "ValidatingAdmissionPolicy",
  namespaced: false,
});
const POLICY_BINDINGS = defineResource<PolicyObject>({
  group: "admissionregistration.k8s.io",
  version: "v1",
  plural: "validatingadmissionpolicybindings",
  kind: "ValidatingAdmissionPolicyBinding",
  namespaced: false,
});

let stack: OperatorStack;
before(async () => {
  stack = await startOperatorStack({ bmcs: 3 });
  await stack.startOperator();
});
after(() => stack.close());

/** A controller's reconciles so far, of any result. */
async function reconciles(controller: string): Promise<number> {
  const metric = stack.operator!.manager.registry.getSingleMetric("controller_runtime_reconcile_total") as Counter | undefined;
  return ((await metric?.get())?.values ?? []).filter((v) => v.labels.controller === controller).reduce((sum, v) => sum + v.value, 0);
}

async function registeredHost(namespace: string, name: string, index: number): Promise<BareMetalHost> {
  await stack.createHost(namespace, name, index);
  return waitFor(
    `host ${name} to be registered`,
    () => stack.client.get(BARE_METAL_HOSTS, { namespace, name }),
    (h) => (h.status?.hardware?.indicators?.length ?? 0) > 0 && isReady(h),
  );
}

function readyWith(namespace: string, name: string, on: boolean) {
  return waitFor(
    `indicator ${name} to be Ready with on=${on}`,
    () => stack.client.get(SERVICE_INDICATORS, { namespace, name }),
    (i) =>
      i.status?.on === on &&
      i.status.observedGeneration === i.metadata.generation &&
      isReady(i),
  );
}

/** The BMC's requests to the resource behind a light, by method. */
function lightRequests(index: number, path: string): { GET: number; PATCH: number } {
  const stats = stack.fleet.bmc(index).stats();
  const count = (method: string) =>
    Object.entries(stats.byMethodPath)
      .filter(([key]) => key === `${method} ${path}`)
      .reduce((sum, [, n]) => sum + n, 0);
  return { GET: count("GET"), PATCH: count("PATCH") };
}

describe("BareMetalHostServiceIndicator controller", () => {
  it("says which host is missing, and switches the light once the host is there", async () => {
    const ns = await stack.namespace("late-host");
    await stack.create(SERVICE_INDICATORS, indicatorObject(ns, "early", "worker-2", "anything@system", true));
    const waiting = await waitFor(
      "the missing host to be reported",
      () => stack.client.get(SERVICE_INDICATORS, { namespace: ns, name: "early" }),
      (i) => findStatusCondition(i.status?.conditions, "Ready")?.reason === "HostNotFound",
    );
    assert.equal(waiting.status?.errorMessage, `BareMetalHost "${ns}/worker-2" not found`);
    assert.deepEqual(waiting.metadata.finalizers ?? [], [], "no finalizer before a light has been touched");
    const host = await registeredHost(ns, "worker-2", 2);
    const systemId = host.status?.hardware?.indicators?.find((i) => i.component === "system")?.id;
    assert.ok(systemId);
    // The ID was wrong too: once the host lists its lights, the error says which IDs exist.
    const wrong = await waitFor(
      "the unknown id to be reported",
      () => stack.client.get(SERVICE_INDICATORS, { namespace: ns, name: "early" }),
      (i) => i.status?.errorMessage?.includes("is not an indicator of") ?? false,
    );
    assert.ok(wrong.status?.errorMessage?.includes(systemId), wrong.status?.errorMessage);
  });

  it("lists the host's lights with the drive behind each disk light", async () => {
    const ns = await stack.namespace("inventory");
    const host = await registeredHost(ns, "worker-0", 0);
    const bmc = stack.fleet.bmcs[0]!;
    const ids = host.status?.hardware?.indicators?.map((i) => i.id) ?? [];
    assert.ok(ids.includes(`${bmc.systemUUID}@system`), ids.join(", "));
    assert.ok(ids.includes(`${bmc.chassisUUID}@chassis`), ids.join(", "));
    const drive = bmc.drives[0]!;
    const disk = host.status?.hardware?.indicators?.find((i) => i.id === `${drive.storageId}:${drive.driveId}@disk`);
    assert.equal(disk?.component, "disk");
    assert.equal(disk?.drive?.serialNumber, drive.serialNumber);
    assert.equal(disk?.drive?.model, drive.model);
    assert.equal(host.status?.provisioning?.ID, bmc.systemUUID);
    assert.equal(host.status?.operationalStatus, "OK");
  });

  it("a light toggle costs exactly one read and one write on the BMC, and a restart costs none", async () => {
    const ns = await stack.namespace("toggle");
    await registeredHost(ns, "worker-1", 1);
    const bmc = stack.fleet.bmcs[1]!;
    const systemPath = bmc.systemPath;
    stack.fleet.bmc(1).resetStats();

    await stack.create(SERVICE_INDICATORS, indicatorObject(ns, "locate", "worker-1", `${bmc.systemUUID}@system`, true));
    await readyWith(ns, "locate", true);
    assert.equal(stack.fleet.bmc(1).lights().system, "Lit");
    assert.deepEqual(lightRequests(1, systemPath), { GET: 1, PATCH: 1 });
    assert.equal(stack.fleet.bmc(1).stats().total, 2, JSON.stringify(stack.fleet.bmc(1).stats().byMethodPath));

    stack.fleet.bmc(1).resetStats();
    await stack.client.patch(SERVICE_INDICATORS, { namespace: ns, name: "locate" }, { spec: { on: false } }, { type: "merge" });
    await readyWith(ns, "locate", false);
    assert.equal(stack.fleet.bmc(1).lights().system, "Off");
    assert.deepEqual(lightRequests(1, systemPath), { GET: 1, PATCH: 1 });
    assert.equal(stack.fleet.bmc(1).stats().total, 2);

    // An operator restart with everything converged costs zero BMC requests.
    await stack.stopOperator();
    stack.fleet.resetStats();
    await stack.startOperator();
    // Once the restarted operator has reconciled the indicator (and the rest) and is idle.
    await waitFor("the restarted operator to reconcile the indicator", () => reconciles("baremetalhostserviceindicator"), (n) => n >= 1);
    await stack.idle();
    assert.equal(stack.fleet.stats().total, 0, JSON.stringify(stack.fleet.stats()));
  });

  it("puts its finalizer back when somebody takes it off, without touching the BMC", async () => {
    const ns = await stack.namespace("finalizer-back");
    await registeredHost(ns, "worker-0", 0);
    const bmc = stack.fleet.bmcs[0]!;
    await stack.create(SERVICE_INDICATORS, indicatorObject(ns, "locate", "worker-0", `${bmc.systemUUID}@system`, true));
    const ready = await readyWith(ns, "locate", true);
    assert.deepEqual(ready.metadata.finalizers, ["baremetalhostserviceindicator.metal3.io"]);
    stack.fleet.bmc(0).resetStats();
    await stack.client.patch(SERVICE_INDICATORS, { namespace: ns, name: "locate" }, { metadata: { finalizers: null } }, { type: "merge" });
    const back = await waitFor(
      "the finalizer to be put back",
      () => stack.client.get(SERVICE_INDICATORS, { namespace: ns, name: "locate" }),
      (i) => (i.metadata.finalizers ?? []).includes("baremetalhostserviceindicator.metal3.io"),
    );
    assert.ok(isReady(back));
    assert.equal(stack.fleet.bmc(0).stats().total, 0, "the light is as recorded: no BMC request");
  });

  it("says so when the host of a lit indicator is deleted, and is Ready again when it is back", async () => {
    const ns = await stack.namespace("host-gone");
    await registeredHost(ns, "worker-1", 1);
    const bmc = stack.fleet.bmcs[1]!;
    await stack.create(SERVICE_INDICATORS, indicatorObject(ns, "locate", "worker-1", `${bmc.systemUUID}@system`, true));
    await readyWith(ns, "locate", true);
    stack.advanceWallClock(NEW_HOST_GRACE_MS); // past the grace a new indicator gives its host
    await stack.client.delete(BARE_METAL_HOSTS, { namespace: ns, name: "worker-1" });
    const gone = await waitFor(
      "the missing host to be reported",
      () => stack.client.get(SERVICE_INDICATORS, { namespace: ns, name: "locate" }),
      (i) => findStatusCondition(i.status?.conditions, "Ready")?.reason === "HostNotFound",
    );
    assert.equal(gone.status?.errorMessage, `BareMetalHost "${ns}/worker-1" not found`);
    await stack.client.delete(SECRETS, { namespace: ns, name: "worker-1-bmc" });
    await registeredHost(ns, "worker-1", 1);
    await readyWith(ns, "locate", true);
  });

  it("skips the write when the light already is as asked", async () => {
    const ns = await stack.namespace("already");
    await registeredHost(ns, "worker-2", 2);
    const bmc = stack.fleet.bmcs[2]!;
    stack.fleet.bmc(2).setChassisLed("Lit");
    stack.fleet.bmc(2).resetStats();
    await stack.create(SERVICE_INDICATORS, indicatorObject(ns, "chassis", "worker-2", `${bmc.chassisUUID}@chassis`, true));
    await readyWith(ns, "chassis", true);
    const stats = stack.fleet.bmc(2).stats();
    assert.equal(stats.byMethod.PATCH ?? 0, 0, JSON.stringify(stats.byMethodPath));
    assert.equal(stats.byMethod.GET, 1);
  });

  it("rejects an unknown id with the host's valid IDs, without calling the BMC", async () => {
    const ns = await stack.namespace("unknown-id");
    const host = await registeredHost(ns, "worker-0", 0);
    stack.fleet.bmc(0).resetStats();
    await stack.create(SERVICE_INDICATORS, indicatorObject(ns, "wrong", "worker-0", "no-such-light@chassis", true));
    const failed = await waitFor(
      "the unknown id to be reported",
      () => stack.client.get(SERVICE_INDICATORS, { namespace: ns, name: "wrong" }),
      (i) => findStatusCondition(i.status?.conditions, "Ready")?.reason === "Invalid",
    );
    for (const entry of host.status?.hardware?.indicators ?? []) {
      assert.ok(failed.status?.errorMessage?.includes(entry.id), failed.status?.errorMessage);
    }
    assert.match(failed.status?.errorMessage ?? "", /spec\.id "no-such-light@chassis" is not an indicator of BareMetalHost "worker-0"/);
    assert.equal(stack.fleet.bmc(0).stats().total, 0);
  });

  it("switches nothing on the BMC while its finalizer cannot be written", async () => {
    const ns = await stack.namespace("finalizer-first");
    await registeredHost(ns, "worker-1", 1);
    const bmc = stack.fleet.bmcs[1]!;
    stack.fleet.bmc(1).setChassisLed("Off");
    // An admission policy refuses the finalizer of indicators labelled refuse-finalizer.
    const policy = `refuse-finalizer-${ns}`;
    await stack.client.create(POLICIES, {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name: policy },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: {
          resourceRules: [{ apiGroups: ["metal3.io"], apiVersions: ["v1alpha1"], operations: ["UPDATE"], resources: ["baremetalhostserviceindicators"] }],
          objectSelector: { matchLabels: { "test.metal3.io/refuse-finalizer": ns } },
        },
        validations: [{ expression: "!has(object.metadata.finalizers) || size(object.metadata.finalizers) == 0", message: "finalizers refused by the test" }],
      },
    });
    await stack.client.create(POLICY_BINDINGS, {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: policy },
      spec: { policyName: policy, validationActions: ["Deny"] },
    });
    try {
      const indicator = indicatorObject(ns, "held", "worker-1", `${bmc.chassisUUID}@chassis`, true);
      indicator.metadata.labels = { "test.metal3.io/refuse-finalizer": ns };
      stack.fleet.bmc(1).resetStats();
      await stack.create(SERVICE_INDICATORS, indicator);
      const failed = await waitFor(
        "the refused finalizer to be reported",
        () => stack.client.get(SERVICE_INDICATORS, { namespace: ns, name: "held" }),
        (i) => i.status?.errorMessage?.includes("finalizers refused by the test") ?? false,
      );
      assert.deepEqual(failed.metadata.finalizers ?? [], []);
      assert.equal(stack.fleet.bmc(1).lights().chassis, "Off", "the light was not switched without the finalizer");
      assert.equal(stack.fleet.bmc(1).stats().byMethod.PATCH ?? 0, 0, JSON.stringify(stack.fleet.bmc(1).stats().byMethodPath));
    } finally {
      await stack.client.delete(POLICY_BINDINGS, { name: policy });
      await stack.client.delete(POLICIES, { name: policy });
    }
    // With the policy gone the retry puts the finalizer on, then switches the light.
    await readyWith(ns, "held", true);
    assert.equal(stack.fleet.bmc(1).lights().chassis, "Lit");
  });

  it("deleting the resource turns the light off before the finalizer is released", async () => {
    const ns = await stack.namespace("delete-off");
    await registeredHost(ns, "worker-0", 0);
    const drive = stack.fleet.bmcs[0]!.drives[1]!;
    const id = `${drive.storageId}:${drive.driveId}@disk`;
    await stack.create(SERVICE_INDICATORS, indicatorObject(ns, "disk", "worker-0", id, true));
    await readyWith(ns, "disk", true);
    assert.equal(stack.fleet.bmc(0).lights().drives[`${drive.storageId}:${drive.driveId}`], "Lit");
    await stack.client.delete(SERVICE_INDICATORS, { namespace: ns, name: "disk" });
    await waitFor(
      "the indicator to be gone",
      () => stack.client.get(SERVICE_INDICATORS, { namespace: ns, name: "disk" }).then(() => false, (e: unknown) => isNotFound(e)),
      (gone) => gone,
    );
    assert.equal(stack.fleet.bmc(0).lights().drives[`${drive.storageId}:${drive.driveId}`], "Off");
  });
});

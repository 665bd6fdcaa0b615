// The Redfish provisioner's resumeSubscription over real HTTP on 127.0.0.1: against the BMC
// emulator with the Dell iDRAC9 profile (which suspends a subscription after failed deliveries
// and offers ResumeSubscription) and without the action; and against the scripted BMC for a BMC
// that advertises the action but refuses it, fails it, or names its target by URL.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { EmulatedBmcInfo, RunningBmcFleet } from "../../emulators/redfish-bmc/index.ts";
import { startBmcFleet } from "../../emulators/redfish-bmc/index.ts";
import type { HostAccess } from "../../src/provisioner/provisioner.ts";
import { RedfishProvisioner } from "../../src/provisioner/redfish/redfish-provisioner.ts";
import { accessTo as scriptedAccess, expectKind, sampleResources, type ScriptedBmc, type ScriptedResponse, startScriptedBmc } from "./scripted-bmc.ts";

/** The Dell profile takes https destinations only; nothing listens there and no event is raised. */
const DESTINATION = "https://127.0.0.1:9/events";
const SUBSCRIPTIONS = "/redfish/v1/EventService/Subscriptions";
const RESUME = "Actions/EventDestination.ResumeSubscription";

function accessTo(info: EmulatedBmcInfo): HostAccess {
  return {
    namespace: "default",
    name: `host-${info.index}`,
    address: `${info.url.replace(/^http:/, "redfish+http:")}${info.systemPath}`,
    disableCertificateVerification: false,
    username: info.username,
    password: info.password,
  };
}

describe("redfish provisioner: resuming a suspended subscription on the BMC emulator", () => {
  const fleets: RunningBmcFleet[] = [];
  let provisioner: RedfishProvisioner;

  before(() => {
    provisioner = new RedfishProvisioner();
  });
  after(async () => {
    await provisioner.close();
    for (const fleet of fleets) await fleet.close();
  });

  /** A Dell iDRAC9 BMC holding one subscription the BMC suspended; returns its access and the ID. */
  async function suspendedOn(resumeSubscription: boolean) {
    const fleet = await startBmcFleet({ count: 1, profile: "dell-idrac9", resumeSubscription });
    fleets.push(fleet);
    const info = fleet.bmcs[0]!;
    const bmc = fleet.bmc(0);
    const host = accessTo(info);
    const { id } = await provisioner.createSubscription(host, { destination: DESTINATION, context: "c", httpHeaders: {} });
    assert.ok(bmc.suspendSubscription(id));
    assert.deepEqual(
      (await provisioner.listSubscriptions(host)).map((s) => [s.id, s.suspended ?? false]),
      [[id, true]],
    );
    bmc.resetStats();
    return { bmc, host, id };
  }

  it("resumes it where the BMC offers ResumeSubscription: one GET, one POST to the action, the same ID Enabled", async () => {
    const { bmc, host, id } = await suspendedOn(true);
    assert.equal(await provisioner.resumeSubscription(host, id), "resumed");
    assert.deepEqual(bmc.subscriptions().map((s) => [s.id, s.state]), [[id, "Enabled"]]);
    assert.deepEqual(bmc.stats().byMethodPath, {
      [`GET ${SUBSCRIPTIONS}/${id}`]: 1,
      [`POST ${SUBSCRIPTIONS}/${id}/${RESUME}`]: 1,
    });
    assert.deepEqual((await provisioner.listSubscriptions(host)).map((s) => s.suspended ?? false), [false]);
  });

  it("answers unsupported, with no POST, where the subscription advertises no ResumeSubscription", async () => {
    const { bmc, host, id } = await suspendedOn(false);
    assert.equal(await provisioner.resumeSubscription(host, id), "unsupported");
    assert.deepEqual(bmc.subscriptions().map((s) => [s.id, s.state]), [[id, "Disabled"]]);
    assert.deepEqual(bmc.stats().byMethodPath, { [`GET ${SUBSCRIPTIONS}/${id}`]: 1 });
  });

  it("answers gone for a subscription the BMC no longer holds", async () => {
    const { bmc, host, id } = await suspendedOn(true);
    assert.ok(bmc.deleteSubscription(id));
    assert.equal(await provisioner.resumeSubscription(host, id), "gone");
    assert.deepEqual(Object.keys(bmc.stats().byMethodPath), [`GET ${SUBSCRIPTIONS}/${id}`]);
  });
});

describe("redfish provisioner: resuming on a BMC that advertises the action but answers otherwise", () => {
  let bmc: ScriptedBmc | undefined;
  let provisioner: RedfishProvisioner;

  before(() => {
    provisioner = new RedfishProvisioner();
  });
  after(async () => {
    await provisioner.close();
    await bmc?.close();
  });

  /** A scripted BMC whose one subscription advertises `target` as its resume action, answering it with `answer`. */
  async function advertising(target: (path: string) => string, answer?: ScriptedResponse) {
    await bmc?.close();
    bmc = await startScriptedBmc({
      resources: sampleResources("both"),
      intercept: (req) => (answer !== undefined && req.method === "POST" && req.path.endsWith(`/${RESUME}`) ? answer : undefined),
    });
    const host = scriptedAccess(bmc);
    const { id } = await provisioner.createSubscription(host, { destination: DESTINATION, context: "c", httpHeaders: {} });
    const path = `${SUBSCRIPTIONS}/${id}`;
    bmc.subscriptions.get(id)!.Actions = { "#EventDestination.ResumeSubscription": { target: target(path) } };
    return { bmc, host, id, path };
  }

  for (const status of [404, 405, 501]) {
    it(`answers unsupported when the BMC answers HTTP ${status} to the advertised action`, async () => {
      const { bmc, host, id, path } = await advertising((p) => `${p}/${RESUME}`, { status });
      assert.equal(await provisioner.resumeSubscription(host, id), "unsupported");
      assert.deepEqual(bmc.calls().slice(-2), [`GET ${path}`, `POST ${path}/${RESUME}`]);
    });
  }

  it("fails with the kind of the BMC's answer otherwise (a 500 is Transient)", async () => {
    const { host, id } = await advertising((p) => `${p}/${RESUME}`, {
      status: 500,
      body: { error: { code: "Base.1.8.InternalError", message: "The request failed due to an internal service error." } },
    });
    const error = await expectKind("Transient", provisioner.resumeSubscription(host, id));
    assert.match(error.message, /resume subscription/);
    assert.match(error.message, /HTTP 500/);
  });

  it("posts to the path of a target written as a URL", async () => {
    const { bmc, host, id, path } = await advertising((p) => `https://bmc.example${p}/${RESUME}`, { status: 204 });
    assert.equal(await provisioner.resumeSubscription(host, id), "resumed");
    assert.deepEqual(bmc.calls().slice(-2), [`GET ${path}`, `POST ${path}/${RESUME}`]);
    assert.deepEqual(bmc.log.at(-1)!.body, {});
  });
});

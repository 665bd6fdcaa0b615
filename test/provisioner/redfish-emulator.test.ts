// The Redfish provisioner against the Redfish BMC emulator over real HTTP on 127.0.0.1:
// the conformance suite, exact request counts from the emulator's stats, one request in
// flight per BMC through a burst, HTTPS with and without certificate checks, event
// delivery to a subscription it created, and a BMC reset.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEventSink } from "../../emulators/event-sink/index.ts";
import type { EmulatedBmcInfo, RunningBmcFleet } from "../../emulators/redfish-bmc/index.ts";
import { startBmcFleet } from "../../emulators/redfish-bmc/index.ts";
import { type HostAccess, ProvisionerError } from "../../src/provisioner/provisioner.ts";
import { RedfishProvisioner } from "../../src/provisioner/redfish/redfish-provisioner.ts";
import { describeConformance } from "./conformance.ts";
import { emulatedBmcView } from "./emulated-bmc-view.ts";

function accessTo(info: EmulatedBmcInfo, systemPath = info.systemPath, insecure = false): HostAccess {
  const address = `${info.url.replace(/^http:/, "redfish+http:").replace(/^https:/, "redfish+https:")}${systemPath}`;
  return {
    namespace: "default",
    name: `host-${info.index}`,
    address,
    disableCertificateVerification: insecure,
    username: info.username,
    password: info.password,
  };
}

function indicatorIds(info: EmulatedBmcInfo): string[] {
  return [
    `${info.systemUUID}@system`,
    `${info.chassisUUID}@chassis`,
    ...info.drives.map((d) => `${d.storageId}:${d.driveId}@disk`),
  ];
}

describeConformance("redfish, BMC emulator", async () => {
  // A small limit, for the full-BMC case to fill.
  const fleet = await startBmcFleet({ count: 1, maxSubscriptions: 3 });
  const info = fleet.bmcs[0]!;
  const bmc = fleet.bmc(0);
  const provisioner = new RedfishProvisioner();
  return {
    provisioner,
    host: accessTo(info),
    missingHost: accessTo(info, "/redfish/v1/Systems/no-such-system"),
    expected: {
      provisioningID: info.systemUUID,
      indicatorIds: indicatorIds(info),
      drives: Object.fromEntries(
        info.drives.map((d) => [
          `${d.storageId}:${d.driveId}@disk`,
          { storage: d.storageId, id: d.driveId, name: d.name, model: d.model, serialNumber: d.serialNumber },
        ]),
      ),
    },
    bmc: emulatedBmcView(bmc),
    subscriptionLimit: 3,
    close: async () => {
      await provisioner.close();
      await fleet.close();
    },
  };
});

describe("redfish provisioner against the BMC emulator", () => {
  let fleet: RunningBmcFleet;
  let provisioner: RedfishProvisioner;

  before(async () => {
    fleet = await startBmcFleet({ count: 2 });
    provisioner = new RedfishProvisioner();
  });
  after(async () => {
    await provisioner.close();
    await fleet.close();
  });

  it("registers a host with one GET per resource: system, chassis, storage collection, storage, each drive", async () => {
    const info = fleet.bmcs[0]!;
    fleet.bmc(0).resetStats();
    const registration = await provisioner.registerHost(accessTo(info));
    assert.deepEqual(registration.indicators.map((i) => i.id).sort(), indicatorIds(info).sort());
    const stats = fleet.bmc(0).stats();
    assert.deepEqual(stats.byMethod, { GET: 4 + info.drives.length });
    assert.equal(stats.byMethodPath[`GET ${info.systemPath}`], 1);
  });

  it("toggles a light with exactly one GET and one PATCH at the BMC", async () => {
    const info = fleet.bmcs[0]!;
    const host = accessTo(info);
    await provisioner.registerHost(host);
    const drive = info.drives[0]!;
    const id = `${drive.storageId}:${drive.driveId}@disk`;
    fleet.bmc(0).resetStats();
    const before = await provisioner.getIndicator(host, id);
    await provisioner.setIndicator(host, id, before === "on" ? "off" : "on");
    const stats = fleet.bmc(0).stats();
    assert.equal(stats.total, 2);
    assert.deepEqual(stats.byMethod, { GET: 1, PATCH: 1 });
    assert.equal(emulatedBmcView(fleet.bmc(0)).light(id), before === "on" ? "off" : "on");
  });

  describe("after a restart (a provisioner that has not read the host's inventory)", () => {
    /** Toggles `id` with a new provisioner; returns the BMC's request counts by method and path. */
    async function toggleAfterRestart(id: string): Promise<Record<string, number>> {
      const info = fleet.bmcs[0]!;
      const restarted = new RedfishProvisioner();
      try {
        fleet.bmc(0).resetStats();
        const before = await restarted.getIndicator(accessTo(info), id);
        await restarted.setIndicator(accessTo(info), id, before === "on" ? "off" : "on");
        assert.equal(emulatedBmcView(fleet.bmc(0)).light(id), before === "on" ? "off" : "on", "the light did not change on the BMC");
        return fleet.bmc(0).stats().byMethodPath;
      } finally {
        await restarted.close();
      }
    }

    it("toggles the system light with one GET of the system and one PATCH", async () => {
      const info = fleet.bmcs[0]!;
      assert.deepEqual(await toggleAfterRestart(`${info.systemUUID}@system`), {
        [`GET ${info.systemPath}`]: 1,
        [`PATCH ${info.systemPath}`]: 1,
      });
    });

    it("toggles a disk light with one GET of the drive at its normative URI and one PATCH", async () => {
      const info = fleet.bmcs[0]!;
      const drive = info.drives[1]!;
      const path = `${info.systemPath}/Storage/${drive.storageId}/Drives/${drive.driveId}`;
      assert.deepEqual(await toggleAfterRestart(`${drive.storageId}:${drive.driveId}@disk`), {
        [`GET ${path}`]: 1,
        [`PATCH ${path}`]: 1,
      });
    });

    it("toggles the chassis light with one GET of the system, one of the chassis it links, and one PATCH", async () => {
      const info = fleet.bmcs[0]!;
      const counts = await toggleAfterRestart(`${info.chassisUUID}@chassis`);
      const patched = Object.keys(counts).find((k) => k.startsWith("PATCH "))!.slice("PATCH ".length);
      assert.match(patched, /^\/redfish\/v1\/Chassis\//);
      assert.deepEqual(counts, { [`GET ${info.systemPath}`]: 1, [`GET ${patched}`]: 1, [`PATCH ${patched}`]: 1 });
    });

    it("finds an ID the host does not have with one GET more than the inventory read, then IndicatorNotFound", async () => {
      const info = fleet.bmcs[0]!;
      const restarted = new RedfishProvisioner();
      try {
        fleet.bmc(0).resetStats();
        const id = `${info.drives[0]!.storageId}:NoSuchDrive@disk`;
        const error = await restarted.setIndicator(accessTo(info), id, "on").then(
          () => assert.fail("a light the host does not have was switched"),
          (e: unknown) => e,
        );
        assert.ok(error instanceof ProvisionerError);
        assert.equal(error.kind, "IndicatorNotFound");
        assert.match(error.message, /is not one of the host's/);
        // The guessed drive path (404), then the inventory: system, chassis, storage collection, storage, each drive.
        assert.deepEqual(fleet.bmc(0).stats().byMethod, { GET: 1 + 4 + info.drives.length });
      } finally {
        await restarted.close();
      }
    });
  });

  it("never has more than one request in flight at a BMC through a burst of 200 concurrent calls", async () => {
    const info = fleet.bmcs[1]!;
    const host = accessTo(info);
    const { indicators } = await provisioner.registerHost(host);
    fleet.bmc(1).resetStats();
    fleet.bmc(1).setLatency(1);
    try {
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => {
          const indicator = indicators[i % indicators.length]!;
          return i % 2 === 0
            ? provisioner.getIndicator(host, indicator.id)
            : provisioner.setIndicator(host, indicator.id, i % 4 === 1 ? "on" : "off");
        }),
      );
    } finally {
      fleet.bmc(1).setLatency(0);
    }
    const stats = fleet.bmc(1).stats();
    assert.equal(stats.peakInFlight, 1);
    assert.ok(stats.total >= 200, `only ${stats.total} requests reached the BMC`);
  });

  it("finds the EventService once, then costs one POST per create, 1+N GETs per list and one DELETE per delete", async () => {
    const info = fleet.bmcs[0]!;
    const host = accessTo(info);
    const fresh = new RedfishProvisioner();
    try {
      fleet.bmc(0).resetStats();
      const request = { destination: "http://127.0.0.1:9/events", context: "count", httpHeaders: {} };
      const a = await fresh.createSubscription(host, request);
      assert.deepEqual(fleet.bmc(0).stats().byMethod, { GET: 2, POST: 1 });
      fleet.bmc(0).resetStats();
      const b = await fresh.createSubscription(host, request);
      assert.deepEqual(fleet.bmc(0).stats().byMethod, { POST: 1 });
      fleet.bmc(0).resetStats();
      const listed = await fresh.listSubscriptions(host);
      assert.deepEqual(fleet.bmc(0).stats().byMethod, { GET: 1 + listed.length });
      fleet.bmc(0).resetStats();
      assert.equal(await fresh.deleteSubscription(host, a.id), "deleted");
      assert.equal(await fresh.deleteSubscription(host, b.id), "deleted");
      assert.deepEqual(fleet.bmc(0).stats().byMethod, { DELETE: 2 });
    } finally {
      await fresh.close();
    }
  });

  it("creates a subscription the BMC delivers events on, with the context and headers", async () => {
    const sink = await startEventSink();
    try {
      const info = fleet.bmcs[0]!;
      const created = await provisioner.createSubscription(accessTo(info), {
        destination: `${sink.url}/webhook`,
        context: "delivery-ctx",
        httpHeaders: { "X-Delivery-Token": "delivery-secret" },
      });
      fleet.bmc(0).submitEvent({ MessageId: "Base.1.0.Test" });
      const event = await sink.waitFor((e) => e.context === "delivery-ctx", 5_000);
      assert.equal(event.headers["x-delivery-token"], "delivery-secret");
      assert.deepEqual(event.messageIds, ["Base.1.0.Test"]);
      assert.equal(await provisioner.deleteSubscription(accessTo(info), created.id), "deleted");
    } finally {
      await sink.close();
    }
  });

  it("sees subscriptions lost in a BMC reset as gone", async () => {
    const info = fleet.bmcs[1]!;
    const host = accessTo(info);
    const created = await provisioner.createSubscription(host, {
      destination: "http://127.0.0.1:9/reset",
      context: "reset",
      httpHeaders: {},
    });
    fleet.bmc(1).reset();
    assert.deepEqual(await provisioner.listSubscriptions(host), []);
    assert.equal(await provisioner.deleteSubscription(host, created.id), "gone");
  });

  it("sends a GET once more when the BMC drops the connection, but never repeats a POST", async () => {
    const info = fleet.bmcs[1]!;
    const host = accessTo(info);
    const fresh = new RedfishProvisioner();
    try {
      await fresh.listSubscriptions(host);
      fleet.bmc(1).setDropRate(1);
      fleet.bmc(1).resetStats();
      await assert.rejects(fresh.listSubscriptions(host), (e) => e instanceof ProvisionerError && e.kind === "Transient");
      assert.deepEqual(fleet.bmc(1).stats().byMethod, { GET: 2 });
      fleet.bmc(1).resetStats();
      const request = { destination: "http://127.0.0.1:9/dropped", context: "dropped", httpHeaders: {} };
      await assert.rejects(fresh.createSubscription(host, request), (e) => e instanceof ProvisionerError && e.kind === "Transient");
      assert.deepEqual(fleet.bmc(1).stats().byMethod, { POST: 1 });
    } finally {
      fleet.bmc(1).setDropRate(0);
      await fresh.close();
    }
  });

  it("maps injected 503s to Transient, naming the BMC and the operation", async () => {
    const info = fleet.bmcs[0]!;
    const host = accessTo(info);
    await provisioner.registerHost(host);
    fleet.bmc(0).setErrorRate(1, 503, "PATCH");
    try {
      const error = await provisioner.setIndicator(host, `${info.systemUUID}@system`, "on").then(
        () => assert.fail("the PATCH succeeded"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof ProvisionerError);
      assert.equal(error.kind, "Transient");
      assert.match(error.message, new RegExp(`^redfish BMC .*127\\.0\\.0\\.1.*: set indicator ${info.systemUUID}@system to on: PATCH .* returned HTTP 503`));
    } finally {
      fleet.bmc(0).setErrorRate(0);
    }
  });
});

describe("redfish provisioner against an HTTPS BMC", () => {
  let fleet: RunningBmcFleet;
  let provisioner: RedfishProvisioner;

  before(async () => {
    fleet = await startBmcFleet({ count: 1, tls: true });
    provisioner = new RedfishProvisioner();
  });
  after(async () => {
    await provisioner.close();
    await fleet.close();
  });

  it("refuses the self-signed certificate unless the host disables certificate verification", async () => {
    const info = fleet.bmcs[0]!;
    const error = await provisioner.registerHost(accessTo(info)).then(
      () => assert.fail("an unverifiable certificate was accepted"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ProvisionerError);
    assert.equal(error.kind, "Rejected");
    assert.match(error.message, /certificate could not be verified .*disableCertificateVerification/);
    const registration = await provisioner.registerHost(accessTo(info, info.systemPath, true));
    assert.equal(registration.provisioningID, info.systemUUID);
    // The verifying Agent stays strict after the insecure one was made.
    await assert.rejects(provisioner.registerHost(accessTo(info)), /certificate could not be verified/);
  });
});

/**
 * A fleet with a state directory keeps each BMC's identity, subscriptions
 * (header values included), EventService settings, lights and power state
 * across a restart, as real hardware does; without one every start is new
 * hardware; a damaged state file is a clear error.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startEventSink } from "../event-sink/index.ts";
import type { RunningEventSink } from "../event-sink/index.ts";
import { startBmcFleet } from "./index.ts";
import type { BmcFleetOptions, RunningBmcFleet } from "./index.ts";
import { redfishFetch } from "./testing.ts";

describe("kept BMC state", () => {
  let dir: string;
  let sink: RunningEventSink;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "bmc-state-"));
    sink = await startEventSink();
  });
  after(async () => {
    await sink.close();
    await rm(dir, { recursive: true, force: true });
  });

  const options = (stateDir: string): BmcFleetOptions => ({
    count: 2,
    profile: ["generic", "dell-idrac9"],
    password: (i) => `pw-${i}`,
    stateDir,
    eventDelivery: { retryAttempts: 0, retryIntervalSeconds: 0.01, timeoutMs: 2_000 },
  });

  test("identity, subscriptions, EventService settings, lights and power come back after a restart", async () => {
    const stateDir = join(dir, "keep");
    let first: RunningBmcFleet | undefined = await startBmcFleet(options(stateDir));
    let identity;
    let subscriptionId: string;
    try {
      assert.equal(first.bmc(0).restored, false);
      const info = first.bmcs[0]!;
      identity = first.bmcs.map((b) => [b.systemUUID, b.chassisUUID, b.drives.map((d) => d.serialNumber)]);
      const created = await redfishFetch(info, "/redfish/v1/EventService/Subscriptions", {
        method: "POST",
        body: { Destination: `${sink.url}/kept`, Protocol: "Redfish", Context: "kept", HttpHeaders: [{ "X-Token": "secret-1" }] },
      });
      assert.equal(created.status, 201);
      subscriptionId = created.body.Id;
      await redfishFetch(info, "/redfish/v1/EventService", { method: "PATCH", body: { DeliveryRetryAttempts: 7 } });
      await redfishFetch(info, "/redfish/v1/Chassis/System.Embedded.1", { method: "PATCH", body: { IndicatorLED: "Blinking" } });
      await redfishFetch(info, `${info.systemPath}/Actions/ComputerSystem.Reset`, { method: "POST", body: { ResetType: "ForceOff" } });
      first.bmc(0).setLight(`${info.drives[1]!.storageId}:${info.drives[1]!.driveId}`, "Lit");
      first.bmc(1).setLight("chassis", "Blinking");
      const mode = (await stat(join(stateDir, "bmc-0.json"))).mode & 0o777;
      assert.equal(mode, 0o600, "the state file holds header values: owner only");
      await first.close();
      first = undefined;

      const second = await startBmcFleet(options(stateDir));
      try {
        assert.equal(second.bmc(0).restored, true);
        assert.deepEqual(
          second.bmcs.map((b) => [b.systemUUID, b.chassisUUID, b.drives.map((d) => d.serialNumber)]),
          identity,
        );
        const again = second.bmcs[0]!;
        const root = await redfishFetch(again, "/redfish/v1/");
        assert.ok(root.body.UUID);
        const system = await redfishFetch(again, again.systemPath);
        assert.equal(system.body.UUID, identity[0]![0]);
        assert.equal(system.body.PowerState, "Off");
        assert.deepEqual(second.bmc(0).lights(), {
          system: "Off",
          chassis: "Blinking",
          drives: { [`${again.drives[0]!.storageId}:${again.drives[0]!.driveId}`]: "Off", [`${again.drives[1]!.storageId}:${again.drives[1]!.driveId}`]: "Lit" },
        });
        assert.equal(second.bmc(1).lights().chassis, "Blinking", "the Dell chassis keeps identifying");
        const events = await redfishFetch(again, "/redfish/v1/EventService");
        assert.equal(events.body.DeliveryRetryAttempts, 7);
        const kept = await redfishFetch(again, `/redfish/v1/EventService/Subscriptions/${subscriptionId}`);
        assert.equal(kept.status, 200);
        assert.equal(kept.body.Context, "kept");
        assert.deepEqual(kept.body.HttpHeaders, []);

        // The kept subscription still delivers, with its header value.
        second.bmc(0).submitEvent({ MessageId: "Base.1.0.Test" });
        const delivered = await sink.waitFor((e) => e.path === "/kept");
        assert.equal(delivered.headers["x-token"], "secret-1");

        // A new subscription does not reuse a kept ID.
        const next = await redfishFetch(again, "/redfish/v1/EventService/Subscriptions", {
          method: "POST",
          body: { Destination: `${sink.url}/next`, Protocol: "Redfish" },
        });
        assert.notEqual(next.body.Id, subscriptionId);
      } finally {
        await second.close();
      }
    } finally {
      await first?.close();
    }
  });

  test("a subscription the BMC deletes after failed deliveries stays deleted after a restart", async () => {
    const stateDir = join(dir, "deleted");
    const first = await startBmcFleet({ ...options(stateDir), count: 1 });
    try {
      const info = first.bmcs[0]!;
      const created = await redfishFetch(info, "/redfish/v1/EventService/Subscriptions", {
        method: "POST",
        body: { Destination: "http://127.0.0.1:1/closed", Protocol: "Redfish" },
      });
      assert.equal(created.status, 201);
      first.bmc(0).submitEvent({ MessageId: "Base.1.0.Test" });
      await first.bmc(0).deliveriesSettled();
      assert.deepEqual(first.bmc(0).subscriptions(), []);
    } finally {
      await first.close();
    }
    const kept = JSON.parse(await readFile(join(stateDir, "bmc-0.json"), "utf8"));
    assert.deepEqual(kept.subscriptions, []);
  });

  test("without a state directory every start is new hardware", async () => {
    const a = await startBmcFleet({ count: 1 });
    const uuidA = a.bmcs[0]!.systemUUID;
    await a.close();
    const b = await startBmcFleet({ count: 1 });
    const uuidB = b.bmcs[0]!.systemUUID;
    assert.equal(b.bmc(0).restored, false);
    await b.close();
    assert.notEqual(uuidA, uuidB);
  });

  test("a damaged state file is refused with its path and what is wrong", async () => {
    const stateDir = join(dir, "damaged");
    const fleet = await startBmcFleet({ ...options(stateDir), count: 1 });
    await fleet.close();
    const file = join(stateDir, "bmc-0.json");
    const kept = JSON.parse(await readFile(file, "utf8"));
    await writeFile(file, JSON.stringify({ ...kept, lights: { ...kept.lights, system: "On" } }));
    await assert.rejects(startBmcFleet({ ...options(stateDir), count: 1 }), (error: Error) => {
      assert.ok(error.message.includes(file), error.message);
      assert.match(error.message, /lights\.system must be one of Lit, Blinking, Off, got "On"/);
      return true;
    });
    await writeFile(file, "{not json");
    await assert.rejects(startBmcFleet({ ...options(stateDir), count: 1 }), /is not JSON/);
  });
});

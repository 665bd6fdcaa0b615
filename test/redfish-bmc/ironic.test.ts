/**
 * Acceptance, once per Ironic release (21.4.4 and 29.0.5, see test/support/ironic.ts):
 * a real Ironic (Debian python3-ironic, redfish driver) drives the
 * emulated BMCs: enrolls them, lists their indicators, reads and sets lights,
 * and manages event subscriptions through vendor passthru; a test event then
 * reaches a local listener with the right Context and headers.
 */
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import { PROFILE_NAMES, PROFILES, startBmcFleet } from "../../emulators/redfish-bmc/index.ts";
import type { EmulatedBmcInfo, RunningBmcFleet } from "../../emulators/redfish-bmc/index.ts";
import { startEventSink } from "../../emulators/event-sink/index.ts";
import type { RunningEventSink as EventSink } from "../../emulators/event-sink/index.ts";
import { ironicReleases, ironicSkipReason, startIronic } from "../support/ironic.ts";
import type { IronicServer } from "../support/ironic.ts";

/** One Ironic API call; `body` may go with any method (get_subscription is a GET with a JSON body). */
function ironicCall(
  ironic: IronicServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any; fault?: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${ironic.url}${path}`,
      {
        method,
        timeout: 60_000,
        headers: {
          "X-OpenStack-Ironic-API-Version": "latest",
          ...(payload === undefined ? {} : { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (c: Buffer) => chunks.push(c));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const parsed = text === "" ? undefined : JSON.parse(text);
          // Ironic's errors: {"error_message": "<JSON string with faultstring>"}.
          const fault =
            typeof parsed?.error_message === "string" ? (JSON.parse(parsed.error_message).faultstring as string) : undefined;
          resolve({ status: response.statusCode ?? 0, body: parsed, fault });
        });
      },
    );
    request.on("timeout", () => request.destroy(new Error(`${method} ${path}: no answer from Ironic within 60 s`)));
    request.on("error", reject);
    request.end(payload);
  });
}

async function enroll(ironic: IronicServer, name: string, bmc: EmulatedBmcInfo): Promise<string> {
  const r = await ironicCall(ironic, "POST", "/v1/nodes", {
    name,
    driver: "redfish",
    driver_info: {
      redfish_address: bmc.url,
      redfish_system_id: bmc.systemPath,
      redfish_username: bmc.username,
      redfish_password: bmc.password,
    },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.uuid as string;
}

const passthru = (node: string, method: string) => `/v1/nodes/${node}/vendor_passthru?method=${method}`;

for (const release of ironicReleases()) {
  describe(`real Ironic drives the emulated BMCs (${release.label})`, { skip: ironicSkipReason(release) }, () => {
    let ironic: IronicServer;
    let fleet: RunningBmcFleet;
    let simpleStorageFleet: RunningBmcFleet;
    let sink: EventSink;
    const node = `emulated-${process.pid}`;

    before(async () => {
      [ironic, fleet, simpleStorageFleet, sink] = await Promise.all([
        startIronic({ release }),
        startBmcFleet({ count: 2, drivesPerSystem: 2 }),
        startBmcFleet({ count: 1, simpleStorage: true }),
        startEventSink(),
      ]);
      await enroll(ironic, node, fleet.bmcs[0]!);
    });
    after(async () => {
      await Promise.all([ironic?.close(), fleet?.close(), simpleStorageFleet?.close(), sink?.close()]);
    });

    test("Ironic lists the system and chassis lights under their UUIDs", async () => {
      const info = fleet.bmcs[0]!;
      const r = await ironicCall(ironic, "GET", `/v1/nodes/${node}/management/indicators`);
      assert.equal(r.status, 200, r.fault);
      const byComponent = (c: string) => r.body.indicators.filter((i: any) => i.component === c).map((i: any) => i.name);
      assert.deepEqual(byComponent("system"), [`${info.systemUUID}@system`]);
      assert.deepEqual(byComponent("chassis"), [`${info.chassisUUID}@chassis`]);
      for (const indicator of r.body.indicators) {
        assert.equal(indicator.readonly, false);
        assert.deepEqual(indicator.states, ["blinking", "off", "on"]);
      }
    });

    test("Ironic reads and sets the system and chassis lights; one PUT costs one PATCH on the BMC", async () => {
      const info = fleet.bmcs[0]!;
      const bmc = fleet.bmc(0);
      const system = `/v1/nodes/${node}/management/indicators/${info.systemUUID}@system`;
      const chassis = `/v1/nodes/${node}/management/indicators/${info.chassisUUID}@chassis`;
      assert.deepEqual((await ironicCall(ironic, "GET", system)).body, { state: "off" });

      bmc.resetStats();
      const on = await ironicCall(ironic, "PUT", system, { state: "on" });
      assert.equal(on.status, 204, on.fault);
      assert.equal(bmc.lights().system, "Lit");
      const patches = Object.entries(bmc.stats().byMethodPath).filter(([k]) => k.startsWith("PATCH"));
      assert.deepEqual(patches, [[`PATCH ${info.systemPath}`, 1]]);

      assert.equal((await ironicCall(ironic, "PUT", chassis, { state: "blinking" })).status, 204);
      assert.equal(bmc.lights().chassis, "Blinking");
      assert.deepEqual((await ironicCall(ironic, "GET", chassis)).body, { state: "blinking" });

      // A light switched at the machine (not through Ironic) is what Ironic reads next.
      bmc.setLight("system", "Off");
      assert.deepEqual((await ironicCall(ironic, "GET", system)).body, { state: "off" });

      // The BMC refuses IndicatorLED "Unknown"; Ironic passes the refusal on as a 500.
      const unknown = await ironicCall(ironic, "PUT", system, { state: "unknown" });
      assert.equal(unknown.status, 500);
      assert.match(unknown.fault ?? "", /PATCH .* returned code 400.*PropertyValueNotInList/s);
    });

    test("disk lights: what this Ironic can do with the emulated drives", async () => {
      const info = fleet.bmcs[0]!;
      const drive = info.drives[1]!;
      const name = `${drive.storageId}:${drive.driveId}@disk`;
      const list = await ironicCall(ironic, "GET", `/v1/nodes/${node}/management/indicators`);
      const disks = list.body.indicators.filter((i: any) => i.component === "disk").map((i: any) => i.name);
      if (release.listsDiskLights) {
        // Ironic ≥ 23.1 reads System.Storage → Drives.
        assert.deepEqual(
          disks.sort(),
          info.drives.map((d) => `${d.storageId}:${d.driveId}@disk`).sort(),
        );
        const path = `/v1/nodes/${node}/management/indicators/${name}`;
        assert.equal((await ironicCall(ironic, "PUT", path, { state: "on" })).status, 204);
        assert.equal(fleet.bmc(0).lights().drives[`${drive.storageId}:${drive.driveId}`], "Lit");
        assert.deepEqual((await ironicCall(ironic, "GET", path)).body, { state: "on" });
        return;
      }
      // Ironic ≤ 23.0 (Debian's 21.4) reads disk lights from SimpleStorage, and with sushy 4.x
      // that code cannot work: without SimpleStorage the disk light is a 500 naming it ...
      const withoutSimple = await ironicCall(ironic, "GET", `/v1/nodes/${node}/management/indicators/${name}`);
      assert.equal(withoutSimple.status, 500);
      assert.match(withoutSimple.fault ?? "", /attribute SimpleStorage is missing/);
      // ... and with SimpleStorage the whole list fails, which is why the emulator leaves it out by default.
      const simpleNode = `${node}-simple`;
      await enroll(ironic, simpleNode, simpleStorageFleet.bmcs[0]!);
      const withSimple = await ironicCall(ironic, "GET", `/v1/nodes/${simpleNode}/management/indicators`);
      assert.equal(withSimple.status, 500);
      assert.match(withSimple.fault ?? "", /'SimpleStorageCollection' object has no attribute 'drives'/);
    });

    test("subscriptions through vendor passthru: create, list, get, a test event arrives, delete", async () => {
      const bmc = fleet.bmc(0);
      const created = await ironicCall(ironic, "POST", passthru(node, "create_subscription"), {
        Destination: `${sink.url}/ironic`,
        Context: "ironic-ctx",
        HttpHeaders: [{ "X-Ironic-Token": "ironic-secret" }],
      });
      assert.equal(created.status, 200, created.fault);
      const id = created.body.Id as string;
      assert.deepEqual(created.body, {
        Id: id,
        Destination: `${sink.url}/ironic`,
        Context: "ironic-ctx",
        Protocol: "Redfish",
        EventTypes: ["Alert"],
      });
      assert.deepEqual(
        bmc.subscriptions().map((s) => [s.id, s.context, s.httpHeaderNames]),
        [[id, "ironic-ctx", ["X-Ironic-Token"]]],
      );

      const all = await ironicCall(ironic, "GET", passthru(node, "get_all_subscriptions"));
      assert.equal(all.status, 200, all.fault);
      assert.deepEqual(all.body.Members, [{ "@odata.id": `/redfish/v1/EventService/Subscriptions/${id}` }]);
      const one = await ironicCall(ironic, "GET", passthru(node, "get_subscription"), { id });
      assert.equal(one.status, 200, one.fault);
      assert.equal(one.body.Context, "ironic-ctx");

      // Ironic subscribes to EventTypes ["Alert"]: a test event (Alert) and a drive failure arrive.
      bmc.submitEvent({ MessageId: "TestEvent.1.0.ThroughIronic", Message: "hello Ironic" });
      const drive = fleet.bmcs[0]!.drives[0]!;
      bmc.failDrive(drive.storageId, drive.driveId);
      const events = await sink.waitForCount(2);
      for (const event of events) {
        assert.equal(event.path, "/ironic");
        assert.equal(event.headers["x-ironic-token"], "ironic-secret");
        assert.equal(event.body.Context, "ironic-ctx");
      }
      assert.deepEqual(
        events.map((e) => e.body.Events[0].MessageId),
        ["TestEvent.1.0.ThroughIronic", "StorageDevice.1.0.DriveFailure"],
      );
      bmc.repairDrive(drive.storageId, drive.driveId);

      const deleted = await ironicCall(ironic, "DELETE", passthru(node, "delete_subscription"), { id });
      assert.equal(deleted.status, 200, deleted.fault);
      assert.deepEqual(bmc.subscriptions(), []);
      const again = await ironicCall(ironic, "DELETE", passthru(node, "delete_subscription"), { id });
      assert.equal(again.status, 404);
    });

    test("a subscription the BMC refuses (Protocol FTP) is a 500 from Ironic naming the BMC error", async () => {
      const ftp = await ironicCall(ironic, "POST", passthru(node, "create_subscription"), {
        Destination: `${sink.url}/x`,
        Protocol: "FTP",
      });
      assert.equal(ftp.status, 500);
      assert.match(ftp.fault ?? "", /returned code 400.*PropertyValueNotInList/s);
      assert.deepEqual(fleet.bmc(0).subscriptions(), []);
    });

    test("after a BMC reset, Ironic sees no subscriptions and every light off", async () => {
      const info = fleet.bmcs[1]!;
      const other = `${node}-reset`;
      await enroll(ironic, other, info);
      const created = await ironicCall(ironic, "POST", passthru(other, "create_subscription"), { Destination: `${sink.url}/reset` });
      assert.equal(created.status, 200, created.fault);
      const system = `/v1/nodes/${other}/management/indicators/${info.systemUUID}@system`;
      assert.equal((await ironicCall(ironic, "PUT", system, { state: "blinking" })).status, 204);

      fleet.bmc(1).reset();
      const all = await ironicCall(ironic, "GET", passthru(other, "get_all_subscriptions"));
      assert.equal(all.status, 200, all.fault);
      assert.deepEqual(all.body.Members, []);
      assert.deepEqual((await ironicCall(ironic, "GET", system)).body, { state: "off" });
    });

    test("what Ironic lists on each vendor profile: IndicatorLED lights under UUIDs, and a 400 where a lit resource has no UUID", async () => {
      const vendors = await startBmcFleet({ count: PROFILE_NAMES.length, profile: PROFILE_NAMES, drivesPerSystem: 2 });
      try {
        for (const info of vendors.bmcs) {
          const profile = PROFILES[info.profile];
          const name = `${node}-${info.profile}`;
          await enroll(ironic, name, info);
          const list = await ironicCall(ironic, "GET", `/v1/nodes/${name}/management/indicators`);
          // Ironic reads IndicatorLED only (never LocationIndicatorActive) and names system and chassis lights by UUID.
          const led = (model: { properties: readonly string[] }) => model.properties.includes("IndicatorLED");
          const unnamed = (led(profile.lights.system) && !profile.shape.systemUUID) || (led(profile.lights.chassis) && !profile.shape.chassisUUID);
          if (unnamed) {
            assert.equal(list.status, 400, `${info.profile}: ${JSON.stringify(list.body)}`);
            assert.match(list.fault ?? "", /Missing indicator name/, info.profile);
            continue;
          }
          assert.equal(list.status, 200, `${info.profile}: ${list.fault}`);
          const expected = [
            ...(led(profile.lights.system) ? [`${info.systemUUID}@system`] : []),
            ...(led(profile.lights.chassis) ? [`${info.chassisUUID}@chassis`] : []),
            ...(release.listsDiskLights && led(profile.lights.drive) ? info.drives.map((d) => `${d.storageId}:${d.driveId}@disk`) : []),
          ];
          assert.deepEqual(list.body.indicators.map((i: any) => i.name).sort(), expected.sort(), info.profile);
        }
      } finally {
        await vendors.close();
      }
    });
  });
}

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { PROFILE_NAMES, PROFILES, startBmcFleet } from "../../emulators/redfish-bmc/index.ts";
import type { EmulatedBmcInfo, RunningBmcFleet } from "../../emulators/redfish-bmc/index.ts";
import { startEventSink } from "../../emulators/event-sink/index.ts";
import type { RunningEventSink as EventSink } from "../../emulators/event-sink/index.ts";
import { REDFISHTOOL, redfishtoolAvailable, requireClient, run } from "./real-clients.ts";

let fleet: RunningBmcFleet;
let tlsFleet: RunningBmcFleet;
let sink: EventSink;

before(async () => {
  [fleet, tlsFleet, sink] = await Promise.all([
    startBmcFleet({ count: 1 }),
    startBmcFleet({ count: 1, tls: true }),
    startEventSink(),
  ]);
});
after(async () => {
  await Promise.all([fleet.close(), tlsFleet.close(), sink.close()]);
});

/** Runs redfishtool against a BMC; `secure` is `Never` for http and `Always` for https. */
async function redfishtool(info: EmulatedBmcInfo, args: string[], options: { auth?: "Basic" | "Session" } = {}) {
  const { host } = new URL(info.url);
  const secure = info.url.startsWith("https:") ? "Always" : "Never";
  const result = await run(REDFISHTOOL, [
    "-r",
    host,
    "-u",
    info.username,
    "-p",
    info.password,
    "-S",
    secure,
    "-A",
    options.auth ?? "Basic",
    "-T",
    "10",
    ...args,
  ]);
  let json: any;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    json = undefined;
  }
  return { ...result, json };
}

test("redfishtool sets the system and chassis lights and reads them back, with Basic and with a session", async (t) => {
  if (!requireClient(t, redfishtoolAvailable(), "redfishtool")) return;
  const info = fleet.bmcs[0]!;
  const bmc = fleet.bmc(0);
  const system = await redfishtool(info, ["Systems", "-1", "setIndicatorLed", "Blinking"]);
  assert.equal(system.code, 0, system.stderr);
  assert.equal(system.json.IndicatorLED, "Blinking");
  const chassis = await redfishtool(info, ["Chassis", "-1", "setIndicatorLed", "Lit"], { auth: "Session" });
  assert.equal(chassis.code, 0, chassis.stderr);
  assert.deepEqual([bmc.lights().system, bmc.lights().chassis], ["Blinking", "Lit"]);
  const read = await redfishtool(info, ["Systems", "-1", "-P", "LocationIndicatorActive"]);
  assert.deepEqual(read.json, { LocationIndicatorActive: true });
  const drive = info.drives[1]!;
  const drivePath = `${info.systemPath}/Storage/${drive.storageId}/Drives/${drive.driveId}`;
  const patched = await redfishtool(info, ["raw", "PATCH", drivePath, "-d", '{"LocationIndicatorActive": true}']);
  assert.equal(patched.code, 0, patched.stderr);
  assert.equal(bmc.lights().drives[`${drive.storageId}:${drive.driveId}`], "Lit");
  const bad = await redfishtool(info, ["Systems", "-1", "setIndicatorLed", "Purple"]);
  assert.notEqual(bad.code, 0, "redfishtool reports the refused value");
});

test("redfishtool creates, lists, reads and deletes a subscription; FTP is refused", async (t) => {
  if (!requireClient(t, redfishtoolAvailable(), "redfishtool")) return;
  const info = fleet.bmcs[0]!;
  const bmc = fleet.bmc(0);
  const body = JSON.stringify({
    Destination: `${sink.url}/rt`,
    Protocol: "Redfish",
    Context: "redfishtool-ctx",
    HttpHeaders: [{ "X-Rt": "rt-secret" }],
  });
  const created = await redfishtool(info, ["raw", "POST", "/redfish/v1/EventService/Subscriptions", "-d", body]);
  assert.equal(created.code, 0, created.stderr);
  const id = created.json.Id as string;
  assert.equal(created.json.Context, "redfishtool-ctx");
  assert.deepEqual(created.json.HttpHeaders, []);
  const list = await redfishtool(info, ["raw", "GET", "/redfish/v1/EventService/Subscriptions"]);
  assert.deepEqual(list.json.Members, [{ "@odata.id": `/redfish/v1/EventService/Subscriptions/${id}` }]);
  const member = await redfishtool(info, ["raw", "GET", `/redfish/v1/EventService/Subscriptions/${id}`]);
  assert.equal(member.json.Destination, `${sink.url}/rt`);

  bmc.submitEvent({ MessageId: "TestEvent.1.0.Redfishtool" });
  const [event] = await sink.waitForCount(1);
  assert.equal(event!.headers["x-rt"], "rt-secret");
  assert.equal(event!.body.Context, "redfishtool-ctx");

  const deleted = await redfishtool(info, ["raw", "DELETE", `/redfish/v1/EventService/Subscriptions/${id}`]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.deepEqual(bmc.subscriptions(), []);
  const again = await redfishtool(info, ["raw", "DELETE", `/redfish/v1/EventService/Subscriptions/${id}`]);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /404/);
  const ftp = await redfishtool(info, [
    "raw",
    "POST",
    "/redfish/v1/EventService/Subscriptions",
    "-d",
    '{"Destination": "ftp://127.0.0.1/x", "Protocol": "FTP"}',
  ]);
  assert.notEqual(ftp.code, 0);
  assert.match(ftp.stderr, /400/);
});

test("redfishtool over HTTPS (self-signed certificate, tls: true)", async (t) => {
  if (!requireClient(t, redfishtoolAvailable(), "redfishtool")) return;
  const info = tlsFleet.bmcs[0]!;
  const result = await redfishtool(info, ["Systems", "-1", "setIndicatorLed", "Lit"], { auth: "Session" });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(tlsFleet.bmc(0).lights().system, "Lit");
  const root = await redfishtool(info, ["root", "-P", "UUID"]);
  assert.match(root.json.UUID, /^[0-9a-f-]{36}$/);
});

test("redfishtool reads every vendor profile with a session, and sets the system light where the vendor has IndicatorLED", async (t) => {
  if (!requireClient(t, redfishtoolAvailable(), "redfishtool")) return;
  const vendors = await startBmcFleet({ count: PROFILE_NAMES.length, profile: PROFILE_NAMES });
  try {
    for (const info of vendors.bmcs) {
      const profile = PROFILES[info.profile];
      const system = await redfishtool(info, ["Systems", "-1"], { auth: "Session" });
      assert.equal(system.code, 0, `${info.profile}: ${system.stderr}`);
      assert.equal(system.json.Id, info.systemPath.split("/").at(-1), info.profile);
      // Supermicro also lists its drive backplane as a chassis: name the one the system is in.
      const chassis = await redfishtool(info, ["Chassis", "-I", profile.identity.chassisId], { auth: "Session" });
      assert.equal(chassis.code, 0, `${info.profile}: ${chassis.stderr}`);
      assert.equal(chassis.json.ChassisType, "RackMount", info.profile);
      const set = await redfishtool(info, ["Systems", "-1", "setIndicatorLed", "Lit"]);
      // redfishtool sends If-Match with the ETag of its GET, so Lenovo's If-Match rule lets it through.
      const writable = profile.lights.system.properties.includes("IndicatorLED");
      if (writable) {
        assert.equal(set.code, 0, `${info.profile}: ${set.stderr}`);
        assert.equal(vendors.bmc(info.index).lights().system, "Lit", info.profile);
      } else {
        assert.notEqual(set.code, 0, `${info.profile}: the BMC refuses the write (${JSON.stringify(set.json)})`);
        assert.equal(vendors.bmc(info.index).lights().system, "Off", info.profile);
      }
    }
  } finally {
    await vendors.close();
  }
});

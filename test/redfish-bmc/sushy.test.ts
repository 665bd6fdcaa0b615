import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { PROFILE_NAMES, PROFILES, startBmcFleet } from "../../emulators/redfish-bmc/index.ts";
import type { RunningBmcFleet } from "../../emulators/redfish-bmc/index.ts";
import { startEventSink } from "../../emulators/event-sink/index.ts";
import type { RunningEventSink as EventSink } from "../../emulators/event-sink/index.ts";
import { requireClient, runSushy, sushyAvailable } from "./real-clients.ts";

let fleet: RunningBmcFleet;
let sink: EventSink;

before(async () => {
  fleet = await startBmcFleet({ count: 2, drivesPerSystem: 2 });
  sink = await startEventSink();
});
after(async () => {
  await fleet.close();
  await sink.close();
});

test("sushy (Ironic's Redfish library) reads and sets every light, subscribes and gets a test event", async (t) => {
  if (!requireClient(t, sushyAvailable(), "sushy (python3-sushy)")) return;
  const info = fleet.bmcs[1]!;
  const bmc = fleet.bmc(1);
  const input = {
    phase: "main",
    url: info.url,
    username: info.username,
    password: info.password,
    systemPath: info.systemPath,
    destination: `${sink.url}/sushy`,
  };
  const seen = await runSushy("sushy_flows.py", input);

  assert.equal(seen.redfishVersion, "1.15.0");
  assert.equal(seen.systemUUID, info.systemUUID);
  assert.equal(seen.systemLightBefore, "Off");
  assert.equal(seen.systemLightAfter, "Lit");
  assert.deepEqual(seen.chassis, [{ uuid: info.chassisUUID, type: "RackMount", light: "Blinking" }]);
  assert.deepEqual(
    seen.drives,
    info.drives.map((d) => ({ storage: d.storageId, id: d.driveId, serial: d.serialNumber, light: "Blinking" })),
  );
  assert.equal(seen.badLight, "InvalidParameterValueError");
  assert.deepEqual(bmc.lights(), {
    system: "Lit",
    chassis: "Blinking",
    drives: Object.fromEntries(info.drives.map((d) => [`${d.storageId}:${d.driveId}`, "Blinking"])),
  });
  assert.equal(fleet.bmc(0).lights().system, "Off", "the other BMC was not touched");

  // sushy logged in with a session (SessionOrBasicAuth), and deleted it when done.
  const stats = bmc.stats();
  assert.equal(stats.byMethodPath["POST /redfish/v1/SessionService/Sessions"], 1);

  assert.equal(seen.retryAttempts, 3);
  assert.equal(seen.subscription.context, "sushy-context");
  assert.equal(seen.subscription.destination, `${sink.url}/sushy`);
  assert.deepEqual(seen.subscription.httpHeaders, []);
  assert.deepEqual(seen.members, [seen.subscription.id]);
  assert.match(seen.ftp, /400/);
  assert.match(seen.ftp, /PropertyValueNotInList/);
  assert.deepEqual(bmc.subscriptions()[0]!.httpHeaderNames, ["X-Sushy-Token"]);

  const [event] = await sink.waitForCount(1);
  assert.equal(event!.path, "/sushy");
  assert.equal(event!.headers["x-sushy-token"], "sushy-secret");
  assert.equal(event!.body.Context, "sushy-context");
  assert.equal(event!.body.Events[0].MessageId, "TestEvent.1.0.FromSushy");
  assert.equal(event!.body.Events[0].EventId, "sushy-1");
  assert.deepEqual(event!.body.Events[0].OriginOfCondition, { "@odata.id": info.systemPath });

  const cleaned = await runSushy("sushy_flows.py", { ...input, phase: "cleanup" });
  assert.deepEqual(cleaned.members, []);
  assert.deepEqual(bmc.subscriptions(), []);
});

test("sushy reads every vendor profile as Ironic would: identity, lights where the vendor has IndicatorLED, drives, subscriptions", async (t) => {
  if (!requireClient(t, sushyAvailable(), "sushy (python3-sushy)")) return;
  const vendors = await startBmcFleet({ count: PROFILE_NAMES.length, profile: PROFILE_NAMES, drivesPerSystem: 2 });
  try {
    for (const info of vendors.bmcs) {
      const profile = PROFILES[info.profile];
      const seen = await runSushy("sushy_flows.py", {
        phase: "inventory",
        url: info.url,
        username: info.username,
        password: info.password,
        systemPath: info.systemPath,
      });
      const label = `${info.profile}: ${JSON.stringify(seen)}`;
      assert.equal(seen.systemUUID, profile.shape.systemUUID ? info.systemUUID : null, label);
      const shows = (model: { properties: readonly string[] }) => model.properties.includes("IndicatorLED");
      assert.equal(seen.systemLight, shows(profile.lights.system) ? "Off" : null, label);
      assert.equal(seen.powerState, "On", label);
      assert.deepEqual(
        seen.chassis,
        [
          {
            uuid: profile.shape.chassisUUID ? info.chassisUUID : null,
            light: shows(profile.lights.chassis) ? vendors.bmc(info.index).lights().chassis : null,
          },
        ],
        label,
      );
      assert.deepEqual(
        seen.drives,
        info.drives.map((d) => ({ storage: d.storageId, id: d.driveId, serial: d.serialNumber })),
        label,
      );
      assert.deepEqual(seen.subscriptions, [], label);
    }
  } finally {
    await vendors.close();
  }
});

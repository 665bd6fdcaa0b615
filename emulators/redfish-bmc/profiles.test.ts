/**
 * Vendor profiles through real HTTP: each profile's resource shapes, PATCH
 * answers, light semantics and subscription rules, checked against the BMC's
 * own state (the control methods), and the default staying `generic`.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startEventSink } from "../event-sink/index.ts";
import { PROFILE_NAMES, PROFILES, parseProfileList, startBmcFleet } from "./index.ts";
import type { EmulatedBmcInfo, ProfileName, RunningBmcFleet } from "./index.ts";
import { redfishFetch, walkTree } from "./testing.ts";

/** Every path reachable from the root by `@odata.id` links (fragments dropped), with its response. */
const subscriptionsPath = (_info: EmulatedBmcInfo) => "/redfish/v1/EventService/Subscriptions";
const messageIds = (body: any): string[] => (body?.error?.["@Message.ExtendedInfo"] ?? []).map((m: any) => m.MessageId);

describe("vendor profiles", () => {
  let fleet: RunningBmcFleet;
  const byProfile = (name: ProfileName) => fleet.bmcs.find((b) => b.profile === name)!;
  const bmcOf = (name: ProfileName) => fleet.bmc(byProfile(name).index);

  before(async () => {
    fleet = await startBmcFleet({
      count: PROFILE_NAMES.length,
      profile: PROFILE_NAMES,
      drivesPerSystem: 2,
      eventDelivery: { retryAttempts: 1, retryIntervalSeconds: 0.01, timeoutMs: 2_000 },
    });
  });
  after(() => fleet.close());

  test("the default is generic, and a profile list is taken in turn", async () => {
    const plain = await startBmcFleet({ count: 1 });
    try {
      assert.equal(plain.bmcs[0]!.profile, "generic");
      assert.equal(plain.bmcs[0]!.systemPath, "/redfish/v1/Systems/System.Embedded.1");
    } finally {
      await plain.close();
    }
    assert.deepEqual(
      fleet.bmcs.map((b) => b.profile),
      [...PROFILE_NAMES],
    );
    assert.deepEqual(parseProfileList("openbmc, dell-idrac9"), ["openbmc", "dell-idrac9"]);
    assert.throws(() => parseProfileList("openbmc,ilo"), /unknown BMC profile "ilo"; known: generic, dell-idrac9/);
    await assert.rejects(startBmcFleet({ count: 1, profile: "nope" as ProfileName }), /unknown BMC profile "nope"/);
  });

  for (const name of PROFILE_NAMES) {
    test(`${name}: every linked resource answers, Ids match paths, UUIDs and light properties as the profile says`, async () => {
      const info = byProfile(name);
      const profile = PROFILES[name];
      const tree = await walkTree(info);
      for (const [path, r] of tree) {
        assert.equal(r.status, 200, `${name}: GET ${path}`);
        assert.equal(r.body["@odata.id"], path, `${name}: ${path} @odata.id`);
        if (profile.shape.trailingSlash) assert.match(path, /\/$/, `${name}: ${path} ends in /`);
        else if (path !== "/redfish/v1/") assert.doesNotMatch(path, /\/$/, `${name}: ${path} has no trailing /`);
        if (profile.shape.odataEtag && r.body["@odata.id"] && !path.endsWith("$metadata")) {
          assert.ok(r.body["@odata.etag"], `${name}: ${path} carries @odata.etag`);
        }
      }
      const find = (type: string) =>
        [...tree.values()].filter((r) => new RegExp(`^#${type}\\.v\\d`).test(String(r.body["@odata.type"]))).map((r) => r.body);
      const [system] = find("ComputerSystem");
      const chassis = find("Chassis").find((c) => c.ChassisType === "RackMount");
      const drives = find("Drive");
      assert.ok(system && chassis, `${name}: system and chassis reachable`);
      assert.equal(drives.length, 2, `${name}: both drives reachable`);
      assert.equal("UUID" in system, profile.shape.systemUUID, `${name}: system UUID`);
      assert.equal("UUID" in chassis, profile.shape.chassisUUID, `${name}: chassis UUID`);
      const lightProps = (body: any) => ["IndicatorLED", "LocationIndicatorActive"].filter((p) => p in body);
      assert.deepEqual(lightProps(system), [...profile.lights.system.properties], `${name}: system light`);
      assert.deepEqual(lightProps(chassis), [...profile.lights.chassis.properties], `${name}: chassis light`);
      for (const d of drives) assert.deepEqual(lightProps(d), [...profile.lights.drive.properties], `${name}: drive light`);
      const events = find("EventService")[0];
      assert.equal("EventTypesForSubscription" in events, profile.eventService.eventTypesForSubscription !== undefined);
      assert.equal("RegistryPrefixes" in events, profile.eventService.registryPrefixes !== undefined);
      const etag = (await redfishFetch(info, info.systemPath)).headers.get("etag");
      if (profile.shape.etag === "none") assert.equal(etag, null);
      else assert.match(etag ?? "", profile.shape.etag === "weak" ? /^W\/"/ : /^"/);
    });
  }

  test("dell-idrac9: the chassis light is Lit when normal and Blinking to identify; a reset returns it to Lit", async () => {
    const info = byProfile("dell-idrac9");
    const bmc = bmcOf("dell-idrac9");
    const chassis = "/redfish/v1/Chassis/System.Embedded.1";
    assert.equal(bmc.lights().chassis, "Lit");
    const on = await redfishFetch(info, chassis, { method: "PATCH", body: { LocationIndicatorActive: true } });
    assert.equal(on.status, 200);
    assert.equal(on.body["@Message.ExtendedInfo"][0].MessageId, "Base.1.12.Success");
    assert.equal(bmc.lights().chassis, "Blinking");
    const read = await redfishFetch(info, chassis);
    assert.equal(read.body.IndicatorLED, "Blinking");
    assert.equal(read.body.LocationIndicatorActive, true);
    await redfishFetch(info, chassis, { method: "PATCH", body: { LocationIndicatorActive: false } });
    assert.equal(bmc.lights().chassis, "Lit");
    const conflict = await redfishFetch(info, chassis, { method: "PATCH", body: { IndicatorLED: "Lit", LocationIndicatorActive: true } });
    assert.equal(conflict.status, 400, "Lit is not identifying on this chassis");
    // A reset (in a fleet of its own: it cuts connections) returns the chassis light to its normal state.
    const own = await startBmcFleet({ count: 1, profile: "dell-idrac9" });
    try {
      own.bmc(0).setLight("chassis", "Blinking");
      own.bmc(0).reset();
      assert.equal(own.bmc(0).lights().chassis, "Lit");
    } finally {
      await own.close();
    }
  });

  test("dell-idrac9: https destinations only, one per destination, at most 20; failed deliveries suspend", async () => {
    const info = byProfile("dell-idrac9");
    const bmc = bmcOf("dell-idrac9");
    const post = (destination: string) =>
      redfishFetch(info, subscriptionsPath(info), { method: "POST", body: { Destination: destination, Protocol: "Redfish" } });
    const http = await post("http://127.0.0.1:9/events");
    assert.equal(http.status, 400);
    assert.match(http.body.error.message, /only https:\/\//);
    assert.equal((await post("https://127.0.0.1:1/events")).status, 201);
    const again = await post("https://127.0.0.1:1/events");
    assert.equal(again.status, 400);
    assert.deepEqual(messageIds(again.body), ["Base.1.12.PropertyValueModified"]);
    for (let n = 2; n <= 20; n++) assert.equal((await post(`https://127.0.0.1:1/e${n}`)).status, 201, `subscription ${n}`);
    const full = await post("https://127.0.0.1:1/e21");
    assert.equal(full.status, 400);
    assert.match(messageIds(full.body)[0]!, /CreateLimitReachedForResource$/);
    for (const s of bmc.subscriptions().slice(1)) bmc.deleteSubscription(s.id);

    // The one left points at a closed port: every delivery fails, and the BMC suspends it instead of
    // deleting it, even with a policy that asks to retry forever.
    const [left] = bmc.subscriptions();
    await redfishFetch(info, `${subscriptionsPath(info)}/${left!.id}`, { method: "PATCH", body: { DeliveryRetryPolicy: "RetryForever" } });
    assert.equal(bmc.subscriptions()[0]!.deliveryRetryPolicy, "RetryForever");
    bmc.submitEvent({ MessageId: "Base.1.0.Test" });
    await bmc.deliveriesSettled();
    assert.deepEqual(
      bmc.subscriptions().map((s) => [s.id, s.state]),
      [[left!.id, "Disabled"]],
    );
    const resumed = await redfishFetch(info, `${subscriptionsPath(info)}/${left!.id}/Actions/EventDestination.ResumeSubscription`, {
      method: "POST",
      body: {},
    });
    assert.equal(resumed.status, 204);
    assert.equal(bmc.subscriptions()[0]!.state, "Enabled");
    bmc.deleteSubscription(left!.id);
  });

  test("hpe-ilo5: success in an error envelope, DeliveryRetryPolicy refused, EventTypes required, a 204 listener fails and the subscription is deleted", async () => {
    const info = byProfile("hpe-ilo5");
    const bmc = bmcOf("hpe-ilo5");
    const patch = await redfishFetch(info, "/redfish/v1/Systems/1/", { method: "PATCH", body: { IndicatorLED: "Lit" } });
    assert.equal(patch.status, 200);
    assert.deepEqual(patch.body, {
      error: {
        code: "iLO.2.15.ExtendedInfo",
        message: "See @Message.ExtendedInfo for more information.",
        "@Message.ExtendedInfo": [{ MessageId: "Base.1.4.Success" }],
      },
    });
    assert.equal(bmc.lights().system, "Lit");
    const drive = await redfishFetch(info, "/redfish/v1/Systems/1/Storage/DE07A000/Drives/1/", {
      method: "PATCH",
      body: { IndicatorLED: "Lit" },
    });
    assert.equal(drive.status, 400, "iLO drives have no IndicatorLED");
    assert.deepEqual(messageIds(drive.body), ["iLO.2.15.PropertyNotWritableOrUnknown"]);

    const sink = await startEventSink({ status: 204 });
    try {
      const refused = await redfishFetch(info, subscriptionsPath(info), {
        method: "POST",
        body: { Destination: `${sink.url}/x`, EventTypes: ["Alert"], DeliveryRetryPolicy: "SuspendRetries" },
      });
      assert.equal(refused.status, 400);
      assert.deepEqual(messageIds(refused.body), ["iLO.2.15.PropertyNotWritableOrUnknown"]);
      assert.deepEqual(refused.body.error["@Message.ExtendedInfo"][0].MessageArgs, ["DeliveryRetryPolicy"]);
      const missing = await redfishFetch(info, subscriptionsPath(info), { method: "POST", body: { Destination: `${sink.url}/x` } });
      assert.equal(missing.status, 400);
      assert.match(messageIds(missing.body)[0]!, /PropertyMissing$/);

      const created = await redfishFetch(info, subscriptionsPath(info), {
        method: "POST",
        body: { Destination: `${sink.url}/x`, EventTypes: ["Alert"] },
      });
      assert.equal(created.status, 201);
      assert.deepEqual(created.body.error["@Message.ExtendedInfo"], [{ MessageId: "Base.1.4.Created" }]);
      const location = created.headers.get("location")!;
      assert.match(location, /^\/redfish\/v1\/EventService\/Subscriptions\/\d+\/$/);
      assert.equal((await redfishFetch(info, location)).status, 200);

      bmc.submitEvent({ MessageId: "Base.1.0.Test" });
      await bmc.deliveriesSettled();
      assert.ok(sink.events.length >= 1, "the listener was reached");
      assert.deepEqual(bmc.subscriptions(), [], "a 204 counts as a failure, and iLO deletes the subscription");
    } finally {
      await sink.close();
    }
  });

  test("hpe-ilo6: no trailing slash, LocationIndicatorActive, EventTypes optional and RegistryPrefixes advertised", async () => {
    const info = byProfile("hpe-ilo6");
    const events = await redfishFetch(info, "/redfish/v1/EventService");
    assert.ok(events.body.RegistryPrefixes.includes("ResourceEvent"));
    assert.equal(events.body.EventTypesForSubscription, undefined);
    const created = await redfishFetch(info, subscriptionsPath(info), {
      method: "POST",
      body: { Destination: "http://127.0.0.1:9/x", RegistryPrefixes: ["ResourceEvent"] },
    });
    assert.equal(created.status, 201);
    assert.match(created.headers.get("location")!, /\/Subscriptions\/\d+$/);
    bmcOf("hpe-ilo6").deleteSubscription(bmcOf("hpe-ilo6").subscriptions()[0]!.id);
  });

  test("lenovo-xcc: PATCH needs If-Match; the chassis shows the system's light and refuses the write", async () => {
    const info = byProfile("lenovo-xcc");
    const bmc = bmcOf("lenovo-xcc");
    const none = await redfishFetch(info, info.systemPath, { method: "PATCH", body: { LocationIndicatorActive: true } });
    assert.equal(none.status, 428);
    const stale = await redfishFetch(info, info.systemPath, {
      method: "PATCH",
      body: { LocationIndicatorActive: true },
      headers: { "if-match": 'W/"stale"' },
    });
    assert.equal(stale.status, 412);
    assert.equal(bmc.lights().system, "Off");
    const read = await redfishFetch(info, info.systemPath);
    assert.equal(read.body["@odata.etag"], read.headers.get("etag"), "@odata.etag equals the ETag header");
    const ok = await redfishFetch(info, info.systemPath, {
      method: "PATCH",
      body: { LocationIndicatorActive: true },
      headers: { "if-match": read.headers.get("etag")! },
    });
    assert.equal(ok.status, 200);
    assert.equal(bmc.lights().system, "Lit");
    const chassis = await redfishFetch(info, "/redfish/v1/Chassis/1");
    assert.equal(chassis.body.IndicatorLED, "Lit", "the chassis shows the system's light");
    const write = await redfishFetch(info, "/redfish/v1/Chassis/1", {
      method: "PATCH",
      body: { IndicatorLED: "Off" },
      headers: { "if-match": chassis.headers.get("etag")! },
    });
    assert.equal(write.status, 400);
    assert.match(messageIds(write.body)[0]!, /PropertyNotWritable$/);
    assert.equal(bmc.lights().system, "Lit");
    bmc.setLight("system", "Off");

    const post = (n: number) =>
      redfishFetch(info, "/redfish/v1/EventService/Subscriptions", {
        method: "POST",
        body: { Destination: `http://127.0.0.1:9/e${n}`, Protocol: "Redfish" },
      });
    for (let n = 1; n <= 12; n++) assert.equal((await post(n)).status, 201, `subscription ${n}`);
    const full = await post(13);
    assert.equal(full.status, 400);
    // The 13th is refused with the Base registry's text, word for word (no count in it).
    assert.match(messageIds(full.body)[0]!, /CreateLimitReachedForResource$/);
    assert.equal(full.body.error["@Message.ExtendedInfo"][0].Message, "The create operation failed because the resource has reached the limit of possible resources.");
    for (const s of bmc.subscriptions()) bmc.deleteSubscription(s.id);
  });

  test("supermicro: drives under the backplane chassis; their light only through the OEM Indicate action", async () => {
    const info = byProfile("supermicro");
    const bmc = bmcOf("supermicro");
    const storage = await redfishFetch(info, "/redfish/v1/Systems/1/Storage/NVMeSSD");
    const drivePath = storage.body.Drives[1]["@odata.id"];
    assert.equal(drivePath, "/redfish/v1/Chassis/NVMeSSD.0.Group.0.StorageBackplane/Drives/Disk.Bay.1");
    const drive = await redfishFetch(info, drivePath);
    const target = drive.body.Actions.Oem["#Drive.Indicate"].target;
    const patch = await redfishFetch(info, drivePath, { method: "PATCH", body: { LocationIndicatorActive: true } });
    assert.equal(patch.status, 400);
    const on = await redfishFetch(info, target, { method: "POST", body: { Active: true } });
    assert.equal(on.status, 200);
    assert.equal(on.body.Success.code, "Base.v1_4_0.Success");
    assert.equal(bmc.lights().drives["NVMeSSD:Disk.Bay.1"], "Lit");
    const bad = await redfishFetch(info, target, { method: "POST", body: { Active: "yes" } });
    assert.equal(bad.status, 400);
    await redfishFetch(info, target, { method: "POST", body: { Active: false } });
    assert.equal(bmc.lights().drives["NVMeSSD:Disk.Bay.1"], "Off");
  });

  test("openbmc: 204 on PATCH, IndicatorLED unknown, EventTypes and http refused, 20 subscriptions then 503", async () => {
    const info = byProfile("openbmc");
    const bmc = bmcOf("openbmc");
    const on = await redfishFetch(info, info.systemPath, { method: "PATCH", body: { LocationIndicatorActive: true } });
    assert.equal(on.status, 204);
    assert.equal(bmc.lights().system, "Lit");
    const led = await redfishFetch(info, info.systemPath, { method: "PATCH", body: { IndicatorLED: "Off" } });
    assert.equal(led.status, 400);
    assert.match(messageIds(led.body)[0]!, /PropertyUnknown$/);
    const stale = await redfishFetch(info, info.systemPath, {
      method: "PATCH",
      body: { LocationIndicatorActive: false },
      headers: { "if-match": '"stale"' },
    });
    assert.equal(stale.status, 412);

    const post = (body: object) => redfishFetch(info, subscriptionsPath(info), { method: "POST", body });
    const eventTypes = await post({ Destination: "https://127.0.0.1:9/x", Protocol: "Redfish", EventTypes: ["Alert"] });
    assert.equal(eventTypes.status, 400);
    assert.deepEqual(eventTypes.body.error["@Message.ExtendedInfo"][0].MessageArgs, ["EventTypes"]);
    assert.equal((await post({ Destination: "http://127.0.0.1:9/x", Protocol: "Redfish" })).status, 400);
    assert.equal((await post({ Destination: "https://127.0.0.1:9/x" })).status, 400, "Protocol is required");
    const prefix = await post({ Destination: "https://127.0.0.1:9/x", Protocol: "Redfish", RegistryPrefixes: ["ResourceEvent"] });
    assert.equal(prefix.status, 400, "only the advertised registries");
    assert.deepEqual(prefix.body.error["@Message.ExtendedInfo"][0].MessageArgs, ["ResourceEvent", "RegistryPrefixes"]);
    for (let n = 1; n <= 20; n++) {
      const created = await post({ Destination: `https://127.0.0.1:9/e${n}`, Protocol: "Redfish", RegistryPrefixes: ["Base"] });
      assert.equal(created.status, 201, `subscription ${n}`);
      if (n === 1) assert.match(created.body["@Message.ExtendedInfo"][0].MessageId, /\.Created$/);
    }
    const full = await post({ Destination: "https://127.0.0.1:9/e21", Protocol: "Redfish", EventTypes: ["Alert"] });
    assert.equal(full.status, 503, "a full bmcweb answers with its limit before it reads the request");
    assert.match(messageIds(full.body)[0]!, /EventSubscriptionLimitExceeded$/);
    const one = await redfishFetch(info, `${subscriptionsPath(info)}/1`);
    assert.deepEqual(one.body.HttpHeaders, []);
    for (const s of bmc.subscriptions()) bmc.deleteSubscription(s.id);
  });

  test("drive link quirks: each drive listed several times, and links to drives that answer 404", async () => {
    const quirky = await startBmcFleet({ count: 1, drivesPerSystem: 2, driveLinkQuirks: { repeatDriveLinks: 3, deadDriveLinks: 1 } });
    try {
      const info = quirky.bmcs[0]!;
      const storage = await redfishFetch(info, "/redfish/v1/Systems/System.Embedded.1/Storage/RAID.Integrated.1-1");
      const links: string[] = storage.body.Drives.map((d: any) => d["@odata.id"]);
      assert.equal(links.length, 7);
      assert.equal(new Set(links).size, 3);
      assert.equal((await redfishFetch(info, links.at(-1)!)).status, 404);
      await assert.rejects(startBmcFleet({ count: 1, driveLinkQuirks: { repeatDriveLinks: 0 } }), /repeatDriveLinks must be an integer from 1 to 64, got 0/);
    } finally {
      await quirky.close();
    }
  });
});

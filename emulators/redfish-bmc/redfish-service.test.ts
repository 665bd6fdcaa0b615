import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startBmcFleet } from "./index.ts";
import type { EmulatedBmcInfo, RunningBmcFleet } from "./index.ts";
import { redfishFetch, walkTree } from "./testing.ts";

let fleet: RunningBmcFleet;
let bmc: EmulatedBmcInfo;

before(async () => {
  fleet = await startBmcFleet({ count: 2, drivesPerSystem: 3 });
  bmc = fleet.bmcs[0]!;
});
after(() => fleet.close());

/** Every resource reachable from the root by `@odata.id` links, as path → body. */
describe("resources", () => {
  test("the service root is readable without credentials and has Id, UUID and RedfishVersion", async () => {
    const response = await fetch(`${bmc.url}/redfish/v1/`);
    assert.equal(response.status, 200);
    const root = (await response.json()) as any;
    assert.equal(root.Id, "RootService");
    assert.match(root.UUID, /^[0-9a-f-]{36}$/);
    assert.equal(root.RedfishVersion, "1.15.0");
    assert.equal(root.Links.Sessions["@odata.id"], "/redfish/v1/SessionService/Sessions");
    assert.equal(response.headers.get("odata-version"), "4.0");
    assert.ok(response.headers.get("etag"));
  });

  test("every resource has @odata.id, @odata.type, Name, and Id unless a collection; Id is the last path segment", async () => {
    const walked = await walkTree(bmc, 200);
    for (const [path, r] of walked) assert.equal(r.status, 200, `GET ${path}`);
    const tree = new Map([...walked].map(([path, r]) => [path, r.body]));
    for (const path of [
      "/redfish/v1/Systems/System.Embedded.1",
      "/redfish/v1/Chassis/System.Embedded.1",
      "/redfish/v1/Managers/iDRAC.Embedded.1",
      "/redfish/v1/EventService",
      "/redfish/v1/SessionService",
      "/redfish/v1/Systems/System.Embedded.1/Storage/RAID.Integrated.1-1/Drives/Disk.Bay.2",
      "/redfish/v1/Chassis/System.Embedded.1/Thermal",
    ]) {
      assert.ok(tree.has(path), `${path} is reachable from the root`);
    }
    for (const [path, body] of tree) {
      assert.equal(body["@odata.id"], path, `${path} @odata.id`);
      assert.match(body["@odata.type"], /^#\w+\.(v\d+_\d+_\d+\.)?\w+$/, `${path} @odata.type`);
      assert.equal(typeof body.Name, "string", `${path} Name`);
      if (!body["@odata.type"].includes("Collection")) {
        const last = path === "/redfish/v1/" ? "RootService" : path.split("/").at(-1);
        assert.equal(body.Id, last, `${path} Id`);
      }
    }
  });

  test("the system has what sushy and Ironic need", async () => {
    const { body: system } = await redfishFetch(bmc, bmc.systemPath);
    assert.equal(system.UUID, bmc.systemUUID);
    assert.equal(typeof system.Boot, "object");
    assert.equal(system.PowerState, "On");
    assert.equal(system.Actions["#ComputerSystem.Reset"].target, `${bmc.systemPath}/Actions/ComputerSystem.Reset`);
    assert.deepEqual(system.Links.Chassis, [{ "@odata.id": "/redfish/v1/Chassis/System.Embedded.1" }]);
    assert.equal(system.IndicatorLED, "Off");
    assert.equal(system.LocationIndicatorActive, false);
    assert.equal(system.SimpleStorage, undefined, "SimpleStorage is off by default");
    const { body: chassis } = await redfishFetch(bmc, "/redfish/v1/Chassis/System.Embedded.1");
    assert.equal(chassis.UUID, bmc.chassisUUID);
    assert.equal(chassis.ChassisType, "RackMount");
    const { body: storage } = await redfishFetch(bmc, `${bmc.systemPath}/Storage/RAID.Integrated.1-1`);
    assert.equal(storage.Drives.length, 3);
    assert.equal(storage.StorageControllers[0].MemberId, "0");
    const { body: es } = await redfishFetch(bmc, "/redfish/v1/EventService");
    assert.equal(es.Actions["#EventService.SubmitTestEvent"].target, "/redfish/v1/EventService/Actions/EventService.SubmitTestEvent");
    assert.equal(es.ServiceEnabled, true);
    assert.equal(es.DeliveryRetryAttempts, 3);
  });

  test("drives listed in the fleet info match the Drive resources", async () => {
    assert.equal(bmc.drives.length, 3);
    for (const d of bmc.drives) {
      const { body } = await redfishFetch(bmc, `${bmc.systemPath}/Storage/${d.storageId}/Drives/${d.driveId}`);
      assert.equal(body.SerialNumber, d.serialNumber);
      assert.equal(body.Model, d.model);
      assert.equal(body.Name, d.name);
    }
    const other = fleet.bmcs[1]!;
    assert.notEqual(other.systemUUID, bmc.systemUUID);
    assert.notEqual(other.drives[0]!.serialNumber, bmc.drives[0]!.serialNumber);
  });

  test("SimpleStorage lists the same drives when the option is on", async () => {
    const withSimple = await startBmcFleet({ count: 1, simpleStorage: true });
    try {
      const b = withSimple.bmcs[0]!;
      const { body: system } = await redfishFetch(b, b.systemPath);
      assert.equal(system.SimpleStorage["@odata.id"], `${b.systemPath}/SimpleStorage`);
      const { body: member } = await redfishFetch(b, `${b.systemPath}/SimpleStorage/RAID.Integrated.1-1`);
      assert.deepEqual(
        member.Devices.map((d: any) => d.Name),
        b.drives.map((d) => d.name),
      );
    } finally {
      await withSimple.close();
    }
  });

  test("unknown paths give 404, wrong methods 405 with Allow, $ queries 501", async () => {
    const missing = await redfishFetch(bmc, "/redfish/v1/Systems/nope");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error["@Message.ExtendedInfo"][0].MessageId, "Base.1.8.ResourceMissingAtURI");
    const put = await redfishFetch(bmc, bmc.systemPath, { method: "PUT", body: {} });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("allow"), "GET, HEAD, PATCH");
    const expand = await redfishFetch(bmc, "/redfish/v1/Systems?$expand=.");
    assert.equal(expand.status, 501);
  });
});

describe("authentication", () => {
  test("401 with WWW-Authenticate without credentials, and with wrong ones (never echoing the password)", async () => {
    const none = await fetch(`${bmc.url}${bmc.systemPath}`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get("www-authenticate") ?? "", /^Basic /);
    await none.body?.cancel();
    const wrong = await redfishFetch({ ...bmc, password: "guess-xyz" }, bmc.systemPath);
    assert.equal(wrong.status, 401);
    assert.doesNotMatch(JSON.stringify(wrong.body), /guess-xyz/);
    const otherBmcCredentials = await redfishFetch({ ...fleet.bmcs[1]!, url: bmc.url }, bmc.systemPath);
    assert.equal(otherBmcCredentials.status, 401, "each BMC has its own credentials");
  });

  test("a session gives an X-Auth-Token and a Location, works until deleted", async () => {
    const open = await fetch(`${bmc.url}/redfish/v1/SessionService/Sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ UserName: bmc.username, Password: bmc.password }),
    });
    assert.equal(open.status, 201);
    const token = open.headers.get("x-auth-token")!;
    const location = open.headers.get("location")!;
    const body = (await open.json()) as any;
    assert.ok(token.length >= 32);
    assert.equal(location, body["@odata.id"]);
    assert.doesNotMatch(JSON.stringify(body), new RegExp(token));
    const get = await fetch(`${bmc.url}${bmc.systemPath}`, { headers: { "x-auth-token": token } });
    assert.equal(get.status, 200);
    await get.body?.cancel();
    const list = await fetch(`${bmc.url}/redfish/v1/SessionService/Sessions`, { headers: { "x-auth-token": token } });
    assert.ok(((await list.json()) as any).Members.some((m: any) => m["@odata.id"] === location));
    const del = await fetch(`${bmc.url}${location}`, { method: "DELETE", headers: { "x-auth-token": token } });
    assert.equal(del.status, 204);
    const afterDelete = await fetch(`${bmc.url}${bmc.systemPath}`, { headers: { "x-auth-token": token } });
    assert.equal(afterDelete.status, 401);
    await afterDelete.body?.cancel();
  });

  test("a session with a wrong password is refused with 401, and the Sessions list needs credentials", async () => {
    const open = await fetch(`${bmc.url}/redfish/v1/SessionService/Sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ UserName: bmc.username, Password: "wrong-pw-123" }),
    });
    assert.equal(open.status, 401);
    assert.doesNotMatch(await open.text(), /wrong-pw-123/);
    const list = await fetch(`${bmc.url}/redfish/v1/SessionService/Sessions`);
    assert.equal(list.status, 401);
    await list.body?.cancel();
  });
});

describe("indicator lights", () => {
  const chassisPath = "/redfish/v1/Chassis/System.Embedded.1";
  const drivePath = () => `${bmc.systemPath}/Storage/RAID.Integrated.1-1/Drives/Disk.Bay.1`;

  test("IndicatorLED and LocationIndicatorActive stay in sync on system, chassis and drive", async () => {
    for (const path of [bmc.systemPath, chassisPath, drivePath()]) {
      const lit = await redfishFetch(bmc, path, { method: "PATCH", body: { IndicatorLED: "Blinking" } });
      assert.equal(lit.status, 200, path);
      assert.equal(lit.body.IndicatorLED, "Blinking");
      assert.equal(lit.body.LocationIndicatorActive, true);
      const off = await redfishFetch(bmc, path, { method: "PATCH", body: { LocationIndicatorActive: false } });
      assert.equal(off.body.IndicatorLED, "Off");
      const on = await redfishFetch(bmc, path, { method: "PATCH", body: { LocationIndicatorActive: true } });
      assert.equal(on.body.IndicatorLED, "Lit");
      const read = await redfishFetch(bmc, path);
      assert.equal(read.body.IndicatorLED, "Lit");
      assert.equal(read.body.LocationIndicatorActive, true);
    }
    assert.deepEqual(fleet.bmc(0).lights(), {
      system: "Lit",
      chassis: "Lit",
      drives: { "RAID.Integrated.1-1:Disk.Bay.0": "Off", "RAID.Integrated.1-1:Disk.Bay.1": "Lit", "RAID.Integrated.1-1:Disk.Bay.2": "Off" },
    });
    assert.equal(fleet.bmc(1).lights().system, "Off", "another BMC's lights are its own");
  });

  test("a bad value is a 400 with a Redfish extended error naming the property and value", async () => {
    for (const [body, messageId, pattern] of [
      [{ IndicatorLED: "On" }, "Base.1.8.PropertyValueNotInList", /'On' for the property IndicatorLED/],
      [{ IndicatorLED: "Unknown" }, "Base.1.8.PropertyValueNotInList", /'Unknown'/],
      [{ LocationIndicatorActive: "yes" }, "Base.1.8.PropertyValueTypeError", /LocationIndicatorActive/],
      [{ IndicatorLED: "Off", LocationIndicatorActive: true }, "Base.1.8.PropertyValueConflict", /LocationIndicatorActive/],
      [{ SerialNumber: "x" }, "Base.1.8.PropertyNotWritable", /SerialNumber/],
      [{ Colour: "x" }, "Base.1.8.PropertyUnknown", /Colour/],
    ] as const) {
      const r = await redfishFetch(bmc, drivePath(), { method: "PATCH", body });
      assert.equal(r.status, 400, JSON.stringify(body));
      const info = r.body.error["@Message.ExtendedInfo"][0];
      assert.equal(info.MessageId, messageId);
      assert.match(info.Message, pattern);
    }
    const malformed = await redfishFetch(bmc, drivePath(), { method: "PATCH", body: "{nope" });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error["@Message.ExtendedInfo"][0].MessageId, "Base.1.8.MalformedJSON");
  });

  test("ETag on every GET; If-Match with a stale ETag gets 412 and changes nothing; the right one succeeds", async () => {
    const first = await redfishFetch(bmc, chassisPath);
    const etag = first.headers.get("etag")!;
    assert.match(etag, /^"[\w-]+"$/);
    const same = await redfishFetch(bmc, chassisPath);
    assert.equal(same.headers.get("etag"), etag, "the ETag is stable while nothing changes");
    const notModified = await redfishFetch(bmc, chassisPath, { headers: { "if-none-match": etag } });
    assert.equal(notModified.status, 304);
    const next = first.body.IndicatorLED === "Off" ? "Lit" : "Off";
    const ok = await redfishFetch(bmc, chassisPath, { method: "PATCH", body: { IndicatorLED: next }, headers: { "if-match": etag } });
    assert.equal(ok.status, 200);
    assert.notEqual(ok.headers.get("etag"), etag);
    const stale = await redfishFetch(bmc, chassisPath, {
      method: "PATCH",
      body: { IndicatorLED: "Blinking" },
      headers: { "if-match": etag },
    });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.error["@Message.ExtendedInfo"][0].MessageId, "Base.1.8.PreconditionFailed");
    assert.equal(fleet.bmc(0).lights().chassis, next);
  });

  test("a light toggle costs exactly one GET and one PATCH in the request counts", async () => {
    const b = fleet.bmc(1);
    const info = fleet.bmcs[1]!;
    b.resetStats();
    const read = await redfishFetch(info, info.systemPath);
    await redfishFetch(info, info.systemPath, {
      method: "PATCH",
      body: { IndicatorLED: "Lit" },
      headers: { "if-match": read.headers.get("etag")! },
    });
    const stats = b.stats();
    assert.equal(stats.total, 2);
    assert.deepEqual(stats.byMethod, { GET: 1, PATCH: 1 });
    assert.deepEqual(stats.byMethodPath, { [`GET ${info.systemPath}`]: 1, [`PATCH ${info.systemPath}`]: 1 });
    assert.equal(fleet.stats().byMethod.PATCH! >= 1, true);
  });
});

describe("actions", () => {
  test("ComputerSystem.Reset changes the power state and validates ResetType", async () => {
    const target = `${bmc.systemPath}/Actions/ComputerSystem.Reset`;
    assert.equal((await redfishFetch(bmc, target, { method: "POST", body: { ResetType: "ForceOff" } })).status, 204);
    assert.equal(fleet.bmc(0).powerState(), "Off");
    assert.equal((await redfishFetch(bmc, bmc.systemPath)).body.PowerState, "Off");
    assert.equal((await redfishFetch(bmc, target, { method: "POST", body: { ResetType: "On" } })).status, 204);
    assert.equal(fleet.bmc(0).powerState(), "On");
    const bad = await redfishFetch(bmc, target, { method: "POST", body: { ResetType: "Explode" } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error["@Message.ExtendedInfo"][0].MessageId, "Base.1.8.ActionParameterValueNotInList");
    const missing = await redfishFetch(bmc, target, { method: "POST", body: {} });
    assert.equal(missing.body.error["@Message.ExtendedInfo"][0].MessageId, "Base.1.8.ActionParameterMissing");
  });

  test("Boot override fields are PATCHable and validated", async () => {
    const ok = await redfishFetch(bmc, bmc.systemPath, {
      method: "PATCH",
      body: { Boot: { BootSourceOverrideTarget: "Pxe", BootSourceOverrideEnabled: "Once" } },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.Boot.BootSourceOverrideTarget, "Pxe");
    const bad = await redfishFetch(bmc, bmc.systemPath, { method: "PATCH", body: { Boot: { BootSourceOverrideTarget: "Floppy" } } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error["@Message.ExtendedInfo"][0].Message, /'Floppy' for the property Boot\/BootSourceOverrideTarget/);
  });
});

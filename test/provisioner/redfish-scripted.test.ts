// The Redfish provisioner against a scripted BMC on 127.0.0.1: the conformance suite
// on BMCs that offer only IndicatorLED or only LocationIndicatorActive, exact request
// counts, If-Match and 412, subscriptions on the wire, error mapping, timeouts and aborts.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { BmcCallLimiter } from "../../src/provisioner/limiter.ts";
import { RedfishProvisioner } from "../../src/provisioner/redfish/redfish-provisioner.ts";
import { MAX_RESPONSE_BYTES } from "../../src/provisioner/redfish/transport.ts";
import { describeConformance } from "./conformance.ts";
import {
  accessTo,
  drivesUnderChassis,
  etagOf,
  expectKind,
  sampleResources,
  type ScriptedBmc,
  type ScriptedBmcOptions,
  startScriptedBmc,
} from "./scripted-bmc.ts";

const SYSTEM = "5a3c0e1e-0000-4000-8000-000000000001@system";
const CHASSIS = "5a3c0e1e-0000-4000-8000-0000000000c1@chassis";
const DISK0 = "RAID1:Disk0@disk";
const DRIVE0 = "/redfish/v1/Systems/1/Storage/RAID1/Drives/Disk0";



for (const style of ["led", "location"] as const) {
  describeConformance(`redfish, scripted BMC with ${style === "led" ? "IndicatorLED" : "LocationIndicatorActive"} only`, async () => {
    const bmc = await startScriptedBmc({ resources: sampleResources(style) });
    const provisioner = new RedfishProvisioner();
    return {
      provisioner,
      host: accessTo(bmc),
      missingHost: accessTo(bmc, "/redfish/v1/Systems/404"),
      expected: {
        provisioningID: "5a3c0e1e-0000-4000-8000-000000000001",
        indicatorIds: [SYSTEM, CHASSIS, DISK0, "RAID1:Disk1@disk"],
        drives: { [DISK0]: { storage: "RAID1", id: "Disk0", name: "Drive 0", model: "SSD-1", serialNumber: "S0" } },
      },
      bmc: { peakInFlight: () => bmc.peakInFlight(), resetPeak: () => bmc.resetPeak() },
      close: async () => {
        await provisioner.close();
        await bmc.close();
      },
    };
  });
}

describe("redfish provisioner on the wire (scripted BMC)", () => {
  let bmc: ScriptedBmc;
  let provisioner: RedfishProvisioner;
  let intercept: ScriptedBmcOptions["intercept"];

  const fresh = async (
    options: { style?: "both" | "led" | "location"; etags?: boolean; resources?: Record<string, Record<string, unknown>> } = {},
  ) => {
    await bmc?.close();
    await provisioner?.close();
    intercept = undefined;
    bmc = await startScriptedBmc({
      resources: options.resources ?? sampleResources(options.style ?? "both"),
      etags: options.etags ?? true,
      intercept: (req) => intercept?.(req),
    });
    provisioner = new RedfishProvisioner({ requestTimeoutMs: 2_000 });
  };

  before(() => fresh());
  after(async () => {
    await provisioner.close();
    await bmc.close();
  });

  it("registers a host with one GET per resource, plus the root and Systems when the address names no system", async () => {
    await fresh();
    const registration = await provisioner.registerHost(accessTo(bmc));
    assert.equal(registration.provisioningID, "5a3c0e1e-0000-4000-8000-000000000001");
    assert.deepEqual(bmc.calls(), [
      "GET /redfish/v1/Systems/1",
      "GET /redfish/v1/Chassis/1",
      "GET /redfish/v1/Systems/1/Storage",
      "GET /redfish/v1/Systems/1/Storage/RAID1",
      "GET /redfish/v1/Systems/1/Storage/RAID1/Drives/Disk0",
      "GET /redfish/v1/Systems/1/Storage/RAID1/Drives/Disk1",
    ]);
    bmc.log.length = 0;
    const bare = await provisioner.registerHost(accessTo(bmc, ""));
    assert.deepEqual(bare, registration);
    assert.deepEqual(bmc.calls().slice(0, 3), ["GET /redfish/v1/", "GET /redfish/v1/Systems", "GET /redfish/v1/Systems/1"]);
    assert.equal(bmc.log.length, 8);
  });

  it("toggles a light with one GET and one PATCH carrying the GET's ETag in If-Match", async () => {
    await fresh();
    const host = accessTo(bmc);
    await provisioner.registerHost(host);
    bmc.log.length = 0;
    assert.equal(await provisioner.getIndicator(host, DISK0), "off");
    const etag = etagOf(bmc.resources.get(DRIVE0));
    await provisioner.setIndicator(host, DISK0, "on");
    assert.deepEqual(bmc.calls(), [`GET ${DRIVE0}`, `PATCH ${DRIVE0}`]);
    assert.equal(bmc.log[1]!.ifMatch, etag);
    assert.deepEqual(bmc.log[1]!.body, { LocationIndicatorActive: true });
    assert.equal(bmc.resources.get(DRIVE0)!.LocationIndicatorActive, true);
  });

  it("reads the light before a PATCH when its last reading is too old, and uses the reading that found it on first use", async () => {
    await fresh();
    const host = accessTo(bmc);
    const stale = new RedfishProvisioner({ readingMaxAgeMs: 0 });
    try {
      // First use: the GET that found the light is the reading, so the PATCH follows it directly.
      await stale.setIndicator(host, SYSTEM, "on");
      assert.deepEqual(bmc.calls(), ["GET /redfish/v1/Systems/1", "PATCH /redfish/v1/Systems/1"]);
      bmc.log.length = 0;
      await stale.setIndicator(host, SYSTEM, "off");
      assert.deepEqual(bmc.calls(), ["GET /redfish/v1/Systems/1", "PATCH /redfish/v1/Systems/1"]);
    } finally {
      await stale.close();
    }
  });

  it("on 412 reads the resource again and retries once with the new ETag; a second 412 is Transient", async () => {
    await fresh();
    const host = accessTo(bmc);
    await provisioner.getIndicator(host, CHASSIS);
    // Someone else switches the light after our read.
    bmc.resources.get("/redfish/v1/Chassis/1")!.IndicatorLED = "Blinking";
    bmc.log.length = 0;
    await provisioner.setIndicator(host, CHASSIS, "off");
    assert.deepEqual(bmc.calls(), ["PATCH /redfish/v1/Chassis/1", "GET /redfish/v1/Chassis/1", "PATCH /redfish/v1/Chassis/1"]);
    assert.equal(await provisioner.getIndicator(host, CHASSIS), "off");

    intercept = (req) => (req.method === "PATCH" ? { status: 412, body: { error: { message: "ETag mismatch." } } } : undefined);
    bmc.log.length = 0;
    const error = await expectKind("Transient", provisioner.setIndicator(host, CHASSIS, "on"));
    assert.match(error.message, /PATCH \/redfish\/v1\/Chassis\/1 returned HTTP 412: ETag mismatch\./);
    assert.equal(bmc.calls().filter((c) => c.startsWith("PATCH")).length, 2);
  });

  it("sends no If-Match when the BMC gives no ETag", async () => {
    await fresh({ etags: false, style: "led" });
    const host = accessTo(bmc);
    assert.equal(await provisioner.getIndicator(host, SYSTEM), "off");
    await provisioner.setIndicator(host, SYSTEM, "blinking");
    const patch = bmc.log.at(-1)!;
    assert.equal(patch.method, "PATCH");
    assert.equal(patch.ifMatch, undefined);
    assert.deepEqual(patch.body, { IndicatorLED: "Blinking" });
    assert.equal(await provisioner.getIndicator(host, SYSTEM), "blinking");
  });

  it("refuses to blink a light that has only LocationIndicatorActive, without a BMC call", async () => {
    await fresh({ style: "location" });
    const host = accessTo(bmc);
    const { indicators } = await provisioner.registerHost(host);
    assert.deepEqual(indicators[0]!.states, ["off", "on"]);
    bmc.log.length = 0;
    const error = await expectKind("Rejected", provisioner.setIndicator(host, SYSTEM, "blinking"));
    assert.match(error.message, /can be set to off, on, not "blinking"/);
    assert.deepEqual(bmc.calls(), []);
  });

  it("finds the EventService once per BMC, then creates with one POST, lists with 1+N GETs and deletes with one DELETE", async () => {
    await fresh();
    const host = accessTo(bmc);
    const request = { destination: "https://sink.example/events", context: "ctx-1", httpHeaders: { "X-Token": "tok-9", Authorization: "Bearer b" } };
    const first = await provisioner.createSubscription(host, request);
    assert.deepEqual(bmc.calls(), ["GET /redfish/v1/", "GET /redfish/v1/EventService", "POST /redfish/v1/EventService/Subscriptions"]);
    assert.deepEqual(bmc.log[2]!.body, {
      Destination: "https://sink.example/events",
      Context: "ctx-1",
      Protocol: "Redfish",
      HttpHeaders: [{ "X-Token": "tok-9" }, { Authorization: "Bearer b" }],
    });
    bmc.log.length = 0;
    const second = await provisioner.createSubscription(host, { ...request, httpHeaders: {} });
    assert.deepEqual(bmc.calls(), ["POST /redfish/v1/EventService/Subscriptions"]);
    assert.equal("HttpHeaders" in bmc.log[0]!.body, false, "empty HttpHeaders are left out");
    bmc.log.length = 0;
    const listed = await provisioner.listSubscriptions(host);
    assert.deepEqual(listed, [
      { id: first.id, destination: "https://sink.example/events", context: "ctx-1" },
      { id: second.id, destination: "https://sink.example/events", context: "ctx-1" },
    ]);
    assert.equal(bmc.log.length, 3);
    bmc.log.length = 0;
    assert.equal(await provisioner.deleteSubscription(host, first.id), "deleted");
    assert.deepEqual(bmc.calls(), [`DELETE /redfish/v1/EventService/Subscriptions/${first.id}`]);
  });

  it("sends EventTypes only when configured to", async () => {
    await fresh();
    const legacy = new RedfishProvisioner({ eventTypes: ["Alert"] });
    try {
      await legacy.createSubscription(accessTo(bmc), { destination: "http://sink.example/e", context: "", httpHeaders: {} });
      assert.deepEqual(bmc.log.at(-1)!.body.EventTypes, ["Alert"]);
    } finally {
      await legacy.close();
    }
  });

  it("takes the new subscription's ID from Location when the body has none, and refuses an answer with neither", async () => {
    await fresh();
    const host = accessTo(bmc);
    intercept = (req) =>
      req.method === "POST" ? { status: 204, headers: { location: "http://127.0.0.1/redfish/v1/EventService/Subscriptions/abc%2F1" } } : undefined;
    const created = await provisioner.createSubscription(host, { destination: "http://sink.example/e", context: "c", httpHeaders: {} });
    assert.equal(created.id, "abc/1");
    intercept = (req) => (req.method === "POST" ? { status: 201 } : undefined);
    const error = await expectKind(
      "Rejected",
      provisioner.createSubscription(host, { destination: "http://sink.example/e", context: "c", httpHeaders: {} }),
    );
    assert.match(error.message, /neither a Location header nor an Id/);
  });

  it("maps a 5xx to Transient with the BMC's message, the BMC and the operation named, and every secret removed", async () => {
    await fresh();
    const host = accessTo(bmc);
    intercept = (req) =>
      req.method === "POST"
        ? {
            status: 500,
            body: {
              error: {
                "@Message.ExtendedInfo": [
                  { MessageId: "Base.1.8.InternalError", Message: `Failed for ${JSON.stringify(req.body)} as ${req.authorization}` },
                ],
              },
            },
          }
        : undefined;
    const error = await expectKind(
      "Transient",
      provisioner.createSubscription(host, { destination: "http://sink.example/e", context: "c", httpHeaders: { "X-Token": "header-secret-77" } }),
    );
    assert.ok(error.message.startsWith(`redfish BMC ${bmc.address}/redfish/v1/Systems/1: create subscription: POST`), error.message);
    assert.match(error.message, /HTTP 500: Base\.1\.8\.InternalError: Failed for/);
    assert.ok(!error.message.includes("header-secret-77"), error.message);
    assert.ok(!error.message.includes(bmc.password), error.message);
    assert.ok(!error.message.includes(Buffer.from(`${bmc.username}:${bmc.password}`).toString("base64")), error.message);
    assert.match(error.message, /\[redacted\]/);
  });

  it("maps other 4xx answers to Rejected with the Redfish message", async () => {
    await fresh();
    intercept = (req) =>
      req.method === "DELETE"
        ? { status: 400, body: { error: { code: "Base.1.8.ActionNotSupported", message: "The subscription is read-only." } } }
        : undefined;
    const error = await expectKind("Rejected", provisioner.deleteSubscription(accessTo(bmc), "7"));
    assert.match(error.message, /delete subscription "7": DELETE \/redfish\/v1\/EventService\/Subscriptions\/7 returned HTTP 400: The subscription is read-only\./);
  });

  it("refuses an answer larger than 4 MiB as Rejected, naming the limit, and reads the next one whole", async () => {
    await fresh();
    intercept = (req) =>
      req.method === "GET" && req.path === "/redfish/v1/Systems/1" ? { status: 200, body: { Id: "1", Oem: "x".repeat(MAX_RESPONSE_BYTES) } } : undefined;
    const error = await expectKind("Rejected", provisioner.registerHost(accessTo(bmc)));
    assert.match(error.message, /register host: the response was larger than 4194304 bytes/);
    intercept = undefined;
    assert.equal((await provisioner.registerHost(accessTo(bmc))).provisioningID, "5a3c0e1e-0000-4000-8000-000000000001");
  });

  it("times a request out as Transient", async () => {
    await fresh();
    const quick = new RedfishProvisioner({ requestTimeoutMs: 100 });
    try {
      intercept = () => new Promise(() => {});
      const error = await expectKind("Transient", quick.registerHost(accessTo(bmc)));
      assert.match(error.message, /register host: GET \/redfish\/v1\/Systems\/1 timed out after 100 ms/);
    } finally {
      await quick.close();
    }
  });

  it("maps a refused connection to Transient", async () => {
    await fresh();
    const host = accessTo(bmc);
    await bmc.close();
    const error = await expectKind("Transient", provisioner.listSubscriptions(host));
    assert.match(error.message, /list subscriptions: GET \/redfish\/v1\/ failed: .*ECONNREFUSED/);
  });

  it("rejects with the caller's abort reason when the signal aborts mid-request", async () => {
    await fresh();
    let arrived!: () => void;
    const atBmc = new Promise<void>((resolve) => (arrived = resolve));
    intercept = () => {
      arrived();
      return new Promise(() => {});
    };
    const controller = new AbortController();
    const call = provisioner.getIndicator(accessTo(bmc), SYSTEM, controller.signal);
    await atBmc; // the request is at the BMC, unanswered
    controller.abort(new Error("reconcile cancelled"));
    await assert.rejects(call, /reconcile cancelled/);
  });

  it("asks for the system path when the address names none and the BMC has several systems", async () => {
    await fresh();
    bmc.resources.set("/redfish/v1/Systems", {
      Members: [{ "@odata.id": "/redfish/v1/Systems/1" }, { "@odata.id": "/redfish/v1/Systems/2" }],
    });
    const error = await expectKind("Rejected", provisioner.registerHost(accessTo(bmc, "/")));
    assert.match(error.message, /has 2 \(\/redfish\/v1\/Systems\/1, \/redfish\/v1\/Systems\/2\); add the system's path/);
  });

  it("forgets a light whose resource went away, and finds the host gone when its system did", async () => {
    await fresh();
    const host = accessTo(bmc);
    await provisioner.registerHost(host);
    bmc.resources.delete(DRIVE0);
    const error = await expectKind("IndicatorNotFound", provisioner.getIndicator(host, DISK0));
    assert.match(error.message, /resource \/redfish\/v1\/Systems\/1\/Storage\/RAID1\/Drives\/Disk0 is gone/);
    // The next call reads the inventory again, which no longer lists the drive.
    const again = await expectKind("IndicatorNotFound", provisioner.getIndicator(host, DISK0));
    assert.match(again.message, /is not one of the host's: .*RAID1:Disk1@disk/);
    bmc.resources.delete("/redfish/v1/Systems/1");
    await expectKind("HostNotFound", provisioner.getIndicator(host, SYSTEM));
  });

  it("notices when a light's path now holds other hardware, and forgets the host's paths", async () => {
    await fresh();
    const host = accessTo(bmc);
    await provisioner.registerHost(host);
    bmc.resources.get("/redfish/v1/Systems/1")!.UUID = "5a3c0e1e-0000-4000-8000-0000000000ff";
    const error = await expectKind("IndicatorNotFound", provisioner.getIndicator(host, SYSTEM));
    assert.match(error.message, /\/redfish\/v1\/Systems\/1 now holds system "5a3c0e1e-0000-4000-8000-0000000000ff"/);
    bmc.log.length = 0;
    assert.equal(await provisioner.getIndicator(host, "5a3c0e1e-0000-4000-8000-0000000000ff@system"), "off");
    assert.deepEqual(bmc.calls(), ["GET /redfish/v1/Systems/1"], "the new system is found from its ID");
  });

  describe("first use of a light (as after a restart)", () => {
    const CHASSIS0 = "/redfish/v1/Chassis/1";

    it("switches the system light with one GET and one PATCH carrying that GET's ETag", async () => {
      await fresh();
      const etag = etagOf(bmc.resources.get("/redfish/v1/Systems/1"));
      await provisioner.setIndicator(accessTo(bmc), SYSTEM, "on");
      assert.deepEqual(bmc.calls(), ["GET /redfish/v1/Systems/1", "PATCH /redfish/v1/Systems/1"]);
      assert.equal(bmc.log[1]!.ifMatch, etag);
      assert.equal(bmc.resources.get("/redfish/v1/Systems/1")!.LocationIndicatorActive, true);
      // Known now: reading it costs one GET, switching it right after one PATCH.
      bmc.log.length = 0;
      assert.equal(await provisioner.getIndicator(accessTo(bmc), SYSTEM), "on");
      await provisioner.setIndicator(accessTo(bmc), SYSTEM, "off");
      assert.deepEqual(bmc.calls(), ["GET /redfish/v1/Systems/1", "PATCH /redfish/v1/Systems/1"]);
    });

    it("switches a disk light with one GET of the drive's normative URI and one PATCH", async () => {
      await fresh();
      const etag = etagOf(bmc.resources.get(DRIVE0));
      assert.equal(await provisioner.getIndicator(accessTo(bmc), DISK0), "off");
      await provisioner.setIndicator(accessTo(bmc), DISK0, "on");
      assert.deepEqual(bmc.calls(), [`GET ${DRIVE0}`, `PATCH ${DRIVE0}`]);
      assert.equal(bmc.log[1]!.ifMatch, etag);
      assert.equal(bmc.resources.get(DRIVE0)!.LocationIndicatorActive, true);
    });

    it("keeps the characters a path segment may hold when guessing a drive's URI (colons in Dell drive IDs)", async () => {
      const resources = sampleResources();
      const drivePath = "/redfish/v1/Systems/1/Storage/RAID.Integrated.1-1/Drives/Disk.Bay.0:Enclosure.Internal.0-1";
      resources["/redfish/v1/Systems/1/Storage/RAID.Integrated.1-1/Drives/Disk.Bay.0:Enclosure.Internal.0-1"] = {
        Id: "Disk.Bay.0:Enclosure.Internal.0-1",
        IndicatorLED: "Off",
      };
      await fresh({ resources });
      await provisioner.setIndicator(accessTo(bmc), "RAID.Integrated.1-1:Disk.Bay.0:Enclosure.Internal.0-1@disk", "blinking");
      assert.deepEqual(bmc.calls(), [`GET ${drivePath}`, `PATCH ${drivePath}`]);
      assert.equal(bmc.resources.get(drivePath)!.IndicatorLED, "Blinking");
    });

    it("falls back to the inventory when nothing is at the drive's normative URI, and then goes straight to the drive", async () => {
      await fresh({ resources: drivesUnderChassis() });
      const host = accessTo(bmc);
      await provisioner.setIndicator(host, DISK0, "on");
      assert.deepEqual(bmc.calls(), [
        `GET ${DRIVE0}`,
        "GET /redfish/v1/Systems/1",
        "GET /redfish/v1/Chassis/1",
        "GET /redfish/v1/Systems/1/Storage",
        "GET /redfish/v1/Systems/1/Storage/RAID1",
        "GET /redfish/v1/Chassis/1/Drives/Disk0",
        "GET /redfish/v1/Chassis/1/Drives/Disk1",
        "PATCH /redfish/v1/Chassis/1/Drives/Disk0",
      ]);
      assert.equal(bmc.resources.get("/redfish/v1/Chassis/1/Drives/Disk0")!.LocationIndicatorActive, true);
      bmc.log.length = 0;
      assert.equal(await provisioner.getIndicator(host, DISK0), "on");
      await provisioner.setIndicator(host, "RAID1:Disk1@disk", "on");
      // Disk1's reading from the inventory read is recent enough to PATCH against.
      assert.deepEqual(bmc.calls(), ["GET /redfish/v1/Chassis/1/Drives/Disk0", "PATCH /redfish/v1/Chassis/1/Drives/Disk1"]);
    });

    it("never switches another drive found at the guessed URI; the inventory read reuses that GET", async () => {
      const resources = sampleResources();
      // Disk0 was replaced: its bay now holds a drive with another Id.
      resources[DRIVE0]!.Id = "Disk7";
      await fresh({ resources });
      const error = await expectKind("IndicatorNotFound", provisioner.setIndicator(accessTo(bmc), DISK0, "on"));
      assert.match(error.message, /"RAID1:Disk0@disk" is not one of the host's: .*RAID1:Disk7@disk/);
      assert.deepEqual(bmc.calls(), [
        `GET ${DRIVE0}`,
        "GET /redfish/v1/Systems/1",
        "GET /redfish/v1/Chassis/1",
        "GET /redfish/v1/Systems/1/Storage",
        "GET /redfish/v1/Systems/1/Storage/RAID1",
        "GET /redfish/v1/Systems/1/Storage/RAID1/Drives/Disk1",
      ]);
      assert.equal(bmc.resources.get(DRIVE0)!.LocationIndicatorActive, false);
    });

    it("reads the inventory, reusing the system's GET, when the system has another UUID", async () => {
      await fresh();
      const id = "5a3c0e1e-0000-4000-8000-0000000000ff@system";
      const error = await expectKind("IndicatorNotFound", provisioner.setIndicator(accessTo(bmc), id, "on"));
      assert.match(error.message, new RegExp(`is not one of the host's: ${SYSTEM}`));
      assert.deepEqual(bmc.calls(), [
        "GET /redfish/v1/Systems/1",
        "GET /redfish/v1/Chassis/1",
        "GET /redfish/v1/Systems/1/Storage",
        "GET /redfish/v1/Systems/1/Storage/RAID1",
        `GET ${DRIVE0}`,
        "GET /redfish/v1/Systems/1/Storage/RAID1/Drives/Disk1",
      ]);
      assert.equal(bmc.log.filter((r) => r.method === "PATCH").length, 0);
    });

    it("switches a chassis light through the system's links, trying them in order, and remembers the lights it read on the way", async () => {
      const resources = sampleResources();
      resources["/redfish/v1/Systems/1"]!.Links = {
        Chassis: [{ "@odata.id": "/redfish/v1/Chassis/Enclosure" }, { "@odata.id": "/redfish/v1/Chassis/Gone" }, { "@odata.id": CHASSIS0 }],
      };
      resources["/redfish/v1/Chassis/Enclosure"] = { Id: "Enclosure", UUID: "5a3c0e1e-0000-4000-8000-0000000000e1", IndicatorLED: "Off" };
      await fresh({ resources });
      const host = accessTo(bmc);
      const etag = etagOf(bmc.resources.get(CHASSIS0));
      await provisioner.setIndicator(host, CHASSIS, "on");
      assert.deepEqual(bmc.calls(), [
        "GET /redfish/v1/Systems/1",
        "GET /redfish/v1/Chassis/Enclosure",
        "GET /redfish/v1/Chassis/Gone",
        `GET ${CHASSIS0}`,
        `PATCH ${CHASSIS0}`,
      ]);
      assert.equal(bmc.log.at(-1)!.ifMatch, etag);
      assert.equal(bmc.resources.get("/redfish/v1/Chassis/Enclosure")!.IndicatorLED, "Off");
      // The system and the enclosure were read on the way: their lights need no search now.
      bmc.log.length = 0;
      await provisioner.setIndicator(host, SYSTEM, "on");
      await provisioner.setIndicator(host, "5a3c0e1e-0000-4000-8000-0000000000e1@chassis", "on");
      assert.deepEqual(bmc.calls(), ["PATCH /redfish/v1/Systems/1", "PATCH /redfish/v1/Chassis/Enclosure"]);
    });

    it("answers a missing system, wrong credentials and a busy BMC without a second request", async () => {
      await fresh();
      await expectKind("HostNotFound", provisioner.getIndicator(accessTo(bmc, "/redfish/v1/Systems/404"), SYSTEM));
      assert.deepEqual(bmc.calls(), ["GET /redfish/v1/Systems/404"]);
      const wrong = { ...accessTo(bmc), password: "guess" };
      for (const id of [SYSTEM, CHASSIS, DISK0]) {
        bmc.log.length = 0;
        const error = await expectKind("Unauthorized", provisioner.setIndicator(wrong, id, "on"));
        assert.ok(!error.message.includes("guess"), error.message);
        assert.equal(bmc.log.length, 1, `${id}: ${bmc.calls().join(", ")}`);
      }
      intercept = () => ({ status: 503, body: { error: { message: "Busy." } } });
      bmc.log.length = 0;
      await expectKind("Transient", provisioner.setIndicator(accessTo(bmc), DISK0, "on"));
      assert.deepEqual(bmc.calls(), [`GET ${DRIVE0}`]);
    });

    it("falls back when the guessed drive URI gets another refusal, such as a 400 for a URI the BMC does not know", async () => {
      await fresh({ resources: drivesUnderChassis() });
      intercept = (req) => (req.path === DRIVE0 ? { status: 400, body: { error: { message: "Invalid URI." } } } : undefined);
      await provisioner.setIndicator(accessTo(bmc), DISK0, "on");
      assert.deepEqual(bmc.calls()[0], `GET ${DRIVE0}`);
      assert.equal(bmc.log.length, 1 + 6 + 1);
      assert.deepEqual(bmc.calls().at(-1), "PATCH /redfish/v1/Chassis/1/Drives/Disk0");
      assert.equal(bmc.resources.get("/redfish/v1/Chassis/1/Drives/Disk0")!.LocationIndicatorActive, true);
    });
  });

  it("does not show the host's indicator IDs to a caller with the wrong password", async () => {
    await fresh();
    await provisioner.registerHost(accessTo(bmc));
    const wrong = { ...accessTo(bmc), password: "guess" };
    const error = await expectKind("Unauthorized", provisioner.getIndicator(wrong, "nope@system"));
    assert.ok(!error.message.includes(SYSTEM), error.message);
  });

  it("keeps one request in flight at the BMC through a burst of 200 calls", async () => {
    await fresh();
    const host = accessTo(bmc);
    await provisioner.registerHost(host);
    intercept = async () => {
      await sleep(1);
      return undefined;
    };
    const ids = [SYSTEM, CHASSIS, DISK0];
    const states = await Promise.all(Array.from({ length: 200 }, (_, i) => provisioner.getIndicator(host, ids[i % 3]!)));
    assert.equal(states.length, 200);
    assert.equal(bmc.peakInFlight(), 1);
  });

  it("lets a shared limiter with two calls per BMC have two in flight", async () => {
    await fresh();
    const wide = new RedfishProvisioner({ limiter: new BmcCallLimiter({ perKey: 2 }) });
    try {
      const host = accessTo(bmc);
      await wide.registerHost(host);
      intercept = async () => {
        await sleep(5);
        return undefined;
      };
      await Promise.all(Array.from({ length: 20 }, () => wide.getIndicator(host, SYSTEM)));
      assert.equal(bmc.peakInFlight(), 2);
    } finally {
      await wide.close();
    }
  });
});

// The Redfish provisioner against scripted BMCs that behave as real vendors' do: lights
// without a UUID, repeated and dead links, lights it cannot switch, subscription payloads
// fitted to the EventService, a property refused as unknown, a full BMC, HTTPS-only BMCs,
// and suspended subscriptions.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { HostAccess } from "../../src/provisioner/provisioner.ts";
import { RedfishProvisioner } from "../../src/provisioner/redfish/redfish-provisioner.ts";
import { accessTo, expectKind, sampleResources, type ScriptedBmc, type ScriptedBmcOptions, startScriptedBmc } from "./scripted-bmc.ts";

const started: { bmc: ScriptedBmc; provisioner: RedfishProvisioner }[] = [];
afterEach(async () => {
  for (const { bmc, provisioner } of started.splice(0)) {
    await provisioner.close();
    await bmc.close();
  }
});

async function start(options: ScriptedBmcOptions): Promise<{ bmc: ScriptedBmc; provisioner: RedfishProvisioner; host: HostAccess }> {
  const bmc = await startScriptedBmc(options);
  const provisioner = new RedfishProvisioner();
  started.push({ bmc, provisioner });
  return { bmc, provisioner, host: accessTo(bmc) };
}



/** {@link sampleResources} with the system's and chassis's UUIDs removed. */
function withoutUUIDs(): Record<string, Record<string, unknown>> {
  const resources = sampleResources("both");
  delete resources["/redfish/v1/Systems/1"]!.UUID;
  delete resources["/redfish/v1/Chassis/1"]!.UUID;
  return resources;
}

/** A Redfish 400 answer refusing `property` as unknown, as bmcweb (or, with iLO's message, HPE iLO) sends it. */
function propertyUnknown(property: string, messageId = "Base.1.13.0.PropertyUnknown") {
  const message = `The property ${property} is not in the list of valid properties for the resource.`;
  return {
    status: 400,
    body: {
      error: {
        code: messageId,
        message,
        "@Message.ExtendedInfo": [{ MessageId: messageId, Message: message, MessageArgs: [property] }],
      },
    },
  };
}

describe("redfish provisioner on vendors' quirks", () => {
  it("names the lights of a system and chassis without a UUID by their Id, and finds them again after a restart", async () => {
    const { bmc, provisioner, host } = await start({ resources: withoutUUIDs() });
    const { indicators, provisioningID } = await provisioner.registerHost(host);
    assert.deepEqual(
      indicators.map((i) => i.id),
      ["1@system", "1@chassis", "RAID1:Disk0@disk", "RAID1:Disk1@disk"],
    );
    assert.equal(provisioningID, "/redfish/v1/Systems/1");

    // A new process (nothing kept) finds the chassis light from its ID: system, then chassis.
    const restarted = new RedfishProvisioner();
    try {
      const from = bmc.log.length;
      await restarted.setIndicator(host, "1@chassis", "on");
      assert.deepEqual(bmc.calls().slice(from), ["GET /redfish/v1/Systems/1", "GET /redfish/v1/Chassis/1", "PATCH /redfish/v1/Chassis/1"]);
      assert.equal(bmc.resources.get("/redfish/v1/Chassis/1")!.LocationIndicatorActive, true);

      // The system now has a UUID (a firmware update): the Id-named light is gone; its ID is now the UUID, as in Ironic.
      bmc.resources.get("/redfish/v1/Systems/1")!.UUID = "5a3c0e1e-0000-4000-8000-000000000001";
      const error = await expectKind("IndicatorNotFound", restarted.getIndicator(host, "1@system"));
      assert.match(error.message, /now holds system "5a3c0e1e-0000-4000-8000-000000000001"/);
    } finally {
      await restarted.close();
    }
  });

  it("reads each path once however often the BMC links it, and skips dead links", async () => {
    const resources = sampleResources("both");
    const drive = { "@odata.id": "/redfish/v1/Systems/1/Storage/RAID1/Drives/Gone" };
    resources["/redfish/v1/Systems/1/Storage/RAID1"]!.Drives = [
      ...Array.from({ length: 32 }, () => drive),
      { "@odata.id": "/redfish/v1/Systems/1/Storage/RAID1/Drives/Disk0" },
      { "@odata.id": "/redfish/v1/Systems/1/Storage/RAID1/Drives/Disk0/" },
    ];
    resources["/redfish/v1/Systems/1"]!.Links = {
      Chassis: [{ "@odata.id": "/redfish/v1/Chassis/1" }, { "@odata.id": "/redfish/v1/Chassis/1/" }],
    };
    const { bmc, provisioner, host } = await start({ resources });
    const { indicators } = await provisioner.registerHost(host);
    assert.deepEqual(
      indicators.map((i) => i.id),
      ["5a3c0e1e-0000-4000-8000-000000000001@system", "5a3c0e1e-0000-4000-8000-0000000000c1@chassis", "RAID1:Disk0@disk"],
    );
    assert.deepEqual(bmc.calls(), [
      "GET /redfish/v1/Systems/1",
      "GET /redfish/v1/Chassis/1",
      "GET /redfish/v1/Systems/1/Storage",
      "GET /redfish/v1/Systems/1/Storage/RAID1",
      "GET /redfish/v1/Systems/1/Storage/RAID1/Drives/Gone",
      "GET /redfish/v1/Systems/1/Storage/RAID1/Drives/Disk0",
    ]);
  });

  it("says which lights it cannot switch instead of leaving them out in silence", async () => {
    const resources = sampleResources("both");
    const disk1 = resources["/redfish/v1/Systems/1/Storage/RAID1/Drives/Disk1"]!;
    delete disk1.IndicatorLED;
    delete disk1.LocationIndicatorActive;
    disk1.Actions = { Oem: { "#SmcDrive.Indicate": { target: "/redfish/v1/Systems/1/Storage/RAID1/Drives/Disk1/Actions/Oem/SmcDrive.Indicate" } } };
    resources["/redfish/v1/Chassis/1"]!.IndicatorLED = "Sparkly";
    delete resources["/redfish/v1/Chassis/1"]!.LocationIndicatorActive;
    const { provisioner, host } = await start({ resources });
    const registration = await provisioner.registerHost(host);
    assert.deepEqual(
      registration.indicators.map((i) => i.id),
      ["5a3c0e1e-0000-4000-8000-000000000001@system", "RAID1:Disk0@disk"],
    );
    assert.deepEqual(registration.unusableLights, [
      '/redfish/v1/Chassis/1: IndicatorLED is "Sparkly", not one of Lit, Blinking, Off, Unknown',
      "/redfish/v1/Systems/1/Storage/RAID1/Drives/Disk1: its light is switched only by the OEM action #SmcDrive.Indicate, which this client does not use",
    ]);
  });

  it("keeps the patched reading when a PATCH answers 200 with a message instead of the resource (iLO, iDRAC, Supermicro)", async () => {
    for (const answer of [
      { error: { code: "iLO.0.10.ExtendedInfo", "@Message.ExtendedInfo": [{ MessageId: "Base.1.4.Success" }] } },
      { "@Message.ExtendedInfo": [{ MessageId: "Base.1.12.Success", Message: "Successfully Completed Request" }] },
      { Success: { code: "Base.v1_4_0.Success", Message: "Successfully Completed Request." } },
    ]) {
      let state = false;
      const { bmc, provisioner, host } = await start({
        resources: sampleResources("location"),
        intercept: (req) => {
          if (req.method !== "PATCH") return undefined;
          state = req.body.LocationIndicatorActive;
          bmc.resources.get(req.path)!.LocationIndicatorActive = state;
          return { status: 200, body: answer, headers: { etag: `W/"${String(state)}"` } };
        },
      });
      await provisioner.registerHost(host);
      const from = bmc.log.length;
      await provisioner.setIndicator(host, "5a3c0e1e-0000-4000-8000-000000000001@system", "on");
      await provisioner.setIndicator(host, "5a3c0e1e-0000-4000-8000-000000000001@system", "off");
      assert.deepEqual(bmc.calls().slice(from), ["PATCH /redfish/v1/Systems/1", "PATCH /redfish/v1/Systems/1"], JSON.stringify(answer));
      assert.equal(state, false);
    }
  });

  it("sends EventTypes only to an EventService that filters by them", async () => {
    for (const [service, expected] of [
      [{ EventTypesForSubscription: ["StatusChange", "Alert", "MetricReport"] }, ["StatusChange", "Alert"]],
      [{ EventTypesForSubscription: ["Alert"], RegistryPrefixes: ["Base"] }, undefined],
      [{}, undefined],
    ] as const) {
      const resources = {
        ...sampleResources("both"),
        "/redfish/v1/EventService": {
          Id: "EventService",
          ...service,
          Subscriptions: { "@odata.id": "/redfish/v1/EventService/Subscriptions" },
        },
      };
      const { bmc, provisioner, host } = await start({ resources });
      await provisioner.createSubscription(host, { destination: "https://sink.example/events", context: "c", httpHeaders: {} });
      const post = bmc.log.find((r) => r.method === "POST")!;
      assert.deepEqual(post.body.EventTypes, expected, JSON.stringify(service));
      assert.equal(post.body.Protocol, "Redfish");
    }
  });

  for (const messageId of ["Base.1.13.0.PropertyUnknown", "iLO.2.15.PropertyNotWritableOrUnknown"]) {
    it(`sends a create once more without a property the BMC refuses as unknown (${messageId}), and leaves it out from then on`, async () => {
      const resources = {
        ...sampleResources("both"),
        "/redfish/v1/EventService": {
          Id: "EventService",
          EventTypesForSubscription: ["Alert"],
          Subscriptions: { "@odata.id": "/redfish/v1/EventService/Subscriptions" },
        },
      };
      const { bmc, provisioner, host } = await start({
        resources,
        intercept: (req) => (req.method === "POST" && req.body?.EventTypes !== undefined ? propertyUnknown("EventTypes", messageId) : undefined),
      });
      const first = await provisioner.createSubscription(host, { destination: "https://sink.example/a", context: "a", httpHeaders: {} });
      const posts = () => bmc.log.filter((r) => r.method === "POST");
      assert.deepEqual(posts().map((r) => r.body.EventTypes), [["Alert"], undefined]);
      assert.equal(first.id, "1");
      await provisioner.createSubscription(host, { destination: "https://sink.example/b", context: "b", httpHeaders: {} });
      assert.equal(posts().length, 3, "the second create is sent once, without EventTypes");
      assert.equal(posts()[2]!.body.EventTypes, undefined);
    });
  }

  it("never drops a property the subscription needs: its refusal is the error", async () => {
    const { bmc, provisioner, host } = await start({
      resources: sampleResources("both"),
      intercept: (req) => (req.method === "POST" ? propertyUnknown("HttpHeaders") : undefined),
    });
    const error = await expectKind(
      "Rejected",
      provisioner.createSubscription(host, { destination: "https://sink.example/a", context: "a", httpHeaders: { "X-Token": "t0k3n-secret" } }),
    );
    assert.match(error.message, /PropertyUnknown/);
    assert.ok(!error.message.includes("t0k3n-secret"));
    assert.equal(bmc.log.filter((r) => r.method === "POST").length, 1);
  });

  it("reports a full BMC as SubscriptionLimit, naming the limit", async () => {
    const message = "The event subscription failed due to the maximum number of subscriptions having been reached.";
    const { bmc, provisioner, host } = await start({
      resources: sampleResources("both"),
      intercept: (req) =>
        req.method === "POST" && bmc.log.filter((r) => r.method === "POST").length > 2
          ? {
              status: 503,
              body: {
                error: {
                  code: "Base.1.13.0.EventSubscriptionLimitExceeded",
                  message,
                  "@Message.ExtendedInfo": [{ MessageId: "Base.1.13.0.EventSubscriptionLimitExceeded", Message: message }],
                },
              },
            }
          : undefined,
    });
    for (const context of ["a", "b"]) {
      await provisioner.createSubscription(host, { destination: "https://sink.example/e", context, httpHeaders: {} });
    }
    const error = await expectKind(
      "SubscriptionLimit",
      provisioner.createSubscription(host, { destination: "https://sink.example/e", context: "c", httpHeaders: {} }),
    );
    assert.match(error.message, /already holds its limit of 2 subscriptions/);
    assert.match(error.message, /EventSubscriptionLimitExceeded/);
  });

  it("explains a BMC's refusal of an HTTP destination as an HTTPS-only BMC", async () => {
    const { bmc, provisioner, host } = await start({
      resources: sampleResources("both"),
      intercept: (req) =>
        req.method === "POST" && String(req.body?.Destination).startsWith("http:")
          ? {
              status: 400,
              body: {
                error: {
                  code: "Base.1.8.PropertyValueFormatError",
                  message: "The value http://sink.example/e for the property Destination is of a different format than the property can accept.",
                },
              },
            }
          : undefined,
    });
    const refused = await expectKind(
      "Rejected",
      provisioner.createSubscription(host, { destination: "http://sink.example/e", context: "c", httpHeaders: {} }),
    );
    assert.match(refused.message, /refused HTTP destination "http:\/\/sink\.example\/e"; it takes HTTPS destinations only/);
    assert.match(refused.message, /is of a different format than the property can accept/);
    // The same BMC takes the https one; and an http destination is sent, not refused up front (newer iDRAC9 take it).
    await provisioner.createSubscription(host, { destination: "https://sink.example/e", context: "c", httpHeaders: {} });
    assert.equal(bmc.log.filter((r) => r.method === "POST").length, 2);
  });

  it("lists a subscription the BMC suspended as suspended", async () => {
    const suspended = new Set<string>();
    const { provisioner, host } = await start({
      resources: sampleResources("both"),
      // The BMC shows a subscription it suspended after failed deliveries with Status.State Disabled.
      intercept: (req) => {
        const id = req.path.match(/^\/redfish\/v1\/EventService\/Subscriptions\/(.+)$/)?.[1];
        if (req.method !== "GET" || id === undefined || !suspended.has(id)) return undefined;
        return {
          status: 200,
          body: { Id: id, Destination: "https://sink.example/e", Context: "a", Status: { State: "Disabled", Health: "Warning" } },
        };
      },
    });
    const a = await provisioner.createSubscription(host, { destination: "https://sink.example/e", context: "a", httpHeaders: {} });
    const b = await provisioner.createSubscription(host, { destination: "https://sink.example/e", context: "b", httpHeaders: {} });
    suspended.add(a.id);
    const listed = await provisioner.listSubscriptions(host);
    assert.deepEqual(
      listed.map((s) => [s.id, s.suspended ?? false]),
      [
        [a.id, true],
        [b.id, false],
      ],
    );
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRedfishAddress } from "./address.ts";
import { LightCache } from "./light-cache.ts";
import { RedfishTransport } from "./transport.ts";

const host = {
  namespace: "ns",
  name: "worker-0",
  address: "redfish+http://127.0.0.1:8000/redfish/v1/Systems/1",
  disableCertificateVerification: false,
  username: "admin",
  password: "secret",
};
const target = RedfishTransport.target(host, parseRedfishAddress(host.address));

describe("LightCache", () => {
  it("drops the readings too old to PATCH against, and keeps the recent ones", () => {
    const cache = new LightCache(10, 30_000);
    const entry = cache.host(target);
    const now = performance.now();
    entry.readings.set("/redfish/v1/Systems/1", { body: { Id: "1" }, etag: '"a"', at: now - 31_000 });
    entry.readings.set("/redfish/v1/Chassis/1", { body: { Id: "1" }, etag: '"b"', at: now - 1_000 });
    assert.equal(cache.readings, 2);
    cache.sweep();
    assert.equal(cache.readings, 1);
    assert.deepEqual([...entry.readings.keys()], ["/redfish/v1/Chassis/1"]);
    assert.ok(cache.recent(entry, "/redfish/v1/Chassis/1"));
    assert.equal(cache.host(target), entry, "the host's cache itself stays");
  });

  it("keys a host by its address and credentials: other credentials see nothing of it", () => {
    const cache = new LightCache(10, 30_000);
    cache.host(target).readings.set("/redfish/v1/Systems/1", { body: {}, etag: undefined, at: performance.now() });
    const other = RedfishTransport.target({ ...host, password: "other" }, parseRedfishAddress(host.address));
    assert.equal(cache.host(other).readings.size, 0);
    assert.equal(cache.host(RedfishTransport.target({ ...host }, parseRedfishAddress(host.address))).readings.size, 1);
  });
});

describe("LightCache readings", () => {
  it("keeps only the members that read and switch the light, not the whole body", () => {
    const cache = new LightCache(10, 30_000);
    const entry = cache.host(target);
    const body = {
      "@odata.id": "/redfish/v1/Chassis/1",
      "@odata.type": "#Chassis.v1_14_0.Chassis",
      Id: "1",
      Manufacturer: "Dell Inc.",
      IndicatorLED: "Blinking",
      Links: { ComputerSystems: [{ "@odata.id": "/redfish/v1/Systems/1" }] },
      Oem: { Dell: { big: "x".repeat(4096) } },
    };
    cache.remember(entry, "/redfish/v1/Chassis/1", { status: 200, body, etag: '"e1"', location: undefined }, body);
    assert.deepEqual(entry.readings.get("/redfish/v1/Chassis/1")?.body, {
      "@odata.type": "#Chassis.v1_14_0.Chassis",
      Manufacturer: "Dell Inc.",
      IndicatorLED: "Blinking",
    });
    assert.equal(entry.readings.get("/redfish/v1/Chassis/1")?.etag, '"e1"');
  });
});

/**
 * DSP0266 protocol details through real HTTP, the points the DMTF Redfish
 * Protocol Validator checks: `Allow` on GET and HEAD, 405 with `Allow` for
 * an unsupported method, `Link: <schema>; rel=describedby`, 412 for an
 * unsupported `OData-Version`, and a session created at the Sessions
 * collection or its `Members`.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startBmcFleet } from "./index.ts";
import type { EmulatedBmcInfo, RunningBmcFleet } from "./index.ts";
import { basicAuth, redfishFetch } from "./testing.ts";

let fleet: RunningBmcFleet;
let bmc: EmulatedBmcInfo;
let ilo: EmulatedBmcInfo;

before(async () => {
  fleet = await startBmcFleet({ count: 2, profile: ["generic", "hpe-ilo5"] });
  [bmc, ilo] = fleet.bmcs as [EmulatedBmcInfo, EmulatedBmcInfo];
});
after(() => fleet.close());

describe("DSP0266 protocol fidelity", () => {
  test("GET and HEAD carry Allow with the methods the resource supports", async () => {
    const cases: [string, string][] = [
      ["/redfish/v1/", "GET, HEAD"],
      [bmc.systemPath, "GET, HEAD, PATCH"],
      ["/redfish/v1/EventService/Subscriptions", "GET, HEAD, POST"],
      ["/redfish/v1/SessionService/Sessions", "GET, HEAD, POST"],
    ];
    for (const [path, allow] of cases) {
      const get = await redfishFetch(bmc, path);
      assert.equal(get.status, 200, path);
      assert.equal(get.headers.get("allow"), allow, `GET ${path}`);
      const head = await fetch(`${bmc.url}${path}`, { method: "HEAD", headers: { authorization: basicAuth(bmc) } });
      assert.equal(head.status, 200, `HEAD ${path}`);
      assert.equal(head.headers.get("allow"), allow, `HEAD ${path}`);
      assert.equal(await head.text(), "", `HEAD ${path} has no body`);
    }
  });

  test("an unsupported method gets 405 with Allow and changes nothing", async () => {
    for (const method of ["PUT", "DELETE", "POST"]) {
      const r = await redfishFetch(bmc, bmc.systemPath, { method, body: { IndicatorLED: "Lit" } });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.get("allow"), "GET, HEAD, PATCH", method);
      assert.match(r.body.error["@Message.ExtendedInfo"][0].MessageId, /OperationNotAllowed$/);
    }
    assert.equal(fleet.bmc(0).lights().system, "Off");
  });

  test("GET and HEAD carry Link rel=describedby naming the resource's DMTF schema", async () => {
    const expected: [string, string][] = [
      [bmc.systemPath, "https://redfish.dmtf.org/schemas/v1/ComputerSystem.v1_20_0.json"],
      ["/redfish/v1/Chassis", "https://redfish.dmtf.org/schemas/v1/ChassisCollection.json"],
      ["/redfish/v1/", "https://redfish.dmtf.org/schemas/v1/ServiceRoot.v1_11_0.json"],
    ];
    for (const [path, schema] of expected) {
      const r = await redfishFetch(bmc, path);
      assert.equal(r.headers.get("link"), `<${schema}>; rel=describedby`, path);
    }
    const head = await fetch(`${bmc.url}${bmc.systemPath}`, { method: "HEAD", headers: { authorization: basicAuth(bmc) } });
    assert.match(head.headers.get("link") ?? "", /rel=describedby/);
  });

  test("an OData-Version other than 4.0 gets 412; 4.0 or none is served", async () => {
    const unsupported = await redfishFetch(bmc, "/redfish/v1/", { headers: { "odata-version": "4.1" } });
    assert.equal(unsupported.status, 412);
    assert.match(unsupported.body.error.message, /OData-Version "4.1" is not supported/);
    const patch = await redfishFetch(bmc, bmc.systemPath, {
      method: "PATCH",
      body: { IndicatorLED: "Lit" },
      headers: { "odata-version": "4.01" },
    });
    assert.equal(patch.status, 412);
    assert.equal(fleet.bmc(0).lights().system, "Off", "a refused PATCH changes nothing");
    assert.equal((await redfishFetch(bmc, "/redfish/v1/", { headers: { "odata-version": "4.0" } })).status, 200);
  });

  test("a session is created by a POST to the Sessions collection and to its Members, without other credentials", async () => {
    for (const path of ["/redfish/v1/SessionService/Sessions", "/redfish/v1/SessionService/Sessions/Members"]) {
      const created = await fetch(`${bmc.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ UserName: bmc.username, Password: bmc.password }),
      });
      assert.equal(created.status, 201, path);
      const token = created.headers.get("x-auth-token")!;
      const location = created.headers.get("location")!;
      assert.match(location, /^\/redfish\/v1\/SessionService\/Sessions\/\d+$/);
      const use = await fetch(`${bmc.url}${bmc.systemPath}`, { headers: { "x-auth-token": token } });
      assert.equal(use.status, 200, `the token from ${path} works`);
      const gone = await fetch(`${bmc.url}${location}`, { method: "DELETE", headers: { "x-auth-token": token } });
      assert.equal(gone.status, 204);
    }
    const wrong = await fetch(`${bmc.url}/redfish/v1/SessionService/Sessions/Members`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ UserName: bmc.username, Password: "wrong" }),
    });
    assert.equal(wrong.status, 401);
  });

  test("a vendor's trailing slashes keep the protocol: Allow, Link, and a session Location ending in /", async () => {
    const r = await redfishFetch(ilo, "/redfish/v1/Systems/1/");
    assert.equal(r.headers.get("allow"), "GET, HEAD, PATCH");
    assert.match(r.headers.get("link") ?? "", /ComputerSystem\.v1_20_0\.json>; rel=describedby$/);
    const created = await fetch(`${ilo.url}/redfish/v1/SessionService/Sessions/`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ UserName: ilo.username, Password: ilo.password }),
    });
    assert.equal(created.status, 201);
    assert.match(created.headers.get("location")!, /\/Sessions\/\d+\/$/);
  });
});

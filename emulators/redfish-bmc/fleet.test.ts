import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { Agent, fetch as undiciFetch } from "undici";
import { startBmcFleet } from "./index.ts";
import type { RunningBmcFleet } from "./index.ts";
import { basicAuth, redfishFetch } from "./testing.ts";

async function control(fleet: RunningBmcFleet, path: string, method = "GET", body?: unknown) {
  const response = await fetch(`${fleet.controlUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
}

describe("fleet and control API", () => {
  let fleet: RunningBmcFleet;
  before(async () => {
    fleet = await startBmcFleet({ count: 3, username: (i) => `operator-${i}`, password: (i) => `pw-${i}-x` });
  });
  after(() => fleet.close());

  test("each BMC has its own port and credentials; the control API lists them", async () => {
    const ports = new Set(fleet.bmcs.map((b) => new URL(b.url).port));
    assert.equal(ports.size, 3);
    assert.deepEqual(
      fleet.bmcs.map((b) => [b.index, b.username, b.password, new URL(b.url).hostname]),
      [
        [0, "operator-0", "pw-0-x", "127.0.0.1"],
        [1, "operator-1", "pw-1-x", "127.0.0.1"],
        [2, "operator-2", "pw-2-x", "127.0.0.1"],
      ],
    );
    const listed = await control(fleet, "/bmcs");
    assert.deepEqual(listed.body.bmcs, fleet.bmcs);
  });

  test("stats over the control API count by method and path; DELETE zeroes them", async () => {
    const info = fleet.bmcs[2]!;
    await control(fleet, "/bmcs/2/stats", "DELETE");
    await redfishFetch(info, "/redfish/v1/");
    await redfishFetch(info, "/redfish/v1/?x=1");
    await redfishFetch(info, "/redfish/v1/Chassis/System.Embedded.1", { method: "PATCH", body: { IndicatorLED: "Lit" } });
    const stats = await control(fleet, "/bmcs/2/stats");
    assert.deepEqual(stats.body, {
      total: 3,
      byMethod: { GET: 2, PATCH: 1 },
      byMethodPath: { "GET /redfish/v1/": 2, "PATCH /redfish/v1/Chassis/System.Embedded.1": 1 },
      inFlight: 0,
      peakInFlight: 1,
    });
    assert.equal(fleet.bmc(1).stats().total, 0, "other BMCs are counted apart");
  });

  test("injected latency counts toward requests in flight; the peak is per BMC", async () => {
    const bmc = fleet.bmc(1);
    const info = fleet.bmcs[1]!;
    bmc.resetStats();
    bmc.setLatency(150);
    await Promise.all(Array.from({ length: 6 }, () => redfishFetch(info, info.systemPath)));
    bmc.setLatency(0);
    const stats = bmc.stats();
    assert.equal(stats.total, 6);
    assert.equal(stats.peakInFlight, 6);
    assert.equal(stats.inFlight, 0);
  });

  test("injected errors answer with the chosen status, for one method if asked", async () => {
    const info = fleet.bmcs[0]!;
    const set = await control(fleet, "/bmcs/0/faults", "PUT", { errorRate: 1, errorStatus: 500, errorMethod: "PATCH" });
    assert.equal(set.status, 200);
    assert.equal((await redfishFetch(info, info.systemPath)).status, 200);
    const patch = await redfishFetch(info, info.systemPath, { method: "PATCH", body: { IndicatorLED: "Lit" } });
    assert.equal(patch.status, 500);
    assert.equal(patch.body.error["@Message.ExtendedInfo"][0].MessageId, "Base.1.8.InternalError");
    assert.equal(fleet.bmc(0).lights().system, "Off", "an injected error changes nothing");
    await control(fleet, "/bmcs/0/faults", "PUT", { errorRate: 1, errorStatus: 503, errorMethod: null });
    const busy = await redfishFetch(info, "/redfish/v1/");
    assert.equal(busy.status, 503);
    assert.equal(busy.headers.get("retry-after"), "1");
    await control(fleet, "/bmcs/0/faults", "PUT", { errorRate: 0 });
    assert.equal((await redfishFetch(info, "/redfish/v1/")).status, 200);
  });

  test("a held answer: the request takes effect, its caller gets no answer until it goes away, and only once", async () => {
    const info = fleet.bmcs[2]!;
    const bmc = fleet.bmc(2);
    const served = bmc.holdAnswer("PATCH", info.systemPath);
    const caller = new AbortController();
    const patch = fetch(`${info.url}${info.systemPath}`, {
      method: "PATCH",
      headers: { authorization: `Basic ${Buffer.from(`${info.username}:${info.password}`).toString("base64")}`, "content-type": "application/json" },
      body: JSON.stringify({ IndicatorLED: "Lit" }),
      signal: caller.signal,
    });
    await served;
    assert.equal(bmc.lights().system, "Lit", "served: the light is on");
    assert.equal(bmc.stats().inFlight, 1, "and the request still open");
    caller.abort();
    await assert.rejects(patch, { name: "AbortError" });
    const again = await redfishFetch(info, info.systemPath, { method: "PATCH", body: { IndicatorLED: "Off" } });
    assert.equal(again.status, 200, "the hold is used up: the next one is answered");
    assert.equal(bmc.lights().system, "Off");
  });

  test("dropped connections fail the request without a response, and still count", async () => {
    const info = fleet.bmcs[0]!;
    fleet.bmc(0).resetStats();
    fleet.bmc(0).setDropRate(1);
    await assert.rejects(redfishFetch(info, "/redfish/v1/"), TypeError);
    fleet.bmc(0).setDropRate(0);
    assert.equal(fleet.bmc(0).stats().total, 1);
    assert.equal(fleet.bmc(0).stats().inFlight, 0, "a dropped request is no longer in flight");
  });

  test("bad control requests are refused with the field and value named", async () => {
    const rate = await control(fleet, "/bmcs/all/faults", "PUT", { dropRate: 5 });
    assert.equal(rate.status, 400);
    assert.match(rate.body.error, /dropRate must be a number from 0 to 1, got 5/);
    assert.equal(fleet.bmc(0).faults().dropRate, 0);
    const index = await control(fleet, "/bmcs/9/stats");
    assert.equal(index.status, 404);
    assert.match(index.body.error, /no BMC "9": indexes run from 0 to 2/);
    const drive = await control(fleet, "/bmcs/0/drives/RAID.Integrated.1-1/Disk.Bay.7/fail", "POST");
    assert.equal(drive.status, 400);
    assert.match(drive.body.error, /no drive RAID.Integrated.1-1:Disk.Bay.7/);
    const light = await control(fleet, "/bmcs/0/lights/system", "PUT", { state: "On" });
    assert.equal(light.status, 400);
    assert.match(light.body.error, /got "On"/);
  });

  test("the control API sets lights, fails drives, changes the temperature, raises events and resets", async () => {
    const lights = await control(fleet, "/bmcs/1/lights/chassis", "PUT", { state: "Blinking" });
    assert.equal(lights.body.chassis, "Blinking");
    const failed = await control(fleet, "/bmcs/1/drives/RAID.Integrated.1-1/Disk.Bay.0/fail", "POST");
    assert.equal(failed.body.event.MessageId, "StorageDevice.1.0.DriveFailure");
    const hot = await control(fleet, "/bmcs/1/temperature", "PUT", { celsius: 60 });
    assert.equal(hot.body.event.MessageId, "SensorEvent.1.0.ReadingAboveUpperCriticalThreshold");
    const raised = await control(fleet, "/bmcs/1/events", "POST", { MessageId: "TestEvent.1.0.Control" });
    assert.equal(raised.status, 201);
    const events = await control(fleet, "/bmcs/1/events");
    assert.deepEqual(
      events.body.events.map((e: any) => e.MessageId).slice(-3),
      ["StorageDevice.1.0.DriveFailure", "SensorEvent.1.0.ReadingAboveUpperCriticalThreshold", "TestEvent.1.0.Control"],
    );
    const reset = await control(fleet, "/bmcs/1/reset", "POST", {});
    assert.equal(reset.status, 204);
    assert.equal((await control(fleet, "/bmcs/1/lights")).body.chassis, "Off");
    const proc = await control(fleet, "/process");
    assert.equal(proc.body.bmcCount, 3);
    assert.ok(proc.body.memory.rss > 0);
  });

  test("the control API suspends and deletes a subscription as the BMC would on its own", async () => {
    const info = fleet.bmcs[2]!;
    const created = await redfishFetch(info, "/redfish/v1/EventService/Subscriptions", {
      method: "POST",
      body: { Destination: "http://127.0.0.1:9/control", Protocol: "Redfish" },
    });
    const id = created.body.Id as string;
    const suspended = await control(fleet, `/bmcs/2/subscriptions/${id}/suspend`, "POST");
    assert.equal(suspended.status, 200);
    assert.equal((await redfishFetch(info, `/redfish/v1/EventService/Subscriptions/${id}`)).body.Status.State, "Disabled");
    assert.equal((await control(fleet, `/bmcs/2/subscriptions/${id}`, "DELETE")).status, 204);
    assert.equal((await redfishFetch(info, `/redfish/v1/EventService/Subscriptions/${id}`)).status, 404);
    const missing = await control(fleet, `/bmcs/2/subscriptions/${id}`, "DELETE");
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /BMC 2 has no subscription/);
  });

  test("fleet.bmc() refuses an index outside the fleet", () => {
    assert.throws(() => fleet.bmc(3), /no BMC 3 in this fleet: indexes run from 0 to 2/);
  });
});

test("options are validated with the option and value named", async () => {
  await assert.rejects(startBmcFleet({ count: 0 }), /count must be an integer from 1 to 10000, got 0/);
  await assert.rejects(startBmcFleet({ count: 2, port: 65_535 }), /port 65535 leaves no room for 2 BMCs/);
  await assert.rejects(startBmcFleet({ count: 1, drivesPerSystem: 1.5 }), /drivesPerSystem .* got 1.5/);
  await assert.rejects(startBmcFleet({ count: 1, username: () => "a:b" }), /username\(0\) .* got "a:b"/);
});

test("a fixed port range: BMC i listens on port + i; a taken port fails the start naming it", async () => {
  const probe = await startBmcFleet({ count: 1 });
  const taken = Number(new URL(probe.bmcs[0]!.url).port);
  try {
    await assert.rejects(startBmcFleet({ count: 1, port: taken }), new RegExp(`cannot listen on 127.0.0.1:${taken}`));
  } finally {
    await probe.close();
  }
  // Another process may hold the next port by chance: then try a fresh pair (bounded).
  for (let attempt = 0; ; attempt++) {
    const first = attempt === 0 ? taken : taken + 2 * attempt + 100;
    let fixed;
    try {
      fixed = await startBmcFleet({ count: 2, port: first });
    } catch (error) {
      if (attempt < 5 && /cannot listen/.test((error as Error).message)) continue;
      throw error;
    }
    try {
      assert.deepEqual(
        fixed.bmcs.map((b) => Number(new URL(b.url).port)),
        [first, first + 1],
      );
    } finally {
      await fixed.close();
    }
    return;
  }
});

test("tls: true serves HTTPS with a self-signed certificate the fleet hands out", async () => {
  const fleet = await startBmcFleet({ count: 1, tls: true });
  const agent = new Agent({ connect: { ca: fleet.tlsCertificate } });
  try {
    const info = fleet.bmcs[0]!;
    assert.match(info.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const response = await undiciFetch(`${info.url}${info.systemPath}`, {
      headers: { authorization: basicAuth(info) },
      dispatcher: agent,
    });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as any).UUID, info.systemUUID);
  } finally {
    await agent.close();
    await fleet.close();
  }
});

test("1,000 BMCs in one process each answer on their own port", async () => {
  const fleet = await startBmcFleet({ count: 1000, drivesPerSystem: 1 });
  try {
    assert.equal(new Set(fleet.bmcs.map((b) => b.url)).size, 1000);
    for (let start = 0; start < 1000; start += 100) {
      const batch = fleet.bmcs.slice(start, start + 100);
      const results = await Promise.all(batch.map((b) => redfishFetch(b, b.systemPath)));
      results.forEach((r, i) => assert.equal(r.body.UUID, batch[i]!.systemUUID));
    }
    // Each BMC counted its own request. (Not an exact fleet total: with 1,000 ports held, a stray client of
    // another test on this machine, retrying a port it once used, may add a request.)
    fleet.bmcs.forEach((b, i) => assert.ok(fleet.bmc(i).stats().byMethodPath[`GET ${b.systemPath}`]! >= 1));
    assert.ok(fleet.stats().byMethod.GET! >= 1000);
  } finally {
    await fleet.close();
  }
});

test("the CLI prints the fleet as JSON, serves it on the control API and stops on SIGTERM", async () => {
  const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
  const child = spawn(process.execPath, [cli, "--count", "2", "--json", "--quiet", "--password", "secret-{i}", "--profile", "generic,openbmc"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = once(child, "exit");
  try {
    let out = "";
    child.stdout.setEncoding("utf8");
    const deadline = Date.now() + 20_000;
    for await (const chunk of child.stdout) {
      out += chunk as string;
      if (out.trimEnd().endsWith("}") && out.includes('"controlUrl"')) {
        try {
          JSON.parse(out);
          break;
        } catch {
          // not complete yet
        }
      }
      assert.ok(Date.now() < deadline, "the CLI printed its fleet in time");
    }
    const printed = JSON.parse(out);
    assert.equal(printed.bmcs.length, 2);
    assert.equal(printed.bmcs[1].password, "secret-1");
    assert.deepEqual(
      printed.bmcs.map((b: { profile: string }) => b.profile),
      ["generic", "openbmc"],
    );
    assert.equal(printed.bmcs[1].systemPath, "/redfish/v1/Systems/system");
    const listed = (await (await fetch(`${printed.controlUrl}/bmcs`)).json()) as any;
    assert.deepEqual(listed.bmcs, printed.bmcs);
    const root = await redfishFetch(printed.bmcs[0], printed.bmcs[0].systemPath);
    assert.equal(root.status, 200);
  } finally {
    child.kill("SIGTERM");
    const [code] = await exited;
    assert.equal(code, 0);
  }
});

import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { after, afterEach, before, test } from "node:test";
import { startBmcFleet } from "./index.ts";
import type { EmulatedBmc, EmulatedBmcInfo, RunningBmcFleet } from "./index.ts";
import { startEventSink } from "../event-sink/index.ts";
import { redfishFetch } from "./testing.ts";
import type { RunningEventSink as EventSink } from "../event-sink/index.ts";

const SECRET = "Bearer s3cret-token-value";
const logged: string[] = [];
const logger = {
  info: (fields: object, message: string) => logged.push(JSON.stringify({ ...fields, message })),
  warn: (fields: object, message: string) => logged.push(JSON.stringify({ ...fields, message })),
};

let fleet: RunningBmcFleet;
let sink: EventSink;
let info: EmulatedBmcInfo;
let bmc: EmulatedBmc;

before(async () => {
  fleet = await startBmcFleet({
    count: 1,
    eventDelivery: { retryAttempts: 2, retryIntervalSeconds: 0.02, timeoutMs: 2_000 },
    logger,
  });
  info = fleet.bmcs[0]!;
  bmc = fleet.bmc(0);
  sink = await startEventSink();
});
after(async () => {
  await fleet.close();
  await sink.close();
});
afterEach(async () => {
  for (const s of bmc.subscriptions()) bmc.deleteSubscription(s.id);
  await bmc.deliveriesSettled();
  sink.clear();
  sink.respondWith(204);
});

async function subscribe(body: Record<string, unknown>): Promise<string> {
  const r = await redfishFetch(info, "/redfish/v1/EventService/Subscriptions", {
    method: "POST",
    body: { Protocol: "Redfish", Destination: `${sink.url}/events`, ...body },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const location = r.headers.get("location")!;
  assert.equal(location, `/redfish/v1/EventService/Subscriptions/${r.body.Id}`);
  return r.body.Id as string;
}

test("SubmitTestEvent delivers a Redfish Event with the subscription's Context and HttpHeaders", async () => {
  const id = await subscribe({ Context: "ctx-42", HttpHeaders: [{ Authorization: SECRET }, { "X-Extra": "1" }] });
  const member = await redfishFetch(info, `/redfish/v1/EventService/Subscriptions/${id}`);
  assert.equal(member.body.Context, "ctx-42");
  assert.deepEqual(member.body.HttpHeaders, []);
  const submitted = await redfishFetch(info, "/redfish/v1/EventService/Actions/EventService.SubmitTestEvent", {
    method: "POST",
    body: { MessageId: "TestEvent.1.0.Ping", Message: "hello", MessageSeverity: "Warning", OriginOfCondition: info.systemPath },
  });
  assert.equal(submitted.status, 204);
  const [event] = await sink.waitForCount(1);
  assert.equal(event!.path, "/events");
  assert.equal(event!.headers.authorization, SECRET);
  assert.equal(event!.headers["x-extra"], "1");
  assert.match(event!.headers["content-type"] ?? "", /^application\/json/);
  assert.equal(event!.body["@odata.type"], "#Event.v1_7_0.Event");
  assert.equal(event!.body.Context, "ctx-42");
  const record = event!.body.Events[0];
  assert.equal(record.MessageId, "TestEvent.1.0.Ping");
  assert.equal(record.EventType, "Alert");
  assert.equal(record.MessageSeverity, "Warning");
  assert.equal(record.MemberId, "0");
  assert.equal(record.Message, "hello");
  assert.deepEqual(record.OriginOfCondition, { "@odata.id": info.systemPath });
  assert.equal(event!.body.Id, record.EventId);
  assert.ok(!Number.isNaN(Date.parse(record.EventTimestamp)));
  assert.doesNotMatch(logged.join("\n"), /s3cret/, "header values are never logged");
  assert.match(logged.join("\n"), /"headers":\["Authorization","X-Extra"\]/);
});

test("SubmitTestEvent validates its parameters", async () => {
  const missing = await redfishFetch(info, "/redfish/v1/EventService/Actions/EventService.SubmitTestEvent", {
    method: "POST",
    body: { Message: "no id" },
  });
  assert.equal(missing.status, 400);
  assert.equal(missing.body.error["@Message.ExtendedInfo"][0].MessageId, "Base.1.8.ActionParameterMissing");
  const badType = await redfishFetch(info, "/redfish/v1/EventService/Actions/EventService.SubmitTestEvent", {
    method: "POST",
    body: { MessageId: "A.1.0.B", EventType: "Party" },
  });
  assert.equal(badType.status, 400);
  assert.match(badType.body.error["@Message.ExtendedInfo"][0].Message, /'Party' for the parameter EventType/);
});

test("light changes raise ResourceUpdated events; a subscription for Alert only does not get them", async () => {
  await subscribe({ Context: "all" });
  await subscribe({ Context: "alerts", EventTypes: ["Alert"] });
  const drive = info.drives[0]!;
  const path = `${info.systemPath}/Storage/${drive.storageId}/Drives/${drive.driveId}`;
  await redfishFetch(info, path, { method: "PATCH", body: { IndicatorLED: "Lit" } });
  bmc.failDrive(drive.storageId, drive.driveId);
  const events = await sink.waitForCount(3);
  await bmc.deliveriesSettled();
  assert.equal(sink.events.length, 3, "the light change goes to one subscription, the failure to both");
  const byContext = (c: string) => events.filter((e) => e.body.Context === c).map((e) => e.body.Events[0]);
  const all = byContext("all");
  assert.deepEqual(
    all.map((r) => [r.EventType, r.MessageId]),
    [
      ["ResourceUpdated", "ResourceEvent.1.0.ResourceChanged"],
      ["Alert", "StorageDevice.1.0.DriveFailure"],
    ],
  );
  assert.deepEqual(all[0].OriginOfCondition, { "@odata.id": path });
  assert.deepEqual(byContext("alerts").map((r) => r.MessageId), ["StorageDevice.1.0.DriveFailure"]);
  assert.equal(all[1].MessageSeverity, "Critical");
  assert.equal((await redfishFetch(info, path)).body.Status.Health, "Critical");
  bmc.repairDrive(drive.storageId, drive.driveId);
  assert.equal((await redfishFetch(info, path)).body.Status.Health, "OK");
});

test("temperature crossing its thresholds raises caution, critical and back-to-normal alerts", async () => {
  await subscribe({ RegistryPrefixes: ["SensorEvent"] });
  assert.equal(bmc.setTemperature(30), undefined, "no threshold crossed, no event");
  bmc.setTemperature(43);
  bmc.raiseTemperature();
  bmc.setTemperature(25);
  const events = await sink.waitForCount(3);
  assert.deepEqual(
    events.map((e) => e.body.Events[0].MessageId),
    [
      "SensorEvent.1.0.ReadingAboveUpperCautionThreshold",
      "SensorEvent.1.0.ReadingAboveUpperCriticalThreshold",
      "SensorEvent.1.0.ReadingNormalRange",
    ],
  );
  assert.deepEqual(events[1]!.body.Events[0].MessageArgs, ["System Board Inlet Temp", "50", "Cel", "47"]);
});

test("events reach a subscription in the order they were raised", async () => {
  await subscribe({});
  for (let i = 0; i < 8; i++) bmc.submitEvent({ MessageId: "TestEvent.1.0.Seq", MessageArgs: [String(i)] });
  const events = await sink.waitForCount(8);
  assert.deepEqual(
    events.map((e) => e.body.Events[0].MessageArgs[0]),
    ["0", "1", "2", "3", "4", "5", "6", "7"],
  );
});

test("a failing destination is retried DeliveryRetryAttempts times, then the subscription is terminated", async () => {
  sink.respondWith(500);
  const id = await subscribe({ HttpHeaders: [{ Authorization: SECRET }] });
  bmc.submitEvent({ MessageId: "TestEvent.1.0.Retry" });
  await sink.waitForCount(3);
  await bmc.deliveriesSettled();
  assert.equal(sink.events.length, 3, "one try and two retries");
  const attempts = bmc.deliveries().filter((d) => d.subscriptionId === id);
  assert.deepEqual(
    attempts.slice(-3).map((d) => [d.attempt, d.outcome, d.status]),
    [
      [1, "failed", 500],
      [2, "failed", 500],
      [3, "failed", 500],
    ],
  );
  assert.equal((await redfishFetch(info, `/redfish/v1/EventService/Subscriptions/${id}`)).status, 404);
  assert.doesNotMatch(JSON.stringify(bmc.deliveries()) + logged.join("\n"), /s3cret/);
});

test("SuspendRetries disables the subscription; ResumeSubscription enables it again", async () => {
  sink.respondWith(503);
  const id = await subscribe({ DeliveryRetryPolicy: "SuspendRetries" });
  bmc.submitEvent({ MessageId: "TestEvent.1.0.Suspend" });
  await sink.waitForCount(3);
  await bmc.deliveriesSettled();
  const member = await redfishFetch(info, `/redfish/v1/EventService/Subscriptions/${id}`);
  assert.equal(member.body.Status.State, "Disabled");
  sink.respondWith(204);
  bmc.submitEvent({ MessageId: "TestEvent.1.0.WhileSuspended" });
  await bmc.deliveriesSettled();
  assert.equal(sink.events.length, 3, "a suspended subscription gets nothing");
  const resume = await redfishFetch(info, `/redfish/v1/EventService/Subscriptions/${id}/Actions/EventDestination.ResumeSubscription`, {
    method: "POST",
    body: {},
  });
  assert.equal(resume.status, 204);
  bmc.submitEvent({ MessageId: "TestEvent.1.0.Resumed" });
  const events = await sink.waitForCount(4);
  assert.equal(events[3]!.body.Events[0].MessageId, "TestEvent.1.0.Resumed");
});

test("RetryForever keeps trying until the destination recovers", async () => {
  sink.respondWith(500);
  await subscribe({ DeliveryRetryPolicy: "RetryForever" });
  bmc.submitEvent({ MessageId: "TestEvent.1.0.Forever" });
  await sink.waitForCount(5);
  sink.respondWith(204);
  const deadline = Date.now() + 5_000;
  while (!sink.events.some((e) => e.status === 204) && Date.now() < deadline) await delay(10);
  await bmc.deliveriesSettled();
  assert.ok(sink.events.length >= 6, "more attempts than retryAttempts + 1");
  assert.equal(sink.events.at(-1)!.status, 204);
  assert.equal(bmc.subscriptions().length, 1, "still subscribed");
});

test("an unreachable destination fails with the connection error, recorded without header values", async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const r = await redfishFetch(info, "/redfish/v1/EventService/Subscriptions", {
    method: "POST",
    body: { Protocol: "Redfish", Destination: `http://127.0.0.1:${port}/gone`, HttpHeaders: [{ "X-Key": SECRET }] },
  });
  bmc.submitEvent({ MessageId: "TestEvent.1.0.Unreachable" });
  await bmc.deliveriesSettled();
  const attempts = bmc.deliveries().filter((d) => d.subscriptionId === r.body.Id && d.destination.includes(String(port)));
  assert.equal(attempts.length, 3);
  assert.match(attempts[0]!.error ?? "", /ECONNREFUSED/);
  assert.doesNotMatch(JSON.stringify(attempts) + logged.join("\n"), /s3cret/);
});

test("ServiceEnabled false stops deliveries; DeliveryRetryAttempts is PATCHable and validated", async () => {
  await subscribe({});
  const off = await redfishFetch(info, "/redfish/v1/EventService", { method: "PATCH", body: { ServiceEnabled: false } });
  assert.equal(off.status, 200);
  bmc.submitEvent({ MessageId: "TestEvent.1.0.Off" });
  await bmc.deliveriesSettled();
  assert.equal(sink.events.length, 0);
  const bad = await redfishFetch(info, "/redfish/v1/EventService", { method: "PATCH", body: { DeliveryRetryAttempts: -1 } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error["@Message.ExtendedInfo"][0].Message, /'-1' for the property DeliveryRetryAttempts/);
  await redfishFetch(info, "/redfish/v1/EventService", { method: "PATCH", body: { ServiceEnabled: true, DeliveryRetryAttempts: 2 } });
  bmc.submitEvent({ MessageId: "TestEvent.1.0.On" });
  await sink.waitForCount(1);
});

test("a BMC reset loses subscriptions (IDs restart), sessions and light states", async () => {
  bmc.reset();
  assert.equal(await subscribe({}), "1");
  const second = await subscribe({});
  assert.equal(second, "2");
  bmc.setLight("system", "Blinking");
  await sink.waitForCount(2);
  sink.clear();
  const session = await fetch(`${info.url}/redfish/v1/SessionService/Sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ UserName: info.username, Password: info.password }),
  });
  const token = session.headers.get("x-auth-token")!;
  await session.body?.cancel();

  bmc.reset();
  assert.deepEqual(bmc.subscriptions(), []);
  assert.equal(bmc.lights().system, "Off");
  const list = await redfishFetch(info, "/redfish/v1/EventService/Subscriptions");
  assert.equal(list.body["Members@odata.count"], 0);
  const withToken = await fetch(`${info.url}${info.systemPath}`, { headers: { "x-auth-token": token } });
  assert.equal(withToken.status, 401);
  await withToken.body?.cancel();
  bmc.submitEvent({ MessageId: "TestEvent.1.0.AfterReset" });
  await bmc.deliveriesSettled();
  assert.equal(sink.events.length, 0);
  assert.equal(await subscribe({}), "1");
});

test("during a reset's downtime every connection is dropped", async () => {
  bmc.reset({ downtimeMs: 300 });
  await assert.rejects(fetch(`${info.url}/redfish/v1/`), TypeError);
  // Back once the downtime is over: polled, bounded, not slept through.
  let up: Response | undefined;
  for (const deadline = Date.now() + 10_000; !up && Date.now() < deadline; ) {
    up = await fetch(`${info.url}/redfish/v1/`).catch(() => undefined);
    if (!up) await delay(20);
  }
  assert.ok(up, "the BMC did not come back within 10 s of a 300 ms downtime");
  assert.equal(up.status, 200);
  await up.body?.cancel();
});

/**
 * The event receiver end to end: a BMCEventSubscription aimed at the
 * receiver gets a token header (merged with its httpHeadersRef headers), the
 * emulated BMC delivers its own events over HTTPS, and they land as Events on
 * the host, with the failed drive's name, model and serial number; deliveries
 * without the token, malformed, oversized or not POSTed are refused and
 * counted, never recorded.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect } from "node:tls";
import { Agent, request } from "undici";
import { BMC_EVENT_SUBSCRIPTIONS } from "../../src/controllers/resources.ts";
import { SECRETS } from "../../src/runtime/index.ts";
import { TOKEN_HEADER, tokenSecretName } from "../../src/receiver/event-token.ts";
import { isReady, waitFor } from "../support/operator-stack.ts";
import { type ReceiverStack, startReceiverStack } from "./receiver-stack.ts";

const NS = "receiver";
let s: ReceiverStack;
const insecure = new Agent({ connect: { rejectUnauthorized: false } });

before(async () => {
  s = await startReceiverStack({ bmcs: 2, maxBodyBytes: 4096 });
  await s.stack.namespace(NS);
  await Promise.all([s.readyHost(NS, "worker-0", 0), s.readyHost(NS, "worker-1", 1)]);
  await s.stack.client.create(SECRETS, { metadata: { name: "user-headers", namespace: NS }, stringData: { "X-User": "user-secret-value" } });
  await s.stack.client.create(BMC_EVENT_SUBSCRIPTIONS, {
    apiVersion: "metal3.io/v1alpha1",
    kind: "BMCEventSubscription",
    metadata: { name: "worker-0-events", namespace: NS },
    spec: { hostName: "worker-0", destination: s.url, context: "demo", httpHeadersRef: { name: "user-headers" } },
  });
  await waitFor("the subscription to be Ready", () => s.stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: NS, name: "worker-0-events" }), isReady, 30_000);
});

after(async () => {
  await s?.close();
  await insecure.close();
});

async function post(body: string | Buffer, headers: Record<string, string> = {}, method = "POST") {
  const response = await request(s.url, { method, body: method === "GET" ? null : body, headers: { "content-type": "application/json", ...headers }, dispatcher: insecure });
  await response.body.dump();
  return response.statusCode;
}

async function token(): Promise<string> {
  const secret = await s.stack.client.get(SECRETS, { namespace: NS, name: tokenSecretName("worker-0-events") });
  return Buffer.from(secret.data![TOKEN_HEADER]!, "base64").toString("utf8");
}

describe("event receiver", () => {
  it("gives the BMC subscription the token header with the user's headers, never showing values", async () => {
    const bmcSubs = (await (await fetch(`${s.stack.fleet.controlUrl}/bmcs/0/subscriptions`)).json()) as { subscriptions: { destination: string; httpHeaderNames: string[] }[] };
    const mine = bmcSubs.subscriptions.find((sub) => sub.destination === s.url);
    assert.ok(mine, JSON.stringify(bmcSubs));
    assert.deepEqual([...mine.httpHeaderNames].sort(), [TOKEN_HEADER, "X-User"].sort());
    const sub = await s.stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: NS, name: "worker-0-events" });
    const secretValue = await token();
    assert.ok(!JSON.stringify(sub).includes(secretValue), "the token is not in the subscription");
  });

  it("records a drive failure delivered by the BMC as a Warning Event on its host, with the drive's details", async () => {
    const drive = s.stack.fleet.bmcs[0]!.drives[0]!;
    const answer = await fetch(`${s.stack.fleet.controlUrl}/bmcs/0/drives/${drive.storageId}/${drive.driveId}/fail`, { method: "POST" });
    assert.equal(answer.status, 200);
    const events = await waitFor("the DriveFailure Event on worker-0", () => s.hostEvents(NS, "worker-0"), (list) => list.some((e) => e.reason === "DriveFailure"));
    const event = events.find((e) => e.reason === "DriveFailure")!;
    assert.equal(event.type, "Warning");
    assert.match(event.note ?? "", /StorageDevice\.1\.0\.DriveFailure/);
    assert.ok(event.note?.includes(drive.serialNumber), event.note);
    assert.ok(event.note?.includes(drive.model), event.note);
    assert.ok(event.note?.includes(drive.name), event.note);
    assert.equal(await s.metric("bmc_events_received_total", { namespace: NS, host: "worker-0", severity: "Critical", message_id: "StorageDevice.1.0.DriveFailure" }), 1);
    const deliveries = (await (await fetch(`${s.stack.fleet.controlUrl}/bmcs/0/deliveries`)).json()) as { deliveries: { destination: string; status?: number }[] };
    assert.ok(deliveries.deliveries.some((d) => d.destination === s.url && d.status === 200), JSON.stringify(deliveries));
  });

  it("refuses deliveries without a valid token with 401, counts them and records nothing", async () => {
    const body = JSON.stringify({ Events: [{ MessageId: "Base.1.0.Forged", Message: "forged", MessageSeverity: "Critical" }] });
    const before = await s.metric("bmc_events_received_total");
    assert.equal(await post(body), 401);
    assert.equal(await post(body, { [TOKEN_HEADER]: "not-the-token" }), 401);
    assert.equal(await s.metric("bmc_event_deliveries_refused_total", { reason: "missing_token" }), 1);
    assert.equal(await s.metric("bmc_event_deliveries_refused_total", { reason: "invalid_token" }), 1);
    assert.equal(await s.metric("bmc_events_received_total"), before);
  });

  it("refuses a BMC's own deliveries with a wrong token (the BMC sees 401 and retries)", async () => {
    // A subscription made on the BMC directly, bypassing the operator, with a guessed token.
    const bmc = s.stack.fleet.bmcs[1]!;
    const created = await fetch(`${bmc.url}/redfish/v1/EventService/Subscriptions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Basic ${Buffer.from(`${bmc.username}:${bmc.password}`).toString("base64")}` },
      body: JSON.stringify({ Destination: s.url, Protocol: "Redfish", Context: "forged", HttpHeaders: [{ [TOKEN_HEADER]: "guessed" }] }),
    });
    assert.equal(created.status, 201, await created.text());
    await fetch(`${s.stack.fleet.controlUrl}/bmcs/1/events`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ MessageId: "Base.1.0.Test", Message: "hello" }) });
    const deliveries = await waitFor(
      "the BMC's delivery attempts to be refused",
      async () => ((await (await fetch(`${s.stack.fleet.controlUrl}/bmcs/1/deliveries`)).json()) as { deliveries: { destination: string; status?: number }[] }).deliveries,
      (list) => list.filter((d) => d.destination === s.url && d.status === 401).length >= 3,
    );
    assert.ok(deliveries.every((d) => d.status !== 200));
    assert.equal((await s.hostEvents(NS, "worker-1")).length, 0);
  });

  it("answers 400 to malformed bodies, 413 to oversized ones and 405 to other methods, and keeps serving", async () => {
    const good = { [TOKEN_HEADER]: await token() };
    assert.equal(await post("{not json", good), 400);
    assert.equal(await post(JSON.stringify({ Events: [] }), good), 400);
    assert.equal(await post(JSON.stringify({ Events: [{ Message: "no id" }] }), good), 400);
    assert.equal(await post(JSON.stringify([1, 2]), good), 400);
    assert.equal(await post(JSON.stringify({ Events: [{ MessageId: "A.1.0.B", Message: "x".repeat(5000) }] }), good), 413);
    assert.equal(await post("", good, "GET"), 405);
    assert.equal(await post("", good, "PUT"), 405);
    assert.equal(await s.metric("bmc_event_deliveries_refused_total", { reason: "malformed" }), 4);
    assert.equal(await s.metric("bmc_event_deliveries_refused_total", { reason: "too_large" }), 1);
    assert.equal(await s.metric("bmc_event_deliveries_refused_total", { reason: "method_not_allowed" }), 2);
    // Still serving: a good delivery is recorded.
    assert.equal(await post(JSON.stringify({ Events: [{ MessageId: "Base.1.0.StillHere", Message: "ok", MessageSeverity: "OK" }] }), good), 200);
    const events = await waitFor("the StillHere Event", () => s.hostEvents(NS, "worker-0"), (list) => list.some((e) => e.reason === "StillHere"));
    assert.equal(events.find((e) => e.reason === "StillHere")?.type, "Normal");
  });

  it("keeps serving while a client holds a delivery open without sending its body", async () => {
    const port = Number(new URL(s.url).port);
    const stalled = connect({ host: "127.0.0.1", port, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => stalled.once("secureConnect", resolve).once("error", reject));
    stalled.write(`POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\n${TOKEN_HEADER}: ${await token()}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"Events":`);
    try {
      const good = { [TOKEN_HEADER]: await token() };
      assert.equal(await post(JSON.stringify({ Events: [{ MessageId: "Base.1.0.WhileStalled", Message: "ok" }] }), good), 200);
      await waitFor("the Event delivered beside the stalled one", () => s.hostEvents(NS, "worker-0"), (list) => list.some((e) => e.reason === "WhileStalled"));
    } finally {
      stalled.destroy();
    }
  });

  it("keeps secrets out of Events and metrics", async () => {
    const secret = await token();
    const events = await s.hostEvents(NS, "worker-0");
    const text = JSON.stringify(events) + (await s.manager.registry.metrics());
    assert.ok(!text.includes(secret));
    assert.ok(!text.includes("user-secret-value"));
  });
});

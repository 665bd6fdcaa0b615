/**
 * The event receiver under load and in its flows, through the emulated BMCs'
 * own deliveries: a storm of events costs a bounded number of API writes,
 * auto-locate lights a failed drive once, a token rotation re-creates the BMC
 * subscription without refusing a delivery, and a dead CloudEvents sink
 * neither blocks recording nor stops forwarding to a live one.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, it } from "node:test";
import { BMC_EVENT_SUBSCRIPTIONS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { NAMESPACES, SECRETS } from "../../src/runtime/index.ts";
import { AUTO_LOCATE_ANNOTATION, CREATED_BY_LABEL } from "../../src/receiver/auto-locate.ts";
import { CONFIGMAPS, EVENT_SINKS_LABEL } from "../../src/receiver/cloudevents.ts";
import { PREVIOUS_TOKEN_KEY, ROTATE_TOKEN_ANNOTATION, TOKEN_HEADER, tokenSecretName } from "../../src/receiver/event-token.ts";
import { isReady, waitFor } from "../support/operator-stack.ts";
import { type ReceiverStack, startReceiverStack } from "./receiver-stack.ts";

const NS = "flows";
const HOSTS = ["worker-0", "worker-1", "worker-2"];
let s: ReceiverStack;

/** BMC deliveries' answers of BMC `index`. */
async function deliveries(index: number): Promise<{ destination: string; status?: number; outcome: string }[]> {
  return ((await (await fetch(`${s.stack.fleet.controlUrl}/bmcs/${index}/deliveries`)).json()) as { deliveries: { destination: string; status?: number; outcome: string }[] }).deliveries;
}

async function bmcSubscriptionIds(index: number): Promise<string[]> {
  const body = (await (await fetch(`${s.stack.fleet.controlUrl}/bmcs/${index}/subscriptions`)).json()) as { subscriptions: { id: string; destination: string }[] };
  return body.subscriptions.filter((sub) => sub.destination === s.url).map((sub) => sub.id);
}

async function raise(index: number, messageId: string, message: string): Promise<void> {
  const r = await fetch(`${s.stack.fleet.controlUrl}/bmcs/${index}/events`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ MessageId: messageId, Message: message }) });
  assert.equal(r.status, 201, await r.text());
}

before(async () => {
  // A long flush interval: every count of a burst is written at the end (flush), so the write bound is exact.
  s = await startReceiverStack({ bmcs: 3, flushIntervalMs: 600_000 });
  await s.stack.namespace(NS);
  await Promise.all(HOSTS.map((name, i) => s.readyHost(NS, name, i)));
  for (const host of HOSTS) {
    await s.stack.client.create(BMC_EVENT_SUBSCRIPTIONS, {
      apiVersion: "metal3.io/v1alpha1",
      kind: "BMCEventSubscription",
      metadata: { name: `${host}-events`, namespace: NS },
      spec: { hostName: host, destination: s.url, context: host },
    });
  }
  for (const host of HOSTS) {
    await waitFor(`${host}-events to be Ready`, () => s.stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: NS, name: `${host}-events` }), isReady, 30_000);
  }
});

after(async () => {
  await s?.close();
});

describe("event receiver flows", () => {
  it("aggregates a storm into one Event series per host and message: at most 2 API writes each", async () => {
    const perHost = 150;
    const writesBefore = await s.metric("bmc_event_api_writes_total");
    for (let i = 0; i < perHost; i++) await Promise.all([0, 1].map((b) => raise(b, "Base.1.0.StormTest", "storm")));
    await waitFor("every storm event to be received", () => s.metric("bmc_events_received_total", { message_id: "Base.1.0.StormTest" }), (n) => n === 2 * perHost, 60_000);
    await s.receiver.series.flush();
    const writes = (await s.metric("bmc_event_api_writes_total")) - writesBefore;
    assert.ok(writes <= 2 * 2, `a storm of ${2 * perHost} events over 2 hosts cost ${writes} API writes, more than 2 per series`);
    for (const host of ["worker-0", "worker-1"]) {
      const storm = (await s.hostEvents(NS, host)).filter((e) => e.reason === "StormTest");
      assert.equal(storm.length, 1, JSON.stringify(storm));
      assert.equal(storm[0]!.series?.count, perHost);
    }
  });

  it("auto-locate: a failed drive of an opted-in namespace lights its light through one labelled indicator, once", async () => {
    await s.stack.client.patch(NAMESPACES, { name: NS }, { metadata: { annotations: { [AUTO_LOCATE_ANNOTATION]: "true" } } }, { type: "merge" });
    // worker-1 opts out by its own annotation, which wins over its namespace's.
    await s.stack.client.patch(
      (await import("../../src/controllers/resources.ts")).BARE_METAL_HOSTS,
      { namespace: NS, name: "worker-1" },
      { metadata: { annotations: { [AUTO_LOCATE_ANNOTATION]: "false" } } },
      { type: "merge" },
    );
    const drive = s.stack.fleet.bmcs[2]!.drives[1]!;
    const other = s.stack.fleet.bmcs[1]!.drives[1]!;
    const before = await s.metric("bmc_events_received_total", { message_id: "StorageDevice.1.0.DriveFailure" });
    await fetch(`${s.stack.fleet.controlUrl}/bmcs/1/drives/${other.storageId}/${other.driveId}/fail`, { method: "POST" });
    for (let i = 0; i < 3; i++) await fetch(`${s.stack.fleet.controlUrl}/bmcs/2/drives/${drive.storageId}/${drive.driveId}/fail`, { method: "POST" });
    await waitFor("the failures to be received", () => s.metric("bmc_events_received_total", { message_id: "StorageDevice.1.0.DriveFailure" }), (n) => n === before + 4);
    await waitFor(
      "the failed drive's light to be lit on the BMC",
      async () => (await (await fetch(`${s.stack.fleet.controlUrl}/bmcs/2/lights`)).json()) as { drives: Record<string, string> },
      (lights) => lights.drives[`${drive.storageId}:${drive.driveId}`] === "Lit",
    );
    const created = (await s.stack.client.list(SERVICE_INDICATORS, { namespace: NS })).items.filter((i) => i.metadata?.labels?.[CREATED_BY_LABEL] === "event-receiver");
    assert.equal(created.length, 1, JSON.stringify(created.map((i) => i.metadata?.name)));
    assert.equal(created[0]!.spec.hostRef.name, "worker-2");
    assert.equal(created[0]!.metadata?.name, `worker-2-${drive.driveId.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`);
    assert.equal(await s.metric("bmc_event_auto_locate_total", { namespace: NS }), 1);
    const otherLights = (await (await fetch(`${s.stack.fleet.controlUrl}/bmcs/1/lights`)).json()) as { drives: Record<string, string> };
    assert.notEqual(otherLights.drives[`${other.storageId}:${other.driveId}`], "Lit");
  });

  it("rotates a token in one step through the header-change path, refusing no delivery", async () => {
    const name = "worker-2-events";
    const secretName = tokenSecretName(name);
    const oldToken = Buffer.from((await s.stack.client.get(SECRETS, { namespace: NS, name: secretName })).data![TOKEN_HEADER]!, "base64").toString();
    const [oldId] = await bmcSubscriptionIds(2);
    await s.stack.client.patch(BMC_EVENT_SUBSCRIPTIONS, { namespace: NS, name }, { metadata: { annotations: { [ROTATE_TOKEN_ANNOTATION]: "1" } } }, { type: "merge" });
    const sub = await waitFor(
      "the subscription to be re-created with the new token",
      () => s.stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: NS, name }),
      (x) => isReady(x) && x.status?.subscriptionID !== oldId && (x.status?.staleSubscriptionIDs ?? []).length === 0,
      30_000,
    );
    assert.deepEqual(await bmcSubscriptionIds(2), [sub.status!.subscriptionID]);
    const secret = await waitFor("the previous token to be dropped", () => s.stack.client.get(SECRETS, { namespace: NS, name: secretName }), (x) => x.data?.[PREVIOUS_TOKEN_KEY] === undefined);
    const newToken = Buffer.from(secret.data![TOKEN_HEADER]!, "base64").toString();
    assert.notEqual(newToken, oldToken);
    // The BMC delivers with the new token; the old one is refused now.
    const before = await s.metric("bmc_events_received_total", { host: "worker-2", message_id: "Base.1.0.AfterRotation" });
    await raise(2, "Base.1.0.AfterRotation", "rotated");
    await waitFor("the delivery after rotation", () => s.metric("bmc_events_received_total", { host: "worker-2", message_id: "Base.1.0.AfterRotation" }), (n) => n === before + 1);
    assert.ok((await deliveries(2)).every((d) => d.status !== 401), "no delivery of the BMC was refused during the rotation");
    const { request, Agent } = await import("undici");
    const agent = new Agent({ connect: { rejectUnauthorized: false } });
    const r = await request(s.url, { method: "POST", headers: { [TOKEN_HEADER]: oldToken }, body: JSON.stringify({ Events: [{ MessageId: "A.1.0.B" }] }), dispatcher: agent });
    await r.body.dump();
    await agent.close();
    assert.equal(r.statusCode, 401);
  });

  it("forwards CloudEvents to a namespace's sinks: a dead sink neither blocks recording nor the live sink", async () => {
    // A dead sink: a port that accepts connections and never answers.
    const hanging = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    const deadUrl = `http://127.0.0.1:${(hanging.address() as { port: number }).port}/dead`;
    // And a closed port: connections refused, so its retries end soon and the failure is counted.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedUrl = `http://127.0.0.1:${(closed.address() as { port: number }).port}/closed`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    try {
      await s.stack.client.create(CONFIGMAPS, {
        metadata: { name: "bmc-event-sinks", namespace: NS, labels: { [EVENT_SINKS_LABEL]: "true" } },
        data: { sinks: `${deadUrl}\n${closedUrl}\n${s.stack.sink.url}/cloudevents\n` },
      });
      const count = 20;
      // Give the informer a moment to list the ConfigMap: wait until one event reaches the live sink.
      await waitFor(
        "a first CloudEvent at the live sink",
        async () => {
          await raise(0, "Base.1.0.Forwarded", "warm-up");
          await new Promise((resolve) => setTimeout(resolve, 100));
          return s.stack.sink.events.filter((e) => e.path === "/cloudevents").length;
        },
        (n) => n > 0,
      );
      for (let i = 0; i < count; i++) await raise(0, "Base.1.0.Forwarded", "forwarded");
      await waitFor("every event recorded on the host", () => s.hostEvents(NS, "worker-0"), (list) => list.some((e) => e.reason === "Forwarded"));
      const received = await waitFor("the events at the live sink", () => Promise.resolve(s.stack.sink.events.filter((e) => e.path === "/cloudevents" && e.body?.Message === "forwarded")), (list) => list.length === count, 30_000);
      const first = received[0]!;
      assert.equal(first.headers["ce-specversion"], "1.0");
      assert.equal(first.headers["ce-type"], "io.metal3.bmc.event.v1");
      assert.equal(first.headers["ce-source"], `/apis/metal3.io/v1alpha1/namespaces/${NS}/baremetalhosts/worker-0`);
      assert.equal(first.headers["ce-messageid"], "Base.1.0.Forwarded");
      assert.ok(first.headers["ce-id"]);
      assert.equal(first.body.MessageId, "Base.1.0.Forwarded");
      assert.ok((await s.metric("bmc_events_forwarded_total", { namespace: NS, result: "delivered" })) >= count);
      // The refusing sink's events fail after their retries, and are counted.
      await waitFor("a forwarding failure to be counted", () => s.metric("bmc_events_forwarded_total", { namespace: NS, result: "failed" }), (n) => n >= 1, 30_000);
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });
});

/**
 * The receiver against the BMC emulator's vendor profiles' own delivery
 * behaviours: HPE iLO 6 counts only 200 as delivered (the receiver never
 * answers 204), iDRAC and OpenBMC deliver only to https (the receiver serves
 * nothing else), and iDRAC suspends a subscription whose deliveries keep
 * failing: a forged subscription's deliveries get 401 until the BMC suspends
 * it, while the operator's own subscription on the same BMC keeps delivering.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BMC_EVENT_SUBSCRIPTIONS } from "../../src/controllers/resources.ts";
import { TOKEN_HEADER } from "../../src/receiver/event-token.ts";
import { isReady, waitFor } from "../support/operator-stack.ts";
import { type ReceiverStack, startReceiverStack } from "./receiver-stack.ts";

const NS = "vendors";
const PROFILES = ["hpe-ilo6", "dell-idrac9", "openbmc"] as const;
let s: ReceiverStack;

interface Delivery {
  subscriptionId: string;
  destination: string;
  status?: number;
  outcome: string;
}

async function control<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(`${s.stack.fleet.controlUrl}${path}`, init);
  return (await response.json()) as T;
}

before(async () => {
  s = await startReceiverStack({ bmcs: PROFILES.length, fleet: { profile: [...PROFILES], eventDelivery: { retryAttempts: 2, retryIntervalSeconds: 0.05, timeoutMs: 2_000 } } });
  await s.stack.namespace(NS);
  for (const [i] of PROFILES.entries()) await s.readyHost(NS, `host-${i}`, i);
  for (const [i] of PROFILES.entries()) {
    await s.stack.client.create(BMC_EVENT_SUBSCRIPTIONS, {
      apiVersion: "metal3.io/v1alpha1",
      kind: "BMCEventSubscription",
      metadata: { name: `host-${i}-events`, namespace: NS },
      spec: { hostName: `host-${i}`, destination: s.url, context: `host-${i}` },
    });
  }
  for (const [i, profile] of PROFILES.entries()) {
    await waitFor(`the ${profile} subscription to be Ready`, () => s.stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: NS, name: `host-${i}-events` }), isReady, 30_000);
  }
});

after(async () => {
  await s?.close();
});

describe("event receiver and vendor delivery behaviours", () => {
  for (const [i, profile] of PROFILES.entries()) {
    it(`${profile}: a failed drive lands on its host, and the BMC counts the delivery as delivered`, async () => {
      const drive = s.stack.fleet.bmcs[i]!.drives[0]!;
      await control(`/bmcs/${i}/drives/${encodeURIComponent(drive.storageId)}/${encodeURIComponent(drive.driveId)}/fail`, { method: "POST" });
      const events = await waitFor(`the DriveFailure Event on host-${i}`, () => s.hostEvents(NS, `host-${i}`), (list) => list.some((e) => e.reason === "DriveFailure"));
      assert.ok(events.find((e) => e.reason === "DriveFailure")!.note!.includes(drive.serialNumber), JSON.stringify(events));
      const { deliveries } = await control<{ deliveries: Delivery[] }>(`/bmcs/${i}/deliveries`);
      const mine = deliveries.filter((d) => d.destination === s.url);
      assert.ok(mine.length > 0 && mine.every((d) => d.status === 200 && d.outcome === "delivered"), JSON.stringify(mine));
    });
  }

  it("dell-idrac9: a forged subscription's deliveries get 401 until the BMC suspends it; the operator's keeps delivering", async () => {
    const index = PROFILES.indexOf("dell-idrac9");
    const bmc = s.stack.fleet.bmcs[index]!;
    const basic = `Basic ${Buffer.from(`${bmc.username}:${bmc.password}`).toString("base64")}`;
    const created = await fetch(`${bmc.url}/redfish/v1/EventService/Subscriptions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: basic },
      body: JSON.stringify({ Destination: `${s.url}/forged`, Protocol: "Redfish", Context: "forged", HttpHeaders: [{ [TOKEN_HEADER]: "guessed" }] }),
    });
    assert.ok(created.status === 201 || created.status === 200, await created.text());
    await control(`/bmcs/${index}/events`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ MessageId: "Base.1.0.Test", Message: "both" }) });
    const subscriptions = await waitFor(
      "the forged subscription to be suspended",
      () => control<{ subscriptions: { destination: string; state: string }[] }>(`/bmcs/${index}/subscriptions`),
      (body) => body.subscriptions.some((x) => x.destination === `${s.url}/forged` && x.state === "Disabled"),
    );
    assert.equal(subscriptions.subscriptions.find((x) => x.destination === s.url)?.state, "Enabled");
    const { deliveries } = await control<{ deliveries: Delivery[] }>(`/bmcs/${index}/deliveries`);
    assert.ok(deliveries.filter((d) => d.destination === `${s.url}/forged`).every((d) => d.status === 401));
    await waitFor("the test event on the host", () => s.hostEvents(NS, `host-${index}`), (list) => list.some((e) => e.reason === "Test"));
    assert.ok((await s.metric("bmc_event_deliveries_refused_total", { reason: "invalid_token" })) >= 3);
  });
});

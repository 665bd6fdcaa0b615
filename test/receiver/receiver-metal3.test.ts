/**
 * The receiver where the Metal3 baremetal-operator owns BMCEventSubscriptions
 * (no subscription controller of ours runs; the test does BMO's part): the
 * operator still makes the token Secret of a subscription aimed at the
 * receiver, the subscription names it as its `httpHeadersRef`, and the BMC
 * subscription BMO would create with those headers delivers to the host; the
 * rotation annotation is ignored there (BMO would not re-create on a headers
 * change), and nothing is written to the subscription.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BMC_EVENT_SUBSCRIPTIONS } from "../../src/controllers/resources.ts";
import { headersFromSecret } from "../../src/controllers/http-headers.ts";
import { SECRETS } from "../../src/runtime/index.ts";
import { ROTATE_TOKEN_ANNOTATION, TOKEN_HEADER, tokenSecretName } from "../../src/receiver/event-token.ts";
import { waitFor } from "../support/operator-stack.ts";
import { type ReceiverStack, startReceiverStack } from "./receiver-stack.ts";

const NS = "metal3";
let s: ReceiverStack;

before(async () => {
  s = await startReceiverStack({ bmcs: 1, bmoOwnsSubscriptions: true });
  await s.stack.namespace(NS);
  await s.readyHost(NS, "worker-0", 0);
});
after(async () => {
  await s?.close();
});

describe("event receiver next to BMO", () => {
  it("makes the token Secret, which BMO sends as the subscription's headers; deliveries land on the host", async () => {
    const secretName = tokenSecretName("worker-0-events");
    await s.stack.client.create(BMC_EVENT_SUBSCRIPTIONS, {
      apiVersion: "metal3.io/v1alpha1",
      kind: "BMCEventSubscription",
      metadata: { name: "worker-0-events", namespace: NS },
      spec: { hostName: "worker-0", destination: s.url, context: "bmo", httpHeadersRef: { name: secretName } },
    });
    const secret = await waitFor("the token Secret", () => s.stack.client.get(SECRETS, { namespace: NS, name: secretName }), () => true);
    // BMO reads a headers Secret only through its cache of Secrets labelled environment.metal3.io=baremetal.
    assert.equal(secret.metadata?.labels?.["environment.metal3.io"], "baremetal");
    // BMO (through Ironic) creates the BMC subscription with the Secret's data as headers.
    const headers = headersFromSecret({ ...secret, metadata: { name: secretName, namespace: NS } });
    assert.deepEqual(Object.keys(headers), [TOKEN_HEADER]);
    const bmc = s.stack.fleet.bmcs[0]!;
    const created = await fetch(`${bmc.url}/redfish/v1/EventService/Subscriptions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Basic ${Buffer.from(`${bmc.username}:${bmc.password}`).toString("base64")}` },
      body: JSON.stringify({ Destination: s.url, Protocol: "Redfish", Context: "bmo", HttpHeaders: Object.entries(headers).map(([k, v]) => ({ [k]: v })) }),
    });
    assert.equal(created.status, 201, await created.text());
    const drive = bmc.drives[0]!;
    await fetch(`${s.stack.fleet.controlUrl}/bmcs/0/drives/${drive.storageId}/${drive.driveId}/fail`, { method: "POST" });
    const events = await waitFor("the drive failure on the host", () => s.hostEvents(NS, "worker-0"), (list) => list.some((e) => e.reason === "DriveFailure"));
    assert.ok(events.find((e) => e.reason === "DriveFailure")!.note!.includes(drive.serialNumber));

    // A rotation would never reach the BMC here: the annotation changes nothing.
    const before = secret.data?.[TOKEN_HEADER];
    await s.stack.client.patch(BMC_EVENT_SUBSCRIPTIONS, { namespace: NS, name: "worker-0-events" }, { metadata: { annotations: { [ROTATE_TOKEN_ANNOTATION]: "1" } } }, { type: "merge" });
    await fetch(`${s.stack.fleet.controlUrl}/bmcs/0/events`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ MessageId: "Base.1.0.AfterAnnotation", Message: "still" }) });
    await waitFor("a delivery after the annotation", () => s.hostEvents(NS, "worker-0"), (list) => list.some((e) => e.reason === "AfterAnnotation"));
    assert.equal((await s.stack.client.get(SECRETS, { namespace: NS, name: secretName })).data?.[TOKEN_HEADER], before);
    const sub = await s.stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: NS, name: "worker-0-events" });
    assert.equal(sub.status, undefined, "nothing written to the subscription's status");
    assert.deepEqual(sub.metadata?.finalizers ?? [], [], "no finalizer on the subscription");
  });
});

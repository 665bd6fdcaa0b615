/**
 * Crash windows of a subscription aimed at the event receiver, hit
 * deterministically: the operator (receiver on) runs as its own process
 * behind the fault proxy, which holds the status write that would record a
 * new BMC subscription until the process is killed. After a restart the BMC
 * holds exactly one subscription of the resource, carrying the token its
 * Secret holds now, and the BMC's deliveries land on the host: at creation,
 * and in the middle of a token rotation.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { BMCEventSubscription } from "../../src/api/bmc-event-subscription.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS } from "../../src/controllers/resources.ts";
import { EVENTS, findStatusCondition, SECRETS } from "../../src/runtime/index.ts";
import { ROTATE_TOKEN_ANNOTATION, TOKEN_HEADER, tokenSecretName } from "../../src/receiver/event-token.ts";
import { selfSignedCertificate } from "../../emulators/redfish-bmc/tls.ts";
import { type FaultProxy, type HoldRule, startFaultProxy } from "../support/fault-proxy.ts";
import { type OperatorStack, startOperatorStack, waitFor } from "../support/operator-stack.ts";
import { startOperatorProcess, type TestOperatorProcess } from "../support/operator-process.ts";

let stack: OperatorStack;
let proxy: FaultProxy;
let operator: TestOperatorProcess | undefined;
let certDir: string;
let url: string;
let port: number;

before(async () => {
  stack = await startOperatorStack({ bmcs: 3, policies: false, fleet: { eventDelivery: { retryAttempts: 2, retryIntervalSeconds: 0.05, timeoutMs: 2_000 } } });
  proxy = await startFaultProxy(stack.api.url);
  certDir = await mkdtemp(join(tmpdir(), "receiver-tls-"));
  const certificate = await selfSignedCertificate();
  await writeFile(join(certDir, "tls.crt"), certificate.cert);
  await writeFile(join(certDir, "tls.key"), certificate.key);
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, "127.0.0.1", done));
  port = (probe.address() as { port: number }).port;
  await new Promise<void>((done) => probe.close(() => done()));
  url = `https://127.0.0.1:${port}/events`;
});
after(async () => {
  await operator?.dispose();
  await proxy.close();
  await stack.close();
  await rm(certDir, { recursive: true, force: true });
});

async function start(): Promise<void> {
  await operator?.dispose();
  operator = await startOperatorProcess(stack, {
    apiUrl: proxy.url,
    args: ["--event-receiver-bind-address", `127.0.0.1:${port}`, "--event-receiver-url", url, "--event-receiver-cert-dir", certDir],
  });
}

async function killAt(hold: ReturnType<FaultProxy["hold"]>): Promise<void> {
  await hold.held;
  await operator?.kill();
  await hold.dropped;
}

function recordingTheID(ns: string, name: string): HoldRule {
  return {
    method: "PATCH",
    path: `/apis/metal3.io/v1alpha1/namespaces/${ns}/bmceventsubscriptions/${name}/status`,
    body: (patch: { status?: { subscriptionID?: string | null } } | undefined) => typeof patch?.status?.subscriptionID === "string",
  };
}

async function setUp(ns: string, index: number): Promise<void> {
  await stack.namespace(ns);
  await stack.createHost(ns, "worker", index);
  await waitFor("host registered", () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name: "worker" }), (h) => findStatusCondition(h.status?.conditions, "Ready")?.status === "True");
}

function subscription(ns: string): BMCEventSubscription {
  return { apiVersion: "metal3.io/v1alpha1", kind: "BMCEventSubscription", metadata: { name: "events", namespace: ns }, spec: { hostName: "worker", destination: url, context: ns } };
}

function converged(ns: string): Promise<BMCEventSubscription> {
  return waitFor(
    "the subscription to be Ready with nothing stale",
    () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" }),
    (s) => !!s.status?.subscriptionID && findStatusCondition(s.status.conditions, "Ready")?.status === "True" && !s.status.staleSubscriptionIDs?.length,
    30_000,
  );
}

async function currentToken(ns: string): Promise<string> {
  const secret = await stack.client.get(SECRETS, { namespace: ns, name: tokenSecretName("events") });
  return Buffer.from(secret.data![TOKEN_HEADER]!, "base64").toString("utf8");
}

/** The BMC holds exactly one subscription to the receiver: the recorded one, with the current token. */
async function assertOneWithCurrentToken(ns: string, index: number, sub: BMCEventSubscription): Promise<void> {
  const records = stack.fleet.bmc(index).subscriptionRecords().filter((r) => r.destination === url);
  assert.equal(records.length, 1, JSON.stringify(records.map((r) => r.id)));
  assert.equal(records[0]!.id, sub.status?.subscriptionID);
  assert.equal(Object.fromEntries(records[0]!.httpHeaders)[TOKEN_HEADER], await currentToken(ns));
}

async function failureLands(ns: string, index: number): Promise<void> {
  const drive = stack.fleet.bmcs[index]!.drives[1]!;
  stack.fleet.bmc(index).failDrive(drive.storageId, drive.driveId);
  await waitFor(
    "the drive failure on the host",
    async () => (await stack.client.list(EVENTS, { namespace: ns })).items.filter((e) => e.regarding?.name === "worker" && e.reason === "DriveFailure"),
    (list) => list.length > 0,
    30_000,
  );
}

describe("a receiver-bound subscription and crashes", () => {
  it("a crash between creating the BMC subscription and recording it: one subscription with the current token after a restart", async () => {
    const ns = "crash-create";
    await start();
    await setUp(ns, 0);
    const hold = proxy.hold(recordingTheID(ns, "events"));
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns));
    await killAt(hold);
    assert.equal(stack.fleet.bmc(0).subscriptionRecords().length, 1, "the BMC subscription exists, unrecorded");

    await start();
    const sub = await converged(ns);
    await assertOneWithCurrentToken(ns, 0, sub);
    await failureLands(ns, 0);
  });

  it("a crash after creating, then a new token before the restart: the unrecorded one is replaced, not adopted", async () => {
    const ns = "crash-create-rotate";
    await start();
    await setUp(ns, 2);
    const hold = proxy.hold(recordingTheID(ns, "events"));
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns));
    await killAt(hold);
    const unrecorded = stack.fleet.bmc(2).subscriptionRecords().filter((r) => r.destination === url);
    assert.equal(unrecorded.length, 1);
    // A rotation whose Secret write got through just before the crash: the token the unrecorded
    // subscription carries is no longer the Secret's.
    await stack.client.patch(SECRETS, { namespace: ns, name: tokenSecretName("events") }, { stringData: { [TOKEN_HEADER]: "rotated-while-down" } }, { type: "merge" });

    await start();
    const sub = await waitFor(
      "the subscription to carry the rotated token",
      async () => ({ sub: await converged(ns), token: await currentToken(ns) }),
      ({ sub, token }) => Object.fromEntries(stack.fleet.bmc(2).subscriptionRecords().find((r) => r.id === sub.status?.subscriptionID)?.httpHeaders ?? [])[TOKEN_HEADER] === token,
      30_000,
    ).then((x) => x.sub);
    assert.notEqual(sub.status?.subscriptionID, unrecorded[0]!.id);
    await assertOneWithCurrentToken(ns, 2, sub);
  });

  it("a crash in the middle of a rotation: one subscription with the new token after a restart", async () => {
    const ns = "crash-rotate";
    await start();
    await setUp(ns, 1);
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns));
    const first = await converged(ns);
    const oldToken = await currentToken(ns);
    const hold = proxy.hold(recordingTheID(ns, "events"));
    await stack.client.patch(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" }, { metadata: { annotations: { [ROTATE_TOKEN_ANNOTATION]: "now" } } }, { type: "merge" });
    await killAt(hold);
    assert.equal(stack.fleet.bmc(1).subscriptionRecords().length, 2, "old and new BMC subscriptions, the new one unrecorded");

    await start();
    const sub = await converged(ns);
    assert.notEqual(sub.status?.subscriptionID, first.status?.subscriptionID);
    assert.notEqual(await currentToken(ns), oldToken);
    await assertOneWithCurrentToken(ns, 1, sub);
    await failureLands(ns, 1);
    // Neither token ever reaches the operator's log (every level it writes).
    const log = await operator!.log();
    assert.ok(!log.includes(oldToken) && !log.includes(await currentToken(ns)), "a token in the operator's log");
  });
});

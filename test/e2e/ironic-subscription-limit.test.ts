/**
 * A full BMC end to end through real Ironic: the operator (`--provisioner
 * ironic`) → Ironic's `create_subscription` → a BMC emulator that holds one
 * subscription. Ironic answers 500 quoting the BMC's 400
 * `CreateLimitReachedForResource` (21.4.4 and 29.0.5 alike); the second
 * subscription is `Ready=False` reason `BMCSubscriptionLimit`, naming the
 * limit and with no header value, the BMC still holds one subscription, and
 * once the first is deleted the second is created (a full BMC is retried, not
 * given up on).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS } from "../../src/controllers/resources.ts";
import { EVENTS, findStatusCondition, SECRETS } from "../../src/runtime/index.ts";
import { ironicReleases, ironicSkipReason } from "../support/ironic.ts";
import { type IronicOperatorStack, startIronicOperatorStack } from "../support/ironic-operator-stack.ts";
import { subscriptionObject, waitFor } from "../support/operator-stack.ts";

const HOST = "worker-0";

for (const release of ironicReleases()) {
  describe(`a full BMC through real Ironic is BMCSubscriptionLimit, and retried (${release.label})`, { skip: ironicSkipReason(release) }, () => {
    let stack: IronicOperatorStack;

    before(async () => {
      stack = await startIronicOperatorStack({ bmcs: 1, release, policies: false, fleet: { maxSubscriptions: 1 } });
      await stack.startOperator();
    });
    after(() => stack?.close());

    it("reports the second subscription as BMCSubscriptionLimit naming the limit, then creates it once the first is deleted", async () => {
      const ns = await stack.namespace("full-ironic");
      await stack.createHost(ns, HOST, 0);
      await waitFor(
        `host ${HOST} to be registered in Ironic`,
        () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name: HOST }),
        (h) => !!h.status?.provisioning?.ID && findStatusCondition(h.status.conditions, "Ready")?.status === "True",
        30_000,
      );
      const secret = `Bearer full-${crypto.randomUUID()}`;
      await stack.create(SECRETS, { metadata: { name: "hook", namespace: ns }, stringData: { Authorization: secret } });
      await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject(ns, "first", HOST, stack.sink.url));
      const first = await waitFor(
        "subscription first to be Ready",
        () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "first" }),
        (s) => !!s.status?.subscriptionID && findStatusCondition(s.status.conditions, "Ready")?.status === "True",
        30_000,
      );
      await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject(ns, "second", HOST, stack.sink.url, { httpHeadersRef: { name: "hook" } }));
      const refused = await waitFor(
        "subscription second to be refused",
        () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "second" }),
        (s) => findStatusCondition(s.status?.conditions, "Ready")?.status === "False",
        30_000,
      );
      const ready = findStatusCondition(refused.status?.conditions, "Ready")!;
      assert.equal(ready.reason, "BMCSubscriptionLimit", ready.message);
      assert.match(ready.message, /the BMC already holds its limit of 1 subscriptions and refuses another/);
      assert.match(ready.message, /the BMC answered HTTP 400: Base\.[\d.]+\.CreateLimitReachedForResource/);
      assert.equal(refused.status?.subscriptionID ?? "", "");
      // The BMC's own state: the first subscription only.
      assert.deepEqual(
        stack.fleet.bmc(0).subscriptions().map((s) => s.id),
        [first.status!.subscriptionID],
      );
      const events = (await stack.client.list(EVENTS, { namespace: ns })).items ?? [];
      for (const [where, text] of [
        ["the status", JSON.stringify(refused.status)],
        ["the Events", JSON.stringify(events)],
        ["the operator's log", stack.operatorLog()],
      ] as const) {
        assert.ok(!text.includes(secret.replace(/^Bearer /, "")), `the header value appears in ${where}`);
      }

      // Not terminal: retried with backoff, so it is created once the BMC has room.
      await stack.client.delete(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "first" });
      const created = await waitFor(
        "subscription second to be created once first is deleted",
        () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "second" }),
        (s) => !!s.status?.subscriptionID && findStatusCondition(s.status.conditions, "Ready")?.status === "True",
        60_000,
      );
      const onBmc = stack.fleet.bmc(0).subscriptions();
      assert.deepEqual(onBmc.map((s) => s.id), [created.status!.subscriptionID]);
      assert.deepEqual(onBmc[0]!.httpHeaderNames, ["Authorization"]);
    });
  });
}

/**
 * End to end through real Ironic, once per release, when things stop: Ironic
 * stopped while the operator is creating and changing resources (on 21.4.4 one
 * subscription creation is cut off after it reached the BMC; 29.0.5 answers it
 * before exiting) and started again; a burst of resources on
 * one host; an operator restart with everything converged. Through it all:
 * exactly one subscription on the BMC per BMCEventSubscription, one node per
 * host, lights as asked, at most one request in flight at a BMC, and no
 * request to Ironic or a BMC that nothing asked for.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BMCEventSubscription } from "../../src/api/bmc-event-subscription.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { findStatusCondition, isNotFound, SECRETS } from "../../src/runtime/index.ts";
import type { SubscriptionInfo } from "../../emulators/redfish-bmc/index.ts";
import { ironicReleases, ironicSkipReason } from "../support/ironic.ts";
import { type IronicOperatorStack, startIronicOperatorStack } from "../support/ironic-operator-stack.ts";
import { duplicateIndicators, indicatorObject, isReady, readyResources, subscriptionObject, waitFor } from "../support/operator-stack.ts";

/** Where the BMC emulator keeps a system's subscriptions. */
const SUBSCRIPTIONS_PATH = "/redfish/v1/EventService/Subscriptions";

for (const release of ironicReleases()) {
  describe(`end to end through real Ironic: Ironic and operator restarts, bursts (${release.label})`, { skip: ironicSkipReason(release) }, () => {
    let stack: IronicOperatorStack;

    before(async () => {
      stack = await startIronicOperatorStack({ bmcs: 4, policies: false, release });
      await stack.startOperator();
    });
    after(() => stack?.close());

    function subscription(namespace: string, name: string, host: string, extra: Partial<BMCEventSubscription["spec"]> = {}): BMCEventSubscription {
      return subscriptionObject(namespace, name, host, stack.sink.url, extra);
    }

    async function registered(namespace: string, name: string, index: number) {
      await stack.createHost(namespace, name, index);
      return waitFor(
        `host ${name} to be registered`,
        () => stack.client.get(BARE_METAL_HOSTS, { namespace, name }),
        (h) => isReady(h) && !!h.status?.provisioning?.ID,
        30_000,
      );
    }

    function subscribed(namespace: string, name: string) {
      return waitFor(
        `subscription ${name} to be Ready`,
        () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace, name }),
        (s) => !!s.status?.subscriptionID && !s.status.staleSubscriptionIDs && isReady(s),
        60_000,
      );
    }

    function lightReady(namespace: string, name: string, on: boolean) {
      return waitFor(
        `indicator ${name} to be Ready with on=${on}`,
        () => stack.client.get(SERVICE_INDICATORS, { namespace, name }),
        (i) => i.status?.on === on && i.status.observedGeneration === i.metadata.generation && isReady(i),
        60_000,
      );
    }

    function gone(namespace: string, name: string) {
      return waitFor(
        `subscription ${name} to be deleted`,
        () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace, name }).then(() => false, (e: unknown) => isNotFound(e)),
        (isGone) => isGone,
        60_000,
      );
    }

    /** The names of Ironic's nodes, from its API. */
    async function nodeNames(): Promise<string[]> {
      const response = await fetch(`${stack.ironic.url}/v1/nodes`, { headers: { "X-OpenStack-Ironic-API-Version": "1.63" } });
      const body = (await response.json()) as { nodes: { name: string | null }[] };
      return body.nodes.map((n) => n.name ?? "").sort();
    }

    it("Ironic stopped mid-run and started again: everything converges, with nothing duplicated", async (t) => {
      const ns = await stack.namespace("ironic-down");
      await registered(ns, "host-a", 0);
      const bmc = stack.fleet.bmc(0);
      const info = stack.fleet.bmcs[0]!;
      const system = `${info.systemUUID}@system`;
      const chassis = `${info.chassisUUID}@chassis`;
      const token = `Bearer down-${crypto.randomUUID()}`;
      await stack.create(SECRETS, { metadata: { name: "hook-headers", namespace: ns }, stringData: { Authorization: token } });
      await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "old", "host-a"));
      await subscribed(ns, "old");

      // Slow BMC answers, so that Ironic can be stopped while a subscription POST is at the BMC.
      bmc.setLatency(500);
      bmc.resetStats();
      await Promise.all([
        stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "sub-1", "host-a", { httpHeadersRef: { name: "hook-headers" } })),
        stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "sub-2", "host-a")),
        stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "sub-3", "host-a")),
        stack.create(SERVICE_INDICATORS, indicatorObject(ns, "system", "host-a", system, true)),
        stack.create(SERVICE_INDICATORS, indicatorObject(ns, "chassis", "host-a", chassis, true)),
      ]);
      await waitFor(
        "the first new subscription to reach the BMC",
        () => Promise.resolve(bmc.stats().byMethodPath[`POST ${SUBSCRIPTIONS_PATH}`] ?? 0),
        (posts) => posts >= 1,
        30_000,
      );
      await stack.ironic.stop();
      bmc.setLatency(0);
      let cutOff: SubscriptionInfo[];
      try {
        // A subscription now on the BMC that no resource records was created by a call the operator saw fail.
        const unrecorded = async (): Promise<SubscriptionInfo[]> => {
          const recorded = new Set(
            (await stack.client.list(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns })).items.flatMap((s) => s.status?.subscriptionID ?? []),
          );
          return bmc.subscriptions().filter((s) => !recorded.has(s.id));
        };
        if (release.answersInFlightOnStop) {
          // This Ironic answers the calls in flight before it exits: every creation that reached the BMC
          // gets its answer, and its resource records it.
          await waitFor("every subscription on the BMC to be recorded by its resource", unrecorded, (rest) => rest.length === 0);
          cutOff = [];
        } else {
          // This Ironic finishes its BMC work before exiting, but cuts its answers off.
          cutOff = await unrecorded();
          assert.ok(cutOff.length >= 1, `stopping Ironic cut no subscription creation off: BMC ${JSON.stringify(bmc.subscriptions())}`);
        }
        t.diagnostic(`subscriptions created on the BMC whose answer Ironic's stop cut off: ${cutOff.map((s) => s.context).join(", ") || "none"}`);

        // While Ironic is down: a spec change, a deletion, a new subscription and a new host.
        await stack.client.patch(SERVICE_INDICATORS, { namespace: ns, name: "system" }, { spec: { on: false } }, { type: "merge" });
        await stack.client.delete(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "old" });
        await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "sub-4", "host-a"));
        await stack.createHost(ns, "host-b", 1);
        // The operator tried, and says Ironic (not the BMC) cannot be reached.
        const unreachable = /Ironic .* failed \(connection\)/;
        const saysIronicDown = (conditions: Parameters<typeof findStatusCondition>[0], errorMessage: string | undefined) => {
          const ready = findStatusCondition(conditions, "Ready");
          return ready?.status === "False" && ready.reason === "ProvisionerUnavailable" && unreachable.test(errorMessage ?? "");
        };
        await waitFor(
          "the new subscription to report Ironic unreachable",
          () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "sub-4" }),
          (s) => saysIronicDown(s.status?.conditions, s.status?.errorMessage),
        );
        await waitFor(
          "the new host to report Ironic unreachable",
          () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name: "host-b" }),
          (h) => saysIronicDown(h.status?.conditions, h.status?.errorMessage),
        );
      } finally {
        await stack.ironic.start();
      }

      const names = ["sub-1", "sub-2", "sub-3", "sub-4"];
      const subs: BMCEventSubscription[] = [];
      for (const name of names) subs.push(await subscribed(ns, name));
      await gone(ns, "old");
      await lightReady(ns, "system", false);
      await lightReady(ns, "chassis", true);
      const hostB = await waitFor(
        "host-b to be registered",
        () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name: "host-b" }),
        (h) => isReady(h) && !!h.status?.provisioning?.ID,
        60_000,
      );

      // Exactly one subscription per resource on the BMC, each with its resource's destination and context.
      const onBmc = bmc.subscriptions();
      assert.deepEqual(
        onBmc.map((s) => s.id).sort(),
        subs.map((s) => s.status!.subscriptionID!).sort(),
        `BMC: ${JSON.stringify(onBmc)}`,
      );
      for (const sub of subs) {
        const held = onBmc.find((s) => s.id === sub.status?.subscriptionID);
        assert.equal(held?.destination, sub.spec.destination);
        assert.equal(held?.context, sub.spec.context);
      }
      assert.deepEqual(bmc.subscriptions().find((s) => s.context === "ctx-sub-1")?.httpHeaderNames, ["Authorization"]);
      assert.equal(bmc.lights().system, "Off");
      assert.equal(bmc.lights().chassis, "Lit");

      // One node per host, host-b enrolled once Ironic was back.
      const nodes = (await nodeNames()).filter((n) => n.startsWith(`${ns}~`));
      assert.deepEqual(nodes, [`${ns}~host-a`, `${ns}~host-b`]);
      assert.equal(hostB.status?.provisioning?.ID, (await stack.ironicClient.getNode(`${ns}~host-b`)).uuid);

      // Each subscription whose creation was cut off was adopted by its resource, not created twice; one
      // of a resource with headers was replaced instead (a BMC never shows header values, so an orphan's
      // headers cannot be proven current) and is gone from the BMC.
      for (const orphan of cutOff) {
        const owner = subs.find((s) => s.spec.context === orphan.context);
        if (owner?.spec.httpHeadersRef) {
          assert.notEqual(owner.status?.subscriptionID, orphan.id, `subscription ${orphan.id} (${orphan.context ?? ""}) of a resource with headers was adopted`);
          assert.ok(!onBmc.some((s) => s.id === orphan.id), `subscription ${orphan.id} (${orphan.context ?? ""}) was neither adopted nor deleted`);
        } else {
          assert.equal(owner?.status?.subscriptionID, orphan.id, `subscription ${orphan.id} (${orphan.context ?? ""}) was not adopted`);
        }
      }

      // A test event reaches each destination once, sub-1's with its header.
      bmc.submitEvent({ MessageId: "Base.1.0.AfterIronicRestart" });
      await bmc.deliveriesSettled();
      const delivered = stack.sink.events.filter((e) => e.messageIds.includes("Base.1.0.AfterIronicRestart"));
      assert.deepEqual(delivered.map((e) => e.path).sort(), names.map((n) => `/${ns}/${n}`));
      assert.equal(delivered.find((e) => e.path === `/${ns}/sub-1`)?.headers.authorization, token);
      assert.equal(delivered.find((e) => e.path === `/${ns}/sub-2`)?.headers.authorization, undefined);
      assert.ok(!stack.operatorLog().includes(token.replace(/^Bearer /, "")), "the header value appears in the operator's log");
    });

    it("a burst of resources on one host never has more than one request in flight at its BMC", async () => {
      const ns = await stack.namespace("burst");
      const node = (await registered(ns, "host-c", 2)).status!.provisioning!.ID!;
      const info = stack.fleet.bmcs[2]!;
      const bmc = stack.fleet.bmc(2);
      const lights = [`${info.systemUUID}@system`, `${info.chassisUUID}@chassis`];
      bmc.resetStats();
      const mark = await stack.ironicRequests.mark();
      const creations: Promise<unknown>[] = [];
      for (let i = 0; i < 24; i++) {
        creations.push(stack.create(SERVICE_INDICATORS, indicatorObject(ns, `light-${i}`, "host-c", lights[i % lights.length]!, true)));
      }
      for (let i = 0; i < 8; i++) creations.push(stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, `sub-${i}`, "host-c")));
      await Promise.all(creations);
    // One indicator per light switches it; the others of that light are refused as duplicates.
      await waitFor(
      "one Ready indicator per light and every subscription Ready, the other indicators refused",
      () => Promise.all([readyResources(stack.client, ns), duplicateIndicators(stack.client, ns)]),
      ([ready, duplicates]) => ready === lights.length + 8 && duplicates === 24 - lights.length,
        60_000,
      );
      const stats = bmc.stats();
      assert.ok(stats.total >= 8 + 2, `the BMC saw only ${stats.total} requests`);
      assert.equal(stats.peakInFlight, 1, JSON.stringify(stats));
      assert.equal(bmc.subscriptions().length, 8);
      // Through Ironic too: one creation per subscription, and never a node found locked by a call of our own.
      // (Only this host's node: an earlier test's resources may still be converging on theirs.)
      const requests = (await stack.ironicRequests.since(mark)).filter((r) => r.path.startsWith(`/v1/nodes/${node}/`));
      assert.equal(requests.filter((r) => r.method === "POST" && r.path.endsWith("?method=create_subscription")).length, 8);
      assert.deepEqual(requests.filter((r) => r.status === 409), []);
      assert.equal(bmc.lights().system, "Lit");
      assert.equal(bmc.lights().chassis, "Lit");
    });

    it("an operator restart with everything converged costs no request to Ironic or to any BMC", async () => {
      const ns = await stack.namespace("restart");
      await registered(ns, "host-d", 3);
      const info = stack.fleet.bmcs[3]!;
      await stack.create(SERVICE_INDICATORS, indicatorObject(ns, "locate", "host-d", `${info.systemUUID}@system`, true));
      await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscription(ns, "events", "host-d"));
      await lightReady(ns, "locate", true);
      await subscribed(ns, "events");

      await stack.stopOperator();
      const mark = await stack.ironicRequests.mark();
      stack.fleet.resetStats();
      await stack.startOperator();
      await stack.settled();

      const objects = (await Promise.all([
        stack.client.list(BARE_METAL_HOSTS),
        stack.client.list(BMC_EVENT_SUBSCRIPTIONS),
        stack.client.list(SERVICE_INDICATORS),
      ])).reduce((sum, list) => sum + list.items.length, 0);
      assert.ok(objects >= 3, `only ${objects} objects to reconcile`);
      assert.equal(await stack.metricSum("bmc_operator_provisioner_calls_total"), 0);
      assert.deepEqual(await stack.ironicRequests.since(mark), []);
      assert.equal(stack.fleet.stats().total, 0, JSON.stringify(stack.fleet.stats()));
    });
  });
}

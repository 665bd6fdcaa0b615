/**
 * Crash windows through real Ironic, once per release: the operator runs as
 * its own process (`--provisioner ironic`) behind the fault proxy, which
 * holds the API write that would record a side effect Ironic made on the BMC
 * until the process is killed (SIGKILL). Then a new process starts, and the
 * test checks the emulated BMC's own state — its light, its subscriptions —
 * not only the resources' status. The same windows as
 * test/operator/crash-indicators.test.ts and crash-subscriptions.test.ts hit
 * with the Redfish provisioner: a light switched and not recorded, a
 * subscription created and its ID not recorded, a subscription deleted and
 * the finalizer not released.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BMC_EVENT_SUBSCRIPTIONS, BARE_METAL_HOSTS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { isNotFound } from "../../src/runtime/index.ts";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.ts";
import { releasingTheFinalizer } from "../support/subscription-status-holds.ts";
import { ironicReleases, ironicSkipReason } from "../support/ironic.ts";
import { type IronicOperatorStack, startIronicOperatorStack } from "../support/ironic-operator-stack.ts";
import { startOperatorProcess, type TestOperatorProcess } from "../support/operator-process.ts";
import { indicatorObject, isReady, subscriptionObject, waitFor } from "../support/operator-stack.ts";

for (const release of ironicReleases()) {
  describe(`crash windows through real Ironic (${release.label})`, { skip: ironicSkipReason(release) }, () => {
    let stack: IronicOperatorStack;
    let proxy: FaultProxy;
    let operator: TestOperatorProcess | undefined;

    before(async () => {
      stack = await startIronicOperatorStack({ bmcs: 3, policies: false, release, tls: false });
      proxy = await startFaultProxy(stack.api.url);
    });
    after(async () => {
      await operator?.dispose();
      await proxy?.close();
      await stack?.close();
    });

    /** Starts an operator process behind the proxy (the one before was killed). */
    async function start(): Promise<void> {
      await operator?.dispose();
      operator = await startOperatorProcess(stack, {
        apiUrl: proxy.url,
        args: ["--provisioner", "ironic", "--ironic-endpoint", stack.ironic.url, "--ironic-auth-dir", stack.ironicAuthDir, "--ironic-timeout", "10s"],
      });
    }

    /** Kills the operator once it has sent the held write, and waits until the write is dropped. */
    async function killAt(hold: ReturnType<FaultProxy["hold"]>): Promise<void> {
      await hold.held;
      await operator?.kill();
      await hold.dropped;
    }

    function registered(namespace: string, name: string, index: number) {
      return stack.createHost(namespace, name, index).then(() =>
        waitFor(
          `host ${name} to be registered in Ironic`,
          () => stack.client.get(BARE_METAL_HOSTS, { namespace, name }),
          (h) => isReady(h) && !!h.status?.provisioning?.ID,
          60_000,
        ),
      );
    }

    /** The system light's state on BMC `index`, from the emulator's control API. */
    async function systemLightOnBmc(index: number): Promise<string> {
      const response = await fetch(`${stack.fleet.controlUrl}/bmcs/${index}/lights`);
      assert.equal(response.status, 200);
      return ((await response.json()) as { system: string }).system;
    }

    const statusPath = (ns: string, plural: string, name: string) => `/apis/metal3.io/v1alpha1/namespaces/${ns}/${plural}/${name}/status`;

    it("a light switched through Ironic and not recorded: after a restart the light is as asked, and switches back", async () => {
      const ns = await stack.namespace("crash-ironic-light");
      await start();
      await registered(ns, "host", 0);
      const light = `${stack.fleet.bmcs[0]!.systemUUID}@system`;
      assert.equal(await systemLightOnBmc(0), "Off");
      const hold = proxy.hold({
        method: "PATCH",
        path: statusPath(ns, "baremetalhostserviceindicators", "locate"),
        body: (patch: { status?: { on?: boolean } } | undefined) => patch?.status?.on === true,
      });
      await stack.create(SERVICE_INDICATORS, indicatorObject(ns, "locate", "host", light, true));
      await killAt(hold);
      assert.equal(await systemLightOnBmc(0), "Lit", "Ironic switched the light before the record");
      assert.notEqual((await stack.client.get(SERVICE_INDICATORS, { namespace: ns, name: "locate" })).status?.on, true, "the switch was not recorded");

      await start();
      const ready = (on: boolean) =>
        waitFor(
          `indicator locate to be Ready with on=${on}`,
          () => stack.client.get(SERVICE_INDICATORS, { namespace: ns, name: "locate" }),
          (i) => i.status?.on === on && i.status.observedGeneration === i.metadata.generation && isReady(i),
          60_000,
        );
      await ready(true);
      assert.equal(await systemLightOnBmc(0), "Lit");
      await stack.client.patch(SERVICE_INDICATORS, { namespace: ns, name: "locate" }, { spec: { on: false } }, { type: "merge" });
      await ready(false);
      assert.equal(await systemLightOnBmc(0), "Off");
    });

    it("a subscription created through Ironic and its ID not recorded: after a restart the BMC holds exactly the recorded one", async () => {
      const ns = await stack.namespace("crash-ironic-create");
      await start();
      await registered(ns, "host", 1);
      const bmc = stack.fleet.bmc(1);
      const hold = proxy.hold({
        method: "PATCH",
        path: statusPath(ns, "bmceventsubscriptions", "events"),
        body: (patch: { status?: { subscriptionID?: string | null } } | undefined) => typeof patch?.status?.subscriptionID === "string",
      });
      await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject(ns, "events", "host", stack.sink.url));
      await killAt(hold);
      assert.equal(bmc.subscriptions().length, 1, "the BMC holds the subscription whose ID was not recorded");

      await start();
      const sub = await waitFor(
        "subscription events to be Ready",
        () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" }),
        (s) => !!s.status?.subscriptionID && !s.status.staleSubscriptionIDs?.length && isReady(s),
        60_000,
      );
      const onBmc = bmc.subscriptions();
      assert.equal(onBmc.length, 1, `no duplicate on the BMC: ${JSON.stringify(onBmc.map((s) => s.id))}`);
      assert.equal(onBmc[0]!.id, sub.status?.subscriptionID, "the resource records the BMC's subscription");
    });

    it("a subscription deleted through Ironic and its finalizer not released: after a restart the resource goes, nothing is left on the BMC", async () => {
      const ns = await stack.namespace("crash-ironic-delete");
      await start();
      await registered(ns, "host", 2);
      const bmc = stack.fleet.bmc(2);
      await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject(ns, "events", "host", stack.sink.url));
      await waitFor(
        "subscription events to be Ready",
        () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" }),
        (s) => !!s.status?.subscriptionID && isReady(s),
        60_000,
      );
      assert.equal(bmc.subscriptions().length, 1);
      // The finalizer's release: a patch of the resource (not its status) that leaves no finalizer of ours.
      const hold = proxy.hold(releasingTheFinalizer(ns, "events"));
      await stack.client.delete(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" });
      await killAt(hold);
      assert.equal(bmc.subscriptions().length, 0, "the BMC subscription was deleted before the finalizer's release");

      await start();
      await waitFor(
        "subscription events to be gone",
        () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" }).then(() => false, (e: unknown) => isNotFound(e)),
        (isGone) => isGone,
        60_000,
      );
      assert.equal(bmc.subscriptions().length, 0, "nothing left on the BMC");
    });
  });
}

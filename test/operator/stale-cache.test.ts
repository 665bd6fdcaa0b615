/**
 * A reconcile that finds the operator's cache behind the operator's own last
 * write puts itself off (acting on the older copy is how the Go operator made
 * duplicate subscriptions), and runs again as soon as the watch delivers that
 * write: not after the fallback delay. A proxy holds back the events of one
 * resource's watch, so that cache lags while the others (the Secrets') stay
 * prompt; each controller has its case. Without the catch-up, each would wait
 * for the 30 s fallback and time out.
 *
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Counter } from "prom-client";
import type { BMCEventSubscription } from "../../src/api/bmc-event-subscription.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { STALE_CACHE_FALLBACK_MS } from "../../src/controllers/stale-cache-guard.ts";
import { findStatusCondition, type Secret, SECRETS } from "../../src/runtime/index.ts";
import { indicatorObject, isReady, type OperatorStack, startOperatorStack, subscriptionObject, waitFor } from "../support/operator-stack.ts";
import { startWatchDelayProxy, type WatchDelayProxy } from "../support/watch-delay-proxy.ts";

const WATCH_LAG_MS = 1_000;

let stack: OperatorStack;
let proxy: WatchDelayProxy;
before(async () => {
  stack = await startOperatorStack({ bmcs: 1 });
  proxy = await startWatchDelayProxy(stack.api.url);
  await stack.startOperator({ apiUrl: proxy.url });
});
after(async () => {
  await stack.stopOperator();
  await proxy.close();
  await stack.close();
});

/** A controller's reconciles so far that ended with `result`. */
async function reconciles(controller: string, result: string): Promise<number> {
  const metric = stack.operator!.manager.registry.getSingleMetric("controller_runtime_reconcile_total") as Counter | undefined;
  const values = (await metric?.get())?.values ?? [];
  return values.find((v) => v.labels.controller === controller && v.labels.result === result)?.value ?? 0;
}

describe("a reconcile put off because the cache is behind its own write", () => {
  it("host: runs as soon as the watch delivers the write, not after the fallback delay", async () => {
    const ns = await stack.namespace("stale-cache");
    await stack.createHost(ns, "worker-0", 0);
    const ref = { namespace: ns, name: "worker-0" };
    const get = () => stack.client.get(BARE_METAL_HOSTS, ref);
    await waitFor("the host to register", get, isReady);

    proxy.delay("/baremetalhosts", WATCH_LAG_MS);
    const putOff = await reconciles("baremetalhost", "requeue_after");
    // The operator sees the spec change a second late, reads the BMC again and writes the status;
    // its cache shows that write a second later still, and no predicate but the catch-up passes it.
    const changedSpec = await stack.client.patch(BARE_METAL_HOSTS, ref, { spec: { online: false } }, { type: "merge" });
    await waitFor(
      "the host to register again",
      get,
      (h) => findStatusCondition(h.status?.conditions, "Ready")?.observedGeneration === changedSpec.metadata.generation,
    );
    // In between, the credentials change: the Secrets' watch is prompt.
    const changed = Date.now();
    await stack.client.patch(SECRETS, { namespace: ns, name: "worker-0-bmc" }, { stringData: { password: "not-the-password" } }, { type: "merge" });

    await waitFor(
      "the refused credentials to be reported",
      get,
      (h) => findStatusCondition(h.status?.conditions, "Ready")?.reason === "BMCUnauthorized",
      STALE_CACHE_FALLBACK_MS / 3,
    );
    const tookMs = Date.now() - changed;
    proxy.delay("/baremetalhosts", 0);
    // (The failed registration's retry can find the cache behind its error status too.)
    assert.ok((await reconciles("baremetalhost", "requeue_after")) > putOff, "the Secret's change found the cache behind and was put off");
    assert.ok(tookMs >= WATCH_LAG_MS / 2, `reported ${tookMs} ms after the change: before the cache could have caught up`);
  });

  it("subscription: runs as soon as the watch delivers the write, not after the fallback delay", async () => {
    const ns = await stack.namespace("stale-cache-subscription");
    await stack.createHost(ns, "worker-0", 0);
    await waitFor("the host to register", () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name: "worker-0" }), isReady);
    const headers = { namespace: ns, name: "hook-headers" };
    await stack.create(SECRETS, { metadata: headers, stringData: { Authorization: "Bearer one" } });
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject(ns, "events", "worker-0", stack.sink.url, { httpHeadersRef: { name: "hook-headers" } }));
    const get = () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" });
    // A subscription records the headers Secret it used as `<uid>/<resourceVersion>`.
    const withHeaders = (secret?: Secret) => (s: BMCEventSubscription) =>
      isReady(s) &&
      !s.status?.staleSubscriptionIDs &&
      (secret === undefined || s.status?.httpHeadersVersion === `${secret.metadata?.uid}/${secret.metadata?.resourceVersion}`);
    await waitFor("the subscription to be Ready", get, withHeaders());

    proxy.delay("/bmceventsubscriptions", WATCH_LAG_MS);
    const putOff = await reconciles("bmceventsubscription", "requeue_after");
    // New headers: the subscription is created again on the BMC and its status written; the
    // operator's cache of subscriptions shows those writes a second late.
    const second = await stack.client.patch(SECRETS, headers, { stringData: { Authorization: "Bearer two" } }, { type: "merge" });
    await waitFor("the subscription to be created again", get, withHeaders(second));
    // In between, the headers change again: the Secrets' watch is prompt.
    const third = await stack.client.patch(SECRETS, headers, { stringData: { Authorization: "Bearer three" } }, { type: "merge" });
    await waitFor("the subscription to follow the last headers", get, withHeaders(third), STALE_CACHE_FALLBACK_MS / 3);
    proxy.delay("/bmceventsubscriptions", 0);
    assert.ok((await reconciles("bmceventsubscription", "requeue_after")) > putOff, "the second change found the cache behind and was put off");
    const onBmc = stack.fleet.bmc(0).subscriptions().filter((s) => s.destination.endsWith(`/${ns}/events`));
    assert.equal(onBmc.length, 1, JSON.stringify(onBmc));
  });

  it("indicator: runs as soon as the watch delivers the write, not after the fallback delay", async () => {
    const ns = await stack.namespace("stale-cache-indicator");
    await stack.createHost(ns, "worker-0", 0);
    const host = await waitFor(
      "the host to list its lights",
      () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name: "worker-0" }),
      (h) => isReady(h) && (h.status?.hardware?.indicators?.length ?? 0) > 0,
    );
    const id = host.status!.hardware!.indicators!.find((i) => i.component === "chassis")!.id;
    const bmc = stack.fleet.bmc(0);
    bmc.setErrorRate(1, 503, "PATCH");
    proxy.delay("/baremetalhostserviceindicators", WATCH_LAG_MS);
    const putOff = await reconciles("baremetalhostserviceindicator", "requeue_after");
    // The light cannot be switched: the operator writes the finalizer and the error, and its retry
    // a few milliseconds later finds its cache a second behind those writes.
    await stack.create(SERVICE_INDICATORS, indicatorObject(ns, "locate", "worker-0", id, true));
    const get = () => stack.client.get(SERVICE_INDICATORS, { namespace: ns, name: "locate" });
    await waitFor("the failure to be reported", get, (i) => findStatusCondition(i.status?.conditions, "Ready")?.status === "False");
    bmc.setErrorRate(0);
    await waitFor("the light to be on", get, (i) => isReady(i) && i.status?.on === true, STALE_CACHE_FALLBACK_MS / 3);
    proxy.delay("/baremetalhostserviceindicators", 0);
    assert.equal(bmc.lights().chassis, "Lit");
    assert.ok((await reconciles("baremetalhostserviceindicator", "requeue_after")) > putOff, "the retry found the cache behind and was put off");
  });
});

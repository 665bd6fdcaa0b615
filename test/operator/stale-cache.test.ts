/**
 * A reconcile that finds the operator's cache behind the operator's own last
 * write puts itself off (acting on the older copy is how the Go operator made
 * duplicate subscriptions), and runs again as soon as the watch delivers that
 * write: not after the fallback delay. A proxy holds back the events of the
 * hosts' watch, so that cache lags while the Secrets' watch stays prompt.
 *
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Counter } from "prom-client";
import { BARE_METAL_HOSTS } from "../../src/controllers/resources.ts";
import { STALE_CACHE_FALLBACK_MS } from "../../src/controllers/written-versions.ts";
import { findStatusCondition, SECRETS } from "../../src/runtime/index.ts";
import { isReady, type OperatorStack, startOperatorStack, waitFor } from "../support/operator-stack.ts";
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

/** The host controller's reconciles so far that ended with `result`. */
async function hostReconciles(result: string): Promise<number> {
  const metric = stack.operator!.manager.registry.getSingleMetric("controller_runtime_reconcile_total") as Counter | undefined;
  const values = (await metric?.get())?.values ?? [];
  return values.find((v) => v.labels.controller === "baremetalhost" && v.labels.result === result)?.value ?? 0;
}

describe("a reconcile put off because the cache is behind its own write", () => {
  it("runs as soon as the watch delivers the write, not after the fallback delay", async () => {
    const ns = await stack.namespace("stale-cache");
    await stack.createHost(ns, "worker-0", 0);
    const ref = { namespace: ns, name: "worker-0" };
    const get = () => stack.client.get(BARE_METAL_HOSTS, ref);
    await waitFor("the host to register", get, isReady);

    proxy.delay("/baremetalhosts", WATCH_LAG_MS);
    const putOff = await hostReconciles("requeue_after");
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
    assert.ok((await hostReconciles("requeue_after")) > putOff, "the Secret's change found the cache behind and was put off");
    assert.ok(tookMs >= WATCH_LAG_MS / 2, `reported ${tookMs} ms after the change: before the cache could have caught up`);
  });
});

/**
 * The API's refusals through real HTTP, as a user sees them from the API
 * server (the emulator with the generated CRDs and admission policies): each
 * names the field and the value given, never a URL's user information.
 *
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { installManifests } from "../../src/api/install.ts";
import { BMC_EVENT_SUBSCRIPTIONS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { KubeClient, kubeConfigFromString, NAMESPACES } from "../../src/runtime/index.ts";
import { startKubeApiServer, type RunningKubeApiServer } from "../../emulators/kube-apiserver/index.ts";
import { indicatorObject, subscriptionObject } from "../support/operator-stack.ts";

const NS = "admission";
let api: RunningKubeApiServer;
let client: KubeClient;

before(async () => {
  api = await startKubeApiServer({ port: 0 });
  client = new KubeClient(kubeConfigFromString(api.kubeconfig));
  await installManifests(client);
  await client.create(NAMESPACES, { metadata: { name: NS } });
});
after(async () => {
  await client.close();
  await api.close();
});

/** The message of the error `action` fails with. */
async function refusal(action: () => Promise<unknown>): Promise<string> {
  const error = await action().then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  assert.ok(error, "refused");
  return error.message;
}

const subscription = (name: string, context: string) =>
  subscriptionObject(NS, name, "worker-0", "https://events.example.com", { context });

describe("admission, through the API server", () => {
  it("counts context in bytes: 256 bytes of multi-byte characters pass, 257 are refused with the count", async () => {
    await client.create(BMC_EVENT_SUBSCRIPTIONS, subscription("ctx-256", "é".repeat(128)));
    await client.create(BMC_EVENT_SUBSCRIPTIONS, subscription("ctx-256-mixed", `${"€".repeat(85)}a`));
    const message = await refusal(() => client.create(BMC_EVENT_SUBSCRIPTIONS, subscription("ctx-257", `${"é".repeat(128)}a`)));
    assert.match(message, /spec\.context: Invalid value: "string": context must be at most 256 bytes of UTF-8, got 257 bytes \(129 characters\)/);
  });

  it("names the field that cannot change, with its old and new value", async () => {
    const ref = { namespace: NS, name: "ctx-256" };
    const destination = await refusal(() =>
      client.patch(BMC_EVENT_SUBSCRIPTIONS, ref, { spec: { destination: "https://elsewhere.example.com/hook" } }, { type: "merge" }),
    );
    assert.match(destination, /spec\.destination: Invalid value: "object": destination is immutable \(was 'https:\/\/events\.example\.com\/admission\/ctx-256', now 'https:\/\/elsewhere\.example\.com\/hook'\)/);
    const context = await refusal(() => client.patch(BMC_EVENT_SUBSCRIPTIONS, ref, { spec: { context: null } }, { type: "merge" }));
    assert.match(context, /spec\.context: Invalid value: "object": context is immutable \(was '(é){128}', now unset\)/);
    const withUserinfo = await refusal(() =>
      client.patch(BMC_EVENT_SUBSCRIPTIONS, ref, { spec: { destination: "https://u:Pa55-w0rd@events.example.com/hook" } }, { type: "merge" }),
    );
    assert.doesNotMatch(withUserinfo, /Pa55-w0rd/);
    assert.match(withUserinfo, /destination must not contain user information/);
  });

  it("names the namespace a cross-namespace reference gives", async () => {
    const indicator = indicatorObject(NS, "elsewhere", "worker-0", "x@system", true);
    indicator.spec.hostRef.namespace = "other-tenant";
    assert.match(
      await refusal(() => client.create(SERVICE_INDICATORS, indicator)),
      /spec\.hostRef\.namespace must be empty or the BareMetalHostServiceIndicator's own namespace 'admission', got 'other-tenant'/,
    );
    const headers = subscription("headers-elsewhere", "c");
    headers.spec.httpHeadersRef = { name: "hook-headers", namespace: "other-tenant" };
    assert.match(
      await refusal(() => client.create(BMC_EVENT_SUBSCRIPTIONS, headers)),
      /spec\.httpHeadersRef\.namespace must be empty or the BMCEventSubscription's own namespace 'admission', got 'other-tenant'/,
    );
  });
});

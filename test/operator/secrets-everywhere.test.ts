/**
 * No secret anywhere the operator writes. Distinctive secrets (BMC passwords,
 * a wrong password, HTTP header values, URL user information) go through
 * every failure path the test can reach, with a BMC that quotes back all it
 * is sent (request line, headers, decoded Basic credentials, body) in its
 * errors; then the operator process's log (every level), the Events of both
 * APIs, every status and `/metrics` are searched for each secret.
 *
 * @module
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { KubeObject } from "../../src/runtime/index.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { defineResource, findStatusCondition, SECRETS } from "../../src/runtime/index.ts";
import { startOperatorProcess, type TestOperatorProcess } from "../support/operator-process.ts";
import { indicatorObject, type OperatorStack, startOperatorStack, subscriptionObject, waitFor } from "../support/operator-stack.ts";

const NS = "secrets";
const tag = randomBytes(4).toString("hex");
/** Every secret of the test, by what it is. */
const SECRET = {
  bmcPassword: `BmcPass-${tag}`,
  wrongPassword: `WrongPass-${tag}`,
  addressPassword: `AddrPass-${tag}`,
  headerValue: `Bearer HeaderValue-${tag}`,
  badHeaderValue: `BadHeader-${tag}`,
  destinationPassword: `DestPass-${tag}`,
  legacyDestinationPassword: `LegacyPass-${tag}`,
  legacyDestinationUser: `legacy-user-${tag}`,
};

const CRDS = defineResource<KubeObject & { spec: { versions: { schema: { openAPIV3Schema: Record<string, any> } }[] } }>({
  group: "apiextensions.k8s.io",
  version: "v1",
  plural: "customresourcedefinitions",
  kind: "CustomResourceDefinition",
  namespaced: false,
});

/**
 * Takes the rule refusing user information in destinations out of the CRD,
 * as a CRD from before it (or Kubernetes' validation ratcheting, which keeps
 * accepting status writes of an object stored before a rule) would; returns
 * what puts it back.
 */
async function withoutUserinfoRule(): Promise<() => Promise<void>> {
  const ref = { name: "bmceventsubscriptions.metal3.io" };
  const crd = await stack.client.get(CRDS, ref);
  const versions = structuredClone(crd.spec.versions);
  const field = versions[0]!.schema.openAPIV3Schema.properties.spec.properties.destination;
  field["x-kubernetes-validations"] = field["x-kubernetes-validations"].filter((r: { rule: string }) => !r.rule.startsWith("!self.matches("));
  await stack.client.patch(CRDS, ref, { spec: { versions } }, { type: "merge" });
  return async () => {
    await stack.client.patch(CRDS, ref, { spec: { versions: crd.spec.versions } }, { type: "merge" });
  };
}

let stack: OperatorStack;
let echo: Server;
let echoUrl: string;
let operator: TestOperatorProcess | undefined;

/**
 * A BMC in front of emulated BMC 0 that answers every POST and PATCH with a
 * 400 quoting the whole request, as careless firmware does; the rest passes.
 */
async function startEchoingBmc(upstream: string): Promise<void> {
  const target = new URL(upstream);
  echo = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const body = Buffer.concat(chunks);
      if (incoming.method === "POST" || incoming.method === "PATCH") {
        const basic = /^Basic (.+)$/.exec(incoming.headers.authorization ?? "")?.[1];
        const decoded = basic ? Buffer.from(basic, "base64").toString() : "";
        const message = `Refused ${incoming.method} ${incoming.url} with headers ${JSON.stringify(incoming.headers)} (credentials ${decoded}) and body ${body.toString()}`;
        outgoing.writeHead(400, { "content-type": "application/json" });
        outgoing.end(JSON.stringify({ error: { code: "Base.1.0.GeneralError", message, "@Message.ExtendedInfo": [{ Message: message }] } }));
        return;
      }
      const forwarded = request(
        { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: target.host } },
        (response) => {
          outgoing.writeHead(response.statusCode ?? 502, response.headers);
          response.pipe(outgoing);
        },
      );
      forwarded.on("error", () => outgoing.destroy());
      forwarded.end(body);
    });
  });
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
  echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
}

before(async () => {
  stack = await startOperatorStack({ bmcs: 2, fleet: { password: (i) => `${SECRET.bmcPassword}-${i}` } });
  await startEchoingBmc(stack.fleet.bmcs[0]!.url);
  await stack.namespace(NS);
  operator = await startOperatorProcess(stack, { logLevel: "trace" });
});
after(async () => {
  await operator?.dispose();
  echo?.closeAllConnections();
  await new Promise<void>((resolve) => (echo ? echo.close(() => resolve()) : resolve()));
  await stack?.close();
});

/** A host of BMC `index` through `base` (`http://host:port`), with its credentials Secret. */
async function host(name: string, index: number, base: string, password: string, userinfo = "") {
  const bmc = stack.fleet.bmcs[index]!;
  await stack.create(SECRETS, {
    metadata: { name: `${name}-bmc`, namespace: NS },
    type: "Opaque",
    stringData: { username: bmc.username, password },
  });
  await stack.create(BARE_METAL_HOSTS, {
    apiVersion: "metal3.io/v1alpha1",
    kind: "BareMetalHost",
    metadata: { name, namespace: NS },
    spec: { online: true, bmc: { address: `redfish+http://${userinfo}${new URL(base).host}${bmc.systemPath}`, credentialsName: `${name}-bmc` } },
  });
}

const readyIs = (status: "True" | "False", reason?: string) => (o: { status?: { conditions?: { type: string; status: string; reason: string }[] } }) => {
  const ready = findStatusCondition(o.status?.conditions as never, "Ready");
  return ready?.status === status && (reason === undefined || ready.reason === reason);
};

/** What the secrets must not be found in: name → text. */
async function everythingWritten(): Promise<Map<string, string>> {
  const places = new Map<string, string>();
  const token = /token: (\S+)/.exec(stack.api.kubeconfig)?.[1] ?? "";
  const raw = async (path: string) => {
    const response = await fetch(`${stack.api.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 200, path);
    return response.text();
  };
  places.set("core/v1 Events", await raw(`/api/v1/namespaces/${NS}/events`));
  places.set("events.k8s.io/v1 Events", await raw(`/apis/events.k8s.io/v1/namespaces/${NS}/events`));
  const statuses = (items: KubeObject[]) => JSON.stringify(items.map((o) => (o as { status?: unknown }).status ?? null));
  places.set("BareMetalHost statuses", statuses((await stack.client.list(BARE_METAL_HOSTS, { namespace: NS })).items));
  places.set("BMCEventSubscription statuses", statuses((await stack.client.list(BMC_EVENT_SUBSCRIPTIONS, { namespace: NS })).items));
  places.set("BareMetalHostServiceIndicator statuses", statuses((await stack.client.list(SERVICE_INDICATORS, { namespace: NS })).items));
  places.set("/metrics", await operator!.metrics());
  return places;
}

/** Each secret, with the encodings a request carries it in. */
function secretForms(): Map<string, string> {
  const forms = new Map<string, string>(Object.entries(SECRET));
  for (const index of [0, 1]) {
    const bmc = stack.fleet.bmcs[index]!;
    forms.set(`BMC ${index} Basic credentials`, Buffer.from(`${bmc.username}:${bmc.password}`).toString("base64"));
  }
  forms.set("wrong Basic credentials", Buffer.from(`${stack.fleet.bmcs[0]!.username}:${SECRET.wrongPassword}`).toString("base64"));
  forms.set("header value alone", `HeaderValue-${tag}`);
  return forms;
}

describe("secrets", () => {
  it("a destination with user information is refused at admission, the message naming the field and not the password", async () => {
    const object = subscriptionObject(NS, "userinfo", "echoing", stack.sink.url);
    object.spec.destination = `https://hook-user:${SECRET.destinationPassword}@events.example.com/x`;
    const error = await stack.create(BMC_EVENT_SUBSCRIPTIONS, object).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    assert.ok(error, "the subscription was refused");
    assert.match(error.message, /spec\.destination/);
    assert.match(error.message, /must not contain user information/);
    assert.ok(!error.message.includes(SECRET.destinationPassword), error.message);
    assert.ok(!error.message.includes("hook-user"), error.message);
  });

  it("appear in no log line, Event, status or metric, whatever fails", async () => {
    // A host whose BMC quotes every write back: registers (reads pass), fails every switch and subscription.
    await host("echoing", 0, echoUrl, stack.fleet.bmcs[0]!.password);
    // A host with a wrong password, and one with user information in its BMC address.
    await host("wrong-password", 1, stack.fleet.bmcs[1]!.url, SECRET.wrongPassword);
    await host("address-userinfo", 1, stack.fleet.bmcs[1]!.url, stack.fleet.bmcs[1]!.password, `addr-user:${SECRET.addressPassword}@`);
    const getHost = (name: string) => () => stack.client.get(BARE_METAL_HOSTS, { namespace: NS, name });
    const echoing = await waitFor("the echoing host to register", getHost("echoing"), readyIs("True"));
    await waitFor("the wrong password to be refused", getHost("wrong-password"), readyIs("False", "BMCUnauthorized"));
    await waitFor("the host with user information in its address to be handled", getHost("address-userinfo"), (h) => !!findStatusCondition(h.status?.conditions, "Ready"));

    await stack.create(SECRETS, { metadata: { name: "headers", namespace: NS }, stringData: { Authorization: SECRET.headerValue } });
    await stack.create(SECRETS, { metadata: { name: "bad-headers", namespace: NS }, stringData: { "X-Token": `${SECRET.badHeaderValue}\nInjected: yes` } });
    const chassis = echoing.status!.hardware!.indicators!.find((i) => i.component === "chassis")!.id;
    await stack.create(SERVICE_INDICATORS, indicatorObject(NS, "echoed-switch", "echoing", chassis, true));
    await stack.create(SERVICE_INDICATORS, indicatorObject(NS, "refused-host", "wrong-password", `${stack.fleet.bmcs[1]!.chassisUUID}@chassis`, true));
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject(NS, "echoed-headers", "echoing", stack.sink.url, { httpHeadersRef: { name: "headers" } }));
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject(NS, "bad-headers", "echoing", stack.sink.url, { httpHeadersRef: { name: "bad-headers" } }));
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject(NS, "refused-host", "wrong-password", stack.sink.url, { httpHeadersRef: { name: "headers" } }));
    // Stored before destinations with user information were refused: the BMC quotes it back.
    const restoreRule = await withoutUserinfoRule();
    const sink = new URL(stack.sink.url);
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, {
      ...subscriptionObject(NS, "legacy-userinfo", "echoing", stack.sink.url),
      spec: { hostName: "echoing", destination: `http://${SECRET.legacyDestinationUser}:${SECRET.legacyDestinationPassword}@${sink.host}/${NS}/legacy` },
    });

    const getIndicator = (name: string) => () => stack.client.get(SERVICE_INDICATORS, { namespace: NS, name });
    const getSubscription = (name: string) => () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: NS, name });
    const echoed = await waitFor("the echoed switch to fail", getIndicator("echoed-switch"), readyIs("False", "BMCRejected"));
    assert.match(echoed.status?.errorMessage ?? "", /Refused PATCH/, "the BMC's reply is quoted, secrets removed");
    await waitFor("the indicator of the refused host to fail", getIndicator("refused-host"), readyIs("False", "BMCUnauthorized"));
    const subscription = await waitFor("the echoed subscription to fail", getSubscription("echoed-headers"), readyIs("False"));
    assert.match(subscription.status?.errorMessage ?? "", /Refused POST/, "the BMC's reply is quoted, secrets removed");
    await waitFor("the bad headers to be refused", getSubscription("bad-headers"), readyIs("False", "InvalidHeaders"));
    await waitFor("the subscription of the refused host to fail", getSubscription("refused-host"), readyIs("False"));
    const legacy = await waitFor("the legacy subscription to fail", getSubscription("legacy-userinfo"), readyIs("False"));
    assert.match(legacy.status?.errorMessage ?? "", /"Destination":"http:\/\/\[redacted\]@127\.0\.0\.1/, "the BMC's reply is quoted, user information removed");
    // The Warning Events of each failure have been written.
    await waitFor(
      "the Warning Events",
      () => stack.client.list(BMC_EVENT_SUBSCRIPTIONS, { namespace: NS }).then(async () => (await everythingWritten()).get("events.k8s.io/v1 Events") ?? ""),
      (events) => ["echoed-switch", "refused-host", "echoed-headers", "bad-headers", "wrong-password", "legacy-userinfo"].every((name) => events.includes(`"name":"${name}"`)),
    );

    const places = await everythingWritten();
    await restoreRule();
    await operator!.stop();
    const log = await operator!.log();
    places.set("operator log", log);
    assert.ok(log.includes('"level":10') || log.includes('"level":20'), "the log holds debug or trace lines");
    const leaks: string[] = [];
    for (const [where, text] of places) {
      for (const [what, secret] of secretForms()) if (text.includes(secret)) leaks.push(`${what} in ${where}`);
      if (/https?:\/\/[^\s/"@]*:[^\s/"@]*@/.test(text)) leaks.push(`a URL with user information in ${where}`);
    }
    assert.deepEqual(leaks, []);
  });
});

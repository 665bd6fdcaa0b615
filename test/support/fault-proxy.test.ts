/**
 * The fault proxy forwards requests and watches of a client process, holds
 * the one request its rule picks (the API never sees it, while watches keep
 * streaming), drops it when that process is killed, and forwards the next
 * match once its rule is used up.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import type { Readable } from "node:stream";
import { startKubeApiServer, type RunningKubeApiServer } from "../../emulators/kube-apiserver/index.ts";
import { KubeClient, kubeConfigFromString, NAMESPACES, SECRETS } from "../../src/runtime/index.ts";
import { type FaultProxy, startFaultProxy } from "./fault-proxy.ts";
import { waitFor } from "./operator-stack.ts";

/**
 * A client process: watches the Secrets of namespace `proxied` through the
 * proxy (printing each event's `step` label), then labels Secret `s` with
 * step 1 and, once that is answered, step 2.
 */
const CLIENT = `
const [url, token] = process.argv.slice(1);
const headers = { authorization: "Bearer " + token };
const base = url + "/api/v1/namespaces/proxied/secrets";
const watch = await fetch(base + "?watch=true", { headers });
(async () => {
  const decoder = new TextDecoder();
  for await (const chunk of watch.body) process.stdout.write("watch " + decoder.decode(chunk));
})();
const label = (step) => fetch(base + "/s", {
  method: "PATCH",
  headers: { ...headers, "content-type": "application/merge-patch+json" },
  body: JSON.stringify({ metadata: { labels: { step } } }),
});
console.log("step 1 " + (await label("1")).status);
await label("2");
console.log("step 2 answered");
`;

let api: RunningKubeApiServer;
let client: KubeClient;
let proxy: FaultProxy;
let child: ChildProcessByStdio<null, Readable, Readable> | undefined;
let output = "";

before(async () => {
  api = await startKubeApiServer({ port: 0 });
  client = new KubeClient(kubeConfigFromString(api.kubeconfig));
  proxy = await startFaultProxy(api.url);
  await client.create(NAMESPACES, { metadata: { name: "proxied" } });
  await client.create(SECRETS, { metadata: { name: "s", namespace: "proxied", labels: { step: "0" } } });
});
after(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await proxy.close();
  await client.close();
  await api.close();
});

const stepOnApi = async () => (await client.get(SECRETS, { namespace: "proxied", name: "s" })).metadata?.labels?.step;

describe("the fault proxy", () => {
  it("holds the chosen request until its process is killed, forwarding everything else", async () => {
    const path = "/api/v1/namespaces/proxied/secrets/s";
    const hold = proxy.hold({ method: "PATCH", path, body: (patch) => patch?.metadata?.labels?.step === "2" });
    const token = /token: (\S+)/.exec(api.kubeconfig)?.[1] ?? "";
    child = spawn(process.execPath, ["--input-type=module", "-e", CLIENT, proxy.url, token], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child!.once("exit", () => resolve()));

    const held = await hold.held;
    assert.equal(held.method, "PATCH");
    assert.equal(held.url, path);
    assert.deepEqual(JSON.parse(held.body), { metadata: { labels: { step: "2" } } });
    assert.ok(hold.isHeld);
    // The PATCH that the rule's body predicate refused went through, and so did its watch event.
    assert.match(output, /step 1 200/);
    assert.equal(await stepOnApi(), "1");
    await waitFor("the watch to stream step 1", () => Promise.resolve(output), (o) => /watch .*"step":"1"/.test(o));
    // The watch keeps streaming while the request is held.
    await client.create(SECRETS, { metadata: { name: "other", namespace: "proxied" } });
    await waitFor("the watch to stream a new Secret", () => Promise.resolve(output), (o) => /watch .*"name":"other"/.test(o));

    child.kill("SIGKILL");
    await exited;
    await hold.dropped;
    assert.doesNotMatch(output, /step 2 answered/);
    assert.equal(await stepOnApi(), "1", "the held request never reached the API");
    assert.equal(proxy.forwarded.filter((r) => r === `PATCH ${path}`).length, 1, "only step 1 was forwarded");

    // The rule is used up: the same request is forwarded now.
    const again = await fetch(`${proxy.url}${path}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/merge-patch+json" },
      body: JSON.stringify({ metadata: { labels: { step: "2" } } }),
    });
    assert.equal(again.status, 200);
    assert.equal(await stepOnApi(), "2");
  });

  it("rejects a hold whose request never comes, naming its rule, and forwards that request if it comes later", async () => {
    const path = "/api/v1/namespaces/proxied/secrets/never";
    const hold = proxy.hold({ method: "DELETE", path, timeoutMs: 50 });
    await assert.rejects(hold.held, /no DELETE \/api\/v1\/namespaces\/proxied\/secrets\/never matching the hold rule arrived within 50 ms/);
    assert.equal(hold.isHeld, false);
    const token = /token: (\S+)/.exec(api.kubeconfig)?.[1] ?? "";
    const late = await fetch(`${proxy.url}${path}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } });
    assert.equal(late.status, 404, "forwarded to the API, which has no such Secret");
  });
});

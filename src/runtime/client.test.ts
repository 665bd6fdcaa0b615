import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { isConflict, isGone, isNotFound } from "./api-error.ts";
import { KubeClient } from "./client.ts";
import { kubeConfigFromString } from "./kube-config.ts";
import { defineResource, type KubeObject } from "./resource.ts";
import { retryOnConflict } from "./retry.ts";

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  authorization: string | undefined;
  body: string;
}

const widgets = defineResource<KubeObject & { spec?: { size: number } }>({
  group: "example.com",
  version: "v1",
  plural: "widgets",
  kind: "Widget",
  namespaced: true,
});

describe("KubeClient", () => {
  const seen: Seen[] = [];
  let respond: (req: Seen, res: ServerResponse) => void = (_req, res) => res.end("{}");
  const server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const s = { method: req.method!, url: req.url!, contentType: req.headers["content-type"], authorization: req.headers.authorization, body };
      seen.push(s);
      respond(s, res);
    });
  });
  let client: KubeClient;
  const registry = new Registry();

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    client = new KubeClient(
      kubeConfigFromString(`
apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: secret-token } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`),
      { registry },
    );
  });

  after(async () => {
    await client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("gets an object at its path with the kubeconfig's bearer token", async () => {
    respond = (_req, res) => res.end(JSON.stringify({ metadata: { name: "w" } }));
    const w = await client.get(widgets, { namespace: "ns", name: "w" });
    assert.equal(w.metadata?.name, "w");
    assert.equal(seen.at(-1)?.url, "/apis/example.com/v1/namespaces/ns/widgets/w");
    assert.equal(seen.at(-1)?.authorization, "Bearer secret-token");
  });

  it("turns a Status answer into an ApiError with code and reason", async () => {
    respond = (_req, res) => {
      res.statusCode = 404;
      res.end(JSON.stringify({ kind: "Status", code: 404, reason: "NotFound", message: 'widgets "w" not found' }));
    };
    const error = await client.get(widgets, { namespace: "ns", name: "w" }).catch((e: unknown) => e);
    assert.ok(isNotFound(error));
    assert.equal(error.reason, "NotFound");
    assert.match(error.message, /GET \/apis\/example.com\/v1\/namespaces\/ns\/widgets\/w: 404 NotFound: widgets "w" not found/);
  });

  it("sends the explicit patch content type, with fieldManager and force for apply", async () => {
    respond = (_req, res) => res.end("{}");
    await client.patch(widgets, { namespace: "ns", name: "w" }, { spec: { size: 2 } }, { type: "merge" });
    assert.equal(seen.at(-1)?.contentType, "application/merge-patch+json");
    await client.patchStatus(widgets, { namespace: "ns", name: "w" }, [{ op: "test", path: "/metadata/resourceVersion", value: "5" }], { type: "json" });
    assert.equal(seen.at(-1)?.contentType, "application/json-patch+json");
    assert.equal(seen.at(-1)?.url, "/apis/example.com/v1/namespaces/ns/widgets/w/status");
    await client.patch(widgets, { namespace: "ns", name: "w" }, { metadata: { name: "w" }, spec: { size: 3 } }, { type: "apply", fieldManager: "me", force: true });
    const last = seen.at(-1)!;
    assert.equal(last.contentType, "application/apply-patch+yaml");
    assert.equal(last.url, "/apis/example.com/v1/namespaces/ns/widgets/w?fieldManager=me&force=true");
    assert.deepEqual(JSON.parse(last.body), { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" }, spec: { size: 3 } });
    assert.throws(() => client.patch(widgets, { namespace: "ns", name: "w" }, {}, { type: "apply" }), /needs a fieldManager/);
  });

  it("creates in the object's namespace and deletes with preconditions", async () => {
    respond = (req, res) => res.end(req.body);
    await client.create(widgets, { metadata: { name: "w", namespace: "ns" } });
    assert.equal(seen.at(-1)?.url, "/apis/example.com/v1/namespaces/ns/widgets");
    assert.equal(JSON.parse(seen.at(-1)!.body).kind, "Widget");
    await client.delete(widgets, { namespace: "ns", name: "w" }, { preconditions: { uid: "u1", resourceVersion: "7" } });
    assert.equal(seen.at(-1)?.method, "DELETE");
    assert.deepEqual(JSON.parse(seen.at(-1)!.body).preconditions, { uid: "u1", resourceVersion: "7" });
    assert.throws(() => client.create(widgets, { metadata: { name: "w" } }), /namespaced: set metadata.namespace of "w"/);
  });

  it("pages through a list with limit and continue", async () => {
    respond = (req, res) => {
      const url = new URL(req.url, "http://x");
      const page = url.searchParams.get("continue") === "p2" ? 2 : 1;
      res.end(JSON.stringify({
        metadata: { resourceVersion: "40", continue: page === 1 ? "p2" : "" },
        items: [{ metadata: { name: `w${page}` } }],
      }));
    };
    const { items, resourceVersion } = await client.listAll(widgets, { namespace: "ns", limit: 1 });
    assert.deepEqual(items.map((i) => i.metadata?.name), ["w1", "w2"]);
    assert.equal(resourceVersion, "40");
    assert.match(seen.at(-1)!.url, /limit=1&continue=p2/);
  });

  it("streams watch events split across chunks, and throws an in-stream 410", async () => {
    respond = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1"}}}\n{"type":"BOOK');
      setTimeout(() => {
        res.write('MARK","object":{"metadata":{"resourceVersion":"9"}}}\n');
        res.end('{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}}\n');
      }, 5);
    };
    const events: string[] = [];
    const error = await (async () => {
      for await (const e of client.watch(widgets, { namespace: "ns", resourceVersion: "1" })) events.push(`${e.type}:${e.object.metadata?.resourceVersion}`);
    })().catch((e: unknown) => e);
    assert.deepEqual(events, ["ADDED:1", "BOOKMARK:9"]);
    assert.ok(isGone(error));
    assert.match(seen.at(-1)!.url, /watch=true&resourceVersion=1&allowWatchBookmarks=true/);
  });

  it("retries a conflicting write with retryOnConflict", async () => {
    let puts = 0;
    respond = (req, res) => {
      if (req.method === "PUT" && ++puts < 3) {
        res.statusCode = 409;
        res.end(JSON.stringify({ kind: "Status", code: 409, reason: "Conflict", message: "the object has been modified" }));
        return;
      }
      res.end(JSON.stringify({ metadata: { name: "w", namespace: "ns", resourceVersion: String(puts) } }));
    };
    // DefaultRetry waits about 10 ms between attempts: real time, kept short.
    const result = await retryOnConflict(async () => {
      const w = await client.get(widgets, { namespace: "ns", name: "w" });
      return client.updateStatus(widgets, w);
    });
    assert.equal(result.metadata?.resourceVersion, "3");
    assert.equal(puts, 3);
    puts = -10;
    const gaveUp = await retryOnConflict(() => client.updateStatus(widgets, { metadata: { name: "w", namespace: "ns" } })).catch((e: unknown) => e);
    assert.ok(isConflict(gaveUp));
    assert.equal(puts, -5, "DefaultRetry makes 5 attempts");
  });

  it("counts requests in rest_client_requests_total by code, method and host", async () => {
    const text = await registry.metrics();
    assert.match(text, /rest_client_requests_total\{code="404",method="GET",host="127\.0\.0\.1:\d+"\} 1/);
    assert.match(text, /rest_client_request_duration_seconds_count\{verb="PATCH",host="127\.0\.0\.1:\d+"\} 3/);
  });
});

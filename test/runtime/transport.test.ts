/**
 * The Kubernetes client's HTTP layer against real servers on 127.0.0.1: the
 * bounded pool of request connections, watches outside it, and the
 * kubeconfig's TLS settings (CA, client certificate) on the pooled agent.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig as ClientNodeKubeConfig } from "@kubernetes/client-node";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { KubeConfig, kubeConfigFromString, Transport } from "../../src/runtime/index.ts";
import { makeTestCertificates, type TestCertificates } from "../ironic/certificates.ts";

function kubeconfig(server: string, cluster: string, user: string): string {
  return `
apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${server}", ${cluster} } }]
users: [{ name: u, user: { ${user} } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`;
}

const b64 = (text: string) => Buffer.from(text).toString("base64");

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

/** Rejects when `promise` has not settled within `ms`. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe("Transport connections", () => {
  const sockets = new Set<Socket>();
  /** Requests in flight at the server right now, and the most seen. */
  let inFlight = 0;
  let peak = 0;
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.includes("watch=true")) {
      // A watch: headers now, then nothing until the client goes away.
      res.writeHead(200, { "content-type": "application/json" });
      res.flushHeaders();
      return;
    }
    inFlight++;
    peak = Math.max(peak, inFlight);
    setTimeout(() => {
      inFlight--;
      res.setHeader("content-type", "application/json");
      res.end('{"kind":"Namespace"}');
    }, 20);
  });
  server.on("connection", (socket: Socket) => sockets.add(socket));
  let url = "";

  before(async () => {
    url = `http://127.0.0.1:${await listen(server)}`;
  });
  after(() => close(server));

  const transport = (maxConnections: number) =>
    new Transport(kubeConfigFromString(kubeconfig(url, "insecure-skip-tls-verify: true", "token: t")), { maxConnections, registry: new Registry() });

  it("sends a burst of requests over at most maxConnections connections", async () => {
    sockets.clear();
    peak = 0;
    const t = transport(3);
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => t.json<{ kind: string }>({ method: "GET", path: "/api/v1/namespaces/default" })));
      assert.equal(answers.length, 20);
      assert.ok(answers.every((a) => a.kind === "Namespace"));
      assert.equal(sockets.size, 3, `connections opened for 20 requests with maxConnections 3`);
      assert.equal(peak, 3, "three requests were in flight at once");
    } finally {
      await t.close();
    }
  });

  it("keeps watches out of the pool, so an open watch never holds a request up", async () => {
    const t = transport(1);
    const abort = new AbortController();
    try {
      const watch = await t.stream({ method: "GET", path: "/api/v1/namespaces", query: { watch: true }, signal: abort.signal, longRunning: true });
      assert.equal(watch.statusCode, 200);
      const answer = await within(5_000, "a GET while a watch is open", t.json<{ kind: string }>({ method: "GET", path: "/api/v1/namespaces/default" }));
      assert.equal(answer.kind, "Namespace");
      watch.body.destroy();
    } finally {
      abort.abort();
      await t.close();
    }
  });

  it("refuses a connection limit that is not a positive whole number, naming it", () => {
    assert.throws(() => transport(0), /maxConnections must be a whole number of at least 1, got 0/);
  });
});

describe("Transport TLS", () => {
  let certs: TestCertificates;
  let server: Server;
  let url = "";
  let clientSubjects: string[] = [];
  let authorizations: string[] = [];

  before(async () => {
    certs = await makeTestCertificates();
    server = createHttpsServer(
      {
        cert: await readFile(certs.serverCertFile),
        key: await readFile(certs.serverKeyFile),
        ca: certs.ca,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        authorizations.push(req.headers.authorization ?? "");
        const cn = (req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? "";
        clientSubjects.push(Array.isArray(cn) ? cn.join(",") : cn);
        res.setHeader("content-type", "application/json");
        res.end('{"kind":"Namespace"}');
      },
    );
    url = `https://127.0.0.1:${await listen(server)}`;
  });
  after(async () => {
    await close(server);
    await certs.remove();
  });

  const user = () => `client-certificate-data: ${b64(certs.clientCert)}, client-key-data: ${b64(certs.clientKey)}`;

  it("trusts the kubeconfig's CA and presents its client certificate", async () => {
    clientSubjects = [];
    const t = new Transport(kubeConfigFromString(kubeconfig(url, `certificate-authority-data: ${b64(certs.ca)}`, user())), { registry: new Registry() });
    try {
      const answers = await Promise.all(Array.from({ length: 5 }, () => t.json<{ kind: string }>({ method: "GET", path: "/api/v1/namespaces/default" })));
      assert.ok(answers.every((a) => a.kind === "Namespace"));
      assert.deepEqual(clientSubjects, Array(5).fill("bmc-operator"));
    } finally {
      await t.close();
    }
  });

  for (const [whose, make] of [
    ["this client's", () => new KubeConfig()],
    ["client-node's", () => new ClientNodeKubeConfig()],
  ] as const) {
  it(`in a pod (${whose} configuration): trusts the service account's CA file and sends its token file's token`, async () => {
    const root = await mkdtemp(join(tmpdir(), "transport-in-cluster-"));
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    try {
      const dir = join(root, "var/run/secrets/kubernetes.io/serviceaccount");
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "ca.crt"), certs.ca);
      await writeFile(join(dir, "token"), "service-account-token");
      await writeFile(join(dir, "namespace"), "bmc-operator-system");
      process.env.KUBERNETES_SERVICE_HOST = "127.0.0.1";
      process.env.KUBERNETES_SERVICE_PORT = new URL(url).port;
      const kc = make();
      kc.loadFromCluster(root);
      authorizations = [];
      const t = new Transport(kc, { registry: new Registry() });
      try {
        const answers = await Promise.all(Array.from({ length: 5 }, () => t.json<{ kind: string }>({ method: "GET", path: "/api/v1/namespaces/default" })));
        assert.ok(answers.every((a) => a.kind === "Namespace"));
        assert.deepEqual(authorizations, Array(5).fill("Bearer service-account-token"));
      } finally {
        await t.close();
      }
    } finally {
      for (const [name, value] of [["KUBERNETES_SERVICE_HOST", saved.host], ["KUBERNETES_SERVICE_PORT", saved.port]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await rm(root, { recursive: true, force: true });
    }
  });
  }

  it("asks an exec credential plugin for the token (through client-node, loaded for it)", async () => {
    authorizations = [];
    const plugin = [
      "command: node",
      `args: ["-e", ${JSON.stringify(`console.log(JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: { token: "from-the-plugin" } }))`)}]`,
      "apiVersion: client.authentication.k8s.io/v1",
      "interactiveMode: Never",
    ];
    const text = kubeconfig(url, `certificate-authority-data: ${b64(certs.ca)}`, `${user()}, exec: { ${plugin.join(", ")} }`);
    const t = new Transport(kubeConfigFromString(text), { registry: new Registry() });
    try {
      const answer = await t.json<{ kind: string }>({ method: "GET", path: "/api/v1/namespaces/default" });
      assert.equal(answer.kind, "Namespace");
      assert.deepEqual(authorizations, ["Bearer from-the-plugin"]);
    } finally {
      await t.close();
    }
  });

  it("refuses a server whose certificate the kubeconfig's CA did not sign", async () => {
    const t = new Transport(kubeConfigFromString(kubeconfig(url, `certificate-authority-data: ${b64(certs.otherCa)}`, user())), { registry: new Registry() });
    try {
      await assert.rejects(t.json({ method: "GET", path: "/api/v1/namespaces/default" }), (error: Error) => {
        const code = (error.cause as { code?: string } | undefined)?.code ?? (error as { code?: string }).code ?? "";
        return /CERT|SIGNATURE|ISSUER|self-signed/i.test(`${code} ${error.message}`);
      });
    } finally {
      await t.close();
    }
  });
});

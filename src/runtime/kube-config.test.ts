import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { KubeConfig, loadKubeConfig, needsClientNode } from "./kube-config.ts";

const TWO_CONTEXTS = `
apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: { server: "https://a.example:6443/", certificate-authority: ca.crt, tls-server-name: api.a }
- name: b
  cluster: { server: "https://b.example:6443", insecure-skip-tls-verify: true }
users:
- name: cert
  user: { client-certificate: certs/client.crt, client-key: /abs/client.key }
- name: token
  user: { token: t0k3n }
contexts:
- { name: ctx-a, context: { cluster: a, user: cert, namespace: metal3 } }
- { name: ctx-b, context: { cluster: b, user: token } }
current-context: ctx-a
`;

describe("KubeConfig", () => {
  it("reads a kubeconfig file as client-node does: relative paths from the file's folder, the server without its trailing slash", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kube-config-"));
    try {
      const file = join(dir, "config");
      await writeFile(file, TWO_CONTEXTS);
      const kc = loadKubeConfig({ kubeconfig: file, env: {} });
      assert.deepEqual(kc.getCurrentCluster(), {
        name: "a",
        server: "https://a.example:6443",
        caData: undefined,
        caFile: join(dir, "ca.crt"),
        skipTLSVerify: false,
        tlsServerName: "api.a",
        proxyUrl: undefined,
      });
      assert.equal(kc.getCurrentUser()?.certFile, join(dir, "certs/client.crt"));
      assert.equal(kc.getCurrentUser()?.keyFile, "/abs/client.key");
      const other = loadKubeConfig({ kubeconfig: file, context: "ctx-b", env: {} });
      assert.equal(other.getCurrentUser()?.token, "t0k3n");
      assert.equal(other.getCurrentCluster()?.skipTLSVerify, true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a cluster without a server, naming the entry", () => {
    const kc = new KubeConfig();
    assert.throws(() => kc.loadFromString("clusters: [{ name: x, cluster: {} }]"), /clusters\[0\]\.cluster\.server is missing/);
  });

  it("merges the files of $KUBECONFIG, refusing a name given twice", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kube-config-"));
    try {
      await writeFile(join(dir, "one"), TWO_CONTEXTS);
      await writeFile(join(dir, "two"), "clusters: [{ name: c, cluster: { server: 'https://c' } }]\nusers: [{ name: u, user: {} }]\ncontexts: [{ name: ctx-c, context: { cluster: c, user: u } }]\ncurrent-context: ctx-c\n");
      const kc = loadKubeConfig({ env: { KUBECONFIG: `${join(dir, "one")}:${join(dir, "two")}` } });
      assert.equal(kc.getCurrentCluster()?.server, "https://c");
      assert.deepEqual(kc.clusters.map((c) => c.name), ["a", "b", "c"]);
      assert.throws(() => loadKubeConfig({ env: { KUBECONFIG: `${join(dir, "one")}:${join(dir, "one")}` } }), /Duplicate cluster: a/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("needs client-node only for exec plugins, auth providers other than a token file, and proxies", () => {
    const kc = new KubeConfig();
    kc.loadFromString(TWO_CONTEXTS);
    assert.equal(needsClientNode(kc), false);
    kc.loadFromCluster("/nowhere", { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" });
    assert.equal(kc.getCurrentCluster()?.server, "https://10.0.0.1:443");
    assert.equal(needsClientNode(kc), false);
    kc.loadFromString(TWO_CONTEXTS.replace("{ token: t0k3n }", "{ exec: { command: aws, apiVersion: client.authentication.k8s.io/v1 } }").replace("current-context: ctx-a", "current-context: ctx-b"));
    assert.equal(needsClientNode(kc), true);
    kc.loadFromString(TWO_CONTEXTS.replace("insecure-skip-tls-verify: true", "proxy-url: 'http://proxy:3128'").replace("current-context: ctx-a", "current-context: ctx-b"));
    assert.equal(needsClientNode(kc), true);
  });

  it("keeps client-node's API clients out of the operator: only its kubeconfig types module is loaded", () => {
    const entry = pathToFileURL(join(import.meta.dirname, "..", "cli", "run-operator.ts")).href;
    const script = `
      import { registerHooks } from "node:module";
      const loaded = [];
      registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
      await import(${JSON.stringify(entry)});
      console.log(JSON.stringify(loaded.filter((u) => u.includes("/@kubernetes/client-node/")).map((u) => u.replace(/^.*\\/@kubernetes\\/client-node\\//, ""))));
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), ["dist/config_types.js"]);
  });
});

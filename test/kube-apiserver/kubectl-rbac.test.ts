/**
 * kubectl 1.35 against the emulator with RBAC authorization: the operator's
 * install (`kubectl apply -k config/default`, then config/policy) applies as
 * to a cluster, `kubectl create token` gives a token of its ServiceAccount,
 * and with that token `kubectl auth whoami`, `kubectl auth can-i` and
 * ordinary requests see exactly what config/rbac grants.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type RunningKubeApiServer, startKubeApiServer } from "../../emulators/kube-apiserver/index.ts";
import { ensureKubectl } from "../support/kubectl.ts";

const root = join(import.meta.dirname, "..", "..");
const NAMESPACE = "bmc-operator-system";
const OPERATOR = `system:serviceaccount:${NAMESPACE}:bmc-operator`;

let kubectlPath: string;
let server: RunningKubeApiServer;
let workDir: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      kubectlPath,
      args,
      { timeout: 30_000, env: { PATH: process.env.PATH ?? "", HOME: workDir, KUBECONFIG: join(workDir, "kubeconfig"), KUBECACHEDIR: join(workDir, "cache") } },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function ok(args: string[]): Promise<string> {
  const result = await kubectl(args);
  assert.equal(result.code, 0, `kubectl ${args.join(" ")} failed (${result.code}):\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

describe("kubectl 1.35 against the emulator with --authorization-mode RBAC", () => {
  let token: string;

  before(async () => {
    [kubectlPath, workDir] = await Promise.all([ensureKubectl(), mkdtemp(join(tmpdir(), "kubectl-rbac-"))]);
    server = await startKubeApiServer({ kubeconfigPath: join(workDir, "kubeconfig"), authorizationMode: "RBAC", tls: true });
  });

  after(async () => {
    await server?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it("applies config/default and config/policy as to a cluster, and again without a change", async () => {
    const out = await ok(["apply", "-k", join(root, "config", "default")]);
    for (const line of [
      `namespace/${NAMESPACE} created`,
      "customresourcedefinition.apiextensions.k8s.io/bmceventsubscriptions.metal3.io created",
      "serviceaccount/bmc-operator created",
      "role.rbac.authorization.k8s.io/bmc-operator-leader-election created",
      "clusterrole.rbac.authorization.k8s.io/bmc-operator created",
      "rolebinding.rbac.authorization.k8s.io/bmc-operator-leader-election created",
      "clusterrolebinding.rbac.authorization.k8s.io/bmc-operator created",
      "deployment.apps/bmc-operator created",
    ]) {
      assert.ok(out.includes(line), `missing ${JSON.stringify(line)} in:\n${out}`);
    }
    const again = await ok(["apply", "-k", join(root, "config", "default")]);
    assert.doesNotMatch(again, /created|configured/, again);
    await ok(["apply", "-k", join(root, "config", "policy")]);
    const deployment = JSON.parse(await ok(["get", "deployment", "bmc-operator", "-n", NAMESPACE, "-o", "json"]));
    assert.equal(deployment.spec.template.spec.serviceAccountName, "bmc-operator");
    assert.equal(deployment.metadata.generation, 1);
    const binding = JSON.parse(await ok(["get", "clusterrolebinding", "bmc-operator", "-o", "json"]));
    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "bmc-operator", namespace: NAMESPACE }]);
  });

  it("kubectl set image and set env patch the stored Deployment's containers by name, keeping the rest", async () => {
    const read = async () => JSON.parse(await ok(["get", "deployment", "bmc-operator", "-n", NAMESPACE, "-o", "json"]));
    const [before] = (await read()).spec.template.spec.containers;
    await ok(["set", "image", "deployment/bmc-operator", "manager=bmc-operator:v2", "-n", NAMESPACE]);
    await ok(["set", "env", "deployment/bmc-operator", "BMC_OPERATOR_EXTRA=1", "-n", NAMESPACE]);
    const deployment = await read();
    const [manager] = deployment.spec.template.spec.containers;
    assert.equal(deployment.spec.template.spec.containers.length, 1);
    assert.equal(manager.image, "bmc-operator:v2");
    assert.deepEqual(manager.command, before.command);
    assert.deepEqual(manager.args, before.args);
    assert.deepEqual(manager.ports, before.ports);
    assert.deepEqual(manager.env, [...before.env, { name: "BMC_OPERATOR_EXTRA", value: "1" }]);
    assert.equal(deployment.metadata.generation, 3);
  });

  it("kubectl create token gives a token of the ServiceAccount, and auth whoami names it", async () => {
    token = (await ok(["create", "token", "bmc-operator", "-n", NAMESPACE, "--duration=2h"])).trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));
    assert.equal(claims.exp - claims.iat, 7200, "--duration=2h");
    const whoami = await ok(["auth", "whoami", "--token", token, "-o", "json"]);
    const userInfo = JSON.parse(whoami).status.userInfo;
    assert.equal(userInfo.username, OPERATOR);
    assert.deepEqual(userInfo.groups, ["system:serviceaccounts", `system:serviceaccounts:${NAMESPACE}`, "system:authenticated"]);
    const admin = await ok(["auth", "whoami"]);
    assert.match(admin, /kubernetes-admin/);
  });

  it("auth can-i answers what config/rbac grants the ServiceAccount, and nothing more", async () => {
    const canI = async (...args: string[]) => (await kubectl(["auth", "can-i", ...args, "--token", token])).stdout.trim();
    assert.equal(await canI("list", "secrets", "--all-namespaces"), "yes");
    assert.equal(await canI("patch", "baremetalhosts.metal3.io/status", "-n", "default"), "yes");
    assert.equal(await canI("create", "events.events.k8s.io", "-n", "default"), "yes");
    assert.equal(await canI("update", "leases.coordination.k8s.io", "-n", NAMESPACE), "yes");
    assert.equal(await canI("update", "leases.coordination.k8s.io", "-n", "default"), "no");
    assert.equal(await canI("get", "secrets", "-n", "default"), "no");
    assert.equal(await canI("delete", "baremetalhosts.metal3.io", "-n", "default"), "no");
    assert.equal(await canI("update", "bmceventsubscriptions.metal3.io/finalizers", "-n", "default"), "no");
    const list = (await kubectl(["auth", "can-i", "--list", "-n", NAMESPACE, "--token", token])).stdout;
    assert.match(list, /^leases\.coordination\.k8s\.io\s+\[\]\s+\[\]\s+\[create get update\]$/m, list);
    assert.match(list, /^secrets\s+\[\]\s+\[\]\s+\[list patch watch\]$/m, list);
    assert.match(list, /^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m, list);
  });

  it("kubectl create serviceaccount, role, rolebinding, clusterrole and clusterrolebinding (protobuf) grant what they say", async () => {
    await ok(["create", "namespace", "team"]);
    await ok(["create", "serviceaccount", "app", "-n", "team"]);
    await ok(["create", "role", "cm-reader", "--verb=get,list", "--resource=configmaps", "-n", "team"]);
    await ok(["create", "rolebinding", "app-reads", "--role=cm-reader", "--serviceaccount=team:app", "-n", "team"]);
    await ok(["create", "clusterrole", "ns-reader", "--verb=list", "--resource=namespaces"]);
    await ok(["create", "clusterrolebinding", "app-lists-namespaces", "--clusterrole=ns-reader", "--serviceaccount=team:app"]);
    const role = JSON.parse(await ok(["get", "role", "cm-reader", "-n", "team", "-o", "json"]));
    assert.deepEqual(role.rules, [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] }]);
    const binding = JSON.parse(await ok(["get", "rolebinding", "app-reads", "-n", "team", "-o", "json"]));
    assert.deepEqual(binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "cm-reader" });
    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "app", namespace: "team" }]);
    const appToken = (await ok(["create", "token", "app", "-n", "team"])).trim();
    await ok(["get", "configmaps", "-n", "team", "--token", appToken]);
    await ok(["get", "namespaces", "--token", appToken]);
    const denied = await kubectl(["get", "configmaps", "-n", "default", "--token", appToken]);
    assert.match(denied.stderr, /configmaps is forbidden: User "system:serviceaccount:team:app" cannot list resource "configmaps" in API group "" in the namespace "default"/);
  });

  it("requests with the token are authorized by RBAC: a forbidden one fails with kube-apiserver's message", async () => {
    await ok(["get", "secrets", "--all-namespaces", "--token", token]);
    await ok(["get", "baremetalhosts", "--all-namespaces", "--token", token]);
    const denied = await kubectl(["get", "configmaps", "-n", "default", "--token", token]);
    assert.notEqual(denied.code, 0);
    assert.match(
      denied.stderr,
      new RegExp(`Error from server \\(Forbidden\\): configmaps is forbidden: User "${OPERATOR}" cannot list resource "configmaps" in API group "" in the namespace "default"`),
    );
    const deleted = await kubectl(["delete", "namespace", "default", "--token", token]);
    // A namespace is its own namespace in kube-apiserver's request attributes.
    assert.match(deleted.stderr, new RegExp(`namespaces "default" is forbidden: User "${OPERATOR}" cannot delete resource "namespaces" in API group "" in the namespace "default"`));
    const nodes = await kubectl(["get", "namespaces", "--token", token]);
    assert.match(nodes.stderr, new RegExp(`namespaces is forbidden: User "${OPERATOR}" cannot list resource "namespaces" in API group "" at the cluster scope`));
    const bogus = await kubectl(["get", "secrets", "--token", "not-a-token"]);
    assert.match(bogus.stderr, /Unauthorized|must be logged in/);
  });
});

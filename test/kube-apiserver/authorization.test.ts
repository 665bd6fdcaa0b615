/**
 * Authentication and RBAC authorization of the API emulator through real
 * HTTP: ServiceAccount tokens from the TokenRequest API, anonymous and bad
 * tokens, Roles, ClusterRoles and bindings as kube-apiserver applies them
 * (namespaces, resourceNames, subresources, missing roles), discovery for
 * every authenticated user, the review kinds, and the record of what was
 * authorized.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RunningKubeApiServer, renderKubeconfig, startKubeApiServer } from "../../emulators/kube-apiserver/index.ts";
import { RestClient } from "./rest-client.ts";

const RBAC = "rbac.authorization.k8s.io";
const roles = (ns: string) => `/apis/${RBAC}/v1/namespaces/${ns}/roles`;
const roleBindings = (ns: string) => `/apis/${RBAC}/v1/namespaces/${ns}/rolebindings`;

let server: RunningKubeApiServer;
let admin: RestClient;

async function ok(response: Promise<{ status: number; text: string; body: any }>, code = 201): Promise<any> {
  const result = await response;
  assert.equal(result.status, code, result.text);
  return result.body;
}

/** Creates ServiceAccount `name` in `namespace` and returns a client with a token of it. */
async function serviceAccountClient(namespace: string, name: string): Promise<{ client: RestClient; token: string }> {
  await ok(admin.post(`/api/v1/namespaces/${namespace}/serviceaccounts`, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name } }));
  const review = await ok(admin.post(`/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: {} }));
  return { client: new RestClient(renderKubeconfig(server.url, review.status.token)), token: review.status.token };
}

function bind(namespace: string, name: string, roleRef: { kind: string; name: string }, account: string) {
  return ok(
    admin.post(roleBindings(namespace), {
      apiVersion: `${RBAC}/v1`,
      kind: "RoleBinding",
      metadata: { name },
      roleRef: { apiGroup: RBAC, ...roleRef },
      subjects: [{ kind: "ServiceAccount", name: account, namespace }],
    }),
  );
}

describe("API emulator authentication and RBAC authorization", () => {
  before(async () => {
    server = await startKubeApiServer({ authorizationMode: "RBAC" });
    admin = new RestClient(server.kubeconfig);
    for (const name of ["team-a", "team-b"]) await ok(admin.post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } }));
  });

  after(async () => {
    await server?.close();
  });

  it("answers a request without a token as system:anonymous, and a token it did not issue with 401", async () => {
    const anonymous = new RestClient(renderKubeconfig(server.url, ""));
    await ok(anonymous.get("/version"), 200);
    const api = await anonymous.get("/api");
    assert.equal(api.status, 403);
    assert.equal(api.body.message, 'forbidden: User "system:anonymous" cannot get path "/api"');
    const bogus = await new RestClient(renderKubeconfig(server.url, "forged")).get("/api/v1/namespaces");
    assert.equal(bogus.status, 401);
    assert.deepEqual([bogus.body.reason, bogus.body.message], ["Unauthorized", "Unauthorized"]);
  });

  it("a ServiceAccount token reads discovery and OpenAPI, and nothing else without a binding", async () => {
    const { client } = await serviceAccountClient("team-a", "reader");
    for (const path of ["/api", "/api/v1", "/apis", `/apis/${RBAC}/v1`, "/openapi/v3", "/version"]) await ok(client.get(path), 200);
    const denied = await client.get("/api/v1/namespaces/team-a/secrets");
    assert.equal(denied.status, 403);
    assert.equal(denied.body.reason, "Forbidden");
    assert.equal(
      denied.body.message,
      'secrets is forbidden: User "system:serviceaccount:team-a:reader" cannot list resource "secrets" in API group "" in the namespace "team-a"',
    );
    assert.deepEqual(denied.body.details, { kind: "secrets" });
    const named = await client.get(`/apis/${RBAC}/v1/clusterroles/cluster-admin`);
    assert.equal(
      named.body.message,
      `clusterroles.${RBAC} "cluster-admin" is forbidden: User "system:serviceaccount:team-a:reader" cannot get resource "clusterroles" in API group "${RBAC}" at the cluster scope`,
    );
    const missing = await client.get("/apis/nothing.example/v1/things");
    assert.equal(missing.status, 403, "authorization comes before a 404");
  });

  it("a Role bound in one namespace grants its rules there only, with resourceNames and subresources as written", async () => {
    const { client } = await serviceAccountClient("team-a", "worker");
    await ok(
      admin.post(roles("team-a"), {
        apiVersion: `${RBAC}/v1`,
        kind: "Role",
        metadata: { name: "worker" },
        rules: [
          { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] },
          { apiGroups: [""], resources: ["secrets"], resourceNames: ["allowed"], verbs: ["get"] },
          { apiGroups: ["coordination.k8s.io"], resources: ["*/status", "leases"], verbs: ["create"] },
        ],
      }),
    );
    await bind("team-a", "worker", { kind: "Role", name: "worker" }, "worker");
    await ok(client.get("/api/v1/namespaces/team-a/configmaps"), 200);
    assert.equal((await client.get("/api/v1/namespaces/team-b/configmaps")).status, 403);
    assert.equal((await client.get("/api/v1/configmaps")).status, 403, "a Role grants nothing cluster-wide");
    assert.equal((await client.get("/api/v1/namespaces/team-a/secrets/allowed")).status, 404, "allowed, and absent");
    assert.equal((await client.get("/api/v1/namespaces/team-a/secrets/other")).status, 403);
    assert.equal((await client.get("/api/v1/namespaces/team-a/secrets")).status, 403, "resourceNames do not grant list");
    assert.equal((await client.delete("/api/v1/namespaces/team-a/configmaps/x")).status, 403);
    const lease = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "l" }, spec: {} };
    await ok(client.post("/apis/coordination.k8s.io/v1/namespaces/team-a/leases", lease));
    assert.equal((await client.get("/apis/coordination.k8s.io/v1/namespaces/team-a/leases/l")).status, 403);
  });

  it("a RoleBinding to a ClusterRole grants it in the binding's namespace; a ClusterRoleBinding everywhere; a missing role is the reason", async () => {
    const { client } = await serviceAccountClient("team-b", "viewer");
    await ok(
      admin.post(`/apis/${RBAC}/v1/clusterroles`, {
        apiVersion: `${RBAC}/v1`,
        kind: "ClusterRole",
        metadata: { name: "secret-reader" },
        rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["list"] }],
      }),
    );
    await bind("team-b", "reads", { kind: "ClusterRole", name: "secret-reader" }, "viewer");
    await ok(client.get("/api/v1/namespaces/team-b/secrets"), 200);
    assert.equal((await client.get("/api/v1/namespaces/team-a/secrets")).status, 403);
    await bind("team-b", "dangling", { kind: "Role", name: "missing" }, "viewer");
    const denied = await client.get("/api/v1/namespaces/team-b/configmaps");
    assert.match(denied.body.message, /in the namespace "team-b": RBAC: role\.rbac\.authorization\.k8s\.io "missing" not found$/);
    await ok(
      admin.post(`/apis/${RBAC}/v1/clusterrolebindings`, {
        apiVersion: `${RBAC}/v1`,
        kind: "ClusterRoleBinding",
        metadata: { name: "viewer-everywhere" },
        roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "secret-reader" },
        subjects: [{ kind: "ServiceAccount", name: "viewer", namespace: "team-b" }],
      }),
    );
    await ok(client.get("/api/v1/secrets"), 200);
    await ok(client.get("/api/v1/namespaces/team-a/secrets"), 200);
  });

  it("answers SelfSubjectAccessReviews and SelfSubjectReviews for the requester", async () => {
    const { client } = await serviceAccountClient("team-a", "asker");
    const ask = (resourceAttributes: Record<string, string>) =>
      ok(client.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes } }));
    assert.equal((await ask({ verb: "list", resource: "secrets", namespace: "team-a" })).status.allowed, false);
    await bind("team-a", "asker", { kind: "ClusterRole", name: "secret-reader" }, "asker");
    assert.equal((await ask({ verb: "list", resource: "secrets", namespace: "team-a" })).status.allowed, true);
    assert.equal((await ask({ verb: "list", resource: "secrets", namespace: "team-b" })).status.allowed, false);
    const nonResource = await ok(
      client.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { nonResourceAttributes: { path: "/apis", verb: "get" } } }),
    );
    assert.equal(nonResource.status.allowed, true);
    const whoami = await ok(client.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }));
    assert.equal(whoami.status.userInfo.username, "system:serviceaccount:team-a:asker");
    assert.ok(whoami.status.userInfo.uid);
    assert.equal((await client.get("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")).status, 403, "only create is granted");
    assert.equal((await admin.get("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")).status, 405);
  });

  it("TokenRequest: at least 10 minutes, only for an existing ServiceAccount, and the token dies with it", async () => {
    const { client } = await serviceAccountClient("team-a", "short-lived");
    const tooShort = await admin.post("/api/v1/namespaces/team-a/serviceaccounts/short-lived/token", { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 60 } });
    assert.equal(tooShort.status, 422);
    assert.equal(tooShort.body.details.causes[0].field, "spec.expirationSeconds");
    assert.equal((await admin.post("/api/v1/namespaces/team-a/serviceaccounts/nobody/token", { spec: {} })).status, 404);
    await ok(client.get("/api"), 200);
    await ok(admin.delete("/api/v1/namespaces/team-a/serviceaccounts/short-lived"), 200);
    assert.equal((await client.get("/api")).status, 401);
    await ok(admin.post("/api/v1/namespaces/team-a/serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "short-lived" } }));
    assert.equal((await client.get("/api")).status, 401, "a new ServiceAccount of the same name has another uid");
  });

  it("records which calls were authorized for each user", async () => {
    server.resetAuthorizedCalls();
    const { client } = await serviceAccountClient("team-b", "recorded");
    await bind("team-b", "recorded", { kind: "ClusterRole", name: "secret-reader" }, "recorded");
    await ok(client.get("/api/v1/namespaces/team-b/secrets"), 200);
    await client.get("/api/v1/namespaces/team-b/configmaps");
    await ok(client.get("/apis"), 200);
    assert.deepEqual(server.authorizedCalls("system:serviceaccount:team-b:recorded"), ['get /apis', 'list "" secrets']);
    assert.ok(server.authorizedCalls("kubernetes-admin").includes('create "" serviceaccounts/token'));
  });

  it("without RBAC (the default) every request is allowed, and tokens still name their user", async () => {
    const open = await startKubeApiServer();
    try {
      const adminClient = new RestClient(open.kubeconfig);
      await ok(adminClient.post("/api/v1/namespaces/default/serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "anyone" } }));
      const review = await ok(adminClient.post("/api/v1/namespaces/default/serviceaccounts/anyone/token", { spec: {} }));
      const client = new RestClient(renderKubeconfig(open.url, review.status.token));
      await ok(client.get("/api/v1/secrets"), 200);
      const whoami = await ok(client.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }));
      assert.equal(whoami.status.userInfo.username, "system:serviceaccount:default:anyone");
      await ok(new RestClient(renderKubeconfig(open.url, "")).get("/api/v1/secrets"), 200);
    } finally {
      await open.close();
    }
  });
});

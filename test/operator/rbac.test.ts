/**
 * The operator's RBAC is exactly what it uses. The stack runs the operator as
 * the ServiceAccount of config/rbac under RBAC authorization (a call the
 * generated roles do not grant fails there, as in a cluster); this scenario
 * drives every controller through every kind of call it declares (informers,
 * finalizers, status writes, the refresh annotation, Secret labelling, an
 * Event and its series, the leader Lease), then compares the calls the API
 * server authorized with the declarations: a declared permission nobody used
 * fails the test too.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { REFRESH_ANNOTATION } from "../../src/controllers/baremetalhost-controller.ts";
import { installPermissions, OPERATOR_INSTALL } from "../../src/api/rbac.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { defineResource, EVENTS, LEASES, permittedCalls, SECRETS } from "../../src/runtime/index.ts";
import {
  indicatorObject,
  isReady,
  OPERATOR_NAMESPACE,
  OPERATOR_USER,
  type OperatorStack,
  startOperatorStack,
  subscriptionObject,
  waitFor,
} from "../support/operator-stack.ts";

let stack: OperatorStack;
before(async () => {
  stack = await startOperatorStack({ bmcs: 1 });
});
after(() => stack.close());

describe("the operator's RBAC", () => {
  it("every call the controllers and the runtime declare is made in a scenario of every controller, and no other", async () => {
    stack.api.resetAuthorizedCalls();
    await stack.startOperator({ leaderElection: true });
    const ns = await stack.namespace("rbac-scenario");
    const bmc = stack.fleet.bmcs[0]!;
    await stack.createHost(ns, "worker-0", 0);
    await waitFor("host registered", () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name: "worker-0" }), isReady);
    await stack.client.patch(BARE_METAL_HOSTS, { namespace: ns, name: "worker-0" }, { metadata: { annotations: { [REFRESH_ANNOTATION]: "now" } } }, { type: "merge" });
    await waitFor(
      "refresh annotation removed",
      () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name: "worker-0" }),
      (h) => h.metadata.annotations?.[REFRESH_ANNOTATION] === undefined,
    );
    await stack.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject(ns, "events", "worker-0", stack.sink.url));
    await stack.create(SERVICE_INDICATORS, indicatorObject(ns, "locate", "worker-0", `${bmc.systemUUID}@system`, true));
    await waitFor("subscription ready", () => stack.client.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" }), isReady);
    await waitFor("indicator ready", () => stack.client.get(SERVICE_INDICATORS, { namespace: ns, name: "locate" }), isReady);
    // A host whose BMC refuses connections fails again and again with the same Event: its series is patched.
    await stack.client.create(SECRETS, { metadata: { name: "broken-bmc", namespace: ns }, type: "Opaque", stringData: { username: "u", password: "p" } });
    await stack.create(BARE_METAL_HOSTS, {
      apiVersion: "metal3.io/v1alpha1",
      kind: "BareMetalHost",
      metadata: { name: "broken", namespace: ns },
      spec: { online: true, bmc: { address: "redfish+http://127.0.0.1:1/redfish/v1/Systems/1", credentialsName: "broken-bmc" } },
    });
    await waitFor(
      "a repeated Event of the broken host",
      () => stack.client.list(EVENTS, { namespace: ns }),
      (events) => events.items.some((e) => e.regarding?.name === "broken" && (e.series?.count ?? 0) >= 2),
      30_000,
    );
    await stack.client.delete(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns, name: "events" });
    await stack.client.delete(SERVICE_INDICATORS, { namespace: ns, name: "locate" });
    await waitFor("subscription and indicator gone", () => Promise.all([stack.client.list(BMC_EVENT_SUBSCRIPTIONS, { namespace: ns }), stack.client.list(SERVICE_INDICATORS, { namespace: ns })]), ([s, i]) => s.items.length + i.items.length === 0);
    const lease = await stack.client.get(LEASES, { namespace: OPERATOR_NAMESPACE, name: "bmc-operator" });
    assert.ok(lease.spec?.holderIdentity, "the operator leads");
    await stack.stopOperator();
    const released = await stack.client.get(LEASES, { namespace: OPERATOR_NAMESPACE, name: "bmc-operator" });
    assert.ok(!released.spec?.holderIdentity, "the lease was released on stop (an update)");

    const declared = permittedCalls(installPermissions(OPERATOR_INSTALL));
    assert.deepEqual(stack.api.authorizedCalls(OPERATOR_USER), declared, "calls the API server authorized for the operator vs the permissions declared (and generated into config/rbac)");
  });

  it("a call the generated roles do not grant is Forbidden to the operator", async () => {
    await stack.startOperator();
    const ns = await stack.namespace("rbac-denied");
    // Take Secret labelling away: the host cannot read its credentials.
    await stack.client.patch(
      defineResource({ group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterroles", kind: "ClusterRole", namespaced: false }),
      { name: "bmc-operator" },
      { rules: [{ apiGroups: ["metal3.io"], resources: ["baremetalhosts", "bmceventsubscriptions", "baremetalhostserviceindicators"], verbs: ["list", "patch", "watch"] }, { apiGroups: ["metal3.io"], resources: ["baremetalhosts/status"], verbs: ["patch"] }, { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create", "patch"] }, { apiGroups: [""], resources: ["secrets"], verbs: ["list", "watch"] }] },
      { type: "merge" },
    );
    await stack.createHost(ns, "worker-0", 0);
    const failed = await waitFor(
      "the host to report the forbidden call",
      () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name: "worker-0" }),
      (h) => /forbidden/i.test(h.status?.errorMessage ?? ""),
    );
    assert.match(failed.status?.errorMessage ?? "", /secrets/);
  });
});

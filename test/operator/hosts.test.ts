/**
 * The BareMetalHost controller through the real stack: registration, the
 * indicator inventory, and reading the BMC again only when the spec or the
 * credentials change or a user asks.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BareMetalHost } from "../../src/api/baremetalhost.ts";
import { REFRESH_ANNOTATION } from "../../src/controllers/baremetalhost-controller.ts";
import { BARE_METAL_HOSTS } from "../../src/controllers/resources.ts";
import { SECRET_WATCH_LABEL, SECRET_WATCH_LABEL_VALUE } from "../../src/controllers/secret-reader.ts";
import { findStatusCondition, SECRETS } from "../../src/runtime/index.ts";
import { isReady, type OperatorStack, startOperatorStack, waitFor } from "../support/operator-stack.ts";

let stack: OperatorStack;
before(async () => {
  stack = await startOperatorStack({ bmcs: 3 });
  await stack.startOperator();
});
after(() => stack.close());

function host(namespace: string, name: string, accept: (h: BareMetalHost) => boolean, what: string) {
  return waitFor(`host ${name}: ${what}`, () => stack.client.get(BARE_METAL_HOSTS, { namespace, name }), accept);
}

describe("BareMetalHost controller", () => {
  it("reads the BMC once, and not again for changes that do not concern it", async () => {
    const ns = await stack.namespace("quiet");
    stack.fleet.bmc(0).resetStats();
    stack.api.resetStats();
    await stack.createHost(ns, "worker-0", 0);
    const registered = await host(ns, "worker-0", isReady, "registered");
    assert.equal(registered.status?.goodCredentials?.credentials?.name, "worker-0-bmc");
    const api = stack.api.stats();
    assert.equal(api.getsByResource.secrets ?? 0, 0, "the Secret was read by the labelling patch, not by a GET");
    assert.equal(api.byResource.secrets?.patch, 1, "one labelling patch");
    const secret = await stack.client.get(SECRETS, { namespace: ns, name: "worker-0-bmc" });
    assert.equal(secret.metadata?.labels?.[SECRET_WATCH_LABEL], SECRET_WATCH_LABEL_VALUE, "the credentials Secret is labelled, so its changes are watched");
    const reads = stack.fleet.bmc(0).stats().total;
    assert.ok(reads > 0);

    await stack.client.patch(BARE_METAL_HOSTS, { namespace: ns, name: "worker-0" }, { metadata: { labels: { rack: "r1" } } }, { type: "merge" });
    // Another component (say, an inspector) writes to the host's status.
    await stack.client.patchStatus(
      BARE_METAL_HOSTS,
      { namespace: ns, name: "worker-0" },
      { status: { hardware: { cpu: { count: 2 } } } },
      { type: "merge" },
    );
    // Once the operator has seen both changes and done all they made it do: nothing.
    await stack.idle({ resource: BARE_METAL_HOSTS, ref: { namespace: ns, name: "worker-0" } });
    assert.equal(stack.fleet.bmc(0).stats().total, reads, JSON.stringify(stack.fleet.bmc(0).stats().byMethodPath));
  });

  it("reads the BMC again when asked with the refresh annotation, then removes it", async () => {
    const ns = await stack.namespace("refresh");
    await stack.createHost(ns, "worker-1", 1);
    await host(ns, "worker-1", isReady, "registered");
    stack.fleet.bmc(1).resetStats();
    await stack.client.patch(
      BARE_METAL_HOSTS,
      { namespace: ns, name: "worker-1" },
      { metadata: { annotations: { [REFRESH_ANNOTATION]: "now" } } },
      { type: "merge" },
    );
    await host(ns, "worker-1", (h) => h.metadata.annotations?.[REFRESH_ANNOTATION] === undefined, "refresh annotation removed");
    assert.ok(stack.fleet.bmc(1).stats().byMethod.GET! > 0, "the BMC was read again");
  });

  it("reports refused credentials without the password, and recovers when the Secret is fixed", async () => {
    const ns = await stack.namespace("credentials");
    await stack.createHost(ns, "worker-2", 2);
    await host(ns, "worker-2", isReady, "registered");
    const wrong = "definitely-wrong-password";
    await stack.client.patch(SECRETS, { namespace: ns, name: "worker-2-bmc" }, { stringData: { password: wrong } }, { type: "merge" });
    const failed = await host(
      ns,
      "worker-2",
      (h) => findStatusCondition(h.status?.conditions, "Ready")?.reason === "BMCUnauthorized",
      "credentials refused",
    );
    assert.equal(failed.status?.operationalStatus, "error");
    assert.ok(failed.status?.errorMessage, "an error message is shown");
    assert.ok(!JSON.stringify(failed.status).includes(wrong), failed.status?.errorMessage);

    const right = stack.fleet.bmcs[2]!.password;
    await stack.client.patch(SECRETS, { namespace: ns, name: "worker-2-bmc" }, { stringData: { password: right } }, { type: "merge" });
    const recovered = await host(ns, "worker-2", (h) => isReady(h) && h.status?.operationalStatus === "OK", "recovered");
    assert.equal(recovered.status?.errorMessage, "");
  });

  it("reports at once that its credentials Secret was deleted", async () => {
    const ns = await stack.namespace("secret-gone");
    await stack.createHost(ns, "worker-0", 0);
    await host(ns, "worker-0", isReady, "registered");
    await stack.client.delete(SECRETS, { namespace: ns, name: "worker-0-bmc" });
    const failed = await host(
      ns,
      "worker-0",
      (h) => findStatusCondition(h.status?.conditions, "Ready")?.reason === "CredentialsMissing",
      "the missing Secret reported",
    );
    assert.equal(failed.status?.errorMessage, `credentials Secret "${ns}/worker-0-bmc" of BareMetalHost "worker-0" not found`);
  });

  it("reads the new BMC when the host's address changes", async () => {
    const ns = await stack.namespace("moved");
    await stack.createHost(ns, "worker-0", 0);
    await host(ns, "worker-0", isReady, "registered");
    const other = stack.fleet.bmcs[1]!;
    await stack.client.create(SECRETS, {
      metadata: { name: "other-bmc", namespace: ns },
      stringData: { username: other.username, password: other.password },
    });
    await stack.client.patch(
      BARE_METAL_HOSTS,
      { namespace: ns, name: "worker-0" },
      { spec: { bmc: { address: `redfish+http://${new URL(other.url).host}${other.systemPath}`, credentialsName: "other-bmc" } } },
      { type: "merge" },
    );
    const moved = await host(ns, "worker-0", (h) => h.status?.provisioning?.ID === other.systemUUID && isReady(h), "moved");
    assert.ok(moved.status?.hardware?.indicators?.some((i) => i.id === `${other.chassisUUID}@chassis`));
  });

  it("says so when the BMC address is not Redfish, without retrying", async () => {
    const ns = await stack.namespace("ipmi");
    await stack.client.create(SECRETS, { metadata: { name: "ipmi-bmc", namespace: ns }, stringData: { username: "u", password: "p" } });
    await stack.client.create(BARE_METAL_HOSTS, {
      apiVersion: "metal3.io/v1alpha1",
      kind: "BareMetalHost",
      metadata: { name: "old-box", namespace: ns },
      spec: { bmc: { address: "ipmi://192.0.2.1", credentialsName: "ipmi-bmc" } },
    });
    const failed = await host(
      ns,
      "old-box",
      (h) => findStatusCondition(h.status?.conditions, "Ready")?.reason === "UnsupportedBMC",
      "unsupported address reported",
    );
    assert.match(failed.status?.errorMessage ?? "", /ipmi/);
  });
});

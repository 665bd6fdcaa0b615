// A full OpenBMC (bmcweb) through real Ironic: bmcweb refuses a create beyond its limit with 503
// EventSubscriptionLimitExceeded before it reads the body, which Ironic (21.4.4 and 29.0.5) quotes
// in a 500; the Ironic provisioner makes it SubscriptionLimit, as for the Base registry's 400
// CreateLimitReachedForResource of the conformance case. The BMC is filled with a Redfish POST of
// its own, since through Ironic no subscription can be made on it (Ironic sends EventTypes, which
// bmcweb refuses as unknown: docs/ironic.md).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RunningBmcFleet, startBmcFleet } from "../../emulators/redfish-bmc/index.ts";
import { IronicProvisioner } from "../../src/provisioner/ironic/provisioner.ts";
import { type HostAccess, ProvisionerError } from "../../src/provisioner/provisioner.ts";
import { type IronicServer, ironicReleases, ironicSkipReason, startIronic } from "../support/ironic.ts";

for (const release of ironicReleases()) {
  describe(`a full OpenBMC through real Ironic (${release.label})`, { skip: ironicSkipReason(release) }, () => {
    let ironic: IronicServer | undefined;
    let fleet: RunningBmcFleet | undefined;
    let provisioner: IronicProvisioner | undefined;

    before(async () => {
      [ironic, fleet] = await Promise.all([startIronic({ release }), startBmcFleet({ count: 1, profile: "openbmc", maxSubscriptions: 1 })]);
      provisioner = new IronicProvisioner({ client: { endpoint: ironic.url } });
    });
    after(async () => {
      provisioner?.close();
      await Promise.all([fleet?.close(), ironic?.close()]);
    });

    it("is SubscriptionLimit naming the limit and bmcweb's EventSubscriptionLimitExceeded, without the header value", async () => {
      const info = fleet!.bmcs[0]!;
      const host: HostAccess = {
        namespace: "full",
        name: "openbmc-0",
        address: `${info.url.replace(/^http:/, "redfish+http:")}${info.systemPath}`,
        disableCertificateVerification: false,
        username: info.username,
        password: info.password,
      };
      await provisioner!.registerHost(host);
      const filled = await fetch(`${info.url}/redfish/v1/EventService/Subscriptions`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Authorization: `Basic ${Buffer.from(`${info.username}:${info.password}`).toString("base64")}`,
        },
        body: JSON.stringify({ Destination: "https://127.0.0.1:9/full/first", Context: "first", Protocol: "Redfish" }),
      });
      assert.equal(filled.status, 201, await filled.text());
      const secret = "Bearer openbmc-full-secret-0d7e";
      const error = await provisioner!
        .createSubscription(host, { destination: "https://127.0.0.1:9/full/second", context: "second", httpHeaders: { Authorization: secret } })
        .then(
          () => assert.fail("the create succeeded on a full BMC"),
          (e: unknown) => e,
        );
      assert.ok(error instanceof ProvisionerError, String(error));
      assert.equal(error.kind, "SubscriptionLimit", error.message);
      assert.match(error.message, /the BMC already holds its limit of 1 subscriptions and refuses another/);
      assert.match(error.message, /the BMC answered HTTP 503: Base\.[\d.]+\.EventSubscriptionLimitExceeded/);
      for (const leaked of [secret, "openbmc-full-secret-0d7e", info.password]) {
        assert.ok(!error.message.includes(leaked), `the message holds a secret: ${error.message}`);
      }
      // Ironic did ask the BMC, and the BMC holds only the first.
      assert.ok((fleet!.bmc(0).stats().byMethodPath["POST /redfish/v1/EventService/Subscriptions"] ?? 0) >= 2, "Ironic never asked the BMC");
      assert.deepEqual(
        fleet!.bmc(0).subscriptions().map((s) => s.context),
        ["first"],
      );
    });
  });
}

// A full OpenBMC (bmcweb) through real Ironic: bmcweb refuses a create beyond its limit with 503
// EventSubscriptionLimitExceeded before it reads the body, which Ironic (21.4.4 and 29.0.5) quotes
// in a 500; the Ironic provisioner makes it SubscriptionLimit, as for the Base registry's 400
// CreateLimitReachedForResource of the conformance case. The BMC is filled with a Redfish POST of
// its own, since through Ironic no subscription can be made on it (Ironic sends EventTypes, which
// bmcweb refuses as unknown: docs/ironic.md).
//
// Older bmcweb answered the same message with 403. sushy takes a 403 for a lost session: it logs
// in again and sends the POST once more. sushy 5.5.0 (Ironic 29.0.5) then reports the BMC's
// answer, which is SubscriptionLimit; sushy 4.3.3 (Ironic 21.4.4) loses it, and Ironic answers
// 500 "'NoneType' object has no attribute 'json'", with nothing left to recognise: Transient.
import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type RunningBmcFleet, startBmcFleet } from "../../emulators/redfish-bmc/index.ts";
import { IronicProvisioner } from "../../src/provisioner/ironic/provisioner.ts";
import { type HostAccess, ProvisionerError } from "../../src/provisioner/provisioner.ts";
import { type IronicServer, ironicReleases, ironicSkipReason, startIronic } from "../support/ironic.ts";

/** bmcweb's message, as its older builds sent it with 403 (bmcweb error_messages.cpp of Base 1.4). */
const OLD_BMCWEB_LIMIT = {
  error: {
    code: "Base.1.4.0.EventSubscriptionLimitExceeded",
    message: "The event subscription failed due to the number of simultaneous subscriptions exceeding the limit of the implementation.",
    "@Message.ExtendedInfo": [
      {
        "@odata.type": "/redfish/v1/$metadata#Message.v1_0_0.Message",
        MessageId: "Base.1.4.0.EventSubscriptionLimitExceeded",
        Message: "The event subscription failed due to the number of simultaneous subscriptions exceeding the limit of the implementation.",
        MessageArgs: [],
        Severity: "Critical",
        Resolution:
          "Reduce the number of other subscriptions before trying to establish the event subscription or increase the limit of simultaneous subscriptions (if supported).",
      },
    ],
  },
};

/**
 * A proxy on 127.0.0.1 in front of a BMC that answers every subscription
 * create itself, with 403 and {@link OLD_BMCWEB_LIMIT}, and forwards
 * everything else; `requests` lists what it was sent, as `METHOD path`.
 */
async function startOldBmcwebLimitProxy(upstream: string): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const target = new URL(upstream);
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.method === "POST" && req.url === "/redfish/v1/EventService/Subscriptions") {
      req.resume();
      res.writeHead(403, { "Content-Type": "application/json" });
      res.end(JSON.stringify(OLD_BMCWEB_LIMIT));
      return;
    }
    const forwarded = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forwarded.on("error", () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

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

    it("an older bmcweb's 403 EventSubscriptionLimitExceeded is SubscriptionLimit where Ironic keeps the BMC's answer", async () => {
      const info = fleet!.bmcs[0]!;
      const proxy = await startOldBmcwebLimitProxy(info.url);
      try {
        const host: HostAccess = {
          namespace: "full",
          name: "old-bmcweb",
          address: `${proxy.url.replace(/^http:/, "redfish+http:")}${info.systemPath}`,
          disableCertificateVerification: false,
          username: info.username,
          password: info.password,
        };
        await provisioner!.registerHost(host);
        proxy.requests.length = 0;
        const error = await provisioner!
          .createSubscription(host, { destination: "https://127.0.0.1:9/full/old", context: "old", httpHeaders: {} })
          .then(
            () => assert.fail("the create succeeded on a full BMC"),
            (e: unknown) => e,
          );
        assert.ok(error instanceof ProvisionerError, String(error));
        // sushy took the 403 for a lost session: it logged in again and sent the POST once more.
        const posts = proxy.requests.filter((r) => r.startsWith("POST "));
        assert.deepEqual(posts, [
          "POST /redfish/v1/EventService/Subscriptions",
          "POST /redfish/v1/SessionService/Sessions",
          "POST /redfish/v1/EventService/Subscriptions",
        ]);
        if (Number(release.sushyVersion?.split(".")[0]) < 5) {
          assert.equal(error.kind, "Transient", error.message);
          assert.match(error.message, /failed \(500\): 'NoneType' object has no attribute 'json'$/);
        } else {
          assert.equal(error.kind, "SubscriptionLimit", error.message);
          assert.match(error.message, /the BMC answered HTTP 403: Base\.1\.4\.0\.EventSubscriptionLimitExceeded/);
        }
      } finally {
        await proxy.close();
      }
    });
  });
}

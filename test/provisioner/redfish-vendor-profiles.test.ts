// The provisioner conformance suite against the Redfish BMC emulator under every vendor
// profile (docs/vendor-profiles.md): the same cases as on the tidy BMC, with the IDs the
// vendor's resources give (a UUID, or the Id where the vendor shows none).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PROFILE_NAMES, PROFILES, startBmcFleet } from "../../emulators/redfish-bmc/index.ts";
import type { IndicatorComponent } from "../../src/api/baremetalhost-service-indicator.ts";
import { ProvisionerError } from "../../src/provisioner/provisioner.ts";
import { RedfishProvisioner } from "../../src/provisioner/redfish/redfish-provisioner.ts";
import { describeConformance } from "./conformance.ts";
import { emulatedBmcView } from "./emulated-bmc-view.ts";

for (const name of PROFILE_NAMES) {
  describeConformance(`redfish, BMC emulator, ${name} profile`, async () => {
    const profile = PROFILES[name];
    // A small limit, for the full-BMC case to fill; each vendor refuses the one too many in its own words.
    const fleet = await startBmcFleet({ count: 1, profile: name, maxSubscriptions: 3 });
    const info = fleet.bmcs[0]!;
    const provisioner = new RedfishProvisioner();
    const address = `${info.url.replace(/^http:/, "redfish+http:")}${info.systemPath}`;
    const host = {
      namespace: "vendors",
      name: `host-${name}`,
      address,
      disableCertificateVerification: false,
      username: info.username,
      password: info.password,
    };
    const { identity, shape, lights, subscriptions } = profile;
    const components: IndicatorComponent[] = ["system", "chassis", "disk"].filter(
      (c) => lights[c === "disk" ? "drive" : (c as "system" | "chassis")].properties.length > 0,
    ) as IndicatorComponent[];
    const drives = components.includes("disk") ? info.drives : [];
    return {
      provisioner,
      host,
      missingHost: { ...host, address: `${address.slice(0, address.lastIndexOf("/"))}/no-such-system` },
      expected: {
        provisioningID: shape.systemUUID ? info.systemUUID : info.systemPath,
        indicatorIds: [
          `${shape.systemUUID ? info.systemUUID : identity.systemId}@system`,
          ...(components.includes("chassis") ? [`${shape.chassisUUID ? info.chassisUUID : identity.chassisId}@chassis`] : []),
          ...drives.map((d) => `${d.storageId}:${d.driveId}@disk`),
        ],
      },
      bmc: emulatedBmcView(fleet.bmc(0)),
      components,
      httpsDestinationsOnly: subscriptions.httpsOnly !== undefined,
      oneSubscriptionPerDestination: subscriptions.duplicateDestination !== undefined,
      subscriptionLimit: 3,
      close: async () => {
        await provisioner.close();
        await fleet.close();
      },
    };
  });
}

describe("redfish provisioner on vendor profiles, beyond the conformance cases", () => {
  for (const name of ["dell-idrac9", "openbmc"] as const) {
    it(`says that ${name} takes HTTPS destinations only when it refuses an HTTP one`, async () => {
      const fleet = await startBmcFleet({ count: 1, profile: name });
      const provisioner = new RedfishProvisioner();
      try {
        const info = fleet.bmcs[0]!;
        const host = {
          namespace: "vendors",
          name,
          address: `${info.url.replace(/^http:/, "redfish+http:")}${info.systemPath}`,
          disableCertificateVerification: false,
          username: info.username,
          password: info.password,
        };
        await assert.rejects(
          provisioner.createSubscription(host, { destination: "http://receiver.example/events", context: "c", httpHeaders: {} }),
          (error: unknown) =>
            error instanceof ProvisionerError &&
            error.kind === "Rejected" &&
            /refused HTTP destination "http:\/\/receiver\.example\/events"; it takes HTTPS destinations only/.test(error.message),
        );
        assert.deepEqual(fleet.bmc(0).subscriptions(), []);
      } finally {
        await provisioner.close();
        await fleet.close();
      }
    });
  }

  for (const name of ["openbmc", "lenovo-xcc"] as const) {
    it(`reports a full ${name} BMC as SubscriptionLimit, naming the limit`, async () => {
      const fleet = await startBmcFleet({ count: 1, profile: name, maxSubscriptions: 2 });
      const provisioner = new RedfishProvisioner();
      try {
        const info = fleet.bmcs[0]!;
        const host = {
          namespace: "vendors",
          name,
          address: `${info.url.replace(/^http:/, "redfish+http:")}${info.systemPath}`,
          disableCertificateVerification: false,
          username: info.username,
          password: info.password,
        };
        for (const context of ["a", "b"]) {
          await provisioner.createSubscription(host, { destination: `https://receiver.example/${context}`, context, httpHeaders: {} });
        }
        await assert.rejects(
          provisioner.createSubscription(host, { destination: "https://receiver.example/c", context: "c", httpHeaders: {} }),
          (error: unknown) =>
            error instanceof ProvisionerError && error.kind === "SubscriptionLimit" && /already holds its limit of 2 subscriptions/.test(error.message),
        );
      } finally {
        await provisioner.close();
        await fleet.close();
      }
    });
  }

  it("reports Supermicro's OEM-only drive lights as lights it cannot switch", async () => {
    const fleet = await startBmcFleet({ count: 1, profile: "supermicro" });
    const provisioner = new RedfishProvisioner();
    try {
      const info = fleet.bmcs[0]!;
      const registration = await provisioner.registerHost({
        namespace: "vendors",
        name: "supermicro",
        address: `${info.url.replace(/^http:/, "redfish+http:")}${info.systemPath}`,
        disableCertificateVerification: false,
        username: info.username,
        password: info.password,
      });
      assert.equal(registration.unusableLights?.length, info.drives.length);
      for (const line of registration.unusableLights ?? []) assert.match(line, /switched only by the OEM action .*Indicate/);
    } finally {
      await provisioner.close();
      await fleet.close();
    }
  });

  it("writes a Lenovo chassis light through the System once the chassis refuses the write, and from then on", async () => {
    const fleet = await startBmcFleet({ count: 1, profile: "lenovo-xcc" });
    const provisioner = new RedfishProvisioner();
    try {
      const info = fleet.bmcs[0]!;
      const host = {
        namespace: "vendors",
        name: "lenovo",
        address: `${info.url.replace(/^http:/, "redfish+http:")}${info.systemPath}`,
        disableCertificateVerification: false,
        username: info.username,
        password: info.password,
      };
      const chassis = `${info.chassisUUID}@chassis`;
      await provisioner.registerHost(host);
      await provisioner.setIndicator(host, chassis, "on");
      assert.equal(fleet.bmc(0).lights().system, "Lit");
      assert.equal(await provisioner.getIndicator(host, chassis), "on");
      fleet.bmc(0).resetStats();
      await provisioner.setIndicator(host, chassis, "off");
      assert.deepEqual(Object.keys(fleet.bmc(0).stats().byMethodPath).filter((k) => k.startsWith("PATCH")), [`PATCH ${info.systemPath}`]);
      assert.equal(await provisioner.getIndicator(host, chassis), "off");
    } finally {
      await provisioner.close();
      await fleet.close();
    }
  });
});

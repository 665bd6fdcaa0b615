// The Ironic provisioner through real Ironic (all-in-one, sqlite) to the Redfish BMC
// emulator over real HTTP on 127.0.0.1: the provisioner conformance suite.
//
// Runs once per Ironic release (test/support/ironic.ts). Ironic before 23.1 (Debian
// bookworm's 21.4.4) reads disk lights from a System's SimpleStorage, where sushy 4.3.3 has
// no drives (the whole indicator list fails with a 500 when SimpleStorage is present), so on
// such an Ironic the host lists no disk light and the cases that need one are skipped with
// that reason. On an Ironic that lists disk lights (29.0.5) they run, and must pass.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type EmulatedBmcInfo, type RunningBmcFleet, startBmcFleet } from "../../emulators/redfish-bmc/index.ts";
import { IronicProvisioner } from "../../src/provisioner/ironic/provisioner.ts";
import { BmcCallLimiter } from "../../src/provisioner/limiter.ts";
import type { HostAccess } from "../../src/provisioner/provisioner.ts";
import { type IronicServer, ironicReleases, ironicSkipReason, startIronic } from "../support/ironic.ts";
import { type ConformanceTarget, conformanceCases } from "./conformance.ts";
import { emulatedBmcView } from "./emulated-bmc-view.ts";

/** The cases that need a switchable disk light. */
const NEEDS_DISK_LIGHT = [
  "registerHost returns the provisioning ID and Ironic-style indicator IDs",
  "a disk light round-trips on and off",
  "switching one light leaves the others alone",
];

/** The BMC's subscription limit: small, for the full-BMC case to fill it through Ironic. */
const SUBSCRIPTION_LIMIT = 3;

function accessTo(info: EmulatedBmcInfo, name: string, systemPath = info.systemPath): HostAccess {
  return {
    namespace: "conformance",
    name,
    address: `${info.url.replace(/^http:/, "redfish+http:")}${systemPath}`,
    disableCertificateVerification: false,
    username: info.username,
    password: info.password,
  };
}

for (const release of ironicReleases()) {
  describe(`provisioner conformance: ironic, real Ironic and the BMC emulator (${release.label})`, { skip: ironicSkipReason(release) }, () => {
    let ironic: IronicServer | undefined;
    let fleet: RunningBmcFleet | undefined;
    let target: ConformanceTarget | undefined;
    const diskLights = release.listsDiskLights;

    before(async () => {
      [ironic, fleet] = await Promise.all([startIronic({ release }), startBmcFleet({ count: 1, maxSubscriptions: SUBSCRIPTION_LIMIT })]);
      const info = fleet.bmcs[0]!;
      const bmc = fleet.bmc(0);
      const provisioner = new IronicProvisioner({
        client: { endpoint: ironic.url },
        limiter: new BmcCallLimiter({ perKey: 1 }),
      });
      const host = accessTo(info, "host-0");
      target = {
        provisioner,
        host,
        // Registration is on, yet registerHost still answers HostNotFound for it: the node it
        // enrolls for a system the BMC does not have is removed again.
        missingHost: accessTo(info, "missing", "/redfish/v1/Systems/no-such-system"),
        expected: {
          indicatorIds: [
            `${info.systemUUID}@system`,
            `${info.chassisUUID}@chassis`,
            ...(diskLights ? info.drives.map((d) => `${d.storageId}:${d.driveId}@disk`) : []),
          ],
          // Ironic names a disk light's storage and drive; the provisioner reads the rest from the Drive.
          drives: Object.fromEntries(
            diskLights
              ? info.drives.map((d) => [
                  `${d.storageId}:${d.driveId}@disk`,
                  { storage: d.storageId, id: d.driveId, name: d.name, model: d.model, serialNumber: d.serialNumber },
                ])
              : [],
          ),
        },
        bmc: emulatedBmcView(bmc),
        subscriptionLimit: SUBSCRIPTION_LIMIT,
        close: async () => {
          provisioner.close();
          await Promise.resolve();
        },
      };
    });
    after(async () => {
      await target?.close();
      await Promise.all([fleet?.close(), ironic?.close()]);
    });

    it("names only existing cases as needing a disk light", () => {
      const names = new Set(conformanceCases.map((c) => c.name));
      for (const name of NEEDS_DISK_LIGHT) assert.ok(names.has(name), `no conformance case named ${JSON.stringify(name)}`);
    });

    for (const c of conformanceCases) {
      it(c.name, async (t) => {
        assert.ok(target, "setup failed");
        if (!diskLights && NEEDS_DISK_LIGHT.includes(c.name)) {
          t.skip("this Ironic lists no disk lights (Ironic < 23.1 reads them from SimpleStorage, which sushy 4.3.3 cannot)");
          return;
        }
        await c.run(target, (reason) => t.skip(reason));
      });
    }
  });
}

/**
 * How the Ironic provisioner names the drive behind a disk light
 * (`src/provisioner/ironic/drive-details.ts`), against the Redfish BMC
 * emulator over real HTTP, without Ironic: what it reads, what it costs in
 * BMC requests, and what it does when the BMC cannot be read.
 *
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { HostIndicator } from "../../src/api/baremetalhost.ts";
import { DriveDetails } from "../../src/provisioner/ironic/drive-details.ts";
import type { HostAccess } from "../../src/provisioner/provisioner.ts";
import { type EmulatedBmcInfo, type RunningBmcFleet, startBmcFleet } from "../../emulators/redfish-bmc/index.ts";

/** The host's access; `systemPath` null for an address that names no system. */
function accessTo(info: EmulatedBmcInfo, systemPath: string | null = info.systemPath, password = info.password): HostAccess {
  return {
    namespace: "drives",
    name: `host-${info.index}`,
    address: `${info.url.replace(/^http:/, "redfish+http:")}${systemPath ?? ""}`,
    disableCertificateVerification: false,
    username: info.username,
    password,
  };
}

/** The lights as Ironic lists them: the system's, and each drive's with only the IDs from its name. */
function ironicLights(info: EmulatedBmcInfo): HostIndicator[] {
  return [
    { id: `${info.systemUUID}@system`, component: "system", readonly: false, states: ["blinking", "off", "on"] },
    ...info.drives.map(
      (d): HostIndicator => ({
        id: `${d.storageId}:${d.driveId}@disk`,
        component: "disk",
        readonly: false,
        states: ["blinking", "off", "on"],
        drive: { storage: d.storageId, id: d.driveId },
      }),
    ),
  ];
}

const named = (info: EmulatedBmcInfo) =>
  info.drives.map((d) => ({ storage: d.storageId, id: d.driveId, name: d.name, model: d.model, serialNumber: d.serialNumber }));

describe("the Ironic provisioner's drive details, against the BMC emulator", () => {
  let fleet: RunningBmcFleet;
  before(async () => {
    fleet = await startBmcFleet({ count: 4, drivesPerSystem: 3 });
  });
  after(() => fleet?.close());

  it("reads each Drive once at its normative URI, and nothing more the next time", async () => {
    const info = fleet.bmcs[0]!;
    const bmc = fleet.bmc(0);
    const details = new DriveDetails();
    try {
      bmc.resetStats();
      const first = await details.complete(accessTo(info), ironicLights(info));
      assert.deepEqual(first.filter((i) => i.component === "disk").map((i) => i.drive), named(info));
      assert.deepEqual(first[0], ironicLights(info)[0], "the system light is left as it was");
      assert.deepEqual(
        bmc.stats().byMethodPath,
        Object.fromEntries(info.drives.map((d) => [`GET ${info.systemPath}/Storage/${d.storageId}/Drives/${d.driveId}`, 1])),
      );
      bmc.resetStats();
      assert.deepEqual(await details.complete(accessTo(info), ironicLights(info)), first);
      assert.equal(bmc.stats().total, 0);
    } finally {
      await details.close();
    }
  });

  it("walks the inventory once when the address names no system", async () => {
    const info = fleet.bmcs[1]!;
    const bmc = fleet.bmc(1);
    const details = new DriveDetails();
    try {
      bmc.resetStats();
      const lights = await details.complete(accessTo(info, null), ironicLights(info));
      assert.deepEqual(lights.filter((i) => i.component === "disk").map((i) => i.drive), named(info));
      const gets = bmc.stats().byMethodPath;
      assert.equal(gets["GET /redfish/v1/"], 1, JSON.stringify(gets));
      for (const d of info.drives) assert.equal(gets[`GET ${info.systemPath}/Storage/${d.storageId}/Drives/${d.driveId}`], 1);
    } finally {
      await details.close();
    }
  });

  it("keeps Ironic's IDs, remembering nothing, when the BMC refuses the credentials", async () => {
    const info = fleet.bmcs[2]!;
    const details = new DriveDetails();
    try {
      const refused = await details.complete(accessTo(info, info.systemPath, "not-the-password"), ironicLights(info));
      assert.deepEqual(refused, ironicLights(info));
      const lights = await details.complete(accessTo(info), ironicLights(info));
      assert.deepEqual(lights.filter((i) => i.component === "disk").map((i) => i.drive), named(info));
    } finally {
      await details.close();
    }
  });

  it("keeps Ironic's IDs for a light whose drive the BMC does not have", async () => {
    const info = fleet.bmcs[3]!;
    const details = new DriveDetails();
    try {
      const ghost: HostIndicator = {
        id: "RAID.Integrated.1-1:Disk.Bay.99@disk",
        component: "disk",
        readonly: false,
        states: ["off", "on"],
        drive: { storage: "RAID.Integrated.1-1", id: "Disk.Bay.99" },
      };
      const lights = await details.complete(accessTo(info), [...ironicLights(info), ghost]);
      assert.deepEqual(lights.at(-1), ghost);
      assert.deepEqual(lights.filter((i) => i.component === "disk").slice(0, -1).map((i) => i.drive), named(info));
    } finally {
      await details.close();
    }
  });
});

/**
 * What the Ironic provisioner does beyond the shared conformance suite,
 * against real Ironic and the Redfish BMC emulator: enrolment with Metal3's
 * node name and `driver_info`, keeping `driver_info` in step, finding nodes
 * by UUID then name, registration switched off, fake-hardware lights, an
 * unreachable BMC, and Ironic stopped and started again.
 *
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type EmulatedBmcInfo, type RunningBmcFleet, startBmcFleet } from "../../emulators/redfish-bmc/index.ts";
import { IronicClient } from "../../src/provisioner/ironic/client.ts";
import { IronicProvisioner } from "../../src/provisioner/ironic/provisioner.ts";
import { type HostAccess, ProvisionerError, type ProvisionerErrorKind } from "../../src/provisioner/provisioner.ts";
import { type IronicServer, ironicReleases, ironicSkipReason, startIronic } from "../support/ironic.ts";

function accessTo(info: EmulatedBmcInfo, name: string, extra: Partial<HostAccess> = {}): HostAccess {
  return {
    namespace: "prov",
    name,
    address: `${info.url.replace(/^http:/, "redfish+http:")}${info.systemPath}`,
    disableCertificateVerification: false,
    username: info.username,
    password: info.password,
    ...extra,
  };
}

async function expectKind(kind: ProvisionerErrorKind, call: Promise<unknown>): Promise<ProvisionerError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof ProvisionerError, `expected a ProvisionerError, got ${String(error)}`);
    assert.equal(error.kind, kind, error.message);
    return error;
  }
  assert.fail(`expected ${kind}, but the call succeeded`);
}

for (const release of ironicReleases()) {
  describe(`Ironic provisioner against real Ironic (${release.label})`, { skip: ironicSkipReason(release) }, () => {
    let ironic: IronicServer;
    let fleet: RunningBmcFleet;
    let client: IronicClient;
    let provisioner: IronicProvisioner;

    before(async () => {
      [ironic, fleet] = await Promise.all([startIronic({ release }), startBmcFleet({ count: 3 })]);
      client = new IronicClient({ endpoint: ironic.url });
      provisioner = new IronicProvisioner({ client: { endpoint: ironic.url } });
    });
    after(async () => {
      provisioner?.close();
      client?.close();
      await Promise.all([fleet?.close(), ironic?.close()]);
    });

    const nodeNames = async (): Promise<string[]> => {
      const response = await fetch(`${ironic.url}/v1/nodes`, { headers: { "X-OpenStack-Ironic-API-Version": "1.63" } });
      return ((await response.json()) as { nodes: { name: string }[] }).nodes.map((n) => n.name).sort();
    };

    it("enrolls a host as a redfish node named <namespace>~<name>, with driver_info from its BMC details", async () => {
      const info = fleet.bmcs[0]!;
      const registration = await provisioner.registerHost(accessTo(info, "host-0"));
      const node = await client.getNode("prov~host-0");
      assert.equal(registration.provisioningID, node.uuid);
      assert.equal(node.driver, "redfish");
      assert.deepEqual(node.driver_info, {
        redfish_address: info.url,
        redfish_system_id: info.systemPath,
        redfish_username: info.username,
        redfish_password: "******",
      });
      // Ironic ≥ 23.1 lists each drive's light; the provisioner adds the drive's name, model and serial number.
      const disks = release.listsDiskLights
        ? info.drives.map((d) => ({
            id: `${d.storageId}:${d.driveId}@disk`,
            component: "disk",
            readonly: false,
            states: ["blinking", "off", "on"],
            drive: { storage: d.storageId, id: d.driveId, name: d.name, model: d.model, serialNumber: d.serialNumber },
          }))
        : [];
      assert.deepEqual(registration.indicators, [
        { id: `${info.chassisUUID}@chassis`, component: "chassis", readonly: false, states: ["blinking", "off", "on"] },
        { id: `${info.systemUUID}@system`, component: "system", readonly: false, states: ["blinking", "off", "on"] },
        ...disks,
      ].sort((a, b) => (a.id < b.id ? -1 : 1)));
    });

    it("reads each Drive once, at the host's first registration, to name its disk light", async (t) => {
      if (!release.listsDiskLights) {
        t.skip(`${release.label} lists no disk lights (Ironic < 23.1 reads them from SimpleStorage, which sushy 4.3.3 cannot)`);
        return;
      }
      const info = fleet.bmcs[2]!;
      const bmc = fleet.bmc(2);
      const host = accessTo(info, "drives-0");
      const drivePaths = info.drives.map((d) => `GET ${info.systemPath}/Storage/${d.storageId}/Drives/${d.driveId}`);
      const driveGets = (): number[] => drivePaths.map((p) => bmc.stats().byMethodPath[p] ?? 0);
      // Enrolled by one provisioner, registered by a fresh one: the same calls through Ironic each time.
      await provisioner.registerHost(host);
      const fresh = new IronicProvisioner({ client: { endpoint: ironic.url } });
      try {
        bmc.resetStats();
        const first = await fresh.registerHost(host);
        const firstGets = driveGets();
        bmc.resetStats();
        const again = await fresh.registerHost(host);
        const againGets = driveGets();
        // Ironic reads every Drive for its list each time; the provisioner one more GET per drive, the first time only.
        assert.deepEqual(
          firstGets.map((n, i) => n - againGets[i]!),
          drivePaths.map(() => 1),
          `drive GETs: first registration ${JSON.stringify(firstGets)}, second ${JSON.stringify(againGets)}`,
        );
        assert.deepEqual(again.indicators, first.indicators);
        for (const d of info.drives) {
          const light = first.indicators.find((i) => i.id === `${d.storageId}:${d.driveId}@disk`);
          assert.deepEqual(light?.drive, { storage: d.storageId, id: d.driveId, name: d.name, model: d.model, serialNumber: d.serialNumber });
        }
      } finally {
        fresh.close();
      }
    });

    it("keeps Ironic's storage and drive IDs when the operator cannot read the drives", async (t) => {
      if (!release.listsDiskLights) {
        t.skip(`${release.label} lists no disk lights (Ironic < 23.1 reads them from SimpleStorage, which sushy 4.3.3 cannot)`);
        return;
      }
      const info = fleet.bmcs[2]!;
      // listIndicators leaves driver_info alone: Ironic keeps the right password, the operator's own reads get 401.
      const reader = new IronicProvisioner({ client: { endpoint: ironic.url } });
      try {
        const lights = await reader.listIndicators({ ...accessTo(info, "drives-0"), password: "not-the-bmc-password" });
        const disks = lights.filter((i) => i.component === "disk");
        assert.deepEqual(
          disks.map((i) => i.drive),
          info.drives.map((d) => ({ storage: d.storageId, id: d.driveId })),
        );
        // Nothing is remembered of the failure: with the right credentials the next listing names the drives.
        const named = (await reader.listIndicators(accessTo(info, "drives-0"))).filter((i) => i.component === "disk");
        assert.deepEqual(
          named.map((i) => i.drive),
          info.drives.map((d) => ({ storage: d.storageId, id: d.driveId, name: d.name, model: d.model, serialNumber: d.serialNumber })),
        );
      } finally {
        reader.close();
      }
    });

    it("registers again without a second node or a needless write", async () => {
      const host = accessTo(fleet.bmcs[0]!, "host-0");
      const before = await client.getNode("prov~host-0");
      const again = await provisioner.registerHost({ ...host, provisioningID: before.uuid });
      assert.equal(again.provisioningID, before.uuid);
      assert.equal((await client.getNode(before.uuid)).updated_at, before.updated_at, "the node was not written");
      assert.equal((await nodeNames()).filter((n) => n === "prov~host-0").length, 1);
    });

    it("brings driver_info back in step when the host's BMC details change", async () => {
      const info = fleet.bmcs[0]!;
      const host = accessTo(info, "host-0");
      // Someone changed the node behind the operator's back.
      const node = await client.patchNode("prov~host-0", [
        { op: "add", path: "/driver_info/redfish_address", value: "http://127.0.0.1:1" },
        { op: "add", path: "/driver_info/redfish_username", value: "intruder" },
      ]);
      await provisioner.registerHost({ ...host, disableCertificateVerification: true });
      let info0 = (await client.getNode(node.uuid)).driver_info;
      assert.equal(info0.redfish_address, info.url);
      assert.equal(info0.redfish_username, info.username);
      assert.equal(info0.redfish_verify_ca, false);
      await provisioner.registerHost(host);
      info0 = (await client.getNode(node.uuid)).driver_info;
      assert.equal(info0.redfish_verify_ca, undefined, "verification is back to Ironic's default (on)");
    });

    it("writes a changed password, which the BMC then accepts", async () => {
      const info = fleet.bmcs[1]!;
      const good = accessTo(info, "host-1");
      await expectKind("Unauthorized", provisioner.registerHost({ ...good, password: "not-the-password" }));
      const light = `${info.systemUUID}@system`;
      await expectKind("Unauthorized", provisioner.getIndicator(good, light));
      await provisioner.registerHost(good);
      await provisioner.setIndicator(good, light, "blinking");
      assert.equal(fleet.bmc(1).lights().system, "Blinking");
    });

    it("finds a node by its UUID first, and by name when the UUID is stale", async () => {
      const info = fleet.bmcs[2]!;
      // Registered by another component under a name of its own.
      const other = await client.createNode({
        name: "registered-elsewhere",
        driver: "redfish",
        driver_info: {
          redfish_address: info.url,
          redfish_system_id: info.systemPath,
          redfish_username: info.username,
          redfish_password: info.password,
        },
      });
      const host = accessTo(info, "host-2", { provisioningID: other.uuid });
      assert.equal((await provisioner.registerHost(host)).provisioningID, other.uuid);
      assert.equal(await provisioner.getIndicator(host, `${info.systemUUID}@system`), "off");
      assert.ok(!(await nodeNames()).includes("prov~host-2"), "no second node was enrolled");

      const stale = accessTo(fleet.bmcs[0]!, "host-0", { provisioningID: "0b3e1c5a-0000-4000-8000-000000000000" });
      const byName = await client.getNode("prov~host-0");
      assert.equal((await provisioner.registerHost(stale)).provisioningID, byName.uuid);
      await provisioner.setIndicator(stale, `${fleet.bmcs[0]!.chassisUUID}@chassis`, "on");
      assert.equal(fleet.bmc(0).lights().chassis, "Lit");
    });

    it("with registration off, only looks nodes up and never writes them", async () => {
      const lookupOnly = new IronicProvisioner({ client, registerHosts: false });
      const missing = accessTo(fleet.bmcs[0]!, "never-enrolled");
      const error = await expectKind("HostNotFound", lookupOnly.registerHost(missing));
      assert.match(error.message, /no node "prov~never-enrolled".*registration is off/);
      assert.ok(!(await nodeNames()).includes("prov~never-enrolled"));

      // A node someone else enrolled, with other credentials than the host's: left as it is.
      const node = await client.getNode("prov~host-0");
      const found = await lookupOnly.registerHost({ ...accessTo(fleet.bmcs[0]!, "host-0"), username: "someone-else" });
      assert.equal(found.provisioningID, node.uuid);
      assert.equal((await client.getNode(node.uuid)).updated_at, node.updated_at);
    });

    it("lists fake-hardware lights, read-only ones included, and reports a driver that cannot switch them", async () => {
      await client.createNode({ name: "prov~fake-0", driver: "fake-hardware", driver_info: {} });
      const lookupOnly = new IronicProvisioner({ client, registerHosts: false });
      const host = accessTo(fleet.bmcs[0]!, "fake-0");
      assert.deepEqual(await lookupOnly.listIndicators(host), [
        { id: "led-0@chassis", component: "chassis", readonly: true, states: ["off", "on"] },
        { id: "led@system", component: "system", readonly: false, states: ["blinking", "off", "on"] },
      ]);
      assert.equal(await lookupOnly.getIndicator(host, "led@system"), "on");
      const error = await expectKind("Rejected", lookupOnly.setIndicator(host, "led@system", "off"));
      assert.match(error.message, /host prov\/fake-0: cannot set indicator led@system to off: .*does not support set_indicator_state/);
      const unknown = await expectKind("IndicatorNotFound", lookupOnly.getIndicator(host, "led-9@system"));
      assert.match(unknown.message, /led-9@system/);
    });

    it("refuses an address Ironic's redfish driver cannot use, naming it without credentials", async () => {
      const error = await expectKind(
        "Unsupported",
        provisioner.registerHost({ ...accessTo(fleet.bmcs[0]!, "ipmi-host"), address: "ipmi://10.0.0.9:623" }),
      );
      assert.match(error.message, /"ipmi:\/\/10\.0\.0\.9:623" uses ipmi:\/\//);
      assert.ok(!(await nodeNames()).includes("prov~ipmi-host"));
    });

    it("reports an unreachable BMC as Transient and keeps the node for the next try", async () => {
      const host: HostAccess = { ...accessTo(fleet.bmcs[0]!, "unreachable"), address: "redfish+http://127.0.0.1:1/redfish/v1/Systems/1" };
      const error = await expectKind("Transient", provisioner.registerHost(host));
      assert.match(error.message, /Redfish connection failed/);
      assert.ok(!error.message.includes(host.password));
      assert.ok((await nodeNames()).includes("prov~unreachable"));
    });

    it("reports Ironic down as ProvisionerUnavailable, and works again once it is back", async () => {
      const host = accessTo(fleet.bmcs[0]!, "host-0");
      const light = `${fleet.bmcs[0]!.systemUUID}@system`;
      await provisioner.setIndicator(host, light, "off");
      await ironic.stop();
      try {
        const error = await expectKind("ProvisionerUnavailable", provisioner.getIndicator(host, light));
        assert.match(error.message, /failed \(connection\)/);
      } finally {
        await ironic.start();
      }
      // The kept-alive connection from before the restart is gone; the provisioner does not notice.
      await provisioner.setIndicator(host, light, "on");
      assert.equal(await provisioner.getIndicator(host, light), "on");
      assert.equal(fleet.bmc(0).lights().system, "Lit");
    });
  });
}

/**
 * The Redfish provisioner against real vendors' resource trees
 * (`../shared/redfish-vendor-trees/`, read at run time, never copied into the
 * project), each served as a static BMC: every light listed (with a stable ID
 * where the resource has no UUID), no path read twice in a registration, one
 * light switched on and off with one read and one write each and checked on
 * the BMC, and one subscription created and deleted.
 *
 * @module
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BmcCallLimiter } from "../../src/provisioner/limiter.ts";
import type { HostAccess } from "../../src/provisioner/provisioner.ts";
import { RedfishProvisioner } from "../../src/provisioner/redfish/redfish-provisioner.ts";
import { STATIC_TREE_STYLES, startStaticTree, type StaticTreeBmc, VENDOR_TREES } from "../support/static-redfish-tree.ts";

/** Per tree: the system's path, every light the BMC has, the one to switch, and what "on" looks like on the BMC. */
const TREES: Record<
  string,
  { system: string; lights: string[]; toggle: string; onProperty: [string, unknown]; offProperty: [string, unknown]; eventTypes?: string[] }
> = {
  "dell-idrac8": {
    system: "/redfish/v1/Systems/System.Embedded.1",
    lights: ["4c4c4544-0032-5810-8042-c7c04f4b5931@system", "System.Embedded.1@chassis"],
    // The chassis has no UUID, and on a Dell chassis Blinking identifies (Lit is its normal state).
    toggle: "System.Embedded.1@chassis",
    onProperty: ["IndicatorLED", "Blinking"],
    offProperty: ["IndicatorLED", "Lit"],
  },
  gigabyte: {
    system: "/redfish/v1/Systems/Self",
    lights: ["e9184000-7983-11ec-8000-b42e99bade15@system", "009ea76e-debf-0010-e803-b42e99bade17@chassis"],
    toggle: "009ea76e-debf-0010-e803-b42e99bade17@chassis",
    onProperty: ["IndicatorLED", "Lit"],
    offProperty: ["IndicatorLED", "Off"],
  },
  "hpe-ilo5": {
    system: "/redfish/v1/Systems/1",
    lights: ["38334C44-4735-534A-3035-4E5030383936@system", "1@chassis", "DE07A000:0@disk", "DE07A000:3@disk"],
    toggle: "DE07A000:3@disk",
    onProperty: ["LocationIndicatorActive", true],
    offProperty: ["LocationIndicatorActive", false],
    eventTypes: ["StatusChange", "ResourceUpdated", "ResourceAdded", "ResourceRemoved", "Alert"],
  },
  intel: {
    system: "/redfish/v1/Systems/QSBP74100021",
    lights: ["3504bf7d-ae5b-11e7-ab21-a4bf012890a8@system"],
    toggle: "3504bf7d-ae5b-11e7-ab21-a4bf012890a8@system",
    onProperty: ["IndicatorLED", "Lit"],
    offProperty: ["IndicatorLED", "Off"],
    eventTypes: ["Alert"],
  },
  openbmc: {
    // No UUID on the system: its light is named by its Id. LocationIndicatorActive is preferred.
    system: "/redfish/v1/Systems/system",
    lights: ["system@system"],
    toggle: "system@system",
    onProperty: ["LocationIndicatorActive", true],
    offProperty: ["LocationIndicatorActive", false],
  },
  supermicro: {
    system: "/redfish/v1/Systems/1",
    lights: ["B11CC600-6D10-11EC-8000-3CECEFC846F8@system"],
    toggle: "B11CC600-6D10-11EC-8000-3CECEFC846F8@system",
    onProperty: ["LocationIndicatorActive", true],
    offProperty: ["LocationIndicatorActive", false],
  },
};

const present = existsSync(VENDOR_TREES);
const trees = present ? readdirSync(VENDOR_TREES, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : [];

describe("redfish provisioner on real vendors' resource trees", { skip: present ? false : `${VENDOR_TREES} is absent` }, () => {
  it("knows every tree the folder holds", () => {
    assert.deepEqual(trees.toSorted(), Object.keys(TREES).toSorted());
  });

  for (const tree of Object.keys(TREES)) {
    describe(tree, () => {
      const expected = TREES[tree]!;
      let bmc: StaticTreeBmc;
      let provisioner: RedfishProvisioner;
      let host: HostAccess;
      before(async () => {
        bmc = await startStaticTree(join(VENDOR_TREES, tree), STATIC_TREE_STYLES[tree]!);
        provisioner = new RedfishProvisioner({ limiter: new BmcCallLimiter({ perKey: 1 }) });
        host = {
          namespace: "vendors",
          name: tree,
          address: `${bmc.address}${expected.system}`,
          disableCertificateVerification: false,
          username: bmc.username,
          password: bmc.password,
        };
      });
      after(async () => {
        await provisioner.close();
        await bmc.close();
      });

      it("lists every light, reading no path twice", async () => {
        const registration = await provisioner.registerHost(host);
        assert.deepEqual(registration.indicators.map((i) => i.id).toSorted(), expected.lights.toSorted());
        assert.equal(registration.unusableLights, undefined);
        const gets = bmc.log.filter((r) => r.method === "GET").map((r) => r.path.replace(/\/+$/, ""));
        const repeated = gets.filter((path, i) => gets.indexOf(path) !== i);
        assert.deepEqual(repeated, [], `paths read more than once: ${repeated.join(", ")}`);
      });

      it(`switches ${expected.toggle} on and off with one read and one write each`, async () => {
        const light = (await provisioner.listIndicators(host)).find((i) => i.id === expected.toggle);
        assert.ok(light, `${expected.toggle} is not listed`);
        const path = bmc.log.findLast((r) => r.method === "GET" && bmc.resource(r.path) !== undefined && lightOf(bmc.resource(r.path)!, light.id))?.path;
        assert.ok(path, `no resource of ${light.id} was read`);
        for (const [state, [property, value]] of [
          ["on", expected.onProperty],
          ["off", expected.offProperty],
        ] as const) {
          const from = bmc.log.length;
          const before = await provisioner.getIndicator(host, light.id);
          assert.notEqual(before, state);
          await provisioner.setIndicator(host, light.id, state);
          assert.deepEqual(
            bmc.log.slice(from).map((r) => `${r.method} ${r.path.replace(/\/+$/, "")}`),
            [`GET ${path.replace(/\/+$/, "")}`, `PATCH ${path.replace(/\/+$/, "")}`],
          );
          assert.equal(bmc.resource(path)![property], value, `${property} on the BMC after switching ${state}`);
        }
      });

      it("creates and deletes one subscription", async () => {
        const destination = "https://receiver.example:8443/events";
        const created = await provisioner.createSubscription(host, { destination, context: `bmc-operator ${tree}`, httpHeaders: {} });
        const post = bmc.log.findLast((r) => r.method === "POST")!;
        assert.equal(post.body.Protocol, "Redfish");
        assert.deepEqual(post.body.EventTypes, expected.eventTypes, "EventTypes sent only where the EventService filters by them");
        assert.ok(
          bmc.subscriptionPaths().some((p) => p.replace(/\/+$/, "").endsWith(`/${created.id}`)),
          `subscription ${created.id} is not on the BMC`,
        );
        const listed = await provisioner.listSubscriptions(host);
        assert.ok(listed.some((s) => s.id === created.id && s.destination === destination));
        assert.equal(await provisioner.deleteSubscription(host, created.id), "deleted");
        assert.ok(!bmc.subscriptionPaths().some((p) => p.replace(/\/+$/, "").endsWith(`/${created.id}`)));
      });
    });
  }
});

/** Whether `resource` is the one light `id` names (by UUID or Id, or a drive's Id). */
function lightOf(resource: Record<string, unknown>, id: string): boolean {
  const name = id.slice(0, id.indexOf("@"));
  if (id.endsWith("@disk")) return resource.Id === name.slice(name.indexOf(":") + 1) && String(resource["@odata.id"]).includes("/Drives/");
  return resource.UUID === name || (resource.UUID === undefined && resource.Id === name);
}

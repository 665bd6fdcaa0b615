/**
 * What a reading keeps of a resource (`lightMembers`) is enough to read and
 * switch its light as the whole body would, on every resource with a light in
 * real vendors' trees (`../shared/redfish-vendor-trees/`, read at run time).
 *
 * @module
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import type { IndicatorState } from "../../src/provisioner/provisioner.ts";
import { lightMembers, lightPatch, lightProperties, readLight } from "../../src/provisioner/redfish/light.ts";
import { VENDOR_TREES } from "../support/static-redfish-tree.ts";

const STATES: IndicatorState[] = ["on", "off", "blinking", "unknown"];

/** Every `index.json` under `dir`. */
function resources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name === "index.json")
    .map((entry) => join(entry.parentPath, entry.name));
}

describe("what a light's reading keeps, on real vendors' resources", { skip: existsSync(VENDOR_TREES) ? false : `${VENDOR_TREES} is absent` }, () => {
  it("reads and switches every light as its whole body does", () => {
    let lights = 0;
    const vendors = new Set<string>();
    for (const file of resources(VENDOR_TREES)) {
      const body = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
      if (lightProperties(body) === undefined) continue;
      const where = relative(VENDOR_TREES, file);
      const kept = lightMembers(body);
      assert.ok(Object.keys(kept).length < Object.keys(body).length, `${where}: kept everything`);
      assert.deepEqual(lightProperties(kept), lightProperties(body), where);
      assert.equal(readLight(kept), readLight(body), where);
      for (const state of STATES) assert.deepEqual(lightPatch(kept, state), lightPatch(body, state), `${where}: ${state}`);
      lights++;
      vendors.add(where.split("/")[0]!);
    }
    // Each of the six trees has at least a system light.
    assert.equal(vendors.size, 6, [...vendors].join(", "));
    assert.ok(lights >= 10, `only ${lights} resources with a light`);
  });
});

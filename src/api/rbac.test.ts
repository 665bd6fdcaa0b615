/**
 * The RBAC manifests are generated from the controllers' declarations: the
 * checked-in files match, and rules are merged as RBAC reads them.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { permissionOn, permittedCalls } from "../runtime/index.ts";
import { INSTALLS, installPermissions, METAL3_INSTALL, policyRules, renderRbacManifests } from "./rbac.ts";

const root = join(import.meta.dirname, "..", "..");

describe("generated RBAC", () => {
  it("config/rbac and config/metal3/rbac are checked in exactly as the declarations generate them (run `npm run generate`)", () => {
    for (const install of INSTALLS) {
      for (const [path, content] of renderRbacManifests(install)) {
        assert.equal(readFileSync(join(root, path), "utf8"), content, `${path} differs from what the permission declarations generate`);
      }
    }
  });

  it("the metal3 install only reads what the Metal3 baremetal-operator owns: hosts watched, Secrets read one GET at a time", () => {
    const calls = permittedCalls(installPermissions(METAL3_INSTALL));
    const theirs = calls.filter((call) => / (baremetalhosts|secrets|bmceventsubscriptions)\b/.test(call));
    assert.deepEqual(theirs, ['get "" secrets', "list metal3.io baremetalhosts", "watch metal3.io baremetalhosts"]);
    assert.ok(calls.includes("create metal3.io hostindicators") && calls.includes("patch metal3.io baremetalhostserviceindicators/status"), calls.join("\n"));
    assert.throws(() => installPermissions({ ...METAL3_INSTALL, controllers: ["baremetalhost"] }), /controller "baremetalhost" does not run in metal3 mode/);
  });

  it("merges verbs per resource and resources with the same verbs, per scope", () => {
    const hosts = { group: "metal3.io", plural: "hosts" };
    const rules = policyRules(
      [
        permissionOn(hosts, ["watch", "list"]),
        permissionOn(hosts, ["patch"]),
        permissionOn({ group: "metal3.io", plural: "lights" }, ["list", "patch", "watch"]),
        permissionOn(hosts, ["patch"], { subresource: "status" }),
        permissionOn({ group: "", plural: "secrets" }, ["get"], { scope: "own-namespace" }),
        permissionOn({ group: "apiextensions.k8s.io", plural: "customresourcedefinitions" }, ["get"], { resourceNames: ["hosts.metal3.io"] }),
      ],
      "cluster",
    );
    assert.deepEqual(rules, [
      { apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], resourceNames: ["hosts.metal3.io"], verbs: ["get"] },
      { apiGroups: ["metal3.io"], resources: ["hosts", "lights"], verbs: ["list", "patch", "watch"] },
      { apiGroups: ["metal3.io"], resources: ["hosts/status"], verbs: ["patch"] },
    ]);
  });

  it("an install of one controller without leader election gets only that controller's calls", () => {
    const calls = permittedCalls(installPermissions({ controllers: ["baremetalhostserviceindicator"], leaderElection: false }));
    assert.ok(calls.includes("patch metal3.io baremetalhostserviceindicators/status"));
    assert.ok(!calls.some((call) => call.includes("bmceventsubscriptions") || call.includes("leases")), calls.join("\n"));
  });
});

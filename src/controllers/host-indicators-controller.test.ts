import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BareMetalHost } from "../api/baremetalhost.ts";
import { lightsFingerprint } from "./host-indicators-controller.ts";

/** A host as BMO writes it, at its `n`-th periodic status write. */
function host(n: number): BareMetalHost {
  return {
    apiVersion: "metal3.io/v1alpha1",
    kind: "BareMetalHost",
    metadata: { name: "worker-0", namespace: "metal3", uid: "u-1", resourceVersion: String(100 + n) },
    spec: { online: true, bmc: { address: "redfish://192.0.2.1/redfish/v1/Systems/1", credentialsName: "worker-0-bmc" } },
    status: {
      operationalStatus: "OK",
      errorMessage: "",
      provisioning: { ID: "node-1", state: "provisioned" },
      goodCredentials: { credentials: { name: "worker-0-bmc", namespace: "metal3" }, credentialsVersion: "7" },
      hardware: {
        systemVendor: { manufacturer: "Contoso", serialNumber: "SN1" },
        storage: [{ name: "/dev/sda", serialNumber: "D1", model: "M" }],
        nics: [{ name: "eth0", ip: `192.0.2.${10 + n}` }],
      },
      lastUpdated: `2026-01-01T00:00:0${n}Z`,
      poweredOn: n % 2 === 0,
      operationHistory: { provision: { start: "2026-01-01T00:00:00Z", end: `2026-01-01T00:00:0${n}Z` } },
    } as BareMetalHost["status"],
  };
}

describe("lightsFingerprint", () => {
  it("is the same across BMO's periodic status rewrites (timestamps, power, NIC addresses, key order)", () => {
    const first = lightsFingerprint(host(0), undefined);
    assert.equal(lightsFingerprint(host(1), undefined), first);
    const reordered = host(2);
    const hardware = reordered.status!.hardware as Record<string, unknown>;
    reordered.status!.hardware = Object.fromEntries(Object.entries(hardware).reverse());
    assert.equal(lightsFingerprint(reordered, undefined), first);
  });

  it("changes with the node, the BMC address, validated credentials, a swapped drive, the host's UID or a refresh", () => {
    const first = lightsFingerprint(host(0), undefined);
    const variants: [string, (h: BareMetalHost) => void][] = [
      ["node", (h) => (h.status!.provisioning!.ID = "node-2")],
      ["address", (h) => (h.spec.bmc!.address = "redfish://192.0.2.2/redfish/v1/Systems/1")],
      ["credentials", (h) => (h.status!.goodCredentials!.credentialsVersion = "8")],
      ["drive", (h) => ((h.status!.hardware as { storage: { serialNumber: string }[] }).storage[0]!.serialNumber = "D2")],
      ["uid", (h) => (h.metadata.uid = "u-2")],
    ];
    for (const [what, edit] of variants) {
      const changed = host(0);
      edit(changed);
      assert.notEqual(lightsFingerprint(changed, undefined), first, what);
    }
    assert.notEqual(lightsFingerprint(host(0), "2026-01-01"), first, "refresh");
  });
});

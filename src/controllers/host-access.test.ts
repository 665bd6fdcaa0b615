import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BareMetalHost } from "../api/baremetalhost.ts";
import { HostAccessError, hostAccessFrom } from "./host-access.ts";

const host: BareMetalHost = {
  apiVersion: "metal3.io/v1alpha1",
  kind: "BareMetalHost",
  metadata: { name: "worker-1", namespace: "ns" },
  spec: { bmc: { address: "redfish+http://127.0.0.1:8000/redfish/v1/Systems/1", credentialsName: "worker-1-bmc" } },
  status: { provisioning: { ID: "node-uuid" } },
};
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("hostAccessFrom", () => {
  it("combines the host's BMC details with the Secret's username and password", () => {
    const access = hostAccessFrom(host, { data: { username: b64("admin"), password: b64("pw") } });
    assert.deepEqual(access, {
      namespace: "ns",
      name: "worker-1",
      address: "redfish+http://127.0.0.1:8000/redfish/v1/Systems/1",
      disableCertificateVerification: false,
      username: "admin",
      password: "pw",
      provisioningID: "node-uuid",
    });
  });

  it("says which Secret is missing", () => {
    assert.throws(
      () => hostAccessFrom(host, undefined),
      (e: unknown) =>
        e instanceof HostAccessError &&
        e.reason === "CredentialsMissing" &&
        e.message === 'credentials Secret "ns/worker-1-bmc" of BareMetalHost "worker-1" not found',
    );
  });

  it("says which key is missing, without showing the other's value", () => {
    assert.throws(
      () => hostAccessFrom(host, { data: { username: b64("admin-name") } }),
      (e: unknown) =>
        e instanceof HostAccessError &&
        e.message.includes('has no "password" key') &&
        !e.message.includes("admin-name"),
    );
  });

  it("rejects a host without a BMC address", () => {
    assert.throws(() => hostAccessFrom({ ...host, spec: {} }, undefined), /has no spec\.bmc\.address/);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HostAccess } from "../provisioner.ts";
import { driverInfoPatch, redfishDriverInfo, redfishEndpoint, UnsupportedAddressError } from "./driver-info.ts";

const host: HostAccess = {
  namespace: "ns",
  name: "h",
  address: "redfish+http://127.0.0.1:8000/redfish/v1/Systems/1",
  disableCertificateVerification: false,
  username: "admin",
  password: "pw-1",
};

describe("Ironic driver_info", () => {
  it("splits Metal3 Redfish addresses as the baremetal-operator does", () => {
    assert.deepEqual(redfishEndpoint("redfish://10.0.0.5/redfish/v1/Systems/1"), {
      address: "https://10.0.0.5",
      systemId: "/redfish/v1/Systems/1",
    });
    assert.deepEqual(redfishEndpoint("redfish+http://127.0.0.1:8000/redfish/v1/Systems/1/"), {
      address: "http://127.0.0.1:8000",
      systemId: "/redfish/v1/Systems/1",
    });
    assert.deepEqual(redfishEndpoint("redfish-virtualmedia+https://[fd00::5]:8443"), { address: "https://[fd00::5]:8443" });
    assert.deepEqual(redfishEndpoint("REDFISH://bmc.example/"), { address: "https://bmc.example" });
    assert.deepEqual(redfishEndpoint("redfish://bmc.example/redfish/v1/"), { address: "https://bmc.example" });
  });

  it("refuses other schemes and credentials in the address, naming the address", () => {
    assert.throws(() => redfishEndpoint("ipmi://10.0.0.5"), (e: Error) => e instanceof UnsupportedAddressError && /ipmi:\/\//.test(e.message));
    assert.throws(() => redfishEndpoint("10.0.0.5"), /"10\.0\.0\.5" has no scheme/);
    assert.throws(() => redfishEndpoint("redfish://u:p@10.0.0.5/"), /must not hold credentials/);
    assert.throws(() => redfishEndpoint("ipmi://admin:hunter2@10.0.0.5"), (e: Error) => !e.message.includes("hunter2"));
  });

  it("builds driver_info with credentials, and turns verification off only when asked", () => {
    assert.deepEqual(redfishDriverInfo(host), {
      redfish_address: "http://127.0.0.1:8000",
      redfish_system_id: "/redfish/v1/Systems/1",
      redfish_username: "admin",
      redfish_password: "pw-1",
    });
    assert.equal(redfishDriverInfo({ ...host, disableCertificateVerification: true }).redfish_verify_ca, false);
  });

  it("patches only what drifted, and the password only when asked", () => {
    const desired = redfishDriverInfo(host);
    const current = { ...desired, redfish_password: "******", ipmi_address: "kept" };
    assert.deepEqual(driverInfoPatch(current, desired, false), []);
    assert.deepEqual(driverInfoPatch(current, desired, true), [
      { op: "add", path: "/driver_info/redfish_password", value: "pw-1" },
    ]);
    const moved = redfishDriverInfo({ ...host, address: "redfish://10.0.0.9", username: "root", disableCertificateVerification: true });
    assert.deepEqual(driverInfoPatch(current, moved, false), [
      { op: "add", path: "/driver_info/redfish_address", value: "https://10.0.0.9" },
      { op: "remove", path: "/driver_info/redfish_system_id" },
      { op: "add", path: "/driver_info/redfish_username", value: "root" },
      { op: "add", path: "/driver_info/redfish_verify_ca", value: false },
    ]);
    assert.deepEqual(driverInfoPatch({ ...current, redfish_verify_ca: "False" }, desired, false), [
      { op: "remove", path: "/driver_info/redfish_verify_ca" },
    ]);
    assert.deepEqual(driverInfoPatch({ ...current, redfish_verify_ca: "/etc/ca.pem" }, desired, false), [], "a CA bundle path stays");
    assert.deepEqual(driverInfoPatch({ ...current, redfish_verify_ca: "false" }, moved, false).filter((op) => op.path.endsWith("verify_ca")), []);
  });
});

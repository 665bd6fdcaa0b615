import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProvisionerError } from "../provisioner.ts";
import { addressWithoutCredentials, parseRedfishAddress } from "./address.ts";

function unsupported(address: string): ProvisionerError {
  try {
    parseRedfishAddress(address);
  } catch (error) {
    assert.ok(error instanceof ProvisionerError);
    assert.equal(error.kind, "Unsupported");
    return error;
  }
  assert.fail(`${address} parsed`);
}

describe("parseRedfishAddress", () => {
  it("reads redfish:// as HTTPS on port 443 with the system path", () => {
    assert.deepEqual(parseRedfishAddress("redfish://10.0.0.5/redfish/v1/Systems/System.Embedded.1"), {
      scheme: "redfish",
      protocol: "https:",
      origin: "https://10.0.0.5",
      key: "10.0.0.5:443",
      systemPath: "/redfish/v1/Systems/System.Embedded.1",
      display: "redfish://10.0.0.5/redfish/v1/Systems/System.Embedded.1",
    });
  });

  it("reads redfish+http:// and redfish+https:// with ports", () => {
    const http = parseRedfishAddress("redfish+http://127.0.0.1:8000/redfish/v1/Systems/1");
    assert.equal(http.origin, "http://127.0.0.1:8000");
    assert.equal(http.key, "127.0.0.1:8000");
    assert.equal(http.systemPath, "/redfish/v1/Systems/1");
    const https = parseRedfishAddress("redfish+https://bmc.example:8443/redfish/v1/Systems/1/");
    assert.equal(https.origin, "https://bmc.example:8443");
    assert.equal(https.systemPath, "/redfish/v1/Systems/1");
    assert.equal(parseRedfishAddress("redfish+http://bmc.example/").key, "bmc.example:80");
  });

  it("has no system path when the address names none or only the service root", () => {
    for (const address of ["redfish://bmc.example", "redfish://bmc.example/", "redfish://bmc.example/redfish/v1/"]) {
      assert.equal(parseRedfishAddress(address).systemPath, undefined, address);
    }
  });

  it("accepts the other Metal3 schemes that speak Redfish, and IPv6 hosts", () => {
    for (const scheme of ["redfish-virtualmedia", "idrac-virtualmedia", "idrac-redfish", "ilo5-redfish", "redfish-uefihttp"]) {
      assert.equal(parseRedfishAddress(`${scheme}://bmc.example/redfish/v1/Systems/1`).protocol, "https:");
      assert.equal(parseRedfishAddress(`${scheme}+http://bmc.example/redfish/v1/Systems/1`).protocol, "http:");
    }
    const v6 = parseRedfishAddress("redfish+http://[fd00::5]:8000/redfish/v1/Systems/1");
    assert.equal(v6.origin, "http://[fd00::5]:8000");
    assert.equal(v6.key, "[fd00::5]:8000");
  });

  it("refuses other schemes as Unsupported, naming the scheme and the schemes to use", () => {
    for (const [address, scheme] of [
      ["ipmi://10.0.0.5:623", "ipmi"],
      ["idrac://10.0.0.5", "idrac"],
      ["ilo4://10.0.0.5", "ilo4"],
      ["redfish+ftp://10.0.0.5/", "redfish+ftp"],
      ["https://10.0.0.5/redfish/v1/Systems/1", "https"],
    ] as const) {
      const error = unsupported(address);
      assert.match(error.message, new RegExp(`scheme "${scheme.replace("+", "\\+")}"`));
      assert.match(error.message, /redfish\+http:\/\//);
    }
    assert.match(unsupported("10.0.0.5:623").message, /no scheme, which Metal3 reads as IPMI/);
    assert.match(unsupported("").message, /spec\.bmc\.address is empty/);
  });

  it("never quotes credentials written into the address", () => {
    for (const address of [
      "redfish://admin:hunter2@10.0.0.5/redfish/v1/Systems/1",
      "ipmi://admin:hunter2@10.0.0.5",
      "redfish://admin:hun/ter2@10.0.0.5/redfish/v1/Systems/1",
    ]) {
      const error = unsupported(address);
      assert.ok(!error.message.includes("hunter2") && !error.message.includes("ter2"), error.message);
    }
    assert.equal(addressWithoutCredentials("redfish://u:p@h/x"), "redfish://h/x");
  });
});

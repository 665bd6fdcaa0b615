/**
 * How Ironic's answers map to the provisioner's words. The fault texts are
 * Ironic 21.4's own, captured from the real service; the behaviour end to end
 * is proven against real Ironic in test/ironic/provisioner.test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IronicError } from "./errors.ts";
import { hostIndicator, ironicErrorKind, ironicNodeName } from "./provisioner.ts";

const node = "1a3f24af-efc7-4c76-8300-b80238090c4b";

function http(status: number, fault: string): IronicError {
  return new IronicError("http", status, "GET /v1/x", fault);
}

describe("Ironic provisioner mapping", () => {
  it("names nodes <namespace>~<name> as the baremetal-operator does", () => {
    assert.equal(ironicNodeName({ namespace: "metal3", name: "worker-0" }), "metal3~worker-0");
  });

  it("turns Ironic's indicators into the host's, with the drive behind a disk light", () => {
    assert.deepEqual(hostIndicator({ name: "RAID1:Disk0@disk", component: "disk", readonly: false, states: ["on", "off", "blinking"] }), {
      id: "RAID1:Disk0@disk",
      component: "disk",
      readonly: false,
      states: ["blinking", "off", "on"],
      drive: { storage: "RAID1", id: "Disk0" },
    });
    assert.deepEqual(hostIndicator({ name: "led-0@chassis", component: "chassis", readonly: true, states: ["off", "on"] }), {
      id: "led-0@chassis",
      component: "chassis",
      readonly: true,
      states: ["off", "on"],
    });
    assert.equal(hostIndicator({ name: "psu@power", component: "power", readonly: false, states: ["on"] }), undefined);
  });

  it("maps Ironic's failures to the kinds the controllers act on", () => {
    const cases: [IronicError, boolean, string][] = [
      [http(404, `Node ${node} could not be found.`), false, "HostNotFound"],
      [http(400, `Unknown indicator 00000000-0000-0000-0000-0000000000ff for component system of node ${node}`), true, "IndicatorNotFound"],
      [http(400, "Invalid indicator led-9 specified."), true, "IndicatorNotFound"],
      [http(400, "Invalid component SYSTEM specified."), true, "IndicatorNotFound"],
      [
        http(500, `Redfish exception occurred. Error: Redfish get disk indicator A:B state failed for node ${node}. Error: The attribute SimpleStorage is missing from the resource /redfish/v1/Systems/1`),
        true,
        "IndicatorNotFound",
      ],
      [http(400, "Driver fake-hardware does not support set_indicator_state (disabled or not implemented)."), true, "Rejected"],
      [http(400, "Destination None is not a valid URI"), false, "Rejected"],
      [
        http(500, "Redfish exception occurred. Error: HTTP GET http://127.0.0.1:1/redfish/v1/Systems/1 returned code 401. Base.1.8.ResourceAtUriUnauthorized: …"),
        false,
        "Unauthorized",
      ],
      [http(500, "Redfish exception occurred. Error: Resource http://127.0.0.1:1/redfish/v1/Systems/nope not found"), false, "HostNotFound"],
      [
        http(500, `Redfish exception occurred. Error: Redfish get_subscription failed for subscription nope on node ${node}. Error: Resource http://127.0.0.1:1/redfish/v1/EventService/Subscriptions/nope not found`),
        false,
        "Transient",
      ],
      [
        http(500, `Redfish exception occurred. Error: Failed to create subscription on node ${node}. … Error: HTTP POST http://127.0.0.1:1/redfish/v1/EventService/Subscriptions returned code 400. Base.1.8.PropertyValueFormatError: …`),
        false,
        "Rejected",
      ],
      [http(500, `Redfish connection failed for node ${node}: Unable to connect to http://127.0.0.1:1/redfish/v1/.`), false, "Transient"],
      [http(409, `Node ${node} is locked by host c1, please retry after the current operation is completed.`), false, "Transient"],
      [http(503, "No free conductor workers available"), false, "ProvisionerUnavailable"],
      [http(502, ""), false, "ProvisionerUnavailable"],
      [http(401, "The request you have made requires authentication."), false, "Unauthorized"],
      [new IronicError("timeout", 0, "GET /v1", "no answer within 30000 ms"), false, "Transient"],
      [new IronicError("connection", 0, "GET /v1", "connect ECONNREFUSED 127.0.0.1:6385"), false, "ProvisionerUnavailable"],
      [new IronicError("protocol", 200, "GET /v1/nodes/x", "the answer is not JSON"), false, "ProvisionerUnavailable"],
    ];
    for (const [error, indicatorCall, kind] of cases) {
      assert.equal(ironicErrorKind(error, indicatorCall), kind, error.message);
    }
  });
});

/**
 * How Ironic's answers map to the provisioner's words. The fault texts are
 * Ironic 21.4's own, captured from the real service; the behaviour end to end
 * is proven against real Ironic in test/ironic/provisioner.test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type HostAccess, ProvisionerError } from "../provisioner.ts";
import { IronicError } from "./errors.ts";
import { hostIndicator, IronicProvisioner, ironicErrorKind, ironicNodeName, subscriptionLimitRefusal } from "./provisioner.ts";

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

describe("resuming a suspended subscription through Ironic", () => {
  it("is unsupported, without a request: Ironic's vendor passthru has no call for it", async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const provisioner = new IronicProvisioner({ client: { endpoint, retry: { initialDelayMs: 1, maxDelayMs: 2 } } });
    const host: HostAccess = {
      namespace: "ns",
      name: "h",
      provisioningID: node,
      address: "redfish://127.0.0.1:9/redfish/v1/Systems/1",
      disableCertificateVerification: false,
      username: "u",
      password: "p",
    };
    try {
      assert.equal(await provisioner.resumeSubscription(host, "1"), "unsupported");
      assert.equal(requests, 0);
    } finally {
      provisioner.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/**
 * Ironic's answer to `create_subscription` on a full BMC, as real Ironic gives
 * it (21.4.4 with sushy 4.3.3 and 29.0.5 with sushy 5.5.0 answer the same):
 * 500, and the BMC's answer quoted in the `faultstring`, after an echo of the
 * payload with the header values. `bmcAnswer` is what the BMC emulator sends
 * (the generic profile's 400 `CreateLimitReachedForResource`, OpenBMC's 503
 * `EventSubscriptionLimitExceeded`).
 */
function fullBmcFault(code: number, messageId: string, message: string, headerValue = "Bearer s3cret"): string {
  const info = `[{'@odata.type': '#Message.v1_1_1.Message', 'MessageId': '${messageId}', 'Message': '${message}', 'MessageArgs': [], 'Severity': 'Critical', 'MessageSeverity': 'Critical', 'Resolution': 'Either delete resources and resubmit the request if the operation failed or do not resubmit the request.'}]`;
  return (
    `Redfish exception occurred. Error: Failed to create subscription on node ${node}. Subscription payload: ` +
    `{'Destination': 'http://127.0.0.1:9/a2', 'Protocol': 'Redfish', 'Context': 'c2', 'EventTypes': ['Alert'], 'HttpHeaders': [{'Authorization': '${headerValue}'}]}. ` +
    `Error: HTTP POST http://127.0.0.1:38339/redfish/v1/EventService/Subscriptions returned code ${code}. ${messageId}: ${message} Extended information: ${info}`
  );
}

const CREATE_LIMIT = "The create operation failed because the resource has reached the limit of possible resources.";
const BMCWEB_LIMIT = "The event subscription failed due to the number of simultaneous subscriptions exceeding the limit of the implementation.";

describe("a full BMC through Ironic", () => {
  const request = "POST /v1/nodes/x/vendor_passthru?method=create_subscription";

  it("is recognised in Ironic's 500 quoting the BMC's 400 CreateLimitReachedForResource or 503 EventSubscriptionLimitExceeded", () => {
    assert.equal(
      subscriptionLimitRefusal(new IronicError("http", 500, request, fullBmcFault(400, "Base.1.8.CreateLimitReachedForResource", CREATE_LIMIT))),
      `the BMC answered HTTP 400: Base.1.8.CreateLimitReachedForResource: ${CREATE_LIMIT.slice(0, -1)}`,
    );
    assert.equal(
      subscriptionLimitRefusal(new IronicError("http", 500, request, fullBmcFault(503, "Base.1.8.EventSubscriptionLimitExceeded", BMCWEB_LIMIT))),
      `the BMC answered HTTP 503: Base.1.8.EventSubscriptionLimitExceeded: ${BMCWEB_LIMIT.slice(0, -1)}`,
    );
    // Older bmcweb's 403, as Ironic 29.0.5 quotes it after sushy's second try (which would otherwise read as Unauthorized).
    const old = new IronicError("http", 500, request, fullBmcFault(403, "Base.1.4.0.EventSubscriptionLimitExceeded", BMCWEB_LIMIT));
    assert.equal(subscriptionLimitRefusal(old), `the BMC answered HTTP 403: Base.1.4.0.EventSubscriptionLimitExceeded: ${BMCWEB_LIMIT.slice(0, -1)}`);
    assert.equal(ironicErrorKind(old, false), "Unauthorized");
  });

  it("is recognised when the BMC says it only in the extended information", () => {
    const fault = fullBmcFault(400, "Base.1.8.CreateLimitReachedForResource", CREATE_LIMIT).replace(
      `returned code 400. Base.1.8.CreateLimitReachedForResource: ${CREATE_LIMIT}`,
      "returned code 400. Base.1.8.GeneralError: A general error has occurred.",
    );
    assert.equal(
      subscriptionLimitRefusal(new IronicError("http", 500, request, fault)),
      "the BMC answered HTTP 400: Base.1.8.GeneralError: A general error has occurred",
    );
  });

  it("is not another refusal, a limit of another collection, or Ironic's own failure", () => {
    const refusals = [
      new IronicError("http", 500, request, fullBmcFault(400, "Base.1.8.PropertyUnknown", "The property EventTypes is not in the list of valid properties for the resource.")),
      new IronicError(
        "http",
        500,
        request,
        fullBmcFault(400, "Base.1.8.CreateLimitReachedForResource", CREATE_LIMIT).replace("/EventService/Subscriptions ", "/SessionService/Sessions "),
      ),
      new IronicError("http", 503, request, "No free conductor workers available"),
      new IronicError("timeout", 0, request, "no answer within 30000 ms"),
    ];
    for (const error of refusals) assert.equal(subscriptionLimitRefusal(error), undefined, error.message);
  });

  describe("from the provisioner, against a scripted Ironic on 127.0.0.1", () => {
    let server: Server;
    let endpoint: string;
    /** How many subscriptions `get_all_subscriptions` lists; `undefined`: it fails, as for an unreachable BMC. */
    let held: number | undefined = 0;
    let createFault = "";
    const host: HostAccess = {
      namespace: "ns",
      name: "h",
      provisioningID: node,
      address: "redfish+http://127.0.0.1:1/redfish/v1/Systems/1",
      disableCertificateVerification: false,
      username: "admin",
      password: "bmc-pass-7c1e",
    };

    before(async () => {
      server = createServer((req, res) => {
        req.resume();
        req.on("end", () => {
          const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
            res.writeHead(status, { "Content-Type": "application/json", ...headers });
            res.end(JSON.stringify(body));
          };
          if (req.url === "/v1") {
            json(200, { id: "v1" }, { "X-OpenStack-Ironic-API-Minimum-Version": "1.1", "X-OpenStack-Ironic-API-Maximum-Version": "1.82" });
          } else if (req.url?.endsWith("method=create_subscription")) {
            json(500, { error_message: JSON.stringify({ faultcode: "Server", faultstring: createFault, debuginfo: null }) });
          } else if (req.url?.endsWith("method=get_all_subscriptions") && held !== undefined) {
            json(200, { Members: Array.from({ length: held }, (_, i) => ({ "@odata.id": `/redfish/v1/EventService/Subscriptions/${i + 1}` })) });
          } else {
            json(404, { error_message: JSON.stringify({ faultcode: "Client", faultstring: `Node ${node} could not be found.`, debuginfo: null }) });
          }
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    for (const [code, messageId, message] of [
      [400, "Base.1.8.CreateLimitReachedForResource", CREATE_LIMIT],
      [503, "Base.1.8.EventSubscriptionLimitExceeded", BMCWEB_LIMIT],
    ] as const) {
      it(`is SubscriptionLimit naming the limit, without the header value (BMC's ${code} ${messageId})`, async () => {
        held = 2;
        const secret = "Bearer header-secret-51aa";
        createFault = fullBmcFault(code, messageId, message, secret);
        const provisioner = new IronicProvisioner({ client: { endpoint, retry: { initialDelayMs: 1, maxDelayMs: 2 } } });
        try {
          const error = await provisioner
            .createSubscription(host, { destination: "http://127.0.0.1:9/a2", context: "c2", httpHeaders: { Authorization: secret } })
            .then(
              () => assert.fail("the create succeeded"),
              (e: unknown) => e,
            );
          assert.ok(error instanceof ProvisionerError, String(error));
          assert.equal(error.kind, "SubscriptionLimit", error.message);
          assert.match(error.message, /^host ns\/h: cannot create subscription: the BMC already holds its limit of 2 subscriptions and refuses another/);
          assert.ok(error.message.includes(`the BMC answered HTTP ${code}: ${messageId}`), error.message);
          assert.match(error.message, /delete subscriptions it no longer needs$/);
          for (const leaked of [secret, "header-secret-51aa", host.password, "127.0.0.1:38339", "Subscription payload"]) {
            assert.ok(!error.message.includes(leaked), `the message holds ${leaked}: ${error.message}`);
          }
        } finally {
          provisioner.close();
        }
      });
    }

    it("says its limit without a number when the BMC's subscriptions cannot be read, or none are listed", async () => {
      createFault = fullBmcFault(400, "Base.1.8.CreateLimitReachedForResource", CREATE_LIMIT);
      const provisioner = new IronicProvisioner({ client: { endpoint, retry: { initialDelayMs: 1, maxDelayMs: 2 } } });
      try {
        for (const listed of [undefined, 0]) {
          held = listed;
          const error = await provisioner
            .createSubscription(host, { destination: "http://127.0.0.1:9/a", context: "", httpHeaders: {} })
            .then(
              () => assert.fail("the create succeeded"),
              (e: unknown) => e,
            );
          assert.ok(error instanceof ProvisionerError && error.kind === "SubscriptionLimit", String(error));
          assert.match(error.message, /the BMC already holds as many subscriptions as it can and refuses another/, `listed: ${listed}`);
        }
      } finally {
        provisioner.close();
      }
    });
  });
});

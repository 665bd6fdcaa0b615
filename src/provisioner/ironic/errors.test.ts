import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { REDACTED } from "../redact.ts";
import { decodeIronicFault, IronicError, redactHttpHeaders } from "./errors.ts";

describe("Ironic errors", () => {
  it("decodes the JSON string inside error_message", () => {
    const body = JSON.stringify({
      error_message: JSON.stringify({ faultcode: "Client", faultstring: "Node x could not be found.", debuginfo: null }),
    });
    assert.equal(decodeIronicFault(body), "Node x could not be found.");
  });

  it("reads an already-decoded error_message, a plain string, and a body that is not JSON", () => {
    assert.equal(decodeIronicFault(JSON.stringify({ error_message: { faultstring: "busy" } })), "busy");
    assert.equal(decodeIronicFault(JSON.stringify({ error_message: "plain words" })), "plain words");
    assert.equal(decodeIronicFault("<html>502 Bad Gateway</html>"), "<html>502 Bad Gateway</html>");
    assert.ok(decodeIronicFault("x".repeat(5000)).length < 2100, "long bodies are shortened");
  });

  it("says what request failed, with the status and Ironic's words", () => {
    const error = new IronicError("http", 409, "PUT /v1/nodes/n/management/indicators/a@system", "Node n is locked by host h, please retry after the current operation is completed.");
    assert.equal(
      error.message,
      "Ironic PUT /v1/nodes/n/management/indicators/a@system failed (409): Node n is locked by host h, please retry after the current operation is completed.",
    );
    assert.equal(error.nodeLocked, true);
    assert.equal(new IronicError("http", 409, "POST /v1/nodes", "A node with name x already exists.").nodeLocked, false);
    assert.match(new IronicError("timeout", 0, "GET /v1", "no answer within 10 ms").message, /failed \(timeout\): no answer/);
  });

  it("removes every header value from Ironic's echo of a subscription payload", () => {
    // The text Ironic 21.4 answers when the BMC refuses a subscription (a Python repr of the payload).
    const fault =
      "Failed to create subscription on node abc. Subscription payload: {'Destination': 'ftp://127.0.0.1/x', " +
      "'Protocol': 'Redfish', 'Context': 'c', 'EventTypes': ['Alert'], 'HttpHeaders': [{'Authorization': 'Bearer s3cr3t'}, " +
      "{'X-Token': \"it's-secret\"}]}. Error: HTTP POST http://127.0.0.1/redfish/v1/EventService/Subscriptions returned code 400.";
    const redacted = redactHttpHeaders(fault);
    assert.ok(!redacted.includes("s3cr3t") && !redacted.includes("it's-secret"), redacted);
    assert.ok(redacted.includes(`'Authorization': '${REDACTED}'`), redacted);
    assert.match(redacted, /'X-Token': '\[redacted\]'/);
    assert.match(redacted, /'Destination': 'ftp:\/\/127\.0\.0\.1\/x'.*returned code 400\.$/);
    assert.equal(redactHttpHeaders('{"HttpHeaders": [{"A": "b"}]}'), `{"HttpHeaders": [{"A": '${REDACTED}'}]}`);
  });
});

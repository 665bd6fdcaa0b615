import assert from "node:assert/strict";
import { test } from "node:test";
import type { RaisedEvent } from "./events.ts";
import { RedfishError } from "./redfish-errors.ts";
import { parseSubscriptionRequest, renderSubscription, subscriptionMatches } from "./subscriptions.ts";
import type { SubscriptionRecord } from "./subscriptions.ts";

function refusal(body: unknown): RedfishError {
  try {
    parseSubscriptionRequest(body);
  } catch (error) {
    assert.ok(error instanceof RedfishError);
    return error;
  }
  assert.fail("expected the request to be refused");
}

const ids = (e: RedfishError) => e.messages.map((m) => m.MessageId);

test("Destination and Protocol are required", () => {
  const e = refusal({});
  assert.equal(e.status, 400);
  assert.deepEqual(ids(e), ["Base.1.8.PropertyMissing", "Base.1.8.PropertyMissing"]);
  assert.deepEqual(e.messages.map((m) => m.MessageArgs[0]), ["Destination", "Protocol"]);
});

test("Protocol FTP and non-http destinations are refused, naming the property and value", () => {
  const e = refusal({ Destination: "ftp://127.0.0.1/x", Protocol: "FTP" });
  assert.deepEqual(ids(e), ["Base.1.8.PropertyValueFormatError", "Base.1.8.PropertyValueNotInList"]);
  assert.match(e.messages[0]!.Message, /'ftp:\/\/127\.0\.0\.1\/x' for the property Destination.*scheme ftp/);
  assert.match(e.messages[1]!.Message, /'FTP' for the property Protocol/);
  assert.match(refusal({ Destination: "not a url", Protocol: "Redfish" }).messages[0]!.Message, /not an absolute URI/);
});

test("HttpHeaders must be a list of objects, and a refusal never echoes a header value", () => {
  const asDict = refusal({ Destination: "http://h/x", Protocol: "Redfish", HttpHeaders: { Authorization: "Bearer s3cret" } });
  assert.doesNotMatch(JSON.stringify(asDict.body()), /s3cret/);
  assert.match(asDict.messages[0]!.Message, /HttpHeaders/);
  const badValue = refusal({ Destination: "http://h/x", Protocol: "Redfish", HttpHeaders: [{ "X-Token": "s3cret\r\nX: y" }] });
  assert.doesNotMatch(JSON.stringify(badValue.body()), /s3cret/);
  assert.match(badValue.messages[0]!.Message, /HttpHeaders\/X-Token/);
  const reserved = refusal({ Destination: "http://h/x", Protocol: "Redfish", HttpHeaders: [{ "Content-Length": "1" }] });
  assert.match(reserved.messages[0]!.Message, /Content-Length/);
});

test("unknown properties, bad EventTypes and bad policies are refused", () => {
  const e = refusal({
    Destination: "http://h/x",
    Protocol: "Redfish",
    Color: "blue",
    EventTypes: ["Alert", "Nope"],
    DeliveryRetryPolicy: "Sometimes",
  });
  assert.deepEqual(ids(e), ["Base.1.8.PropertyUnknown", "Base.1.8.PropertyValueNotInList", "Base.1.8.PropertyValueNotInList"]);
});

test("a valid request is stored with its headers, and rendered with HttpHeaders []", () => {
  const parsed = parseSubscriptionRequest({
    Destination: "https://sink.example/events",
    Protocol: "Redfish",
    Context: "ctx-1",
    EventTypes: ["Alert"],
    HttpHeaders: [{ Authorization: "Bearer s3cret" }, { "X-Other": "v" }],
  });
  assert.deepEqual(parsed.httpHeaders, [
    ["Authorization", "Bearer s3cret"],
    ["X-Other", "v"],
  ]);
  const body = renderSubscription({ ...parsed, id: "7" }, "/redfish/v1/EventService/Subscriptions");
  assert.equal(body["@odata.id"], "/redfish/v1/EventService/Subscriptions/7");
  assert.equal(body.Id, "7");
  assert.equal(body.Context, "ctx-1");
  assert.deepEqual(body.HttpHeaders, []);
  assert.doesNotMatch(JSON.stringify(body), /s3cret/);
});

function event(overrides: Partial<RaisedEvent["record"]> = {}, resourceType = "Drive"): RaisedEvent {
  return {
    resourceType,
    record: {
      EventType: "Alert",
      EventId: "1",
      EventTimestamp: "2026-01-01T00:00:00Z",
      Severity: "Critical",
      MessageSeverity: "Critical",
      Message: "",
      MessageId: "StorageDevice.1.0.DriveFailure",
      MessageArgs: [],
      OriginOfCondition: { "@odata.id": "/redfish/v1/Systems/S/Storage/R/Drives/D" },
      ...overrides,
    },
  };
}

function subscription(overrides: Partial<SubscriptionRecord>): SubscriptionRecord {
  return { ...parseSubscriptionRequest({ Destination: "http://h/x", Protocol: "Redfish" }), id: "1", ...overrides };
}

test("filters: EventTypes, RegistryPrefixes, MessageIds (any version), Severities, ResourceTypes, OriginResources", () => {
  assert.equal(subscriptionMatches(subscription({}), event()), true);
  assert.equal(subscriptionMatches(subscription({ eventTypes: ["Alert"] }), event({ EventType: "ResourceUpdated" })), false);
  assert.equal(subscriptionMatches(subscription({ registryPrefixes: ["StorageDevice"] }), event()), true);
  assert.equal(subscriptionMatches(subscription({ registryPrefixes: ["Base"] }), event()), false);
  assert.equal(subscriptionMatches(subscription({ messageIds: ["StorageDevice.1.2.DriveFailure"] }), event()), true);
  assert.equal(subscriptionMatches(subscription({ excludeMessageIds: ["StorageDevice.1.0.DriveFailure"] }), event()), false);
  assert.equal(subscriptionMatches(subscription({ severities: ["OK"] }), event()), false);
  assert.equal(subscriptionMatches(subscription({ resourceTypes: ["Chassis"] }), event()), false);
  assert.equal(subscriptionMatches(subscription({ originResources: ["/redfish/v1/Systems/S"] }), event()), false);
  assert.equal(
    subscriptionMatches(subscription({ originResources: ["/redfish/v1/Systems/S"], subordinateResources: true }), event()),
    true,
  );
  assert.equal(subscriptionMatches(subscription({ state: "Disabled" }), event()), false);
});

test("a BMC that refuses EventTypes (as OpenBMC does) calls it an unknown property, and takes the rest", () => {
  const body = { Destination: "http://127.0.0.1/x", Protocol: "Redfish", EventTypes: ["Alert"] };
  assert.deepEqual(parseSubscriptionRequest(body).eventTypes, ["Alert"]);
  let error: unknown;
  try {
    parseSubscriptionRequest(body, { refuseEventTypes: true });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof RedfishError, "EventTypes was accepted");
  assert.equal(error.status, 400);
  assert.deepEqual(ids(error), ["Base.1.8.PropertyUnknown"]);
  assert.deepEqual(error.messages[0]!.MessageArgs, ["EventTypes"]);
  const { EventTypes: _, ...rest } = body;
  assert.equal(parseSubscriptionRequest(rest, { refuseEventTypes: true }).eventTypes, null);
});

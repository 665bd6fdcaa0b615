import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { driveLightOf, driveOfPath } from "./drive-origin.ts";
import { eventNote, eventReason } from "./event-receiver.ts";
import { MalformedEventError, parseEventPayload } from "./redfish-event.ts";
import { isReceiverDestination, normalReceiverUrl } from "./receiver-url.ts";

describe("parseEventPayload", () => {
  it("reads Event v1 payloads with several records, the deprecated Severity and string origins", () => {
    const payload = parseEventPayload(
      JSON.stringify({
        Id: "7",
        Context: "ctx",
        Events: [
          { MessageId: "StorageDevice.1.0.DriveFailure", Message: "failed", MessageSeverity: "Critical", OriginOfCondition: { "@odata.id": "/redfish/v1/Systems/1/Storage/S/Drives/D" }, EventTimestamp: "2026-01-01T00:00:00Z" },
          { MessageId: "Base.1.0.Test", Severity: "Warning", OriginOfCondition: "/redfish/v1/Chassis/1" },
        ],
      }),
    );
    assert.equal(payload.id, "7");
    assert.equal(payload.events.length, 2);
    assert.equal(payload.events[0]!.severity, "Critical");
    assert.equal(payload.events[0]!.origin, "/redfish/v1/Systems/1/Storage/S/Drives/D");
    assert.equal(payload.events[1]!.severity, "Warning");
    assert.equal(payload.events[1]!.origin, "/redfish/v1/Chassis/1");
  });

  for (const [body, field] of [
    ["nope", "not JSON"],
    ["[]", "JSON object"],
    ["{}", "Events must be a non-empty array"],
    ['{"Events":[1]}', "Events[0] must be an object"],
    ['{"Events":[{"Message":"x"}]}', "Events[0].MessageId is missing"],
    ['{"Events":[{"MessageId":5}]}', "Events[0].MessageId must be a string, got 5"],
    ['{"Events":[{"MessageId":"a","OriginOfCondition":3}]}', "OriginOfCondition must be a link object, got 3"],
  ] as const) {
    it(`refuses ${body}, naming ${field}`, () => {
      assert.throws(() => parseEventPayload(body), (error: Error) => error instanceof MalformedEventError && error.message.includes(field));
    });
  }
});

describe("origins and notes", () => {
  const lights = [
    { id: "Disk.Bay.0@disk", component: "disk" as const, readonly: false, states: ["Lit", "Off"], drive: { storage: "S", id: "Disk.Bay.0", name: "Disk 0", model: "M1", serialNumber: "SN0" } },
    { id: "Disk.Bay.0@disk2", component: "disk" as const, readonly: false, states: ["Lit", "Off"], drive: { storage: "T", id: "Disk.Bay.0", name: "Other", serialNumber: "SN9" } },
  ];
  it("finds a drive's light by storage and drive ID", () => {
    assert.deepEqual(driveOfPath("/redfish/v1/Systems/1/Storage/S/Drives/Disk.Bay.0"), { storage: "S", id: "Disk.Bay.0" });
    assert.equal(driveLightOf("/redfish/v1/Systems/1/Storage/T/Drives/Disk.Bay.0", lights)?.drive?.serialNumber, "SN9");
    assert.equal(driveLightOf("/redfish/v1/Systems/1", lights), undefined);
  });
  it("writes the MessageId, message and drive details in the note", () => {
    const note = eventNote({ messageId: "StorageDevice.1.0.DriveFailure", message: "failed", severity: "Critical", raw: {}, origin: "x" }, lights[0]);
    assert.equal(note, 'StorageDevice.1.0.DriveFailure (Critical): failed; drive "Disk 0", model M1, serial SN0, light Disk.Bay.0@disk');
    assert.equal(eventReason("StorageDevice.1.0.DriveFailure"), "DriveFailure");
    assert.equal(eventReason("Oem.weird-key"), "BMCEvent");
  });
});

describe("receiver URL", () => {
  it("matches destinations under the receiver's URL only", () => {
    const url = normalReceiverUrl("https://events.example.com:8443/events/");
    assert.ok(isReceiverDestination("https://events.example.com:8443/events", url));
    assert.ok(isReceiverDestination("https://EVENTS.example.com:8443/events/worker-0", url));
    assert.ok(!isReceiverDestination("https://events.example.com:8443/eventsx", url));
    assert.ok(!isReceiverDestination("http://events.example.com:8443/events", url));
    assert.ok(!isReceiverDestination("not a url", url));
  });
  it("refuses a receiver URL that is not https", () => {
    assert.throws(() => normalReceiverUrl("http://x/events"), /must use https/);
    assert.throws(() => normalReceiverUrl("https://u:p@x/events"), /user information/);
  });
});

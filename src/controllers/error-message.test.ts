import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { REDACTED } from "../provisioner/redact.ts";
import { MAX_ERROR_MESSAGE_LENGTH, sanitizeErrorMessage } from "./error-message.ts";

describe("sanitizeErrorMessage", () => {
  it("removes every occurrence of every secret, longest first", () => {
    const message = 'POST failed: payload {"HttpHeaders":[{"Authorization":"Bearer s3cret-token"}]} token s3cret';
    const clean = sanitizeErrorMessage(message, ["s3cret", "Bearer s3cret-token"]);
    assert.ok(!clean.includes("s3cret"), clean);
    assert.ok(clean.includes(`"Authorization":"${REDACTED}"`), clean);
  });

  it("removes the user information of every URL, whatever quotes it", () => {
    const clean = sanitizeErrorMessage(
      'BMC said 400: {"error":{"message":"The value https://hook-user:Pa55-w0rd@events.example.com/x for Destination is invalid"}} (POST http://admin:hunter2@10.0.0.9/redfish/v1/EventService/Subscriptions)',
    );
    assert.ok(!clean.includes("Pa55-w0rd") && !clean.includes("hunter2") && !clean.includes("hook-user"), clean);
    assert.ok(clean.includes("https://[redacted]@events.example.com/x"), clean);
    assert.ok(clean.includes("http://[redacted]@10.0.0.9/redfish/v1/EventService/Subscriptions"), clean);
  });

  it("folds the message onto one line and bounds its size", () => {
    const clean = sanitizeErrorMessage(`line one\nline two\t${"x".repeat(5000)}`);
    assert.ok(!clean.includes("\n"));
    assert.ok(clean.startsWith("line one line two"));
    assert.equal(clean.length, MAX_ERROR_MESSAGE_LENGTH);
  });

  it("does not grow when sanitized again (no compounding as in the Go operator's status.error)", () => {
    const once = sanitizeErrorMessage(`host "a" not found ${"y".repeat(2000)}`);
    assert.equal(sanitizeErrorMessage(once), once);
  });
});

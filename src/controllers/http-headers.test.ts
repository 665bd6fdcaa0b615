import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { headersFromSecret, InvalidHeadersError } from "./http-headers.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const secret = (data: Record<string, string>) => ({ metadata: { name: "hdrs", namespace: "ns" }, data });

describe("headersFromSecret", () => {
  it("decodes data into headers", () => {
    assert.deepEqual(headersFromSecret(secret({ Authorization: b64("Bearer abc"), "X-Token": b64("t") })), {
      Authorization: "Bearer abc",
      "X-Token": "t",
    });
  });

  it("rejects an invalid header name, naming the Secret and the key but not the value", () => {
    assert.throws(
      () => headersFromSecret(secret({ "bad header": b64("top-secret-value") })),
      (error: unknown) =>
        error instanceof InvalidHeadersError &&
        error.message.includes('Secret "ns/hdrs" key "bad header" is not a valid HTTP header name') &&
        !error.message.includes("top-secret-value"),
    );
  });

  it("rejects a value with a line break without showing it", () => {
    assert.throws(
      () => headersFromSecret(secret({ "X-Token": b64("abc\r\nInjected: yes") })),
      (error: unknown) => error instanceof InvalidHeadersError && !error.message.includes("Injected"),
    );
  });

  it("rejects headers the delivery sets itself", () => {
    assert.throws(() => headersFromSecret(secret({ "Content-Length": b64("1") })), /sets itself/);
  });
});

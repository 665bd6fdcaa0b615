import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeProtobufObject } from "./protobuf.ts";
import { StatusError } from "./status.ts";

/** A minimal protobuf encoder for the test: fields are [number, value] pairs; strings and buffers are length-delimited, numbers and booleans varints. */
type Field = [number, string | number | boolean | Buffer | Field[]];
function encode(fields: Field[]): Buffer {
  const parts: Buffer[] = [];
  const varint = (n: number) => {
    const bytes: number[] = [];
    do {
      let byte = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) byte |= 0x80;
      bytes.push(byte);
    } while (n > 0);
    return Buffer.from(bytes);
  };
  for (const [number, value] of fields) {
    if (typeof value === "number" || typeof value === "boolean") {
      parts.push(varint(number * 8), varint(Number(value)));
      continue;
    }
    const bytes = Array.isArray(value) ? encode(value) : Buffer.isBuffer(value) ? value : Buffer.from(value);
    parts.push(varint(number * 8 + 2), varint(bytes.length), bytes);
  }
  return Buffer.concat(parts);
}

const envelope = (apiVersion: string, kind: string, raw: Buffer) =>
  Buffer.concat([Buffer.from("k8s\0", "latin1"), encode([[1, [[1, apiVersion], [2, kind]]], [2, raw], [3, ""], [4, ""]])]);

describe("Kubernetes protobuf bodies", () => {
  it("decode a Secret as kubectl create secret sends it", () => {
    const metadata: Field[] = [[1, "creds"], [2, ""], [3, "ns"], [11, [[1, "app"], [2, "bmc"]]], [14, "example.com/hold"]];
    const raw = encode([[1, metadata], [2, [[1, "password"], [2, Buffer.from([0xff, 0x00, 0x41])]]], [3, "Opaque"], [5, true]]);
    assert.deepEqual(decodeProtobufObject(envelope("v1", "Secret", raw)), {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "creds", namespace: "ns", labels: { app: "bmc" }, finalizers: ["example.com/hold"] },
      data: { password: Buffer.from([0xff, 0x00, 0x41]).toString("base64") },
      type: "Opaque",
      immutable: true,
    });
  });

  it("decode a Namespace and skip fields they do not know", () => {
    const raw = encode([[1, [[1, "team"], [99, "ignored"]]], [2, [[1, "kubernetes"]]]]);
    assert.deepEqual(decodeProtobufObject(envelope("v1", "Namespace", raw)), { apiVersion: "v1", kind: "Namespace", metadata: { name: "team" }, spec: { finalizers: ["kubernetes"] } });
  });

  it("reject bodies without the magic number, truncated bodies and unsupported kinds with a 400", () => {
    const is400 = (pattern: RegExp) => (error: unknown) => error instanceof StatusError && error.code === 400 && pattern.test(error.message);
    assert.throws(() => decodeProtobufObject(Buffer.from("{}")), is400(/magic number/));
    assert.throws(() => decodeProtobufObject(envelope("v1", "Pod", encode([]))), is400(/"v1\/Pod" are not supported/));
    const truncated = envelope("v1", "ConfigMap", encode([[1, [[1, "x"]]]])).subarray(0, -6);
    assert.throws(() => decodeProtobufObject(truncated), is400(/truncated/));
  });
});

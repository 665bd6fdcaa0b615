import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { queryBool, queryInt, queryOptionalBool } from "./query.ts";
import { StatusError } from "./status.ts";

const q = (text: string) => new URLSearchParams(text);

describe("query parameters", () => {
  it("a boolean is false only when absent, 0 or false in any case (apimachinery's Convert_Slice_string_To_bool)", () => {
    for (const text of ["watch=true", "watch=True", "watch=1", "watch=yes", "watch=", "watch", "watch=t", "watch=true&watch=false"]) {
      assert.equal(queryBool(q(text), "watch"), true, text);
    }
    for (const text of ["", "watch=false", "watch=FALSE", "watch=False", "watch=0", "watch=0&watch=1"]) {
      assert.equal(queryBool(q(text), "watch"), false, text);
    }
    assert.equal(queryOptionalBool(q(""), "sendInitialEvents"), undefined);
    assert.equal(queryOptionalBool(q("sendInitialEvents=False"), "sendInitialEvents"), false);
  });

  it("an integer is Go's strconv.ParseInt(value, 10, 64); anything else is a 400 naming the value", () => {
    assert.equal(queryInt(q(""), "limit"), undefined);
    assert.equal(queryInt(q("limit=%2B5"), "limit"), 5);
    assert.equal(queryInt(q("limit=-3"), "limit"), -3);
    assert.equal(queryInt(q("limit=007"), "limit"), 7);
    for (const value of ["1.5", "1e3", " 1", "0x10", "1_000", "", "9223372036854775808"]) {
      assert.throws(
        () => queryInt(q(`limit=${encodeURIComponent(value)}`), "limit"),
        (error: unknown) => error instanceof StatusError && error.code === 400 && error.message.includes(JSON.stringify(value)),
        value,
      );
    }
  });
});

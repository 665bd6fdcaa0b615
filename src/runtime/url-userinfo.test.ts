import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { redactUrlUserinfo } from "./url-userinfo.ts";

describe("redactUrlUserinfo", () => {
  it("removes user and password of every URL, up to the authority's last @", () => {
    assert.equal(
      redactUrlUserinfo('POST https://hook:S3cr%40t@events.example.com/x failed; retry "http://tok@10.0.0.1:80/y" or redfish+https://a:b@c@bmc/'),
      'POST https://[redacted]@events.example.com/x failed; retry "http://[redacted]@10.0.0.1:80/y" or redfish+https://[redacted]@bmc/',
    );
  });

  it("removes it from JSON with escaped slashes, and leaves @ in paths, queries and mail addresses alone", () => {
    assert.equal(redactUrlUserinfo('{"Destination":"https:\\/\\/u:p@h\\/x"}'), '{"Destination":"https:\\/\\/[redacted]@h\\/x"}');
    const clean = "https://host/a@b?c=d@e and ops@example.com";
    assert.equal(redactUrlUserinfo(clean), clean);
  });
});

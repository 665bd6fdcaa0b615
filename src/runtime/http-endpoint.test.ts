import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseBindAddress, probe, serve } from "./http-endpoint.ts";

describe("parseBindAddress", () => {
  it("reads host:port, :port and the disabling 0", () => {
    assert.deepEqual(parseBindAddress(":8080"), { host: undefined, port: 8080 });
    assert.deepEqual(parseBindAddress("127.0.0.1:0"), { host: "127.0.0.1", port: 0 });
    assert.deepEqual(parseBindAddress("[::1]:9000"), { host: "::1", port: 9000 });
    assert.equal(parseBindAddress("0"), undefined);
    assert.throws(() => parseBindAddress("localhost:http"), /got "localhost:http"/);
  });
});

describe("serve and probe", () => {
  it("answers ok while the checks pass and lists the failing one otherwise", async () => {
    let ready = false;
    const endpoint = await serve("127.0.0.1:0", {
      "/readyz": probe(() => new Map([["ping", () => {}], ["informers", () => { if (!ready) throw new Error("caches not synced: things"); }]])),
    });
    try {
      const first = await fetch(`${endpoint!.url}/readyz`);
      assert.equal(first.status, 500);
      assert.equal(await first.text(), "[+]ping ok\n[-]informers failed: caches not synced: things\ncheck failed\n");
      ready = true;
      const second = await fetch(`${endpoint!.url}/readyz`);
      assert.equal(second.status, 200);
      assert.equal(await second.text(), "ok\n");
      assert.equal((await fetch(`${endpoint!.url}/nope`)).status, 404);
    } finally {
      await endpoint!.close();
    }
  });

  it("starts nothing for the address 0", async () => {
    assert.equal(await serve("0", {}), undefined);
  });
});

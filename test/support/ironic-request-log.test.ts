import assert from "node:assert/strict";
import { appendFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { IronicRequestLog } from "./ironic-request-log.ts";

/**
 * A stand-in for Ironic's API that, like eventlet's WSGI server, logs each
 * request only after it has answered it: here when the next request comes in
 * (or, for a barrier, right away), so a request answered and not yet logged is
 * certain, not a matter of timing.
 */
async function lateLoggingServer(logPath: string): Promise<{ server: Server; url: string }> {
  let unlogged: string[] = [];
  const server = createServer((req, res) => {
    for (const line of unlogged) appendFileSync(logPath, line);
    unlogged = [];
    const status = req.method === "PUT" ? 204 : 200;
    res.writeHead(status).end();
    const line = `2026-12-03 07:00:00.000 1 INFO eventlet.wsgi.server [-] 127.0.0.1 "${req.method} ${req.url} HTTP/1.1" status: ${status}  len: 0 time: 0.01\n`;
    if (req.url?.includes("barrier")) res.on("finish", () => appendFileSync(logPath, line));
    else unlogged.push(line);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("the Ironic request log", () => {
  let dir: string;
  let server: Server;
  let log: IronicRequestLog;
  let url: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ironic-request-log-"));
    const logPath = join(dir, "ironic.log");
    writeFileSync(logPath, "");
    ({ server, url } = await lateLoggingServer(logPath));
    log = new IronicRequestLog({ url, logPath });
  });
  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("counts a request Ironic answered but had not logged yet, in its own window only", async () => {
    const first = await log.mark();
    await fetch(`${url}/v1/nodes/a/management/indicators/x@system`, { method: "PUT" });
    assert.deepEqual(await log.since(first), [{ method: "PUT", path: "/v1/nodes/a/management/indicators/x@system", status: 204 }]);

    await fetch(`${url}/v1/nodes/a`);
    const second = await log.mark();
    assert.deepEqual(await log.since(second), [], "the GET before the mark is not in the window after it");
    assert.deepEqual(
      (await log.since(first)).map((r) => `${r.method} ${r.path}`),
      ["PUT /v1/nodes/a/management/indicators/x@system", "GET /v1/nodes/a"],
      "barriers are left out",
    );
  });
});

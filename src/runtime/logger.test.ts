import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createLogger } from "./logger.ts";

const LOGGER = fileURLToPath(new URL("./logger.ts", import.meta.url));

/** Runs a script in a fresh Node.js process and returns its standard output lines. */
function runScript(script: string): { lines: string[]; status: number | null } {
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
  return { lines: result.stdout.split("\n").filter(Boolean), status: result.status };
}

/** A destination that keeps what is written to it. */
function collected(): { chunks: string[]; destination: Writable } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return { chunks, destination };
}

describe("createLogger", () => {
  it("writes JSON lines to standard output and loses none when the process exits at once", () => {
    const { lines, status } = runScript(
      `import { createLogger } from ${JSON.stringify(LOGGER)};
       const log = createLogger({ base: { component: "t" } });
       for (let i = 0; i < 2000; i++) log.info({ i }, "line");
       process.exit(3);`,
    );
    assert.equal(status, 3);
    assert.equal(lines.length, 2000, "every line reached standard output before the exit");
    const last = JSON.parse(lines.at(-1)!) as { i: number; msg: string; component: string };
    assert.deepEqual([last.i, last.msg, last.component], [1999, "line", "t"]);
  });

  it("writes a lone line while the process runs on, though it fills no write buffer", { timeout: 10_000 }, async () => {
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { createLogger } from ${JSON.stringify(LOGGER)};
         createLogger().info("alone");
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      let text = "";
      child.stdout.setEncoding("utf8");
      for await (const chunk of child.stdout) {
        text += chunk as string;
        if (text.includes("\n")) break;
      }
      assert.equal((JSON.parse(text) as { msg: string }).msg, "alone");
      assert.equal(child.exitCode, null, "the line came while the process still ran");
    } finally {
      child.kill("SIGKILL");
      if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
    }
  });

  it("redacts secret fields at the top level and one level down", () => {
    const { chunks, destination } = collected();
    createLogger({ destination }).info({ password: "hunter2", bmc: { password: "hunter2", address: "redfish://x" } }, "creds");
    const line = JSON.parse(chunks.join("")) as { password: string; bmc: { password: string; address: string } };
    assert.equal(line.password, "[REDACTED]");
    assert.equal(line.bmc.password, "[REDACTED]");
    assert.equal(line.bmc.address, "redfish://x");
  });

  it("redacts an Authorization field as HTTP spells it, not only in lower case", () => {
    const { chunks, destination } = collected();
    createLogger({ destination }).info({ Authorization: "Bearer s3cr3t", hook: { Authorization: "Basic s3cr3t" } }, "headers");
    const text = chunks.join("");
    assert.ok(!text.includes("s3cr3t"), text);
  });

  it("writes scalars as pino does and still redacts one level down in child bindings, errors and values of every kind", () => {
    const { chunks, destination } = collected();
    const child = createLogger({ destination }).child({ controller: "c", bmc: { token: "t0k3n", host: "h" }, port: 443 });
    const err = Object.assign(new Error("boom"), { headers: { authorization: "Bearer s3cr3t" }, code: 7 });
    child.warn({ n: 1.5, inf: Infinity, nan: Number.NaN, yes: true, s: 'quote " and\nline', nul: null, big: 10n, err, list: [1, "a"] }, "mixed");
    const text = chunks.join("");
    assert.doesNotMatch(text, /t0k3n|s3cr3t/);
    const line = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(
      { ...line, time: 0, err: { ...(line.err as object), stack: "" } },
      {
        level: 40,
        time: 0,
        controller: "c",
        bmc: { token: "[REDACTED]", host: "h" },
        port: 443,
        n: 1.5,
        inf: null,
        nan: null,
        yes: true,
        s: 'quote " and\nline',
        nul: null,
        big: 10,
        err: { type: "Error", message: "boom", stack: "", headers: "[REDACTED]", code: 7 },
        list: [1, "a"],
        msg: "mixed",
      },
    );
  });

  it("removes URLs' user information from every line, error messages and stacks included", () => {
    const { chunks, destination } = collected();
    const log = createLogger({ destination, level: "trace" });
    const err = new Error("POST https://hook-user:Pa55-w0rd@events.example.com/x: 400");
    log.error({ err }, "Reconciler error");
    log.trace({ url: "http://admin:hunter2@10.0.0.1/redfish" }, "GET http://admin:hunter2@10.0.0.1/redfish");
    const text = chunks.join("");
    assert.doesNotMatch(text, /Pa55-w0rd|hunter2|hook-user|admin:/);
    assert.match(text, /https:\/\/\[redacted\]@events\.example\.com\/x/);
    assert.equal(chunks.length, 2);
  });

  it("refuses an unknown level, naming it", () => {
    assert.throws(() => createLogger({ level: "loud" as "info" }), /Unknown log level "loud"/);
  });
});

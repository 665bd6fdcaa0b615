/**
 * `node bench/exchange-probe.ts [rounds]`: the CPU time and resident memory of
 * the operator's HTTP exchange, through undici's `request` (the body a
 * `Readable`) and through `src/runtime/http-exchange.ts` (a handler that
 * gathers the body), against a Node.js server in a child process so that
 * only the client's work is counted. Each round runs both in turn, each in a
 * process of its own: 40,000 PATCHes of a small body, answered with 1.6 KiB
 * of JSON, 64 at a time over 32 kept-alive connections, after 5,000 to warm
 * up. Prints the median of the rounds (docs/benchmarks.md, fifth round).
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Agent, request } from "../src/runtime/http-dispatch.ts";
import { exchange } from "../src/runtime/http-exchange.ts";

const SERVER = `
const http = require("node:http");
const body = JSON.stringify({ kind: "BareMetalHostServiceIndicator", metadata: { name: "x".repeat(40) }, spec: { padding: "y".repeat(1500) } });
const server = http.createServer({ keepAliveTimeout: 60000 }, (req, res) => {
  req.resume();
  req.on("end", () => res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body));
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`;

const mode = process.argv[2];
if (mode === "request" || mode === "exchange") {
  const child = spawn(process.execPath, ["-e", SERVER], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve) => child.stdout.once("data", (data) => resolve(Number(String(data).trim()))));
  const origin = `http://127.0.0.1:${port}`;
  const agent = new Agent({ connections: 32 });
  const options = (i: number) => ({
    origin,
    path: `/apis/metal3.io/v1alpha1/namespaces/default/things/${i}`,
    method: "PATCH" as const,
    headers: { "content-type": "application/merge-patch+json", accept: "application/json" },
    body: '{"metadata":{"finalizers":["metal3.io/x"]}}',
  });
  const send =
    mode === "request"
      ? async (i: number) => JSON.parse(await (await request(agent, options(i))).body.text()) as unknown
      : async (i: number) => JSON.parse((await exchange(agent, options(i))).body) as unknown;
  const run = async (n: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < n) await send(next++);
      }),
    );
  };
  await run(5_000);
  const before = process.cpuUsage();
  await run(40_000);
  const used = process.cpuUsage(before);
  console.log(JSON.stringify({ cpuMicros: (used.user + used.system) / 40_000, rssMiB: process.memoryUsage().rss / 2 ** 20 }));
  await agent.close();
  child.kill();
} else {
  const rounds = Number(mode ?? 5);
  const self = fileURLToPath(import.meta.url);
  const results: Record<string, { cpuMicros: number; rssMiB: number }[]> = { request: [], exchange: [] };
  for (let round = 0; round < rounds; round++) {
    for (const which of ["request", "exchange"] as const) {
      const run = spawnSync(process.execPath, [self, which], { encoding: "utf8" });
      if (run.status !== 0) throw new Error(`exchange-probe ${which} failed: ${run.stderr}`);
      results[which]!.push(JSON.parse(run.stdout) as { cpuMicros: number; rssMiB: number });
    }
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  for (const [which, runs] of Object.entries(results)) {
    console.log(
      `${which.padEnd(8)} CPU per exchange ${median(runs.map((r) => r.cpuMicros)).toFixed(1)} µs, RSS at the end ${median(runs.map((r) => r.rssMiB)).toFixed(0)} MiB (median of ${rounds})`,
    );
  }
}

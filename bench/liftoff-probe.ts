/**
 * `node bench/liftoff-probe.ts` and `node --liftoff-only bench/liftoff-probe.ts`:
 * the CPU time of an HTTP exchange through undici (whose HTTP parser is
 * WebAssembly) against a Node.js server in the same process, with V8's
 * optimizing WebAssembly compiler and without it. The image runs the operator
 * with `--liftoff-only` for the memory it saves (docs/benchmarks.md, Operator
 * footprint); this probe is what says that costs no CPU per request.
 *
 * @module
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent, request } from "undici";

const body = JSON.stringify({ "@odata.id": "/redfish/v1/Systems/1", Name: "System", Oem: { padding: "x".repeat(1500) } });
const server = createServer((_req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(body);
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/redfish/v1/Systems/1`;
const agent = new Agent({ connections: 8 });

async function burst(n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, () => request(url, { dispatcher: agent }).then((r) => r.body.text())));
}

await burst(3000); // warm-up: the JIT, and the tier-up of the parser where allowed
const requests = 20_000;
const before = process.cpuUsage();
for (let i = 0; i < requests / 500; i++) await burst(500);
const used = process.cpuUsage(before);
console.log(
  `${process.execArgv.join(" ") || "(default flags)"}: ${((used.user + used.system) / requests).toFixed(1)} µs of CPU per request ` +
    `(client and server), RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`,
);
await agent.close();
server.close();

/**
 * The control API of a BMC fleet, an HTTP JSON API on 127.0.0.1 separate
 * from the Redfish API, for tests and benchmarks: list the BMCs, read and
 * reset request counts, inject faults, reset a BMC, read lights and
 * subscriptions, fail drives, change the temperature and raise events.
 *
 * Routes (`{i}` is a BMC index, or `all` where noted):
 *
 * | Method and path | Does |
 * |---|---|
 * | `GET /bmcs` | `{ bmcs: EmulatedBmcInfo[] }` |
 * | `GET /bmcs/{i}` | one BMC's info |
 * | `GET /stats`, `DELETE /stats` | fleet totals; zero every BMC's counts |
 * | `GET /bmcs/{i}/stats`, `DELETE /bmcs/{i}/stats` | one BMC's counts; zero them |
 * | `GET /bmcs/{i}/faults`, `PUT /bmcs/{i\|all}/faults` | read or change injected faults |
 * | `POST /bmcs/{i\|all}/reset` | BMC reset, body `{ downtimeMs? }` |
 * | `GET /bmcs/{i}/lights`, `PUT /bmcs/{i}/lights/{target}` | light states; set one, body `{ state }` |
 * | `GET /bmcs/{i}/power` | `{ powerState }` |
 * | `GET /bmcs/{i}/subscriptions` | subscriptions, header names only |
 * | `DELETE /bmcs/{i}/subscriptions/{id}` | delete a subscription as the BMC would on its own (after failed deliveries) |
 * | `POST /bmcs/{i}/subscriptions/{id}/suspend` | suspend it as the BMC would (`Status.State: Disabled`) |
 * | `GET /bmcs/{i}/deliveries`, `GET /bmcs/{i}/events` | delivery attempts; raised events |
 * | `POST /bmcs/{i}/drives/{storage}/{drive}/fail`, `…/repair` | drive failure and repair |
 * | `PUT /bmcs/{i}/temperature` | body `{ celsius }` |
 * | `POST /bmcs/{i}/events` | a test event, body as for SubmitTestEvent |
 * | `GET /process` | `{ pid, bmcCount, memory, cpu, uptime }`; `?gc=1` collects garbage first (node --expose-gc) |
 *
 * @module
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { EmulatedBmc, EmulatedBmcInfo } from "./emulated-bmc.ts";
import { updateFaults } from "./faults.ts";
import type { FaultSettings } from "./faults.ts";
import type { LedState } from "./hardware.ts";
import type { RequestStats } from "./request-stats.ts";

/** Fleet-wide request totals. */
export interface FleetStats {
  /** Requests to every BMC. */
  total: number;
  byMethod: Record<string, number>;
  /** Requests in flight now, over every BMC. */
  inFlight: number;
  /** The highest peak of requests in flight at one BMC. */
  maxPeakInFlight: number;
}

/** What the control server needs of the fleet. */
export interface ControlledFleet {
  bmcCount(): number;
  bmc(index: number): EmulatedBmc;
  infos(): EmulatedBmcInfo[];
  stats(): FleetStats;
  resetStats(): void;
}

class ControlError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Sums per-BMC counts into fleet totals. */
export function sumStats(all: RequestStats[]): FleetStats {
  const byMethod: Record<string, number> = {};
  let total = 0;
  let inFlight = 0;
  let maxPeakInFlight = 0;
  for (const s of all) {
    total += s.total;
    inFlight += s.inFlight;
    maxPeakInFlight = Math.max(maxPeakInFlight, s.peakInFlight);
    for (const [m, n] of Object.entries(s.byMethod)) byMethod[m] = (byMethod[m] ?? 0) + n;
  }
  return { total, byMethod, inFlight, maxPeakInFlight };
}

/** Starts the control server on 127.0.0.1:`port` (0 for a free port). */
export async function startControlServer(fleet: ControlledFleet, port: number): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer((req, res) => {
    handle(fleet, req)
      .then(([status, body]) => send(res, status, body))
      .catch((error: unknown) => {
        if (error instanceof ControlError) send(res, error.status, { error: error.message });
        else if (error instanceof RangeError || error instanceof SyntaxError) send(res, 400, { error: error.message });
        else send(res, 500, { error: error instanceof Error ? error.message : String(error) });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => reject(new Error(`control API cannot listen on 127.0.0.1:${port}: ${error.message}`, { cause: error })));
    server.listen({ host: "127.0.0.1", port }, resolve);
  });
  const address = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${address.port}`, server };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (status === 204) {
    res.writeHead(204).end();
    return;
  }
  const payload = JSON.stringify(body, null, 2);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(payload) });
  res.end(payload);
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new ControlError(413, "control request body is larger than 64 KiB");
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    throw new ControlError(400, `control request body is not JSON: ${(error as Error).message}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ControlError(400, "control request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

function selectBmcs(fleet: ControlledFleet, which: string, allowAll: boolean): EmulatedBmc[] {
  if (which === "all") {
    if (!allowAll) throw new ControlError(400, "this route needs one BMC index, not all");
    return Array.from({ length: fleet.bmcCount() }, (_, i) => fleet.bmc(i));
  }
  if (!/^\d+$/.test(which) || Number(which) >= fleet.bmcCount()) {
    throw new ControlError(404, `no BMC ${JSON.stringify(which)}: indexes run from 0 to ${fleet.bmcCount() - 1}`);
  }
  return [fleet.bmc(Number(which))];
}

async function handle(fleet: ControlledFleet, req: http.IncomingMessage): Promise<[number, unknown]> {
  const method = req.method ?? "GET";
  const url = new URL(req.url ?? "/", "http://control");
  const parts = url.pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
  const route = `${method} /${parts.map((p, i) => (i === 1 && parts[0] === "bmcs" ? "{i}" : p)).join("/")}`;

  if (route === "GET /bmcs") return [200, { bmcs: fleet.infos() }];
  if (route === "GET /stats") return [200, fleet.stats()];
  if (route === "DELETE /stats") {
    fleet.resetStats();
    return [204, undefined];
  }
  if (route === "GET /process") {
    // With ?gc=1 and node --expose-gc, collect garbage first so memory figures are comparable.
    const gc = (globalThis as { gc?: () => void }).gc;
    if (url.searchParams.get("gc") === "1" && gc) gc();
    return [
      200,
      { pid: process.pid, bmcCount: fleet.bmcCount(), memory: process.memoryUsage(), cpu: process.cpuUsage(), uptime: process.uptime() },
    ];
  }
  if (parts[0] !== "bmcs" || parts[1] === undefined) throw new ControlError(404, `no control route ${method} ${url.pathname}`);

  const which = parts[1];
  const one = () => selectBmcs(fleet, which, false)[0]!;
  switch (route) {
    case "GET /bmcs/{i}":
      return [200, one().info];
    case "GET /bmcs/{i}/stats":
      return [200, one().stats()];
    case "DELETE /bmcs/{i}/stats":
      for (const b of selectBmcs(fleet, which, true)) b.resetStats();
      return [204, undefined];
    case "GET /bmcs/{i}/faults":
      return [200, one().faults()];
    case "PUT /bmcs/{i}/faults": {
      const body = (await readJson(req)) as Partial<FaultSettings>;
      const targets = selectBmcs(fleet, which, true);
      // Validate before changing any, so a bad update changes nothing.
      updateFaults(targets[0]!.faults(), body);
      for (const b of targets) b.setFaults(body);
      return [200, targets[0]!.faults()];
    }
    case "POST /bmcs/{i}/reset": {
      const body = await readJson(req);
      const downtimeMs = body.downtimeMs === undefined ? 0 : body.downtimeMs;
      if (typeof downtimeMs !== "number") throw new ControlError(400, `downtimeMs must be a number, got ${JSON.stringify(downtimeMs)}`);
      for (const b of selectBmcs(fleet, which, true)) b.reset({ downtimeMs });
      return [204, undefined];
    }
    case "GET /bmcs/{i}/lights":
      return [200, one().lights()];
    case "GET /bmcs/{i}/power":
      return [200, { powerState: one().powerState() }];
    case "GET /bmcs/{i}/subscriptions":
      return [200, { subscriptions: one().subscriptions() }];
    case "GET /bmcs/{i}/deliveries":
      return [200, { deliveries: one().deliveries() }];
    case "GET /bmcs/{i}/events":
      return [200, { events: one().events() }];
    case "POST /bmcs/{i}/events": {
      const body = await readJson(req);
      return [201, one().submitEvent(body as never)];
    }
    case "PUT /bmcs/{i}/temperature": {
      const body = await readJson(req);
      const event = one().setTemperature(body.celsius as number);
      return [200, { event: event ?? null }];
    }
  }
  if (parts[2] === "subscriptions" && parts.length >= 4) {
    const bmc = one();
    const id = parts[3]!;
    if (method === "DELETE" && parts.length === 4) {
      if (!bmc.deleteSubscription(id)) throw new ControlError(404, `BMC ${which} has no subscription ${JSON.stringify(id)}`);
      return [204, undefined];
    }
    if (method === "POST" && parts.length === 5 && parts[4] === "suspend") {
      if (!bmc.suspendSubscription(id)) throw new ControlError(404, `BMC ${which} has no subscription ${JSON.stringify(id)}`);
      return [200, { subscriptions: bmc.subscriptions() }];
    }
  }
  if (method === "PUT" && parts[2] === "lights" && parts.length === 4) {
    const body = await readJson(req);
    one().setLight(parts[3]!, body.state as LedState);
    return [200, one().lights()];
  }
  if (method === "POST" && parts[2] === "drives" && parts.length === 6 && (parts[5] === "fail" || parts[5] === "repair")) {
    const bmc = one();
    const event = parts[5] === "fail" ? bmc.failDrive(parts[3]!, parts[4]!) : bmc.repairDrive(parts[3]!, parts[4]!);
    return [200, { event }];
  }
  throw new ControlError(404, `no control route ${method} ${url.pathname}`);
}

/**
 * A small Redfish BMC for the Redfish provisioner's edge-case tests: a tree of
 * resources served over real HTTP on 127.0.0.1, with HTTP Basic auth, ETags
 * and `If-Match`, PATCH that merges, an EventService with subscriptions, a
 * log of every request, and an `intercept` hook to script odd answers (a 500
 * that echoes the request, a missing `Location`, a hang). The full emulator
 * lives in `emulators/redfish-bmc/`; this one is for shapes it does not take,
 * such as a light with only `LocationIndicatorActive` or a BMC with no ETags.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type HostAccess, ProvisionerError, type ProvisionerErrorKind } from "../../src/provisioner/provisioner.ts";

/** One request as the BMC saw it. */
export interface LoggedRequest {
  method: string;
  path: string;
  ifMatch: string | undefined;
  authorization: string | undefined;
  body: any;
}

/** A scripted answer. */
export interface ScriptedResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Options of {@link startScriptedBmc}. */
export interface ScriptedBmcOptions {
  username?: string;
  password?: string;
  /** Resources by path; the service root, EventService and Subscriptions are added when missing. */
  resources: Record<string, Record<string, unknown>>;
  /** Send ETags and honour `If-Match`. Default true. */
  etags?: boolean;
  /** Refuse a subscription to a destination one already has (400 `PropertyValueModified`), as Dell iDRAC does. Default false. */
  oneSubscriptionPerDestination?: boolean;
  /** Called before the normal handling; an answer (or a promise of one) replaces it. */
  intercept?: (req: LoggedRequest) => ScriptedResponse | Promise<ScriptedResponse | undefined> | undefined;
}

/** A running scripted BMC. */
export interface ScriptedBmc {
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  /** `redfish+http://127.0.0.1:PORT`, to which a system path can be appended. */
  address: string;
  username: string;
  password: string;
  resources: Map<string, Record<string, unknown>>;
  /** The subscriptions by ID, as the BMC holds them (a test may mark one `Status: {State: "Disabled"}`). */
  subscriptions: Map<string, Record<string, unknown>>;
  log: LoggedRequest[];
  /** The most requests that were in flight at once since the start or {@link ScriptedBmc.resetPeak}. */
  peakInFlight(): number;
  resetPeak(): void;
  /** Requests of the log, as `METHOD path` strings. */
  calls(): string[];
  close(): Promise<void>;
}

/** The ETag of a resource body. */
export function etagOf(body: unknown): string {
  return `"${createHash("sha256").update(JSON.stringify(body)).digest("base64url").slice(0, 16)}"`;
}

/** Starts a scripted BMC on a free port of 127.0.0.1. */
export async function startScriptedBmc(options: ScriptedBmcOptions): Promise<ScriptedBmc> {
  const username = options.username ?? "root";
  const password = options.password ?? "calvin-7ab1";
  const etags = options.etags ?? true;
  const resources = new Map(Object.entries(options.resources));
  if (!resources.has("/redfish/v1/")) {
    resources.set("/redfish/v1/", {
      Id: "RootService",
      Systems: { "@odata.id": "/redfish/v1/Systems" },
      EventService: { "@odata.id": "/redfish/v1/EventService" },
    });
  }
  if (!resources.has("/redfish/v1/EventService")) {
    resources.set("/redfish/v1/EventService", {
      Id: "EventService",
      Subscriptions: { "@odata.id": "/redfish/v1/EventService/Subscriptions" },
    });
  }
  const subscriptions = new Map<string, Record<string, unknown>>();
  let nextId = 1;
  const log: LoggedRequest[] = [];
  let inFlight = 0;
  let peak = 0;
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;

  const send = (res: ServerResponse, answer: ScriptedResponse): void => {
    const headers: Record<string, string> = { ...answer.headers };
    let text = "";
    if (answer.body !== undefined) {
      text = JSON.stringify(answer.body);
      headers["content-type"] = "application/json";
    }
    res.writeHead(answer.status, headers).end(text);
  };
  const error = (status: number, message: string): ScriptedResponse => ({
    status,
    body: { error: { code: "Base.1.8.GeneralError", message, "@Message.ExtendedInfo": [{ Message: message }] } },
  });
  const withEtag = (status: number, body: Record<string, unknown>): ScriptedResponse =>
    etags ? { status, body, headers: { etag: etagOf(body) } } : { status, body };

  const handle = async (req: LoggedRequest): Promise<ScriptedResponse> => {
    const scripted = await options.intercept?.(req);
    if (scripted !== undefined) return scripted;
    if (req.authorization !== expected) return error(401, "Invalid credentials.");
    const collection = "/redfish/v1/EventService/Subscriptions";
    if (req.path === collection) {
      if (req.method === "GET") {
        return withEtag(200, {
          Members: [...subscriptions.keys()].map((id) => ({ "@odata.id": `${collection}/${id}` })),
          "Members@odata.count": subscriptions.size,
        });
      }
      if (req.method === "POST") {
        if (options.oneSubscriptionPerDestination && [...subscriptions.values()].some((sub) => sub.Destination === req.body?.Destination)) {
          return error(400, `The property Destination was not assigned the value ${String(req.body?.Destination)}: a subscription to it exists (PropertyValueModified).`);
        }
        const id = String(nextId++);
        const body = { Id: id, ...req.body, "@odata.id": `${collection}/${id}` };
        subscriptions.set(id, body);
        return { status: 201, body, headers: { location: `${collection}/${id}` } };
      }
    }
    if (req.path.startsWith(`${collection}/`)) {
      const id = decodeURIComponent(req.path.slice(collection.length + 1));
      const sub = subscriptions.get(id);
      if (sub === undefined) return error(404, `No subscription ${id}.`);
      if (req.method === "GET") return withEtag(200, sub);
      if (req.method === "DELETE") {
        subscriptions.delete(id);
        return { status: 204 };
      }
    }
    const resource = resources.get(req.path);
    if (resource === undefined) return error(404, `No resource at ${req.path}.`);
    if (req.method === "GET") return withEtag(200, resource);
    if (req.method === "PATCH") {
      if (etags && req.ifMatch !== undefined && req.ifMatch !== etagOf(resource)) {
        return error(412, "The ETag does not match.");
      }
      Object.assign(resource, req.body);
      if (req.body.LocationIndicatorActive !== undefined && "IndicatorLED" in resource) {
        resource.IndicatorLED = req.body.LocationIndicatorActive ? "Lit" : "Off";
      }
      if (req.body.IndicatorLED !== undefined && "LocationIndicatorActive" in resource) {
        resource.LocationIndicatorActive = req.body.IndicatorLED !== "Off";
      }
      return withEtag(200, resource);
    }
    return error(405, `${req.method} is not allowed on ${req.path}.`);
  };

  const server = createServer((request: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const logged: LoggedRequest = {
        method: request.method ?? "",
        path: (request.url ?? "").split("?")[0]!,
        ifMatch: request.headers["if-match"],
        authorization: request.headers.authorization,
        body: text === "" ? undefined : JSON.parse(text),
      };
      log.push(logged);
      inFlight++;
      peak = Math.max(peak, inFlight);
      handle(logged)
        .then((answer) => send(res, answer))
        .catch((e: unknown) => send(res, error(500, String(e))))
        .finally(() => inFlight--);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    address: `redfish+http://127.0.0.1:${port}`,
    username,
    password,
    resources,
    subscriptions,
    log,
    peakInFlight: () => peak,
    resetPeak: () => {
      peak = inFlight;
    },
    calls: () => log.map((r) => `${r.method} ${r.path}`),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A system with one chassis and one storage of two drives; `style` picks which light properties they carry. */
export function sampleResources(
  style: "both" | "led" | "location" = "both",
): Record<string, Record<string, unknown>> {
  const light = (on: boolean): Record<string, unknown> =>
    style === "led"
      ? { IndicatorLED: on ? "Lit" : "Off" }
      : style === "location"
        ? { LocationIndicatorActive: on }
        : { IndicatorLED: on ? "Lit" : "Off", LocationIndicatorActive: on };
  return {
    "/redfish/v1/Systems": { Members: [{ "@odata.id": "/redfish/v1/Systems/1" }] },
    "/redfish/v1/Systems/1": {
      Id: "1",
      UUID: "5a3c0e1e-0000-4000-8000-000000000001",
      Links: { Chassis: [{ "@odata.id": "/redfish/v1/Chassis/1" }] },
      Storage: { "@odata.id": "/redfish/v1/Systems/1/Storage" },
      ...light(false),
    },
    "/redfish/v1/Chassis/1": { Id: "1", UUID: "5a3c0e1e-0000-4000-8000-0000000000c1", ChassisType: "RackMount", ...light(false) },
    "/redfish/v1/Systems/1/Storage": { Members: [{ "@odata.id": "/redfish/v1/Systems/1/Storage/RAID1" }] },
    "/redfish/v1/Systems/1/Storage/RAID1": {
      Id: "RAID1",
      Drives: [
        { "@odata.id": "/redfish/v1/Systems/1/Storage/RAID1/Drives/Disk0" },
        { "@odata.id": "/redfish/v1/Systems/1/Storage/RAID1/Drives/Disk1" },
      ],
    },
    "/redfish/v1/Systems/1/Storage/RAID1/Drives/Disk0": {
      Id: "Disk0",
      Name: "Drive 0",
      Model: "SSD-1",
      SerialNumber: "S0",
      ...light(false),
    },
    "/redfish/v1/Systems/1/Storage/RAID1/Drives/Disk1": { Id: "Disk1", ...light(false) },
  };
}

/**
 * {@link sampleResources} with the drives served under the chassis
 * (`/redfish/v1/Chassis/1/Drives/…`), linked from the storage, as some BMCs
 * lay them out: nothing at the drives' normative URIs under the system.
 */
export function drivesUnderChassis(
  style: "both" | "led" | "location" = "both",
): Record<string, Record<string, unknown>> {
  const resources = sampleResources(style);
  const moved: Record<string, Record<string, unknown>> = {};
  for (const [path, body] of Object.entries(resources)) {
    moved[path.replace("/redfish/v1/Systems/1/Storage/RAID1/Drives/", "/redfish/v1/Chassis/1/Drives/")] = body;
  }
  moved["/redfish/v1/Systems/1/Storage/RAID1"]!.Drives = [
    { "@odata.id": "/redfish/v1/Chassis/1/Drives/Disk0" },
    { "@odata.id": "/redfish/v1/Chassis/1/Drives/Disk1" },
  ];
  return moved;
}

/** What a provisioner needs to reach `bmc` as host `default/host-0`, at the system `path`. */
export function accessTo(bmc: ScriptedBmc, path = "/redfish/v1/Systems/1"): HostAccess {
  return {
    namespace: "default",
    name: "host-0",
    address: `${bmc.address}${path}`,
    disableCertificateVerification: false,
    username: bmc.username,
    password: bmc.password,
  };
}

/** Awaits `call`, which must fail with a {@link ProvisionerError} of `kind`; returns the error. */
export async function expectKind(kind: ProvisionerErrorKind, call: Promise<unknown>): Promise<ProvisionerError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof ProvisionerError, String(error));
    assert.equal(error.kind, kind, error.message);
    return error;
  }
  assert.fail(`expected ${kind}`);
}

/**
 * The ideal the operator is measured against: a minimal script that makes
 * the same Redfish requests the operator's Redfish provisioner makes for a
 * host with one indicator and one subscription, directly, with the same
 * per-BMC and global caps (one shared {@link BmcCallLimiter} keyed by the
 * BMC's `host:port`, one slot per request, as the provisioner's transport):
 *
 * 1. register: GET the System, each Chassis it links, its Storage
 *    collection, each Storage and each Drive (6 GETs on the emulator);
 * 2. the light: GET the System, then PATCH `LocationIndicatorActive: true`
 *    with `If-Match`;
 * 3. the subscription: GET the service root and the EventService to find the
 *    Subscriptions collection, then POST the subscription.
 *
 * Each host's requests run one after the other; every host runs at once, so
 * the limiter alone decides how many are in flight.
 *
 * @module
 */
import { Agent, request } from "undici";
import type { EmulatedBmcInfo } from "../../emulators/redfish-bmc/index.ts";
import { BmcCallLimiter } from "../../src/provisioner/limiter.ts";

/** The caps of the baseline. */
export interface BaselineCaps {
  perBmc: number;
  global: number;
}

/** What a baseline run did. */
export interface BaselineRun {
  /** From the first request to the last answer, ms. */
  ms: number;
  /** Requests sent. */
  requests: number;
}

type Json = Record<string, unknown>;

function link(value: unknown): string | undefined {
  const id = (value as Json | undefined)?.["@odata.id"];
  return typeof id === "string" ? id : undefined;
}

function links(value: unknown): string[] {
  return Array.isArray(value) ? value.map(link).filter((l): l is string => l !== undefined) : [];
}

/** Runs the baseline for BMCs `0 … count-1`, each subscription sent to `destination/<context>`. */
export async function runRedfishBaseline(
  bmcs: readonly EmulatedBmcInfo[],
  count: number,
  caps: BaselineCaps,
  destination: string,
): Promise<BaselineRun> {
  const limiter = new BmcCallLimiter({ perKey: caps.perBmc, global: caps.global });
  const agents = new Map<string, Agent>();
  let requests = 0;

  const host = async (bmc: EmulatedBmcInfo, index: number): Promise<void> => {
    const origin = new URL(bmc.url);
    const key = origin.host;
    let agent = agents.get(key);
    if (!agent) {
      agent = new Agent({ connections: caps.perBmc });
      agents.set(key, agent);
    }
    const authorization = `Basic ${Buffer.from(`${bmc.username}:${bmc.password}`).toString("base64")}`;
    const send = (method: string, path: string, body?: Json, ifMatch?: string) =>
      limiter.run(key, async () => {
        requests++;
        const headers: Record<string, string> = { accept: "application/json", "odata-version": "4.0", authorization };
        if (body) headers["content-type"] = "application/json";
        if (ifMatch) headers["if-match"] = ifMatch;
        const response = await request(`${bmc.url}${path}`, {
          method: method as "GET",
          headers,
          body: body ? JSON.stringify(body) : undefined,
          dispatcher: agent,
          signal: AbortSignal.timeout(30_000),
        });
        const text = await response.body.text();
        if (response.statusCode >= 300) throw new Error(`baseline ${method} ${bmc.url}${path}: HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
        const etag = response.headers.etag;
        return { body: (text ? JSON.parse(text) : {}) as Json, etag: typeof etag === "string" ? etag : undefined };
      });

    // 1. Registration: the inventory reads.
    const system = (await send("GET", bmc.systemPath)).body;
    for (const chassis of links((system.Links as Json | undefined)?.Chassis)) await send("GET", chassis);
    const storagePath = link(system.Storage);
    if (storagePath) {
      const collection = (await send("GET", storagePath)).body;
      for (const member of links(collection.Members)) {
        const storage = (await send("GET", member)).body;
        for (const drive of links(storage.Drives)) await send("GET", drive);
      }
    }
    // 2. The light: read, then write.
    const reading = await send("GET", bmc.systemPath);
    await send("PATCH", bmc.systemPath, { LocationIndicatorActive: true }, reading.etag);
    // 3. The subscription: find the collection, then create.
    const root = (await send("GET", "/redfish/v1/")).body;
    const eventService = (await send("GET", link(root.EventService) ?? "/redfish/v1/EventService")).body;
    const context = `baseline-${index}`;
    await send("POST", link(eventService.Subscriptions) ?? "/redfish/v1/EventService/Subscriptions", {
      Destination: `${destination}/${context}`,
      Context: context,
      Protocol: "Redfish",
    });
  };

  const started = performance.now();
  try {
    await Promise.all(bmcs.slice(0, count).map((bmc, i) => host(bmc, i)));
    return { ms: performance.now() - started, requests };
  } finally {
    await Promise.all([...agents.values()].map((a) => a.close()));
  }
}

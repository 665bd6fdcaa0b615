/**
 * The ideal the operator's Ironic provisioner is measured against: a minimal
 * script that makes the Ironic calls a host with one indicator and one
 * subscription needs, directly, with the same caps (one shared
 * {@link BmcCallLimiter}, keyed by node, one slot per call):
 *
 * 1. enroll the node (`POST /v1/nodes`, driver `redfish`);
 * 2. list its indicators;
 * 3. GET the system light's state, then PUT it `on`;
 * 4. create the subscription (`vendor_passthru?method=create_subscription`).
 *
 * The operator makes one more call per host: it looks the node up by name
 * before enrolling it (404), since it cannot know that no one enrolled it.
 *
 * @module
 */
import { Agent, request } from "undici";
import type { EmulatedBmcInfo } from "../../emulators/redfish-bmc/index.ts";
import { BmcCallLimiter } from "../../src/provisioner/limiter.ts";
import type { BaselineCaps, BaselineRun } from "./redfish-baseline.ts";

/** The newest Ironic API version the operator's client speaks. */
const NEWEST_TESTED = [1, 82] as const;

/** Runs the baseline against Ironic at `endpoint` for BMCs `0 … count-1`, naming nodes `<prefix>~host-i`. */
export async function runIronicBaseline(
  endpoint: string,
  bmcs: readonly EmulatedBmcInfo[],
  count: number,
  caps: BaselineCaps,
  destination: string,
  prefix: string,
): Promise<BaselineRun> {
  const limiter = new BmcCallLimiter({ perKey: caps.perBmc, global: caps.global });
  const agent = new Agent({ connections: caps.global });
  let requests = 0;
  let version = "";

  const call = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    requests++;
    const response = await request(`${endpoint}${path}`, {
      method: method as "GET",
      headers: {
        accept: "application/json",
        ...(version ? { "x-openstack-ironic-api-version": version } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      dispatcher: agent,
      signal: AbortSignal.timeout(120_000),
    });
    const text = await response.body.text();
    if (response.statusCode >= 300) throw new Error(`Ironic baseline ${method} ${path}: HTTP ${response.statusCode}: ${text.slice(0, 400)}`);
    if (method === "GET" && path === "/v1") {
      const max = response.headers["x-openstack-ironic-api-maximum-version"];
      const [major, minor] = String(max).split(".").map(Number);
      version = major === NEWEST_TESTED[0] && (minor ?? 0) > NEWEST_TESTED[1] ? NEWEST_TESTED.join(".") : String(max);
    }
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };

  const host = async (bmc: EmulatedBmcInfo, index: number): Promise<void> => {
    const name = `${prefix}~host-${index}`;
    const run = <T>(fn: () => Promise<T>) => limiter.run(`ironic:${name}`, fn);
    const node = await run(() =>
      call("POST", "/v1/nodes", {
        name,
        driver: "redfish",
        driver_info: {
          redfish_address: new URL(bmc.url).origin,
          redfish_system_id: bmc.systemPath,
          redfish_username: bmc.username,
          redfish_password: bmc.password,
        },
      }),
    );
    const uuid = String(node.uuid);
    const listed = await run(() => call("GET", `/v1/nodes/${uuid}/management/indicators`));
    const indicators = (listed.indicators ?? []) as { name: string; component: string }[];
    const system = indicators.find((i) => i.component === "system");
    if (!system) throw new Error(`Ironic lists no system light for node ${name}: ${JSON.stringify(listed)}`);
    const path = `/v1/nodes/${uuid}/management/indicators/${system.name}`;
    await run(() => call("GET", path));
    await run(() => call("PUT", path, { state: "on" }));
    await run(() =>
      call("POST", `/v1/nodes/${uuid}/vendor_passthru?method=create_subscription`, {
        Destination: `${destination}/${name}`,
        Context: name,
      }),
    );
  };

  try {
    await call("GET", "/v1");
    requests = 0;
    const started = performance.now();
    await Promise.all(bmcs.slice(0, count).map((bmc, i) => host(bmc, i)));
    return { ms: performance.now() - started, requests };
  } finally {
    await agent.close();
  }
}

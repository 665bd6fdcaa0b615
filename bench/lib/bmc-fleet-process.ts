/**
 * The Redfish BMC emulator as its own process (`npm run bmc-emulator`), with
 * a client for its control API: request counts, injected latency, BMC resets,
 * light states and subscriptions. A separate process, so the BMCs' CPU time
 * is theirs and the operator and the baseline reach them over real sockets.
 *
 * @module
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { Agent, request } from "undici";
import { killOnExit } from "./child-processes.ts";
import type { EmulatedBmcInfo, FleetStats, LightStates, RequestStats, SubscriptionInfo } from "../../emulators/redfish-bmc/index.ts";

const CLI = fileURLToPath(new URL("../../emulators/redfish-bmc/cli.ts", import.meta.url));
const START_TIMEOUT_MS = 120_000;

/** A running BMC emulator process. */
export interface BmcFleetProcess {
  pid: number;
  controlUrl: string;
  bmcs: EmulatedBmcInfo[];
  /** Totals over every BMC. */
  stats(): Promise<FleetStats>;
  /** One BMC's counts, by method and path. */
  bmcStats(index: number): Promise<RequestStats>;
  /** Zeroes every BMC's counts. */
  resetStats(): Promise<void>;
  /** Zeroes one BMC's counts. */
  resetBmcStats(index: number): Promise<void>;
  /** Adds `ms` of latency before every Redfish response of every BMC. */
  setLatency(ms: number): Promise<void>;
  /** Resets every BMC (lights off, subscriptions and sessions gone, connections cut). */
  resetAll(): Promise<void>;
  lights(index: number): Promise<LightStates>;
  subscriptions(index: number): Promise<SubscriptionInfo[]>;
  close(): Promise<void>;
}

/** Starts `count` emulated BMCs in a new process; resolves once it has printed them. */
export async function startBmcFleetProcess(count: number): Promise<BmcFleetProcess> {
  const child: ChildProcessByStdio<null, Readable, Readable> = killOnExit(spawn(
    process.execPath,
    [CLI, "--count", String(count), "--json", "--quiet"],
    { stdio: ["ignore", "pipe", "pipe"] },
  ));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  child.stdout.setEncoding("utf8");
  let out = "";
  let parsed: { controlUrl: string; bmcs: EmulatedBmcInfo[] } | undefined;
  const deadline = Date.now() + START_TIMEOUT_MS;
  const timer = setTimeout(() => child.kill("SIGKILL"), START_TIMEOUT_MS);
  for await (const chunk of child.stdout) {
    out += chunk as string;
    try {
      parsed = JSON.parse(out) as { controlUrl: string; bmcs: EmulatedBmcInfo[] };
      break;
    } catch {
      if (Date.now() > deadline) break;
    }
  }
  clearTimeout(timer);
  if (!parsed) {
    child.kill("SIGKILL");
    throw new Error(`the BMC emulator (${count} BMCs) did not print its fleet within ${START_TIMEOUT_MS} ms: ${stderr}`);
  }

  const { controlUrl, bmcs } = parsed;
  const agent = new Agent({ connections: 16, keepAliveTimeout: 4_000 });
  const call = async <T>(method: "GET" | "PUT" | "POST" | "DELETE", path: string, body?: unknown): Promise<T> => {
    const response = await request(`${controlUrl}${path}`, {
      method,
      dispatcher: agent,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.body.text();
    if (response.statusCode >= 300) throw new Error(`BMC control API ${method} ${path}: HTTP ${response.statusCode}: ${text}`);
    return (text === "" ? undefined : JSON.parse(text)) as T;
  };

  let closing: Promise<void> | undefined;
  return {
    pid: child.pid ?? 0,
    controlUrl,
    bmcs,
    stats: () => call<FleetStats>("GET", "/stats"),
    bmcStats: (index) => call<RequestStats>("GET", `/bmcs/${index}/stats`),
    resetStats: () => call<void>("DELETE", "/stats"),
    resetBmcStats: (index) => call<void>("DELETE", `/bmcs/${index}/stats`),
    setLatency: async (ms) => {
      await call("PUT", "/bmcs/all/faults", { latencyMs: ms });
    },
    resetAll: () => call<void>("POST", "/bmcs/all/reset", {}),
    lights: (index) => call<LightStates>("GET", `/bmcs/${index}/lights`),
    subscriptions: async (index) => (await call<{ subscriptions: SubscriptionInfo[] }>("GET", `/bmcs/${index}/subscriptions`)).subscriptions,
    close: () =>
      (closing ??= (async () => {
        await agent.close();
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(killer);
      })()),
  };
}

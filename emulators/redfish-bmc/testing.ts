/**
 * Test helpers for code that drives the emulated BMCs: a small authenticated
 * Redfish client. (The event sink that records deliveries is
 * `emulators/event-sink`.)
 *
 * @module
 */
import type { EmulatedBmcInfo } from "./emulated-bmc.ts";

/** The HTTP Basic `Authorization` header for a BMC. */
export function basicAuth(bmc: Pick<EmulatedBmcInfo, "username" | "password">): string {
  return `Basic ${Buffer.from(`${bmc.username}:${bmc.password}`).toString("base64")}`;
}

/** A fetch against a BMC with its credentials; `body` is sent as JSON. */
export async function redfishFetch(
  bmc: Pick<EmulatedBmcInfo, "url" | "username" | "password">,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { authorization: basicAuth(bmc), ...init.headers };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${bmc.url}${path}`, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body),
  });
  const text = await response.text();
  let body: unknown = undefined;
  if (text !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: response.status, headers: response.headers, body };
}

/**
 * Every resource reachable from the service root by `@odata.id` links, read
 * once each (at most `limit`), with its status and body, in the order found.
 */
export async function walkTree(
  bmc: Pick<EmulatedBmcInfo, "url" | "username" | "password">,
  limit = 300,
): Promise<Map<string, { status: number; body: any }>> {
  const seen = new Map<string, { status: number; body: any }>();
  const queue = ["/redfish/v1/"];
  const links = (value: unknown, out: string[]): void => {
    if (Array.isArray(value)) for (const v of value) links(v, out);
    else if (typeof value === "object" && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        if (k === "@odata.id" && typeof v === "string" && !v.includes("#")) out.push(v);
        else links(v, out);
      }
    }
  };
  while (queue.length > 0 && seen.size < limit) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    const r = await redfishFetch(bmc, path);
    seen.set(path, { status: r.status, body: r.body });
    const out: string[] = [];
    links(r.body, out);
    queue.push(...out.filter((p) => !seen.has(p)));
  }
  return seen;
}

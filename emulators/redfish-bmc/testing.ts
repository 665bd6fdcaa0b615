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

/**
 * Which subscriptions are aimed at the event receiver: those whose
 * destination is under the receiver's public URL (`--event-receiver-url`,
 * what BMCs can reach). Users write nothing else: the operator adds the token
 * header to such a subscription and the receiver maps its deliveries to the
 * host.
 *
 * @module
 */

/** The receiver's public URL, normalised (no trailing slash on its path). */
export function normalReceiverUrl(url: string): URL {
  if (!URL.canParse(url)) throw new RangeError(`--event-receiver-url must be an absolute https:// URL, got ${JSON.stringify(url)}`);
  const parsed = new URL(url);
  if (parsed.protocol !== "https:") {
    throw new RangeError(`--event-receiver-url must use https (some BMCs deliver only over HTTPS), got ${JSON.stringify(parsed.protocol)}`);
  }
  if (parsed.username || parsed.password) throw new RangeError("--event-receiver-url must not hold user information");
  parsed.search = "";
  parsed.hash = "";
  parsed.pathname = parsed.pathname.replace(/\/+$/, "") || "/";
  return parsed;
}

/** Whether `destination` is the receiver at `receiver`, or a path under it. */
export function isReceiverDestination(destination: string, receiver: URL): boolean {
  if (!URL.canParse(destination)) return false;
  const d = new URL(destination);
  if (d.origin !== receiver.origin) return false;
  const base = receiver.pathname === "/" ? "" : receiver.pathname;
  const path = d.pathname.replace(/\/+$/, "");
  return path === base || path.startsWith(`${base}/`) || (base === "" && path === "");
}

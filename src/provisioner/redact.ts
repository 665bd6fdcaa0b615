/**
 * Removes secrets (BMC passwords, HTTP header values) from text that may end
 * up in an error message, a log line or a resource's status. Provisioners run
 * every message that quotes a BMC's or Ironic's reply through it, since a
 * reply may echo what was sent.
 *
 * @module
 */
import type { HostAccess, SubscriptionRequest } from "./provisioner.ts";

/** What replaces a secret. */
export const REDACTED = "[redacted]";

/** Returns `text` with every occurrence of every non-empty secret replaced by {@link REDACTED}. */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  const sorted = [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  let result = text;
  for (const secret of sorted) result = result.split(secret).join(REDACTED);
  return result;
}

/** The secrets of a host (its password, also as HTTP Basic credentials), and of a subscription request when one is given. */
export function secretsOf(host: HostAccess, request?: SubscriptionRequest): string[] {
  // The Basic credentials too, in case a reply echoes the Authorization header.
  const secrets = [host.password, Buffer.from(`${host.username}:${host.password}`).toString("base64")];
  if (request !== undefined) secrets.push(...Object.values(request.httpHeaders));
  return secrets;
}

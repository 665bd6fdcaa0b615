/**
 * Error messages as they go into status and Events: the real cause, on one
 * line, bounded in size, with every secret removed.
 *
 * @module
 */

import { redactSecrets } from "../provisioner/redact.ts";
import { redactUrlUserinfo } from "../runtime/index.ts";

/** Longest error message written to status. */
export const MAX_ERROR_MESSAGE_LENGTH = 1024;

/**
 * Returns `message` with each secret redacted (see `redactSecrets`) and the
 * user information of every URL removed (a BMC's error may quote a URL with
 * its password), folded onto one line and cut to `max` characters. Secrets
 * shorter than 3 characters are still removed, since a password of any length
 * must not leak.
 */
export function sanitizeErrorMessage(
  message: string,
  secrets: Iterable<string> = [],
  max: number = MAX_ERROR_MESSAGE_LENGTH,
): string {
  const text = redactUrlUserinfo(redactSecrets(message, secrets)).replace(/\s+/g, " ").trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The message of any thrown value. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

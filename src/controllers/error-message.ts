/**
 * Error messages as they go into status and Events: the real cause, on one
 * line, bounded in size, with every secret removed.
 *
 * @module
 */

/** Longest error message written to status. */
export const MAX_ERROR_MESSAGE_LENGTH = 1024;

/** What replaces a secret in a message. */
export const REDACTED = "[redacted]";

/**
 * Returns `message` with each secret replaced by {@link REDACTED}, folded onto
 * one line and cut to `max` characters. Secrets shorter than 3 characters are
 * still removed, since a password of any length must not leak.
 */
export function sanitizeErrorMessage(
  message: string,
  secrets: Iterable<string> = [],
  max: number = MAX_ERROR_MESSAGE_LENGTH,
): string {
  let text = message;
  const sorted = [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  for (const secret of sorted) text = text.split(secret).join(REDACTED);
  text = text.replace(/\s+/g, " ").trim();
  if (text.length > max) text = `${text.slice(0, max - 1)}…`;
  return text;
}

/** The message of any thrown value. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Removes the user information (`user:password@`) of every URL in a text: a
 * URL quoted by a BMC's error, a library's message or a stack trace may carry
 * a password, and nothing the operator writes (log lines, Events, status)
 * may hold one.
 *
 * @module
 */

/** What replaces a URL's user information. */
export const USERINFO_REDACTED = "[redacted]@";

/**
 * `scheme://` (also with JSON-escaped slashes) and the authority's user
 * information up to its last `@`: no whitespace, quote, `/`, `?` or `#`.
 */
const URL_USERINFO = /([A-Za-z][A-Za-z0-9+.-]*:(?:\/\/|\\\/\\\/))[^\s/?#"'<>\\]*@/g;

/** `text` with the user information of every URL in it replaced by {@link USERINFO_REDACTED}. */
export function redactUrlUserinfo(text: string): string {
  // Most texts hold no user information at all: no `@`, no regular expression run.
  if (!text.includes("@")) return text;
  return text.replace(URL_USERINFO, `$1${USERINFO_REDACTED}`);
}

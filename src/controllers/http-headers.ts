/**
 * HTTP headers for event delivery, read from the data of a Secret: each key is
 * a header name, each value its value. Names are checked; values are secrets
 * and never appear in an error.
 *
 * @module
 */

/** An RFC 9110 field name (a token). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Header names a subscription may not set: they belong to the HTTP exchange itself. */
const FORBIDDEN = new Set([
  "host",
  "content-length",
  "content-type",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
]);

/** A Secret's headers could not be used. The message names the key, never the value. */
export class InvalidHeadersError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidHeadersError";
  }
}

/**
 * The headers held by a Secret's `data` (base64) and `stringData`, validated.
 * Throws {@link InvalidHeadersError} naming the Secret and the bad key.
 */
export function headersFromSecret(secret: {
  metadata?: { name?: string; namespace?: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}): Record<string, string> {
  const where = `Secret "${secret.metadata?.namespace ?? ""}/${secret.metadata?.name ?? ""}"`;
  const headers: Record<string, string> = {};
  const entries: [string, string][] = [
    ...Object.entries(secret.data ?? {}).map(([k, v]): [string, string] => [k, Buffer.from(v, "base64").toString("utf8")]),
    ...Object.entries(secret.stringData ?? {}),
  ];
  for (const [name, value] of entries.sort(([a], [b]) => a.localeCompare(b))) {
    if (!TOKEN.test(name)) {
      throw new InvalidHeadersError(`${where} key ${JSON.stringify(name)} is not a valid HTTP header name`);
    }
    if (FORBIDDEN.has(name.toLowerCase())) {
      throw new InvalidHeadersError(`${where} key ${JSON.stringify(name)} is a header the event delivery sets itself`);
    }
    if (/[\r\n\0]/.test(value)) {
      throw new InvalidHeadersError(
        `${where} key ${JSON.stringify(name)} has a value with a line break or NUL, which no HTTP header may hold`,
      );
    }
    headers[name] = value;
  }
  return headers;
}

/**
 * URLs as the Kubernetes CEL URL library sees them: parsed like Go's
 * `url.ParseRequestURI` (absolute URI or absolute path, no fragment split),
 * which differs from WHATWG `URL` (for example `https://host` has an empty
 * path here, where WHATWG reports `/`).
 *
 * @module
 */

/** A URL split into the parts the CEL `url()` accessors return. */
export interface RequestURL {
  scheme: string;
  /** Host with port, IPv6 literal in brackets; empty for a path-only or opaque URL. */
  host: string;
  /** Escaped path as written. */
  path: string;
  /** Raw query, without `?`. */
  query: string;
  /** The part after `scheme:` when it does not start with `/`. */
  opaque: string;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s;
/** Whether the string has a control character or a space, which Go's parser rejects. */
function hasControlOrSpace(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) return true;
  }
  return false;
}
const HOST = /^(\[[0-9A-Fa-f:.]+(%25[A-Za-z0-9._~-]+)?\]|[A-Za-z0-9._~!$&'()*+,;=%-]*)(:[0-9]*)?$/;

/** Parses like Go's `url.ParseRequestURI`; `undefined` where Go returns an error. */
export function parseRequestURI(raw: string): RequestURL | undefined {
  if (raw === "" || hasControlOrSpace(raw)) return undefined;
  let rest = raw;
  let query = "";
  const q = rest.indexOf("?");
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  if (rest.startsWith("/") && !rest.startsWith("//")) {
    return { scheme: "", host: "", path: rest, query, opaque: "" };
  }
  const match = SCHEME.exec(rest);
  if (!match) return undefined;
  const scheme = (match[1] ?? "").toLowerCase();
  rest = match[2] ?? "";
  if (!rest.startsWith("/")) return { scheme, host: "", path: "", query, opaque: rest };
  let host = "";
  if (rest.startsWith("//")) {
    const authority = rest.slice(2);
    const slash = authority.indexOf("/");
    host = slash >= 0 ? authority.slice(0, slash) : authority;
    rest = slash >= 0 ? authority.slice(slash) : "";
    const at = host.lastIndexOf("@");
    if (at >= 0) host = host.slice(at + 1);
    if (!HOST.test(host)) return undefined;
  }
  return { scheme, host, path: rest, query, opaque: "" };
}

/** The host without port, and an IPv6 literal without brackets. */
export function hostnameOf(url: RequestURL): string {
  const { host } = url;
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]"));
  const colon = host.lastIndexOf(":");
  return colon >= 0 ? host.slice(0, colon) : host;
}

/** The port as written, or empty. */
export function portOf(url: RequestURL): string {
  const { host } = url;
  const end = host.startsWith("[") ? host.indexOf("]") + 1 : 0;
  const colon = host.indexOf(":", end);
  return colon >= 0 ? host.slice(colon + 1) : "";
}

/** The query as a map of keys to their values, as CEL's `getQuery()` returns it. */
export function queryOf(url: RequestURL): Map<string, string[]> {
  const result = new Map<string, string[]>();
  if (url.query === "") return result;
  for (const [key, value] of new URLSearchParams(url.query)) {
    result.set(key, [...(result.get(key) ?? []), value]);
  }
  return result;
}

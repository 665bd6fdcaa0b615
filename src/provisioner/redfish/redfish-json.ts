/**
 * Reading Redfish JSON: objects, non-empty strings and `@odata.id` links, the
 * same rules for every part of the Redfish provisioner, so the inventory, the
 * light cache and the subscriptions never disagree on what a link is.
 *
 * @module
 */

/** A JSON object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A non-empty string, else `undefined`. */
export function stringOf(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The `@odata.id` of a link object, when it is an absolute path. */
export function linkOf(value: unknown): string | undefined {
  const id = isObject(value) ? stringOf(value["@odata.id"]) : undefined;
  return id?.startsWith("/") ? id : undefined;
}

/** The `@odata.id`s of an array of link objects, each once (BMCs repeat links), in order. */
export function links(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const seen = new Set<string>();
  const paths: string[] = [];
  for (const path of value.map(linkOf)) {
    if (path === undefined || seen.has(pathKey(path))) continue;
    seen.add(pathKey(path));
    paths.push(path);
  }
  return paths;
}

/**
 * A path as a key: without trailing slashes, since BMCs spell the same
 * resource both ways (iLO ends member links with `/`).
 */
export function pathKey(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed === "" ? "/" : trimmed;
}

/** The last segment of a path, decoded; `""` for none. */
export function lastSegment(path: string): string {
  const segment = pathKey(path).split("/").at(-1) ?? "";
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

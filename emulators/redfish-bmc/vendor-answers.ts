/**
 * How a vendor's BMC shapes what it serves and answers: trailing slashes on
 * links, `@odata.etag` in bodies, the `ETag` header's form, and the bodies of
 * a successful PATCH or subscription create (see vendor-profile.ts).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { registryMessage } from "./redfish-errors.ts";
import type { CreatedAnswer, PatchAnswer, ResourceShape } from "./vendor-profile.ts";

/** The opaque tag of a serialized body. */
export function tagOf(text: string): string {
  return createHash("sha1").update(text).digest("base64url").slice(0, 20);
}

/** A tag in the vendor's `ETag` form; undefined when it sends none. */
function etagForm(shape: ResourceShape, tag: string): string | undefined {
  if (shape.etag === "none") return undefined;
  return shape.etag === "weak" ? `W/"${tag}"` : `"${tag}"`;
}

/** True when an `If-Match` or `If-None-Match` list names `etag` (or `*`); a weak tag matches its strong twin. */
export function etagListIncludes(list: string, etag: string): boolean {
  const bare = (t: string) => t.replace(/^W\//, "");
  return list.split(",").some((candidate) => {
    const c = candidate.trim();
    return c === "*" || bare(c) === bare(etag);
  });
}

/** A path with the vendor's trailing slash, if it puts one (fragments and the root stay as they are). */
export function shapedPath(shape: ResourceShape, path: string): string {
  if (!shape.trailingSlash || path.includes("#") || path.endsWith("/")) return path;
  return `${path}/`;
}

/**
 * A resource body as the vendor serves it, with its ETag: `@odata.id`s and
 * action targets with the vendor's trailing slash, and `@odata.etag` (equal
 * to the `ETag` header, so a client may send either in `If-Match`) when the
 * vendor carries one. The tag is hashed from the body without `@odata.etag`.
 */
export function shapedResource(shape: ResourceShape, body: unknown): { body: unknown; text: string; etag: string | undefined } {
  const out = shape.trailingSlash ? withTrailingSlashes(shape, body) : body;
  const text = JSON.stringify(out);
  const etag = etagForm(shape, tagOf(text));
  if (shape.odataEtag && typeof out === "object" && out !== null && !Array.isArray(out) && "@odata.id" in out) {
    const withEtag = { ...(out as Record<string, unknown>), "@odata.etag": etag ?? `"${tagOf(text)}"` };
    return { body: withEtag, text: JSON.stringify(withEtag), etag };
  }
  return { body: out, text, etag };
}

function withTrailingSlashes(shape: ResourceShape, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => withTrailingSlashes(shape, v));
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = (key === "@odata.id" || key === "target") && typeof v === "string" ? shapedPath(shape, v) : withTrailingSlashes(shape, v);
  }
  return out;
}

/** iLO's success: an `error` object whose extended info carries the Base message. */
function iloEnvelope(key: "Success" | "Created"): Record<string, unknown> {
  return {
    error: {
      code: "iLO.2.15.ExtendedInfo",
      message: "See @Message.ExtendedInfo for more information.",
      "@Message.ExtendedInfo": [{ MessageId: `Base.1.4.${key}` }],
    },
  };
}

function extendedInfo(key: "Success" | "Created", registry: string): Record<string, unknown> {
  const text = key === "Success" ? "The request completed successfully." : "The resource has been created successfully.";
  return { "@Message.ExtendedInfo": [registryMessage(`${registry}.${key}`, text, [], "OK", "None.")] };
}

/** The status and body of a successful PATCH; `updated` is the changed resource (served for `resource`). */
export function patchAnswer(answer: PatchAnswer, updated: unknown): { status: number; body?: unknown } {
  switch (answer) {
    case "resource":
      return { status: 200, body: updated };
    case "no-content":
      return { status: 204 };
    case "extended-info":
      return { status: 200, body: extendedInfo("Success", "Base.1.12") };
    case "error-envelope":
      return { status: 200, body: iloEnvelope("Success") };
    case "success-object":
      return { status: 200, body: { Success: { code: "Base.v1_4_0.Success", Message: "Successfully Completed Request" } } };
  }
}

/** The body of a successful subscription create; `created` is the new EventDestination (served for `resource`). */
export function createdAnswer(answer: CreatedAnswer, created: unknown): unknown {
  switch (answer) {
    case "resource":
      return created;
    case "extended-info":
      return extendedInfo("Created", "Base.1.16");
    case "error-envelope":
      return iloEnvelope("Created");
  }
}

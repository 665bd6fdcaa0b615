/**
 * API errors as `metav1.Status` objects, with the reasons, codes and message
 * wording of kube-apiserver (`k8s.io/apimachinery/pkg/api/errors`).
 *
 * @module
 */

/** One cause of a failure (`metav1.StatusCause`). */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** Which object a failure is about (`metav1.StatusDetails`). */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** A `metav1.Status`. */
export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** A group and a resource, as error messages name them (`secrets`, `bmceventsubscriptions.metal3.io`). */
export interface GroupResource {
  group: string;
  resource: string;
}

/** `resource.group`, or `resource` for the core group. */
export function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

/** An error that the API answers with a `metav1.Status`. */
export class StatusError extends Error {
  readonly status: Status;

  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.name = "StatusError";
    this.status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message,
      reason,
      ...(details ? { details } : {}),
      code,
    };
  }

  /** The HTTP status code. */
  get code(): number {
    return this.status.code;
  }
}

function details(gr: GroupResource, name: string | undefined, extra: Partial<StatusDetails> = {}): StatusDetails {
  const out: StatusDetails = {};
  if (name) out.name = name;
  if (gr.group) out.group = gr.group;
  out.kind = gr.resource;
  return { ...out, ...extra };
}

/** 404 NotFound: `secrets "x" not found`. */
export function notFound(gr: GroupResource, name: string): StatusError {
  return new StatusError(404, "NotFound", `${qualifiedResource(gr)} "${name}" not found`, details(gr, name));
}

/** 409 AlreadyExists: `secrets "x" already exists`. */
export function alreadyExists(gr: GroupResource, name: string): StatusError {
  return new StatusError(409, "AlreadyExists", `${qualifiedResource(gr)} "${name}" already exists`, details(gr, name));
}

/** 409 Conflict, for a stale resourceVersion or a failed precondition. */
export function conflict(gr: GroupResource, name: string, why: string): StatusError {
  return new StatusError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`,
    details(gr, name),
  );
}

/** The reason kube-apiserver gives for a stale resourceVersion. */
export const MODIFIED_CONFLICT =
  "the object has been modified; please apply your changes to the latest version and try again";

/** 422 Invalid: `Kind.group "name" is invalid: <errors>`, one cause per field error. */
export function invalid(
  groupKind: { group: string; kind: string },
  name: string,
  causes: Array<Required<Pick<StatusCause, "reason" | "message" | "field">>>,
): StatusError {
  const qualifiedKind = groupKind.group ? `${groupKind.kind}.${groupKind.group}` : groupKind.kind;
  const texts = causes.map((cause) => (cause.field ? `${cause.field}: ${cause.message}` : cause.message));
  const summary = texts.length === 1 ? texts[0] : `[${texts.join(", ")}]`;
  const out: StatusDetails = { name, ...(groupKind.group ? { group: groupKind.group } : {}), kind: groupKind.kind };
  out.causes = causes;
  return new StatusError(422, "Invalid", `${qualifiedKind} "${name}" is invalid: ${summary}`, out);
}

/** 400 BadRequest. */
export function badRequest(message: string, causes?: StatusCause[]): StatusError {
  return new StatusError(400, "BadRequest", message, causes ? { causes } : undefined);
}

/** 403 Forbidden: `<resource> "<name>" is forbidden: <why>`. */
export function forbidden(gr: GroupResource, name: string, why: string): StatusError {
  return new StatusError(403, "Forbidden", `${qualifiedResource(gr)} "${name}" is forbidden: ${why}`, details(gr, name));
}

/** 405 MethodNotAllowed. */
export function methodNotAllowed(method: string, gr: GroupResource): StatusError {
  return new StatusError(
    405,
    "MethodNotAllowed",
    `${method} is not supported on resources of kind ${JSON.stringify(qualifiedResource(gr))}`,
    details(gr, undefined),
  );
}

/**
 * 504 Timeout for a read at a resourceVersion the server has not reached
 * (`storage.NewTooLargeResourceVersionError`), with its
 * `ResourceVersionTooLarge` cause and a retry after one second.
 */
export function tooLargeResourceVersion(asked: number, current: number): StatusError {
  return new StatusError(504, "Timeout", `Timeout: Too large resource version: ${asked}, current: ${current}`, {
    causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
    retryAfterSeconds: 1,
  });
}

/** 410 Expired. */
export function expired(message: string): StatusError {
  return new StatusError(410, "Expired", message);
}

/** 415 UnsupportedMediaType, listing what the endpoint accepts. */
export function unsupportedMediaType(contentType: string, accepted: readonly string[]): StatusError {
  return new StatusError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format (${JSON.stringify(contentType)}) - accepted media types include: ${accepted.join(", ")}`,
  );
}

/** 413 RequestEntityTooLarge. */
export function requestEntityTooLarge(limit: number): StatusError {
  return new StatusError(413, "RequestEntityTooLarge", `Request entity too large: limit is ${limit}`);
}

/** 404 for a path that serves nothing. */
export function pathNotFound(path: string): StatusError {
  return new StatusError(404, "NotFound", `the server could not find the requested resource (${JSON.stringify(path)})`, {});
}

/** 500 InternalError. */
export function internalError(message: string): StatusError {
  return new StatusError(500, "InternalError", `Internal error occurred: ${message}`, {
    causes: [{ message }],
  });
}

/** A `Status` with `status: Success`, the answer to deleting some built-in kinds. */
export function successStatus(gr: GroupResource, name: string, uid: string): Omit<Status, "message" | "reason"> {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Success",
    details: { ...details(gr, name), uid },
    code: 200,
  };
}

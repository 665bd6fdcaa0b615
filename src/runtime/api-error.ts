/**
 * Errors returned by the Kubernetes API, carrying the `metav1.Status` the
 * server sent, with predicates named after apimachinery's `errors.IsXxx`.
 *
 * @module
 */

/** `metav1.Status`: the body of every Kubernetes API error. */
export interface Status {
  apiVersion?: string;
  kind?: "Status";
  status?: "Success" | "Failure";
  message?: string;
  /** A machine-readable word, for example `NotFound`, `Conflict`, `Expired`. */
  reason?: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: { type?: string; message?: string; field?: string }[];
    retryAfterSeconds?: number;
  };
  /** The HTTP status code. */
  code?: number;
}

/** An HTTP status the API server answered with, other than 2xx. */
export class ApiError extends Error {
  override name = "ApiError";
  /** The HTTP status code (404, 409, 410, …). */
  readonly code: number;
  /** `status.reason`, or a reason derived from the code when the body had none. */
  readonly reason: string;
  /** The `metav1.Status` the server sent (synthesised when the body was not one). */
  readonly status: Status;
  /** The request method. */
  readonly method: string;
  /** The request path (without the server). */
  readonly path: string;

  constructor(method: string, path: string, status: Status, options?: ErrorOptions) {
    const code = status.code ?? 0;
    const reason = status.reason || reasonForCode(code);
    super(`${method} ${path}: ${code} ${reason}: ${status.message ?? "no message"}`, options);
    this.code = code;
    this.reason = reason;
    this.status = { ...status, code, reason };
    this.method = method;
    this.path = path;
  }
}

/** The reason Kubernetes gives a status code when the body carries none. */
export function reasonForCode(code: number): string {
  switch (code) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 406: return "NotAcceptable";
    case 409: return "Conflict";
    case 410: return "Expired";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return "Unknown";
  }
}

function hasCode(error: unknown, code: number): error is ApiError {
  return error instanceof ApiError && error.code === code;
}

/** The object does not exist (404). */
export const isNotFound = (error: unknown): error is ApiError => hasCode(error, 404);
/** A write lost an optimistic-concurrency race, or a field manager conflict (409, not AlreadyExists). */
export const isConflict = (error: unknown): error is ApiError =>
  hasCode(error, 409) && error.reason !== "AlreadyExists";
/** A create found the name taken (409 AlreadyExists). */
export const isAlreadyExists = (error: unknown): error is ApiError =>
  hasCode(error, 409) && error.reason === "AlreadyExists";
/** A resourceVersion or continue token is too old (410 Gone / Expired). */
export const isGone = (error: unknown): error is ApiError => hasCode(error, 410);
/** The object failed validation (422). */
export const isInvalid = (error: unknown): error is ApiError => hasCode(error, 422);
/** The caller may not do this (403). */
export const isForbidden = (error: unknown): error is ApiError => hasCode(error, 403);

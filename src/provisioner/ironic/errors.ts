/**
 * Ironic's errors, decoded. Ironic answers a failure with
 * `{"error_message": "{\"faultcode\": \"Client\", \"faultstring\": \"…\", \"debuginfo\": null}"}`:
 * the value is JSON inside a JSON string, which {@link decodeIronicFault}
 * unwraps into the `faultstring`. {@link IronicError} carries the HTTP status,
 * the request and that text, with secrets removed.
 *
 * @module
 */
import { REDACTED } from "../redact.ts";

/** How an Ironic request failed. */
export type IronicFailure =
  /** Ironic answered with an error status. */
  | "http"
  /** No answer within the request timeout. */
  | "timeout"
  /** No connection, or the connection broke before an answer. */
  | "connection"
  /** The answer was not what the API promises (not JSON, wrong shape). */
  | "protocol";

/** A failed Ironic request. The message names the request and Ironic's own error text, never a secret. */
export class IronicError extends Error {
  /** How the request failed. */
  readonly failure: IronicFailure;
  /** The HTTP status, or 0 when there was no answer. */
  readonly status: number;
  /** The request, `GET /v1/nodes/x`, without credentials. */
  readonly request: string;
  /** Ironic's own error text (the decoded `faultstring`), secrets removed; empty when there was no answer. */
  readonly fault: string;

  constructor(
    failure: IronicFailure,
    status: number,
    request: string,
    fault: string,
    options?: ErrorOptions,
  ) {
    const what = status > 0 ? `${status}` : failure;
    super(`Ironic ${request} failed (${what})${fault ? `: ${fault}` : ""}`, options);
    this.name = "IronicError";
    this.failure = failure;
    this.status = status;
    this.request = request;
    this.fault = fault;
  }

  /** 409 because another operation holds the node's lock; worth retrying. */
  get nodeLocked(): boolean {
    return this.status === 409 && /\block(ed)?\b/i.test(this.fault);
  }
}

const MAX_FAULT_LENGTH = 2000;

function truncate(text: string): string {
  const flat = text.trim();
  return flat.length > MAX_FAULT_LENGTH ? `${flat.slice(0, MAX_FAULT_LENGTH)}…` : flat;
}

/**
 * The error text of an Ironic error body: the `faultstring` of the JSON held
 * as a string in `error_message` (or of an already-decoded object), else the
 * raw body, shortened.
 */
export function decodeIronicFault(body: string): string {
  let outer: unknown;
  try {
    outer = JSON.parse(body);
  } catch {
    return truncate(body);
  }
  if (typeof outer !== "object" || outer === null) return truncate(body);
  const message = (outer as Record<string, unknown>).error_message ?? (outer as Record<string, unknown>).faultstring;
  let inner: unknown = message;
  if (typeof message === "string") {
    try {
      inner = JSON.parse(message);
    } catch {
      return truncate(message);
    }
  }
  if (typeof inner === "object" && inner !== null) {
    const fault = (inner as Record<string, unknown>).faultstring;
    if (typeof fault === "string") return truncate(fault);
  }
  if (typeof inner === "string") return truncate(inner);
  return truncate(body);
}

/**
 * Removes the HTTP header values from Ironic's echo of a subscription request:
 * a failed `create_subscription` answers "… Subscription payload: {'Destination':
 * …, 'HttpHeaders': [{'Authorization': 'Bearer …'}]} …" (a Python repr).
 * Every value of the `HttpHeaders` list is replaced, whatever it is.
 */
export function redactHttpHeaders(text: string): string {
  // `'HttpHeaders': [ … ]` or `"HttpHeaders": [ … ]`, the list holding flat objects only.
  return text.replace(
    /(["']HttpHeaders["']\s*:\s*)\[((?:[^\]{}]|\{[^{}]*\})*)\]/g,
    (_match, prefix: string, list: string) => {
      const redacted = list.replace(
        /(["'][^"']*["']\s*:\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')/g,
        (_pair, key: string) => `${key}'${REDACTED}'`,
      );
      return `${prefix}[${redacted}]`;
    },
  );
}

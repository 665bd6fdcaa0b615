/**
 * The reconcile contract, as controller-runtime's `reconcile` package: a
 * request names an object, the reconciler makes the world match it, and its
 * result (or error) tells the controller when to look again.
 *
 * @module
 */
import type { Logger } from "./logger.ts";
import type { ObjectRef } from "./resource.ts";

/** The object to reconcile: `{namespace, name}` (a key, not an event). */
export type Request = ObjectRef;

/**
 * What a successful reconcile asks for. `{}` (or nothing) means done until
 * something changes.
 */
export interface Result {
  /** Look again after this many milliseconds (the failure count is reset). */
  requeueAfter?: number;
  /**
   * Look again after the rate limiter's delay. Deprecated in
   * controller-runtime; prefer `requeueAfter`, or throw.
   */
  requeue?: boolean;
}

/** What a reconcile gets besides the request. */
export interface ReconcileContext {
  /** A logger carrying `controller`, `object` (`namespace/name`), `namespace`, `name` and `reconcileID`. */
  logger: Logger;
  /** Aborted when the controller shuts down (or the reconcile times out): pass it to every request. */
  signal: AbortSignal;
  /** A UUID naming this reconcile in logs. */
  reconcileID: string;
  /** The controller's name. */
  controller: string;
}

/**
 * Makes the world match the object named by `request`. Throw to retry with
 * backoff; throw a {@link TerminalError} when retrying cannot help.
 */
export type Reconciler = (request: Request, context: ReconcileContext) => Promise<Result | void> | Result | void;

/**
 * An error that retrying will not fix (an invalid spec, say): the controller
 * logs it, counts it in `controller_runtime_terminal_reconcile_errors_total`,
 * and does not requeue; the next change to the object triggers a new reconcile.
 *
 * @example
 * ```ts
 * throw new TerminalError(`spec.id "${id}" is not one of the host's indicators: ${valid.join(", ")}`);
 * ```
 */
export class TerminalError extends Error {
  override name = "TerminalError";
}

/** Wraps any error as a {@link TerminalError}, keeping its message and cause. */
export function asTerminal(error: unknown): TerminalError {
  if (error instanceof TerminalError) return error;
  return new TerminalError(error instanceof Error ? error.message : String(error), { cause: error });
}

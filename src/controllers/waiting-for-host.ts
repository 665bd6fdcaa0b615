/**
 * The one error for "this resource waits for its BareMetalHost": the host is
 * not in the cache, or not registered yet, or its registration failed. No BMC
 * call is made; the host's next change requeues the resource.
 *
 * @module
 */
import type { BareMetalHost } from "../api/baremetalhost.ts";
import type { Informer } from "../runtime/index.ts";

/** The resource's host is missing or not registered; its next change requeues the resource. */
export class WaitingForHostError extends Error {
  override name = "WaitingForHostError";
  /** `HostNotFound`, `HostNotReady`, or the reason the host's registration failed: the `Ready` reason. */
  readonly reason: string;
  /** True when the host exists and its first registration has not finished. */
  readonly registering: boolean;

  constructor(message: string, options: { reason?: string; registering?: boolean } = {}) {
    // An expected state, not a fault: without a stack trace it costs a tenth of
    // what it would (a burst of new resources throws it once each).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.reason = options.reason ?? "HostNotReady";
    this.registering = options.registering ?? false;
  }
}

/** The host named `name` in `namespace`, from the cache; a {@link WaitingForHostError} when it is not there. */
export function cachedHost(hosts: Pick<Informer<BareMetalHost>, "get">, namespace: string, name: string): BareMetalHost {
  const host = hosts.get({ namespace, name });
  if (!host) throw new WaitingForHostError(`BareMetalHost "${namespace}/${name}" not found`, { reason: "HostNotFound" });
  return host;
}

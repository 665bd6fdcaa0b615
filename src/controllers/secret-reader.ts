/**
 * Reads the Secrets the controllers depend on (BMC credentials, event
 * headers). Only Secrets labelled `environment.metal3.io=baremetal` are
 * cached and watched, as in Metal3, so the operator neither holds every
 * Secret of the cluster in memory nor misses a change to one it uses: a
 * Secret read for the first time is labelled through the API, after which the
 * watch delivers its changes. The labelling merge patch answers with the
 * Secret, so reading and labelling cost one request, not a GET and a PATCH.
 *
 * @module
 */
import { isNotFound, type Informer, type KubeClient, type Logger, type ObjectRef, type Permission, permissionOn, SECRETS, type Secret } from "../runtime/index.ts";
import { isNewer } from "./resource-version.ts";

/** The label that makes a Secret visible to the operator's cache. */
export const SECRET_WATCH_LABEL = "environment.metal3.io";
/** Its value. */
export const SECRET_WATCH_LABEL_VALUE = "baremetal";
/** The label selector of the Secrets informer. */
export const SECRET_LABEL_SELECTOR = `${SECRET_WATCH_LABEL}=${SECRET_WATCH_LABEL_VALUE}`;

/** The calls of a {@link SecretReader}: the labelled Secrets' informer, and the labelling patch. */
export const SECRET_READER_PERMISSIONS: readonly Permission[] = [permissionOn(SECRETS, ["list", "watch", "patch"])];

/** Reads Secrets from the labelled cache, falling back to the API (and labelling). */
export class SecretReader {
  readonly #client: KubeClient;
  readonly #informer: Informer<Secret>;
  readonly #logger: Logger;

  constructor(client: KubeClient, informer: Informer<Secret>, logger: Logger) {
    this.#client = client;
    this.#informer = informer;
    this.#logger = logger;
  }

  /** The Secret, or undefined when it does not exist. */
  async get(ref: Required<ObjectRef>, signal?: AbortSignal): Promise<Secret | undefined> {
    const cached = this.#informer.get(ref);
    if (cached) return cached;
    // Not in the cache: unlabelled (or labelled a moment ago and not yet
    // watched, when the patch changes nothing).
    try {
      const secret = await this.#client.patch(
        SECRETS,
        ref,
        { metadata: { labels: { [SECRET_WATCH_LABEL]: SECRET_WATCH_LABEL_VALUE } } },
        { type: "merge", signal },
      );
      this.#logger.info({ secretName: `${ref.namespace}/${ref.name}` }, `labelled Secret ${SECRET_LABEL_SELECTOR} so that its changes are watched`);
      // The watch may have delivered the labelled Secret, and a change after it, before this answer.
      const meanwhile = this.#informer.get(ref);
      return meanwhile && isNewer(meanwhile, secret) ? meanwhile : secret;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}

/**
 * Reads the Secrets the controllers depend on (BMC credentials, event
 * headers). Only Secrets labelled `environment.metal3.io=baremetal` are
 * cached and watched, as in Metal3, so the operator neither holds every
 * Secret of the cluster in memory nor misses a change to one it uses: a
 * Secret read for the first time is labelled through the API, after which the
 * watch delivers its changes. The labelling merge patch answers with the
 * Secret, so reading and labelling cost one request, not a GET and a PATCH.
 *
 * Where the Metal3 baremetal-operator owns the Secrets (metal3 mode) the
 * reader is read-only: no informer, no label, one GET per read.
 *
 * @module
 */
import { isNotFound, type Informer, type KubeClient, type Logger, type ObjectRef, type Permission, permissionOn, SECRETS, type Secret } from "../runtime/index.ts";

/** The label that makes a Secret visible to the operator's cache. */
export const SECRET_WATCH_LABEL = "environment.metal3.io";
/** Its value. */
export const SECRET_WATCH_LABEL_VALUE = "baremetal";
/** The label selector of the Secrets informer. */
export const SECRET_LABEL_SELECTOR = `${SECRET_WATCH_LABEL}=${SECRET_WATCH_LABEL_VALUE}`;

/** The calls of a {@link SecretReader}: the labelled Secrets' informer, and the labelling patch. */
export const SECRET_READER_PERMISSIONS: readonly Permission[] = [permissionOn(SECRETS, ["list", "watch", "patch"])];

/** The calls of a read-only {@link SecretReader} (metal3 mode): one GET per read. */
export const READ_ONLY_SECRET_READER_PERMISSIONS: readonly Permission[] = [permissionOn(SECRETS, ["get"])];

/**
 * Reads Secrets from the labelled cache, falling back to the API (and
 * labelling); without an informer, reads each one with a GET and never writes.
 */
export class SecretReader {
  readonly #client: KubeClient;
  readonly #informer: Informer<Secret> | undefined;
  readonly #logger: Logger;

  constructor(client: KubeClient, informer: Informer<Secret> | undefined, logger: Logger) {
    this.#client = client;
    this.#informer = informer;
    this.#logger = logger;
  }

  /** The Secret, or undefined when it does not exist. */
  async get(ref: Required<ObjectRef>, signal?: AbortSignal): Promise<Secret | undefined> {
    if (this.#informer === undefined) {
      try {
        return await this.#client.get(SECRETS, ref, { signal });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    }
    const cached = this.#informer.get(ref);
    if (cached) return cached;
    // Not in the cache: unlabelled (or labelled a moment ago and not yet
    // watched, when the patch changes nothing).
    try {
      const secret = await this.#label(ref, signal);
      this.#logger.info({ secretName: `${ref.namespace}/${ref.name}` }, `labelled Secret ${SECRET_LABEL_SELECTOR} so that its changes are watched`);
      // The watch may have delivered the labelled Secret, and a change after it, before this answer;
      // or an older copy. Versions are not ordered: when the cache shows another one, the Secret is
      // read again (labelling again changes nothing and answers with what the API server holds now).
      const meanwhile = this.#informer.get(ref);
      if (!meanwhile || meanwhile.metadata?.resourceVersion === secret.metadata?.resourceVersion) return secret;
      return await this.#label(ref, signal);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Labels the Secret (no change when it is labelled already); answers with the Secret. */
  #label(ref: Required<ObjectRef>, signal?: AbortSignal): Promise<Secret> {
    return this.#client.patch(SECRETS, ref, { metadata: { labels: { [SECRET_WATCH_LABEL]: SECRET_WATCH_LABEL_VALUE } } }, { type: "merge", signal });
  }
}

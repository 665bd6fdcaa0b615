/**
 * Resolves a BareMetalHost into the {@link HostAccess} a provisioner needs,
 * reading its credentials Secret through the {@link SecretReader}.
 *
 * @module
 */
import type { BareMetalHost } from "../api/baremetalhost.ts";
import type { HostAccess } from "../provisioner/provisioner.ts";
import type { Secret } from "../runtime/index.ts";
import { hostAccessFrom, lookUpAccessFrom } from "./host-access.ts";
import type { SecretReader } from "./secret-reader.ts";

/**
 * Turns hosts into {@link HostAccess}. With `lookUpOnly` (metal3 mode, where
 * Ironic holds the BMC credentials and the operator only looks nodes up) the
 * credentials are optional: read, when the Secret exists, only so that they
 * can be kept out of error messages.
 */
export class HostAccessResolver {
  readonly #secrets: SecretReader;
  readonly #lookUpOnly: boolean;
  /** The access last made from each host object, with the Secret object it was made from. */
  readonly #made = new WeakMap<BareMetalHost, { secret: Secret | undefined; access: HostAccess }>();

  constructor(secrets: SecretReader, options: { lookUpOnly?: boolean } = {}) {
    this.#secrets = secrets;
    this.#lookUpOnly = options.lookUpOnly ?? false;
  }

  /** The host's credentials Secret, or undefined when it is missing or the host names none. */
  async credentialsOf(host: BareMetalHost, signal?: AbortSignal): Promise<Secret | undefined> {
    const name = host.spec.bmc?.credentialsName;
    if (!name) return undefined;
    return this.#secrets.get({ namespace: host.metadata.namespace ?? "", name }, signal);
  }

  /** The host's access; throws `HostAccessError` when its spec or credentials are incomplete. */
  async forHost(host: BareMetalHost, signal?: AbortSignal): Promise<HostAccess> {
    const secret = await this.credentialsOf(host, signal);
    // Cached objects are frozen and replaced when they change: the same two objects make the same access.
    const made = this.#made.get(host);
    if (made !== undefined && made.secret === secret) return made.access;
    const access = this.#lookUpOnly ? lookUpAccessFrom(host, secret) : hostAccessFrom(host, secret);
    this.#made.set(host, { secret, access });
    return access;
  }
}

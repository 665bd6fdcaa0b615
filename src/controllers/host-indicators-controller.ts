/**
 * Publishes each BareMetalHost's indicator lights as a HostIndicators object
 * of the same name, in metal3 mode, where the Metal3 baremetal-operator (BMO)
 * owns the host: its status cannot hold the list (BMO rewrites it whole and
 * its schema prunes unknown fields), and bmc-operator writes nothing to it.
 *
 * The lights are read from Ironic (the host's node: `status.provisioning.ID`,
 * else the node named `<namespace>~<name>`; never enrolled nor changed) only
 * when the fingerprint of what they depend on changes: the host's node, BMC
 * address, hardware inventory, or the user's refresh annotation on the
 * HostIndicators object. BMO's periodic full-status rewrites leave the
 * fingerprint as it was, and a restart finds it in the published object, so
 * neither costs an Ironic request or an API write. There is no timer.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { BareMetalHost } from "../api/baremetalhost.ts";
import type { HostIndicators, HostIndicatorsStatus } from "../api/host-indicators.ts";
import { API_VERSION, REFRESH_INDICATORS_ANNOTATION } from "../api/names.ts";
import type { HostAccess, HostRegistration } from "../provisioner/provisioner.ts";
import { ProvisionerError } from "../provisioner/provisioner.ts";
import { type Informer, isAlreadyExists, type Manager, refOf, resourceVersionChanged, isConflict, isNotFound, type KubeClient, objectKey, type Permission, permissionOn, type ReconcileContext, type Request, type Result, rfc3339 } from "../runtime/index.ts";
import { messageOf, sanitizeErrorMessage } from "./error-message.ts";
import type { HostAccessResolver } from "./host-access-resolver.ts";
import { BARE_METAL_HOSTS, HOST_INDICATORS } from "./resources.ts";
import { READ_ONLY_SECRET_READER_PERMISSIONS } from "./secret-reader.ts";
import { StatusWriter } from "./status-writer.ts";
import { StaleCacheGuard } from "./stale-cache-guard.ts";

/** The label on every HostIndicators object the operator creates. */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
/** Its value. */
export const MANAGED_BY = "bmc-operator";

/** JSON with object keys sorted, so equal content always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The fingerprint of what a host's lights depend on: the host itself (its
 * UID), its node, its BMC address and the credentials BMO last validated
 * (a changed BMC), its hardware (a swapped drive), and the refresh
 * annotation's value. Nothing that BMO's periodic status rewrite changes.
 */
export function lightsFingerprint(host: BareMetalHost, refresh: string | undefined): string {
  const hardware = (host.status?.hardware ?? {}) as Record<string, unknown>;
  const status = host.status;
  const basis = {
    uid: host.metadata.uid ?? "",
    node: host.status?.provisioning?.ID ?? "",
    address: host.spec.bmc?.address ?? "",
    credentialsVersion: status?.goodCredentials?.credentialsVersion ?? "",
    systemVendor: hardware.systemVendor,
    storage: hardware.storage,
    refresh: refresh ?? "",
  };
  return createHash("sha256").update(canonical(basis)).digest("hex").slice(0, 32);
}

/** What the controller needs. */
export interface HostIndicatorsControllerDeps {
  client: KubeClient;
  hosts: Informer<BareMetalHost>;
  published: Informer<HostIndicators>;
  access: HostAccessResolver;
  /** Finds the host's node and lists its lights; never enrolls or changes a node. */
  readLights: (access: HostAccess, signal?: AbortSignal) => Promise<HostRegistration>;
  now?: () => Date;
}

/** Failures that only a change of the host (or a refresh) can fix: recorded, not retried. */
function isSettled(error: unknown): boolean {
  return (
    error instanceof ProvisionerError &&
    (error.kind === "HostNotFound" || error.kind === "Unsupported" || error.kind === "Rejected" || error.kind === "IndicatorNotFound")
  );
}

/** Reconciles the HostIndicators object of each BareMetalHost; requests are keyed by the host. */
export class HostIndicatorsReconciler {
  readonly #d: HostIndicatorsControllerDeps;
  readonly #guard = new StaleCacheGuard();
  readonly #status: StatusWriter<HostIndicators>;
  /** Host key → the fingerprint this process last published, for a cache that has not caught up yet. */
  readonly #fingerprints = new Map<string, string>();

  constructor(deps: HostIndicatorsControllerDeps) {
    this.#d = deps;
    this.#status = new StatusWriter(deps.client, HOST_INDICATORS, this.#guard);
  }

  readonly reconcile = async (request: Request, ctx: ReconcileContext): Promise<Result> => {
    const key = objectKey({ metadata: request });
    const host = this.#d.hosts.get(request);
    const published = this.#d.published.get(request);
    if (!host) {
      this.#fingerprints.delete(key);
      if (published && published.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY) {
        await this.#d.client.delete(HOST_INDICATORS, request, { signal: ctx.signal }).catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
        ctx.logger.info("deleted the light list of a deleted host");
      }
      return {};
    }
    const fingerprint = lightsFingerprint(host, published?.metadata.annotations?.[REFRESH_INDICATORS_ANNOTATION]);
    if (published?.status?.fingerprint === fingerprint) return {};
    if (this.#fingerprints.get(key) === fingerprint) {
      // Published by this process: the cache is behind its write, unless someone deleted the object since.
      if (published || (await this.#exists(request, ctx))) return {};
      this.#fingerprints.delete(key);
    }

    const object = published ?? (await this.#create(host, ctx));
    const status: HostIndicatorsStatus = structuredClone(object.status ?? {});
    try {
      const access = await this.#d.access.forHost(host, ctx.signal);
      const lights = await this.#d.readLights(access, ctx.signal);
      status.indicators = lights.indicators;
      status.nodeID = lights.provisioningID;
      status.fingerprint = fingerprint;
      status.lastRead = rfc3339(this.#d.now?.() ?? new Date());
      delete status.errorMessage;
      await this.#status.write(object, status, ctx.signal);
      this.#fingerprints.set(key, fingerprint);
      ctx.logger.info({ nodeID: lights.provisioningID, indicators: lights.indicators.length }, "published the host's lights");
      return {};
    } catch (error) {
      // Somebody changed the object since it was read: retried (with backoff) on a newer copy.
      if (isConflict(error)) throw error;
      const message = sanitizeErrorMessage(messageOf(error));
      status.errorMessage = message;
      if (isSettled(error)) {
        // Nothing to switch until the host changes: no node (yet), or a BMC Ironic cannot use.
        delete status.indicators;
        delete status.nodeID;
        status.fingerprint = fingerprint;
        await this.#status.write(object, status, ctx.signal);
        this.#fingerprints.set(key, fingerprint);
        ctx.logger.warn(message);
        return {};
      }
      await this.#status.write(object, status, ctx.signal);
      throw error;
    }
  };

  async #exists(request: Request, ctx: ReconcileContext): Promise<boolean> {
    try {
      await this.#d.client.get(HOST_INDICATORS, request, { signal: ctx.signal });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /** Creates the host's (empty) HostIndicators object, or finds it when it exists already. */
  async #create(host: BareMetalHost, ctx: ReconcileContext): Promise<HostIndicators> {
    const namespace = host.metadata.namespace ?? "";
    const name = host.metadata.name ?? "";
    const object: HostIndicators = {
      apiVersion: API_VERSION,
      kind: "HostIndicators",
      metadata: {
        name,
        namespace,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
        // Garbage-collected with its host; not blocking the host's deletion (that would need rights on BMO's kind).
        ownerReferences: host.metadata.uid
          ? [{ apiVersion: API_VERSION, kind: "BareMetalHost", name, uid: host.metadata.uid }]
          : undefined,
      },
      spec: {},
    };
    try {
      const created = await this.#d.client.create(HOST_INDICATORS, object, { signal: ctx.signal });
      return created;
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      return await this.#d.client.get(HOST_INDICATORS, { namespace, name }, { signal: ctx.signal });
    }
  }
}

/**
 * Adds the HostIndicators publisher to `manager`: it reconciles each host
 * (every change of it: the fingerprint decides what matters) and the host of
 * each light list that changes or goes.
 */
export function setUpHostIndicatorsPublisher(manager: Manager, deps: HostIndicatorsControllerDeps & { workers: number }): HostIndicatorsReconciler {
  const publisher = new HostIndicatorsReconciler(deps);
  manager
    .controller({ name: "hostindicators", for: deps.hosts, reconcile: publisher.reconcile, maxConcurrentReconciles: deps.workers })
    .watch(deps.published, { map: (object) => [refOf(object)], predicates: [resourceVersionChanged] });
  return publisher;
}

/**
 * The API calls of the HostIndicators publisher (metal3 mode): the hosts'
 * and the light lists' informers, creating a light list (reading it when it
 * exists already), deleting that of a deleted host, its status writes, and a
 * GET of the host's credentials Secret; from which the RBAC manifests are
 * generated.
 */
export const HOST_INDICATORS_PUBLISHER_PERMISSIONS: readonly Permission[] = [
  permissionOn(BARE_METAL_HOSTS, ["list", "watch"]),
  permissionOn(HOST_INDICATORS, ["list", "watch", "get", "create", "delete"]),
  permissionOn(HOST_INDICATORS, ["patch"], { subresource: "status" }),
  ...READ_ONLY_SECRET_READER_PERMISSIONS,
];

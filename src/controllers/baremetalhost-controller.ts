/**
 * The BareMetalHost controller: registers each host with the provisioner and
 * records what it found (`status.provisioning.ID`, the indicator lights with
 * the drive behind each disk light, `operationalStatus`, `errorMessage` and a
 * `Ready` condition). It reads the BMC again only when the host's spec or its
 * credentials change, or a user asks with the refresh annotation; never on a
 * timer.
 *
 * @module
 */
import type { BareMetalHost, BareMetalHostStatus } from "../api/baremetalhost.ts";
import type { HostRegistration, Provisioner } from "../provisioner/provisioner.ts";
import {
  type EventRecorder,
  findStatusCondition,
  type Informer,
  isDeleting,
  type KubeClient,
  objectKey,
  type Predicate,
  type ReconcileContext,
  type Request,
  type Result,
  type Secret,
  refOf,
  TerminalError,
} from "../runtime/index.ts";
import { messageOf, sanitizeErrorMessage } from "./error-message.ts";
import { setReady } from "./ready-condition.ts";
import { hostAccessFrom } from "./host-access.ts";
import type { HostAccessResolver } from "./host-access-resolver.ts";
import { classifyFailure } from "./reasons.ts";
import { BARE_METAL_HOSTS } from "./resources.ts";
import { StatusWriter } from "./status-writer.ts";
import { STALE_CACHE_FALLBACK_MS, WrittenVersions } from "./written-versions.ts";
import { EVENT_RECORDER_PERMISSIONS, type Permission, permissionOn } from "../runtime/index.ts";
import { SECRET_READER_PERMISSIONS } from "./secret-reader.ts";

/** Annotate a host with this (any value) to have its BMC read again; the annotation is removed afterwards. */
export const REFRESH_ANNOTATION = "bmc-operator.metal3.io/refresh-inventory";

/** Index of hosts by the key (`namespace/name`) of their credentials Secret. */
export const HOSTS_BY_CREDENTIALS = "credentials";

/** The credentials Secret key of a host, for {@link HOSTS_BY_CREDENTIALS}. */
export function credentialsKey(host: BareMetalHost): string[] {
  const name = host.spec.bmc?.credentialsName;
  return name ? [`${host.metadata.namespace ?? ""}/${name}`] : [];
}

/** Marks a host whose credentials a reconcile is reading now. */
const READING: unique symbol = Symbol("reading");

/** What the controller needs. */
export interface BareMetalHostControllerDeps {
  client: KubeClient;
  provisioner: Provisioner;
  hosts: Informer<BareMetalHost>;
  access: HostAccessResolver;
  events: EventRecorder;
}

/** Reconciles BareMetalHosts. */
export class BareMetalHostReconciler {
  readonly #d: BareMetalHostControllerDeps;
  readonly #written = new WrittenVersions();
  readonly #status: StatusWriter<BareMetalHost>;
  /**
   * The resourceVersion of the credentials Secret each host's last reconcile
   * read, by host key; {@link READING} while a reconcile reads it.
   */
  readonly #credentialsRead = new Map<string, string | typeof READING>();

  constructor(deps: BareMetalHostControllerDeps) {
    this.#d = deps;
    this.#status = new StatusWriter(deps.client, BARE_METAL_HOSTS, this.#written);
  }

  /**
   * Passes the update that shows this reconciler its own last write, when a
   * reconcile was put off because the cache was behind it; for the
   * controller's predicates.
   */
  get cacheCaughtUp(): Predicate {
    return this.#written.caughtUp;
  }

  /**
   * Whether the last reconcile of `host` read `secret` at its current version,
   * or a reconcile is reading it now: then that change of the Secret is no
   * news to the host. Above all, labelling the Secret (which the reading
   * reconcile does itself) brings it into the cache, and its watch event may
   * come before the labelling's answer; a reading that finds the cache newer
   * than that answer uses the cache's copy.
   */
  hasRead(host: BareMetalHost, secret: Secret): boolean {
    const read = this.#credentialsRead.get(objectKey(host));
    return read === READING || (read !== undefined && read === secret.metadata?.resourceVersion);
  }

  /** Reads the host's credentials Secret, recording that (and then which version) it was read. */
  async #readCredentials(host: BareMetalHost, signal: AbortSignal): Promise<Secret | undefined> {
    const key = objectKey(host);
    this.#credentialsRead.set(key, READING);
    let secret: Secret | undefined;
    try {
      secret = await this.#d.access.credentialsOf(host, signal);
    } finally {
      const version = secret?.metadata?.resourceVersion;
      if (version !== undefined) this.#credentialsRead.set(key, version);
      else this.#credentialsRead.delete(key);
    }
    return secret;
  }

  /** The reconcile function, for a controller. */
  readonly reconcile = async (request: Request, ctx: ReconcileContext): Promise<Result> => {
    const host = this.#d.hosts.get(request);
    if (!host) {
      const key = objectKey({ metadata: request });
      this.#written.forget(key);
      this.#credentialsRead.delete(key);
      return {};
    }
    if (this.#written.isStale(host)) return { requeueAfter: STALE_CACHE_FALLBACK_MS };
    if (isDeleting(host)) return {};

    const status: BareMetalHostStatus = structuredClone(host.status ?? {});
    const generation = host.metadata.generation;
    const refresh = host.metadata.annotations?.[REFRESH_ANNOTATION];
    try {
      const secret = await this.#readCredentials(host, ctx.signal);
      const access = hostAccessFrom(host, secret);
      const credentialsVersion = secret?.metadata?.resourceVersion ?? "";
      const ready = findStatusCondition(status.conditions, "Ready");
      const upToDate =
        ready?.status === "True" &&
        ready.observedGeneration === generation &&
        status.goodCredentials?.credentialsVersion === credentialsVersion &&
        refresh === undefined;
      if (upToDate) return {};

      const registration = await this.#d.provisioner.registerHost(access, ctx.signal);
      status.provisioning = { ...status.provisioning, ID: registration.provisioningID };
      status.hardware = { ...status.hardware, indicators: registration.indicators };
      status.operationalStatus = "OK";
      // "", not absent: Metal3's schema requires the field, and tools written for it read "" as no error.
      status.errorMessage = "";
      status.goodCredentials = {
        credentials: { name: host.spec.bmc?.credentialsName ?? "", namespace: host.metadata.namespace ?? "" },
        credentialsVersion,
      };
      setReady(status, true, "Registered", `Registered with the ${this.#d.provisioner.name} provisioner; ${lightsSummary(registration)}`, generation);
      const written = await this.#status.write(host, status, ctx.signal);
      ctx.logger.info({ provisioningID: registration.provisioningID, indicators: registration.indicators.length }, "registered the host");
      if (refresh !== undefined) {
        const patched = await this.#d.client.patch(
          BARE_METAL_HOSTS,
          refOf(host),
          { metadata: { annotations: { [REFRESH_ANNOTATION]: null } } },
          { type: "merge", signal: ctx.signal },
        );
        this.#written.record(patched);
      }
      if (written !== host) {
        this.#d.events.event(host, {
          type: "Normal",
          reason: "Registered",
          action: "Register",
          note: `Read the BMC: ${registration.indicators.length} indicator lights`,
        });
        const unusable = unusableLightsEvent(registration);
        if (unusable) this.#d.events.event(host, unusable);
      }
      return {};
    } catch (error) {
      const { reason, terminal } = classifyFailure(error);
      const message = sanitizeErrorMessage(messageOf(error));
      status.operationalStatus = "error";
      status.errorMessage = message;
      setReady(status, false, reason, message, generation);
      await this.#status.write(host, status, ctx.signal);
      ctx.logger.warn({ reason, terminal }, message);
      this.#d.events.event(host, { type: "Warning", reason, action: "Register", note: message });
      if (terminal) throw new TerminalError(message, { cause: error });
      throw error;
    }
  };
}

/**
 * The API calls of the BareMetalHost controller (its informer, the refresh
 * annotation's removal, status writes, BMC credentials and Events), from
 * which the RBAC manifests are generated.
 */
export const BARE_METAL_HOST_CONTROLLER_PERMISSIONS: readonly Permission[] = [
  permissionOn(BARE_METAL_HOSTS, ["list", "watch", "patch"]),
  permissionOn(BARE_METAL_HOSTS, ["patch"], { subresource: "status" }),
  ...SECRET_READER_PERMISSIONS,
  ...EVENT_RECORDER_PERMISSIONS,
];

/** How many lights the host has, and how many more it has that cannot be switched, for the Ready message. */
function lightsSummary(registration: HostRegistration): string {
  const unusable = registration.unusableLights?.length ?? 0;
  const usable = `${registration.indicators.length} indicator lights`;
  return unusable === 0 ? usable : `${usable}; the BMC has ${unusable} more that cannot be switched (see the IndicatorsUnusable Event)`;
}

/** A Warning naming the lights the BMC has that the provisioner cannot switch, or `undefined` when there are none. */
function unusableLightsEvent(registration: HostRegistration): { type: "Warning"; reason: string; action: string; note: string } | undefined {
  const unusable = registration.unusableLights ?? [];
  if (unusable.length === 0) return undefined;
  return {
    type: "Warning",
    reason: "IndicatorsUnusable",
    action: "Register",
    note: `The BMC has ${unusable.length} indicator light(s) this operator cannot switch: ${unusable.join("; ")}`.slice(0, 1000),
  };
}

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
import { annotationsChanged, type Controller, EVENT_RECORDER_PERMISSIONS, type EventRecorder, findStatusCondition, type Informer, type KubeClient, type Manager, objectKey, type Permission, permissionOn, type ReconcileContext, refOf, contentChanged, type Result, type Secret } from "../runtime/index.ts";
import { hostAccessFrom } from "./host-access.ts";
import type { HostAccessResolver } from "./host-access-resolver.ts";
import { type Reconciling, ResourceReconciler } from "./resource-reconciler.ts";
import { BARE_METAL_HOSTS } from "./resources.ts";
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
export class BareMetalHostReconciler extends ResourceReconciler<BareMetalHost, BareMetalHostStatus> {
  readonly #d: BareMetalHostControllerDeps;
  /**
   * The resourceVersion of the credentials Secret each host's last reconcile
   * read, by host key; {@link READING} while a reconcile reads it.
   */
  readonly #credentialsRead = new Map<string, string | typeof READING>();

  constructor(deps: BareMetalHostControllerDeps) {
    super({ ...deps, resource: BARE_METAL_HOSTS, cache: deps.hosts, actions: { sync: "Register", cleanUp: "Register" }, waitingForHost: { event: true, retry: true } });
    this.#d = deps;
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

  protected override forget(key: string): void {
    this.#credentialsRead.delete(key);
  }

  protected override noteError(status: BareMetalHostStatus, message: string | undefined): void {
    status.operationalStatus = message === undefined ? "OK" : "error";
    // "", not absent: Metal3's schema requires the field, and tools written for it read "" as no error.
    status.errorMessage = message ?? "";
  }

  protected override async sync(work: Reconciling<BareMetalHost>, status: BareMetalHostStatus, ctx: ReconcileContext): Promise<Result> {
    const host = work.object;
    const generation = host.metadata.generation;
    const refresh = host.metadata.annotations?.[REFRESH_ANNOTATION];
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
    status.goodCredentials = {
      credentials: { name: host.spec.bmc?.credentialsName ?? "", namespace: host.metadata.namespace ?? "" },
      credentialsVersion,
    };
    const lights = registration.indicators.length;
    this.ready(status, host, "Registered", `Registered with the ${this.#d.provisioner.name} provisioner; ${lightsSummary(registration)}`);
    const written = await work.writeStatus(status);
    ctx.logger.info({ provisioningID: registration.provisioningID, indicators: lights }, "registered the host");
    if (refresh !== undefined) await work.patch({ metadata: { annotations: { [REFRESH_ANNOTATION]: null } } });
    if (written) {
      this.#d.events.event(host, { type: "Normal", reason: "Registered", action: "Register", note: `Read the BMC: ${lights} indicator lights` });
      const unusable = unusableLightsEvent(registration);
      if (unusable) this.#d.events.event(host, unusable);
    }
    return {};
  }
}

/**
 * Adds the BareMetalHost controller to `manager`. It reconciles a host on a
 * change of its spec, its deletion, the refresh annotation, and a change of
 * its credentials Secret (not one the host's own reconcile has read already:
 * above all, not the labelling that brings the Secret into the cache).
 */
export function setUpBareMetalHostController(
  manager: Manager,
  deps: BareMetalHostControllerDeps & { secrets: Informer<Secret>; workers: number },
): { reconciler: BareMetalHostReconciler; controller: Controller } {
  const { hosts, secrets } = deps;
  hosts.addIndex(HOSTS_BY_CREDENTIALS, credentialsKey);
  const reconciler = new BareMetalHostReconciler(deps);
  const controller = reconciler.controller(manager, "baremetalhost", deps.workers, annotationsChanged(REFRESH_ANNOTATION)).watch(secrets, {
    // Every host of a deleted Secret too.
    map: (secret) => {
      const current = secrets.get(refOf(secret))?.metadata?.resourceVersion === secret.metadata?.resourceVersion;
      return hosts
        .byIndex(HOSTS_BY_CREDENTIALS, objectKey(secret))
        .filter((host) => !(current && reconciler.hasRead(host, secret)))
        .map(refOf);
    },
    predicates: [contentChanged],
  });
  return { reconciler, controller };
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

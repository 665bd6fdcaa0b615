/**
 * The BareMetalHostServiceIndicator controller, as the design says: it talks
 * to the BMC only when `spec.on` differs from `status.on`, or when the record
 * does not prove the light (see {@link provesLight}: a crash between a switch
 * and its record leaves `status.on` wrong); before switching a light it reads
 * it and skips the write when it already matches; it never polls; deleting
 * the resource turns the light off before the finalizer goes.
 *
 * @module
 */
import type { BareMetalHost, HostIndicator } from "../api/baremetalhost.ts";
import type { BareMetalHostServiceIndicator, ServiceIndicatorStatus } from "../api/baremetalhost-service-indicator.ts";
import { SERVICE_INDICATOR_FINALIZER } from "../api/names.ts";
import { type Provisioner, ProvisionerError } from "../provisioner/provisioner.ts";
import { type Controller, EVENT_RECORDER_PERMISSIONS, type EventRecorder, findStatusCondition, hasFinalizer, type Informer, isDeleting, isStatusConditionTrue, type KubeClient, type KubeObject, type Manager, objectKey, type Permission, permissionOn, type ReconcileContext, refOf, type Request, contentChanged, type Result, rfc3339, TerminalError } from "../runtime/index.ts";
import { messageOf, sanitizeErrorMessage } from "./error-message.ts";
import type { HostAccessResolver } from "./host-access-resolver.ts";
import { setReady } from "./ready-condition.ts";
import { type Reconciling, ResourceReconciler } from "./resource-reconciler.ts";
import { BARE_METAL_HOSTS, SERVICE_INDICATORS } from "./resources.ts";
import { READ_ONLY_SECRET_READER_PERMISSIONS, SECRET_READER_PERMISSIONS } from "./secret-reader.ts";
import { cachedHost, WaitingForHostError } from "./waiting-for-host.ts";

/** Index of indicators by the key (`namespace/name`) of their host. */
export const INDICATORS_BY_HOST = "host";

/** The host key an indicator points at. */
export function indicatorHostKey(indicator: BareMetalHostServiceIndicator): string {
  const namespace = indicator.metadata.namespace ?? "";
  return `${indicator.spec.hostRef.namespace || namespace}/${indicator.spec.hostRef.name}`;
}

/** Index of indicators by the light they switch (see {@link indicatorLightKey}). */
export const INDICATORS_BY_LIGHT = "light";

/** The light an indicator switches: `<host key>/<id>`. */
export function indicatorLightKey(indicator: BareMetalHostServiceIndicator): string {
  return `${indicatorHostKey(indicator)}/${indicator.spec.id}`;
}

/**
 * Whether indicator `a` came before `b`: created earlier, or in the same
 * second (the resolution of `creationTimestamp`) with a name that sorts first.
 */
export function comesBefore(a: BareMetalHostServiceIndicator, b: BareMetalHostServiceIndicator): boolean {
  const at = (i: BareMetalHostServiceIndicator) => new Date(i.metadata.creationTimestamp ?? 0).getTime();
  if (at(a) !== at(b)) return at(a) < at(b);
  return (a.metadata.name ?? "") < (b.metadata.name ?? "");
}

/** What the controller needs. */
export interface ServiceIndicatorControllerDeps {
  client: KubeClient;
  provisioner: Provisioner;
  indicators: Informer<BareMetalHostServiceIndicator>;
  hosts: Informer<BareMetalHost>;
  access: HostAccessResolver;
  events: EventRecorder;
  now?: () => Date;
  /**
   * The host's lights; undefined when not listed yet. Default: the host's
   * `status.hardware.indicators`. In metal3 mode, its HostIndicators object's.
   */
  lightsOf?: (host: BareMetalHost) => HostIndicator[] | undefined;
}

type Indicator = BareMetalHostServiceIndicator;

/** Reconciles BareMetalHostServiceIndicators. */
export class ServiceIndicatorReconciler extends ResourceReconciler<Indicator, ServiceIndicatorStatus> {
  readonly #d: ServiceIndicatorControllerDeps;

  constructor(deps: ServiceIndicatorControllerDeps) {
    // Waiting for the host: not retried; the host's next change requeues the indicator.
    const waitingForHost = { event: true, retry: false };
    const actions = { sync: "SwitchLight", cleanUp: "SwitchLight" };
    super({ ...deps, resource: SERVICE_INDICATORS, cache: deps.indicators, finalizer: SERVICE_INDICATOR_FINALIZER, actions, waitingForHost });
    this.#d = deps;
  }

  protected override noteError(status: ServiceIndicatorStatus, message: string | undefined, indicator: Indicator): void {
    if (message === undefined) delete status.errorMessage;
    else status.errorMessage = message;
    status.observedGeneration = indicator.metadata.generation;
  }

  protected override async sync(work: Reconciling<Indicator>, status: ServiceIndicatorStatus, ctx: ReconcileContext): Promise<Result> {
    const indicator = work.object;
    const { spec } = indicator;
    // Another indicator of the same light came first: it keeps the light, this one waits.
    const earlier = this.#earlierOfSameLight(indicator);
    if (earlier) return await this.#refuseDuplicate(work, status, earlier, ctx);
    // Looked up first, from the cache, even for a converged indicator: one whose host is
    // gone, or no longer has that light, then says so.
    const { host, entry } = this.#lookUp(indicator);
    const finalized = hasFinalizer(indicator, SERVICE_INDICATOR_FINALIZER);
    if (status.on === spec.on && status.observedGeneration === indicator.metadata.generation && isStatusConditionTrue(status.conditions, "Ready") && finalized) {
      return {};
    }
    // The finalizer goes on once the host can be asked, before anything is changed on
    // the BMC: while the host registers there is nothing to clean up, and a burst of
    // new indicators then costs the API no writes until their hosts are ready. The
    // light is read while the finalizer is written; a read leaves nothing to undo.
    if (status.on === spec.on && provesLight(indicator)) {
      // The record proves the light is as asked (only the finalizer was missing): no BMC call.
      await work.addFinalizer();
      await this.#ready(work, status, spec.on, false);
      return {};
    }
    const reading = (async () => {
      const access = await this.#d.access.forHost(host, ctx.signal);
      return { access, current: await this.#d.provisioner.getIndicator(access, entry.id, ctx.signal) };
    })();
    // Both settle before either outcome is acted on, so a failed read never leaves the finalizer write unobserved.
    const [withFinalizer, read] = await Promise.allSettled([work.addFinalizer(), reading]);
    if (withFinalizer.status === "rejected") throw withFinalizer.reason;
    if (read.status === "rejected") throw read.reason;
    const { access, current } = read.value;
    const isOn = current === "on" || current === "blinking";
    if (isOn !== spec.on) {
      await this.#d.provisioner.setIndicator(access, entry.id, spec.on ? "on" : "off", ctx.signal);
      ctx.logger.info({ indicator: entry.id, on: spec.on }, "switched the light");
    } else {
      ctx.logger.info({ indicator: entry.id, on: spec.on }, "the light already was as asked");
    }
    await this.#ready(work, status, spec.on, isOn !== spec.on);
    return {};
  }

  /** The first indicator of the same light, when it is not `indicator` itself. */
  #earlierOfSameLight(indicator: Indicator): Indicator | undefined {
    let first: Indicator | undefined;
    for (const other of this.#d.indicators.byIndex(INDICATORS_BY_LIGHT, indicatorLightKey(indicator))) {
      if (objectKey(other) === objectKey(indicator) || !comesBefore(other, indicator)) continue;
      if (!first || comesBefore(other, first)) first = other;
    }
    return first;
  }

  /**
   * Reports that `earlier` switches this light, without touching it: two
   * indicators of one light would each report Ready while the light follows
   * whichever switched last. `status.on` goes, as this indicator no longer
   * knows the light; the earlier one's deletion requeues this one, which then
   * reads the light before it switches it.
   */
  async #refuseDuplicate(work: Reconciling<Indicator>, status: ServiceIndicatorStatus, earlier: Indicator, ctx: ReconcileContext): Promise<Result> {
    const indicator = work.object;
    const { id, hostRef } = indicator.spec;
    const message =
      `indicator "${id}" of BareMetalHost "${hostRef.name}" is already switched by BareMetalHostServiceIndicator ` +
      `"${earlier.metadata.name}", created earlier (${String(earlier.metadata.creationTimestamp)}); ` +
      "this one does nothing until that one is deleted";
    delete status.on;
    this.noteError(status, message, indicator);
    setReady(status, false, "DuplicateIndicator", message, indicator.metadata.generation);
    if (await work.writeStatus(status)) {
      ctx.logger.warn({ reason: "DuplicateIndicator", earlier: earlier.metadata.name }, message);
      this.#d.events.event(indicator, { type: "Warning", reason: "DuplicateIndicator", action: "SwitchLight", note: message });
    }
    return {};
  }

  /** The host and its indicator entry, or a failure saying which is missing. */
  #lookUp(indicator: Indicator): { host: BareMetalHost; entry: HostIndicator } {
    const namespace = indicator.metadata.namespace ?? "";
    const { hostRef, id } = indicator.spec;
    if (hostRef.namespace && hostRef.namespace !== namespace) {
      throw new TerminalError(
        `spec.hostRef.namespace "${hostRef.namespace}" must be empty or the indicator's own namespace "${namespace}"`,
      );
    }
    const host = cachedHost(this.#d.hosts, namespace, hostRef.name);
    const entries = this.#d.lightsOf ? this.#d.lightsOf(host) : host.status?.hardware?.indicators;
    if (!entries) {
      const ready = findStatusCondition(host.status?.conditions, "Ready");
      if (ready?.status === "False") {
        // Its registration failed: the cause (bad credentials, BMC down) is what the user must fix.
        throw new WaitingForHostError(
          `BareMetalHost "${namespace}/${hostRef.name}" could not be registered (${ready.reason}): ${ready.message}`,
          { reason: ready.reason },
        );
      }
      throw new WaitingForHostError(`BareMetalHost "${namespace}/${hostRef.name}" has not listed its indicators yet`, {
        registering: ready === undefined,
      });
    }
    const entry = entries.find((e) => e.id === id);
    if (!entry) {
      const valid = entries.map((e) => e.id).join(", ") || "none";
      throw new TerminalError(
        `spec.id "${id}" is not an indicator of BareMetalHost "${hostRef.name}"; its indicators are: ${valid}`,
      );
    }
    if (entry.readonly) {
      throw new TerminalError(`indicator "${id}" of BareMetalHost "${hostRef.name}" is read-only and cannot be switched`);
    }
    return { host, entry };
  }

  async #ready(work: Reconciling<Indicator>, status: ServiceIndicatorStatus, on: boolean, switched: boolean) {
    const indicator = work.object;
    const now = this.now();
    status.on = on;
    status.lastUpdated = rfc3339(now);
    this.ready(status, indicator, on ? "LightOn" : "LightOff", `The light is ${on ? "on" : "off"}`, now);
    await work.writeStatus(status);
    if (switched) {
      this.#d.events.event(indicator, {
        type: "Normal",
        reason: on ? "LightOn" : "LightOff",
        action: on ? "TurnOn" : "TurnOff",
        note: `Turned indicator ${indicator.spec.id} ${on ? "on" : "off"}`,
      });
    }
  }

  /**
   * Turns the light off (reading it first) before the finalizer goes. The
   * light is left alone only when the record proves it off: after a crash
   * between a switch and its record, `status.on` may say off while it is lit.
   * A refused duplicate leaves the light to the earlier indicator of it.
   */
  protected override async cleanUp(work: Reconciling<Indicator>, ctx: ReconcileContext): Promise<void> {
    const indicator = work.object;
    if (this.#earlierOfSameLight(indicator) || (indicator.status?.on === false && provesLight(indicator))) return;
    try {
      const { host, entry } = this.#lookUp(indicator);
      const access = await this.#d.access.forHost(host, ctx.signal);
      const current = await this.#d.provisioner.getIndicator(access, entry.id, ctx.signal);
      if (current !== "off") {
        await this.#d.provisioner.setIndicator(access, entry.id, "off", ctx.signal);
        this.#d.events.event(indicator, {
          type: "Normal",
          reason: "LightOff",
          action: "TurnOff",
          note: `Turned indicator ${entry.id} off before deleting the resource`,
        });
      }
    } catch (error) {
      const gone =
        error instanceof WaitingForHostError ||
        error instanceof TerminalError ||
        (error instanceof ProvisionerError && (error.kind === "HostNotFound" || error.kind === "IndicatorNotFound"));
      if (!gone) throw error;
      this.#d.events.event(indicator, {
        type: "Warning",
        reason: "LightNotTurnedOff",
        action: "TurnOff",
        note: `Released without turning the light off: ${sanitizeErrorMessage(messageOf(error))}`,
      });
    }
  }
}

/**
 * Adds the indicator controller to `manager`. It reconciles an indicator on a
 * change of its spec or its deletion, a change of its host (or of the host's
 * light list, with `lightsOf`), and an indicator of the same light created or
 * deleted, which changes which of them switches it.
 */
export function setUpServiceIndicatorController(
  manager: Manager,
  deps: Omit<ServiceIndicatorControllerDeps, "indicators"> & { workers: number },
): { indicators: Informer<BareMetalHostServiceIndicator>; reconciler: ServiceIndicatorReconciler; controller: Controller } {
  const indicators = manager.informer(SERVICE_INDICATORS);
  indicators.addIndex(INDICATORS_BY_HOST, (i) => [indicatorHostKey(i)]);
  indicators.addIndex(INDICATORS_BY_LIGHT, (i) => [indicatorLightKey(i)]);
  const reconciler = new ServiceIndicatorReconciler({ ...deps, indicators });
  const controller = reconciler
    .controller(manager, "baremetalhostserviceindicator", deps.workers)
    .watch(deps.hosts, {
      map: (host) => indicatorsOfHost(indicators, host),
      predicates: [contentChanged],
    })
    .watch(indicators, {
      map: (indicator) => indicators.byIndex(INDICATORS_BY_LIGHT, indicatorLightKey(indicator)).map(refOf),
      predicates: [{ update: () => false }],
    });
  return { indicators, reconciler, controller };
}

/** The indicators of the host named like `object` (a BareMetalHost, or its light list), for a watch's map. */
export function indicatorsOfHost(indicators: Informer<BareMetalHostServiceIndicator>, object: KubeObject): Request[] {
  return indicators.byIndex(INDICATORS_BY_HOST, objectKey(object)).map(refOf);
}

/**
 * Whether the indicator's record proves its light is as `status.on` says. It
 * does when the status was written, Ready, for the spec's current generation:
 * a switch is recorded with the generation it served, and every switch serves
 * a newer generation than the last record, so a crash between a switch and
 * its record always leaves `observedGeneration` behind. Otherwise the light
 * must be read before `status.on` is trusted. Kubernetes counts the start of a
 * deletion as a new generation; while deleting, a record of the generation
 * before it proves the light too.
 */
export function provesLight(indicator: Indicator): boolean {
  const { status, metadata } = indicator;
  if (status?.on === undefined || !isStatusConditionTrue(status.conditions, "Ready")) return false;
  const generation = metadata.generation ?? 0;
  const observed = status.observedGeneration;
  return observed === generation || (isDeleting(indicator) && observed === generation - 1);
}

/** The calls of the indicator controller on its own kind and the hosts' cache, in either mode. */
const SERVICE_INDICATOR_OWN_PERMISSIONS: readonly Permission[] = [
  permissionOn(SERVICE_INDICATORS, ["list", "watch", "patch"]),
  permissionOn(SERVICE_INDICATORS, ["patch"], { subresource: "status" }),
  permissionOn(BARE_METAL_HOSTS, ["list", "watch"]),
];

/**
 * The API calls of the BareMetalHostServiceIndicator controller (its
 * informer, finalizer patches, status writes, the hosts' cache, BMC
 * credentials, Events), from which the RBAC manifests are generated.
 */
export const SERVICE_INDICATOR_CONTROLLER_PERMISSIONS: readonly Permission[] = [
  ...SERVICE_INDICATOR_OWN_PERMISSIONS,
  ...SECRET_READER_PERMISSIONS,
  ...EVENT_RECORDER_PERMISSIONS,
];

/**
 * The same in metal3 mode, next to the Metal3 baremetal-operator that owns
 * hosts and Secrets: hosts only watched, credentials read with a GET.
 */
export const METAL3_SERVICE_INDICATOR_CONTROLLER_PERMISSIONS: readonly Permission[] = [
  ...SERVICE_INDICATOR_OWN_PERMISSIONS,
  ...READ_ONLY_SECRET_READER_PERMISSIONS,
  ...EVENT_RECORDER_PERMISSIONS,
];

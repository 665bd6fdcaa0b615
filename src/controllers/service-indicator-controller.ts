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
import {
  type BareMetalHostServiceIndicator,
  SERVICE_INDICATOR_FINALIZER,
  type ServiceIndicatorStatus,
} from "../api/baremetalhost-service-indicator.ts";
import { type Provisioner, ProvisionerError } from "../provisioner/provisioner.ts";
import {
  addFinalizer,
  type EventRecorder,
  findStatusCondition,
  hasFinalizer,
  type Informer,
  isDeleting,
  isStatusConditionTrue,
  type KubeClient,
  objectKey,
  type Predicate,
  type ReconcileContext,
  type Request,
  type Result,
  removeFinalizer,
  rfc3339,
  TerminalError,
} from "../runtime/index.ts";
import { messageOf, sanitizeErrorMessage } from "./error-message.ts";
import { setReady } from "./ready-condition.ts";
import { isYoung, missingHostGrace } from "./object-age.ts";
import type { HostAccessResolver } from "./host-access-resolver.ts";
import { classifyFailure } from "./reasons.ts";
import { BARE_METAL_HOSTS, SERVICE_INDICATORS } from "./resources.ts";
import { StatusWriter } from "./status-writer.ts";
import { STALE_CACHE_FALLBACK_MS, WrittenVersions } from "./written-versions.ts";
import { EVENT_RECORDER_PERMISSIONS, type Permission, permissionOn } from "../runtime/index.ts";
import { SECRET_READER_PERMISSIONS } from "./secret-reader.ts";

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
export class ServiceIndicatorReconciler {
  readonly #d: ServiceIndicatorControllerDeps;
  readonly #written = new WrittenVersions();
  readonly #status: StatusWriter<Indicator>;

  constructor(deps: ServiceIndicatorControllerDeps) {
    this.#d = deps;
    this.#status = new StatusWriter(deps.client, SERVICE_INDICATORS, this.#written);
  }

  /**
   * Passes the update that shows this reconciler its own last write, when a
   * reconcile was put off because the cache was behind it; for the
   * controller's predicates.
   */
  get cacheCaughtUp(): Predicate {
    return this.#written.caughtUp;
  }

  /** The reconcile function, for a controller. */
  readonly reconcile = async (request: Request, ctx: ReconcileContext): Promise<Result> => {
    const cached = this.#d.indicators.get(request);
    if (!cached) {
      this.#written.forget(objectKey({ metadata: request }));
      return {};
    }
    if (this.#written.isStale(cached)) return { requeueAfter: STALE_CACHE_FALLBACK_MS };
    if (isDeleting(cached)) return this.#finalize(cached, ctx);

    let indicator = cached;
    const { spec } = indicator;
    const generation = indicator.metadata.generation;
    const status = structuredClone(indicator.status ?? {});

    try {
      // Another indicator of the same light came first: it keeps the light, this one waits.
      const earlier = this.#earlierOfSameLight(indicator);
      if (earlier) return await this.#refuseDuplicate(indicator, status, earlier, ctx);
      // Looked up first, from the cache, even for a converged indicator: one whose host is
      // gone, or no longer has that light, then says so.
      const { host, entry } = this.#lookUp(indicator);
      if (
        status.on === spec.on &&
        status.observedGeneration === generation &&
        isStatusConditionTrue(status.conditions, "Ready") &&
        hasFinalizer(indicator, SERVICE_INDICATOR_FINALIZER)
      ) {
        return {};
      }
      // The finalizer goes on once the host can be asked, before anything is changed on
      // the BMC: while the host registers there is nothing to clean up, and a burst of
      // new indicators then costs the API no writes until their hosts are ready. The
      // light is read while the finalizer is written; a read leaves nothing to undo.
      const finalized = hasFinalizer(indicator, SERVICE_INDICATOR_FINALIZER)
        ? undefined
        : addFinalizer(this.#d.client, SERVICE_INDICATORS, indicator, SERVICE_INDICATOR_FINALIZER, { signal: ctx.signal });
      if (status.on === spec.on && provesLight(indicator)) {
        // The record proves the light is as asked (only the finalizer was missing): no BMC call.
        if (finalized) {
          indicator = await finalized;
          this.#written.record(indicator);
        }
        await this.#ready(indicator, status, spec.on, false, ctx);
        return {};
      }
      const reading = (async () => {
        const access = await this.#d.access.forHost(host, ctx.signal);
        return { access, current: await this.#d.provisioner.getIndicator(access, entry.id, ctx.signal) };
      })();
      // Both settle before either outcome is acted on, so a failed read never leaves the finalizer write unobserved.
      const [withFinalizer, read] = await Promise.allSettled([finalized, reading]);
      if (withFinalizer.status === "rejected") throw withFinalizer.reason;
      if (withFinalizer.value) {
        indicator = withFinalizer.value;
        this.#written.record(indicator);
      }
      if (read.status === "rejected") throw read.reason;
      const { access, current } = read.value;
      const isOn = current === "on" || current === "blinking";
      if (isOn !== spec.on) {
        await this.#d.provisioner.setIndicator(access, entry.id, spec.on ? "on" : "off", ctx.signal);
        ctx.logger.info({ indicator: entry.id, on: spec.on }, "switched the light");
      } else {
        ctx.logger.info({ indicator: entry.id, on: spec.on }, "the light already was as asked");
      }
      await this.#ready(indicator, status, spec.on, isOn !== spec.on, ctx);
      return {};
    } catch (error) {
      return this.#fail(indicator, status, error, ctx);
    }
  };

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
  async #refuseDuplicate(indicator: Indicator, status: ServiceIndicatorStatus, earlier: Indicator, ctx: ReconcileContext): Promise<Result> {
    const { id, hostRef } = indicator.spec;
    const message =
      `indicator "${id}" of BareMetalHost "${hostRef.name}" is already switched by BareMetalHostServiceIndicator ` +
      `"${earlier.metadata.name}", created earlier (${String(earlier.metadata.creationTimestamp)}); ` +
      "this one does nothing until that one is deleted";
    delete status.on;
    status.errorMessage = message;
    status.observedGeneration = indicator.metadata.generation;
    setReady(status, false, "DuplicateIndicator", message, indicator.metadata.generation);
    const written = await this.#status.write(indicator, status, ctx.signal);
    if (written !== indicator) {
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
    const host = this.#d.hosts.get({ namespace, name: hostRef.name });
    if (!host) throw new MissingHostError(`BareMetalHost "${namespace}/${hostRef.name}" not found`, { reason: "HostNotFound" });
    const entries = this.#d.lightsOf ? this.#d.lightsOf(host) : host.status?.hardware?.indicators;
    if (!entries) {
      const ready = findStatusCondition(host.status?.conditions, "Ready");
      if (ready?.status === "False") {
        // Its registration failed: the cause (bad credentials, BMC down) is what the user must fix.
        throw new MissingHostError(
          `BareMetalHost "${namespace}/${hostRef.name}" could not be registered (${ready.reason}): ${ready.message}`,
          { reason: ready.reason },
        );
      }
      throw new MissingHostError(`BareMetalHost "${namespace}/${hostRef.name}" has not listed its indicators yet`, {
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

  async #ready(indicator: Indicator, status: ServiceIndicatorStatus, on: boolean, switched: boolean, ctx: ReconcileContext) {
    const now = (this.#d.now ?? (() => new Date()))();
    status.on = on;
    status.lastUpdated = rfc3339(now);
    delete status.errorMessage;
    status.observedGeneration = indicator.metadata.generation;
    setReady(status, true, on ? "LightOn" : "LightOff", `The light is ${on ? "on" : "off"}`, indicator.metadata.generation, now);
    await this.#status.write(indicator, status, ctx.signal);
    if (switched) {
      this.#d.events.event(indicator, {
        type: "Normal",
        reason: on ? "LightOn" : "LightOff",
        action: on ? "TurnOn" : "TurnOff",
        note: `Turned indicator ${indicator.spec.id} ${on ? "on" : "off"}`,
      });
    }
  }

  async #fail(indicator: Indicator, status: ServiceIndicatorStatus, error: unknown, ctx: ReconcileContext): Promise<Result> {
    if (error instanceof MissingHostError && error.registering && isYoung(indicator, this.#d.now?.() ?? new Date())) {
      // The host is being registered right now; its status change requeues this indicator. Writing
      // "waiting" here would only cost an API write per resource when many are created at once.
      return {};
    }
    if (error instanceof MissingHostError && error.reason === "HostNotFound") {
      // Applied together with its host, whose watch event has not arrived yet: wait a moment quietly.
      const grace = missingHostGrace(indicator, this.#d.now?.() ?? new Date());
      if (grace !== undefined) return { requeueAfter: grace };
    }
    const { reason, terminal } = error instanceof MissingHostError ? { reason: error.reason, terminal: false } : classifyFailure(error);
    const message = sanitizeErrorMessage(messageOf(error));
    status.errorMessage = message;
    status.observedGeneration = indicator.metadata.generation;
    setReady(status, false, reason, message, indicator.metadata.generation);
    await this.#status.write(indicator, status, ctx.signal);
    ctx.logger.warn({ reason, terminal }, message);
    this.#d.events.event(indicator, { type: "Warning", reason, action: "SwitchLight", note: message });
    if (error instanceof MissingHostError) return {}; // the host's next change requeues this indicator
    if (terminal) throw new TerminalError(message, { cause: error });
    throw error;
  }

  /**
   * Turns the light off (reading it first) and releases the finalizer. The
   * light is left alone only when the record proves it off: after a crash
   * between a switch and its record, `status.on` may say off while it is lit.
   */
  async #finalize(indicator: Indicator, ctx: ReconcileContext): Promise<Result> {
    if (!hasFinalizer(indicator, SERVICE_INDICATOR_FINALIZER)) return {};
    // A refused duplicate leaves the light to the earlier indicator of it.
    const earlier = this.#earlierOfSameLight(indicator);
    if (!earlier && !(indicator.status?.on === false && provesLight(indicator))) {
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
          error instanceof MissingHostError ||
          error instanceof TerminalError ||
          (error instanceof ProvisionerError && (error.kind === "HostNotFound" || error.kind === "IndicatorNotFound"));
        if (!gone) return this.#fail(indicator, structuredClone(indicator.status ?? {}), error, ctx);
        this.#d.events.event(indicator, {
          type: "Warning",
          reason: "LightNotTurnedOff",
          action: "TurnOff",
          note: `Released without turning the light off: ${sanitizeErrorMessage(messageOf(error))}`,
        });
      }
    }
    const released = await removeFinalizer(this.#d.client, SERVICE_INDICATORS, indicator, SERVICE_INDICATOR_FINALIZER, {
      signal: ctx.signal,
    });
    this.#written.record(released);
    return {};
  }
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

/** The host is missing or not registered yet; its next change requeues the indicator. */
class MissingHostError extends Error {
  override name = "MissingHostError";
  /** True when the host exists and its first registration has not finished. */
  readonly registering: boolean;
  /** `HostNotFound`, `HostNotReady`, or the reason the host's registration failed. */
  readonly reason: string;
  constructor(message: string, options: { registering?: boolean; reason?: string } = {}) {
    super(message);
    this.registering = options.registering ?? false;
    this.reason = options.reason ?? "HostNotReady";
  }
}

/**
 * The API calls of the BareMetalHostServiceIndicator controller (its
 * informer, finalizer patches, status writes, the hosts' cache, BMC
 * credentials, Events), from which the RBAC manifests are generated.
 */
export const SERVICE_INDICATOR_CONTROLLER_PERMISSIONS: readonly Permission[] = [
  permissionOn(SERVICE_INDICATORS, ["list", "watch", "patch"]),
  permissionOn(SERVICE_INDICATORS, ["patch"], { subresource: "status" }),
  permissionOn(BARE_METAL_HOSTS, ["list", "watch"]),
  ...SECRET_READER_PERMISSIONS,
  ...EVENT_RECORDER_PERMISSIONS,
];

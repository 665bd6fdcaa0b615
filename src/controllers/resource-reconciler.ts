/**
 * The reconcile skeleton the controllers share, so that each keeps only its
 * own decisions: the stale-cache guard, deletion (cleanup, then the
 * finalizer released), failure classification, the `Ready` condition and
 * the failure's Warning Event. A controller extends
 * {@link ResourceReconciler} and writes `sync` (and `cleanUp` when it holds
 * a finalizer); it declares its watches and predicates beside it, with
 * {@link ResourceReconciler.controller}.
 *
 * Every write goes through a {@link Reconciling}, which carries the object
 * as last read or written: each write is conditional on that copy's
 * resourceVersion, and the guard learns of it.
 *
 * @module
 */
import type { Condition } from "../api/meta.ts";
import { addFinalizer, type Controller, deletionStarted, finalizerRemoved, generationChanged, hasFinalizer, type EventRecorder, type Informer, isConflict, isDeleting, type KubeClient, type KubeObject, type Manager, objectKey, or, type Predicate, type ReconcileContext, refOf, type Request, type Resource, type Result, removeFinalizer, TerminalError } from "../runtime/index.ts";
import { messageOf, sanitizeErrorMessage } from "./error-message.ts";
import { isYoung, missingHostGrace } from "./object-age.ts";
import { setReady } from "./ready-condition.ts";
import { classifyFailure, type FailureClass } from "./reasons.ts";
import { STALE_CACHE_FALLBACK_MS, StaleCacheGuard } from "./stale-cache-guard.ts";
import { StatusWriter } from "./status-writer.ts";
import { WaitingForHostError } from "./waiting-for-host.ts";

/** A status with a `Ready` condition. */
export interface WithConditions {
  conditions?: Condition[];
}

/** What the skeleton needs, besides what the controller itself needs. */
export interface SkeletonDeps<T extends KubeObject> {
  client: KubeClient;
  resource: Resource<T>;
  /** The controller's own informer. */
  cache: Informer<T>;
  events: EventRecorder;
  /** The finalizer the controller holds while it has something to clean up; none: deletion does nothing. */
  finalizer?: string;
  /** The Event actions of a failure: while the object lives, and while it is deleted. */
  actions: { sync: string; cleanUp: string };
  /** What a reconcile that waits for its host does. */
  waitingForHost: {
    /** Emit a Warning Event (the Ready condition says it anyway). */
    event: boolean;
    /** Retry with backoff; false: only the host's next change requeues. */
    retry: boolean;
  };
  /** The wall clock, for object ages. @default the real one */
  now?: () => Date;
}

/** How a failure is recorded and what follows. */
export interface Failure extends FailureClass {
  /** The message, when not the error's own. */
  message?: string;
  /** Emit a Warning Event. @default true */
  event?: boolean;
  /** Retry with backoff (or, when terminal, not at all). False: record and wait for a watch. @default true */
  retry?: boolean;
}

/**
 * Spec changes, the start of deletion and a finalizer taken off (to put back);
 * not status writes nor finalizers added (the controllers' own) nor resyncs.
 */
export const specOrDeletion: Predicate = or(generationChanged, deletionStarted, finalizerRemoved);

/**
 * The object a reconcile works on, as last read or written, and the writes
 * that move it: each is conditional on the current copy's resourceVersion
 * and tells the stale-cache guard.
 */
export class Reconciling<T extends KubeObject & { status?: object }> {
  #object: T;
  readonly #deps: SkeletonDeps<T>;
  readonly #guard: StaleCacheGuard;
  readonly #status: StatusWriter<T>;
  readonly #signal: AbortSignal;

  constructor(object: T, deps: SkeletonDeps<T>, guard: StaleCacheGuard, status: StatusWriter<T>, signal: AbortSignal) {
    this.#object = object;
    this.#deps = deps;
    this.#guard = guard;
    this.#status = status;
    this.#signal = signal;
  }

  /** The object as last read or written. */
  get object(): T {
    return this.#object;
  }

  /** Writes the status (nothing when unchanged); true when a write was made. */
  async writeStatus(status: NonNullable<T["status"]>): Promise<boolean> {
    const before = this.#object;
    this.#object = await this.#status.write(before, status, this.#signal);
    return this.#object !== before;
  }

  /** Adds the controller's finalizer; true when it was not there yet. */
  async addFinalizer(): Promise<boolean> {
    const finalizer = this.#deps.finalizer;
    if (!finalizer || hasFinalizer(this.#object, finalizer)) return false;
    await this.#write((object) => addFinalizer(this.#deps.client, this.#deps.resource, object, finalizer, { signal: this.#signal }));
    return true;
  }

  /** Removes the controller's finalizer, releasing the object. */
  async removeFinalizer(): Promise<void> {
    const finalizer = this.#deps.finalizer;
    if (!finalizer) return;
    await this.#write((object) => removeFinalizer(this.#deps.client, this.#deps.resource, object, finalizer, { signal: this.#signal }));
  }

  /** Merge-patches the object (not its status), conditional on its resourceVersion. */
  async patch(patch: { metadata?: Record<string, unknown>; [field: string]: unknown }): Promise<void> {
    await this.#write((object) =>
      this.#deps.client.patch(
        this.#deps.resource,
        refOf(object),
        { ...patch, metadata: { ...patch.metadata, resourceVersion: object.metadata?.resourceVersion } },
        { type: "merge", signal: this.#signal },
      ),
    );
  }

  async #write(write: (object: T) => Promise<T>): Promise<void> {
    const before = this.#object;
    try {
      this.#object = await write(before);
    } catch (error) {
      if (isConflict(error)) this.#guard.supersede(before);
      throw error;
    }
    this.#guard.wrote(before, this.#object);
  }
}

/** The skeleton: see the module's documentation. */
export abstract class ResourceReconciler<T extends KubeObject & { status?: S }, S extends WithConditions> {
  readonly #deps: SkeletonDeps<T>;
  readonly #guard: StaleCacheGuard;
  readonly #status: StatusWriter<T>;

  constructor(deps: SkeletonDeps<T>, guard = new StaleCacheGuard()) {
    this.#deps = deps;
    this.#guard = guard;
    this.#status = new StatusWriter(deps.client, deps.resource, guard);
  }

  /**
   * Passes the update that shows this reconciler the cache has caught up with
   * its own last write, when a reconcile was put off for it; for the
   * controller's predicates.
   */
  get cacheCaughtUp(): Predicate {
    return this.#guard.caughtUp;
  }

  /**
   * Registers the controller with `manager`: reconciles on spec changes and
   * deletion (plus `predicates`, any of which may pass), and on the update
   * that brings the cache up to a write a reconcile waits for.
   */
  controller(manager: Manager, name: string, workers: number, ...predicates: Predicate[]): Controller {
    return manager.controller({
      name,
      for: this.#deps.cache,
      predicates: [or(specOrDeletion, ...predicates, this.cacheCaughtUp)],
      reconcile: this.reconcile,
      maxConcurrentReconciles: workers,
    });
  }

  /** The reconcile function, for a controller. */
  readonly reconcile = async (request: Request, ctx: ReconcileContext): Promise<Result> => {
    const cached = this.#deps.cache.get(request);
    if (!cached) {
      const key = objectKey({ metadata: request });
      this.#guard.forget(key);
      this.forget(key);
      return {};
    }
    if (this.#guard.isStale(cached)) return { requeueAfter: STALE_CACHE_FALLBACK_MS };
    const work = new Reconciling(cached, this.#deps, this.#guard, this.#status, ctx.signal);
    if (isDeleting(cached)) return this.#delete(work, ctx);
    const status = structuredClone(cached.status ?? {}) as S;
    try {
      return await this.sync(work, status, ctx);
    } catch (error) {
      return this.#fail(work, status, error, ctx, "sync");
    }
  };

  /** Makes the world match the live object; `status` is a copy of its status, to change and write. */
  protected abstract sync(work: Reconciling<T>, status: S, ctx: ReconcileContext): Promise<Result>;

  /** Undoes on the BMC what the object did, before its finalizer goes; throw to keep it. */
  protected cleanUp(_work: Reconciling<T>, _ctx: ReconcileContext): Promise<void> {
    return Promise.resolve();
  }

  /** Forgets what the controller keeps about an object that is gone from the cache. */
  protected forget(_key: string): void {}

  /** Forgets what the controller keeps about an object it released (or held nothing for). */
  protected released(_object: T): void {}

  /** Records the error message (undefined: no error) in the controller's own status fields. */
  protected abstract noteError(status: S, message: string | undefined, object: T): void;

  /** Classifies a failure; controllers add their own errors. */
  protected classify(error: unknown, _phase: "sync" | "cleanUp"): Failure {
    if (error instanceof WaitingForHostError) {
      const { event, retry } = this.#deps.waitingForHost;
      return { reason: error.reason, terminal: false, event, retry };
    }
    return classifyFailure(error);
  }

  /** The wall clock. */
  protected now(): Date {
    return (this.#deps.now ?? (() => new Date()))();
  }

  /** Records success: no error, and `Ready` True with `reason` and `message`. */
  protected ready(status: S, object: T, reason: string, message: string, now?: Date): void {
    this.noteError(status, undefined, object);
    setReady(status, true, reason, message, object.metadata?.generation, now);
  }

  async #delete(work: Reconciling<T>, ctx: ReconcileContext): Promise<Result> {
    const { finalizer } = this.#deps;
    if (finalizer && hasFinalizer(work.object, finalizer)) {
      try {
        await this.cleanUp(work, ctx);
      } catch (error) {
        return this.#fail(work, structuredClone(work.object.status ?? {}) as S, error, ctx, "cleanUp");
      }
      await work.removeFinalizer();
    }
    this.released(work.object);
    return {};
  }

  async #fail(work: Reconciling<T>, status: S, error: unknown, ctx: ReconcileContext, phase: "sync" | "cleanUp"): Promise<Result> {
    const object = work.object;
    if (isConflict(error)) return this.#changedMeanwhile(object, ctx);
    if (error instanceof WaitingForHostError) {
      if (error.registering && isYoung(object, this.now())) {
        // The host is being registered right now; its status change requeues this resource. Writing
        // "waiting" here would only cost an API write per resource when many are created at once.
        return {};
      }
      if (error.reason === "HostNotFound") {
        // Applied together with its host, whose watch event has not arrived yet: wait a moment quietly.
        const grace = missingHostGrace(object, this.now());
        if (grace !== undefined) return { requeueAfter: grace };
      }
    }
    const failure = this.classify(error, phase);
    const message = sanitizeErrorMessage(failure.message ?? messageOf(error));
    this.noteError(status, message, object);
    setReady(status, false, failure.reason, message, object.metadata?.generation);
    try {
      await work.writeStatus(status);
    } catch (writeError) {
      if (isConflict(writeError)) return this.#changedMeanwhile(object, ctx);
      throw writeError;
    }
    ctx.logger.warn({ reason: failure.reason, terminal: failure.terminal }, message);
    if (failure.event ?? true) {
      const action = phase === "sync" ? this.#deps.actions.sync : this.#deps.actions.cleanUp;
      this.#deps.events.event(object, { type: "Warning", reason: failure.reason, action, note: message });
    }
    if (failure.retry === false) return {};
    if (failure.terminal) throw new TerminalError(message, { cause: error });
    throw error;
  }

  /**
   * Somebody changed the object since the copy this reconcile decided on (a
   * write got 409 Conflict): decide again on theirs, as soon as the cache
   * shows it (at once, if it does already).
   */
  #changedMeanwhile(object: T, ctx: ReconcileContext): Result {
    ctx.logger.info("the object changed during the reconcile; reconciling its newer version");
    const cached = this.#deps.cache.get(refOf(object));
    return cached && this.#guard.isStale(cached) ? { requeueAfter: STALE_CACHE_FALLBACK_MS } : { requeue: true };
  }
}

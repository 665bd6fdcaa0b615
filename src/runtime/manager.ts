/**
 * The manager, like controller-runtime's: it owns the client, the shared
 * informers, the controllers, the metrics registry, the Event recorders, the
 * `/metrics`, `/healthz` and `/readyz` endpoints and leader election.
 *
 * `start()` starts the endpoints and the informers at once (so a standby
 * replica keeps warm caches and reports ready), and the controllers only
 * while this process holds the leader lease. It returns after a graceful
 * shutdown: controllers stop taking work, reconciles in flight get up to
 * `gracefulShutdownTimeoutMs` to finish, informers stop, the lease is
 * released and the endpoints close.
 *
 * Losing the lease stops every controller at once and makes `start()` reject
 * with {@link LeaderElectionLostError}; the program should then exit non-zero
 * so that Kubernetes restarts it (controller-runtime's manager returns
 * "leader election lost" the same way, and its `main` exits).
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { KubeConfigLike } from "./kube-config.ts";
import { collectDefaultMetrics, Registry } from "./prometheus.ts";
import { stripManagedFieldsAndLastApplied } from "./cache-transform.ts";
import { KubeClient } from "./client.ts";
import { type Clock, realClock, sleepUnlessAborted } from "./clock.ts";
import { Controller, type ControllerOptions } from "./controller.ts";
import { EventRecorder, type EventRecorderOptions } from "./event-recorder.ts";
import { type BindAddress, type Check, probe, type RunningEndpoint, serve } from "./http-endpoint.ts";
import { IdleCollector, type IdleCollectorOptions } from "./idle-collector.ts";
import { type EventSource, Informer, type InformerOptions } from "./informer.ts";
import { LeaderElector } from "./leader-election.ts";
import { KubeLeaseLock } from "./lease-lock.ts";
import { createLogger, type Logger } from "./logger.ts";
import type { Predicate } from "./predicates.ts";
import { type KubeObject, type Resource, resourceName } from "./resource.ts";

/** How long shutdown lets Event recorders write what is pending. */
const EVENT_FLUSH_TIMEOUT_MS = 2_000;

const SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/** Leader election settings of a {@link Manager}. */
export interface ManagerLeaderElection {
  /** Name of the Lease. */
  name: string;
  /** Namespace of the Lease. @default the pod's namespace (from its service account) */
  namespace?: string;
  /** @default 15_000 */
  leaseDurationMs?: number;
  /** @default 10_000 */
  renewDeadlineMs?: number;
  /** @default 2_000 */
  retryPeriodMs?: number;
  /** @default true */
  releaseOnCancel?: boolean;
}

/** Options of a {@link Manager}. */
export interface ManagerOptions {
  /** The cluster; used to make {@link client} when none is given. */
  kubeConfig?: KubeConfigLike;
  client?: KubeClient;
  /** Namespaces informers watch by default; all when unset or empty. */
  namespaces?: readonly string[];
  /** Where `/metrics` listens; `"0"` disables. @default ":8080" */
  metricsAddress?: BindAddress;
  /** Where `/healthz` and `/readyz` listen; `"0"` disables. @default ":8081" */
  probeAddress?: BindAddress;
  /** Leader election; off when unset. */
  leaderElection?: ManagerLeaderElection;
  /** Names this process in the Lease and in Events' `reportingInstance`. @default `${hostname}_${uuid}` */
  identity?: string;
  /** How long shutdown waits for reconciles in flight, in ms. @default 30_000 */
  gracefulShutdownTimeoutMs?: number;
  /**
   * Default options of informers made by {@link Manager.informer}. Their
   * `transform` defaults to {@link stripManagedFieldsAndLastApplied}.
   */
  informerDefaults?: Omit<InformerOptions, "namespaces" | "logger" | "registry" | "clock">;
  /** Default options of Event recorders. */
  eventDefaults?: Pick<EventRecorderOptions, "redact" | "qps" | "burst" | "aggregationWindowMs">;
  /**
   * One major garbage collection once every controller's queue has been
   * empty for a while after the heap grew (see {@link IdleCollector});
   * `false` turns it off. @default on, with the collector's defaults
   */
  idleCollection?: false | Pick<IdleCollectorOptions, "intervalMs" | "growthBytes" | "growthRatio" | "collect" | "heapBytes">;
  /** The metrics registry; a new one with the default process metrics when unset. */
  registry?: Registry;
  logger?: Logger;
  clock?: Clock;
}

/** Options of {@link Manager.controller}: a controller's options plus its primary watch. */
export interface ManagedControllerOptions<T extends KubeObject> extends Omit<ControllerOptions, "logger" | "registry" | "clock"> {
  /** The primary resource (or a source of it): its events enqueue the object's own key. */
  for: Resource<T> | EventSource<T>;
  /** Filters for the primary watch, for example `[generationChanged]`. */
  predicates?: Predicate<T>[];
}

/** `start()` rejects with this when the leader lease could not be renewed. */
export class LeaderElectionLostError extends Error {
  override name = "LeaderElectionLostError";
}

/**
 * Runs controllers.
 *
 * @example
 * ```ts
 * const manager = new Manager({ kubeConfig: loadKubeConfig(), leaderElection: { name: "bmc-operator", namespace: "metal3" } });
 * const subs = manager.informer(BMCEventSubscriptions);
 * subs.addIndex("host", (s) => [`${s.metadata.namespace}/${s.spec.hostName}`]);
 * manager
 *   .controller({ name: "bmceventsubscription", for: subs, predicates: [generationChanged], reconcile })
 *   .watch(manager.informer(BareMetalHosts), { map: (host) => subs.byIndex("host", objectKey(host)).map(refOf) });
 * const abort = new AbortController();
 * process.once("SIGTERM", () => abort.abort());
 * await manager.start(abort.signal);
 * ```
 */
export class Manager {
  readonly client: KubeClient;
  readonly registry: Registry;
  readonly logger: Logger;
  /** This process, in the Lease and in Events. */
  readonly identity: string;
  readonly #o: ManagerOptions;
  readonly #clock: Clock;
  readonly #ownsClient: boolean;
  readonly #informers = new Map<string, Informer<any>>();
  readonly #controllers: Controller[] = [];
  readonly #recorders = new Map<string, EventRecorder>();
  readonly #healthChecks = new Map<string, Check>();
  readonly #readyChecks = new Map<string, Check>();
  #elector: LeaderElector | undefined;
  #endpoints: RunningEndpoint[] = [];
  #metricsUrl: string | undefined;
  #probeUrl: string | undefined;
  #started = false;
  #stopping = false;

  constructor(options: ManagerOptions) {
    if (!options.client && !options.kubeConfig) throw new TypeError("A manager needs a kubeConfig or a client");
    this.#o = options;
    this.#clock = options.clock ?? realClock;
    this.logger = options.logger ?? createLogger();
    if (options.registry) {
      this.registry = options.registry;
    } else {
      this.registry = new Registry();
      collectDefaultMetrics(this.registry);
    }
    this.#ownsClient = options.client === undefined;
    this.client = options.client ?? new KubeClient(options.kubeConfig!, { registry: this.registry });
    this.identity = options.identity ?? `${hostname()}_${randomUUID()}`;
    this.#healthChecks.set("ping", () => {});
    this.#readyChecks.set("informers", () => {
      const waiting = [...this.#informers.entries()].filter(([, i]) => !i.hasSynced()).map(([key]) => key);
      if (waiting.length > 0) throw new Error(`caches not synced: ${waiting.join(", ")}`);
    });
    this.#readyChecks.set("shutdown", () => {
      if (this.#stopping) throw new Error("shutting down");
    });
  }

  /** Where `/metrics` listens, once started (undefined when disabled). */
  get metricsUrl(): string | undefined {
    return this.#metricsUrl;
  }

  /** Where `/healthz` and `/readyz` listen, once started (undefined when disabled). */
  get probeUrl(): string | undefined {
    return this.#probeUrl;
  }

  /** Whether this process runs the controllers now (always true without leader election, once started). */
  get isLeader(): boolean {
    return this.#o.leaderElection ? (this.#elector?.isLeader ?? false) : this.#started && !this.#stopping;
  }

  /** The controllers added so far. */
  get controllers(): readonly Controller[] {
    return this.#controllers;
  }

  /**
   * The shared informer of `resource`: one per resource, namespaces and
   * selectors, started with the manager (or at once if the manager runs).
   */
  informer<T extends KubeObject>(resource: Resource<T>, options: Pick<InformerOptions, "namespaces" | "labelSelector" | "fieldSelector"> = {}): Informer<T> {
    const namespaces = resource.namespaced ? [...new Set(options.namespaces ?? this.#o.namespaces ?? [])].sort() : [];
    const key = [resourceName(resource), namespaces.join(",") || "*", options.labelSelector ?? "", options.fieldSelector ?? ""].join("|");
    let informer = this.#informers.get(key) as Informer<T> | undefined;
    if (informer === undefined) {
      informer = new Informer(this.client, resource, {
        transform: stripManagedFieldsAndLastApplied,
        ...this.#o.informerDefaults,
        ...options,
        namespaces,
        logger: this.logger,
        registry: this.registry,
        clock: this.#clock,
      });
      this.#informers.set(key, informer);
      if (this.#started && !this.#stopping) informer.start();
    }
    return informer;
  }

  /**
   * Makes a controller for a primary resource and adds it; add secondary
   * watches with the returned controller's `watch`.
   */
  controller<T extends KubeObject>(options: ManagedControllerOptions<T>): Controller {
    const { for: primary, predicates, ...rest } = options;
    const controller = new Controller({ ...rest, logger: this.logger, registry: this.registry, clock: this.#clock });
    controller.watch(isResource(primary) ? this.informer(primary) : primary, { predicates });
    this.addController(controller);
    return controller;
  }

  /** Adds a controller made elsewhere (with this manager's registry, ideally). */
  addController(controller: Controller): void {
    if (this.#started) throw new Error(`Manager is started: add controller "${controller.name}" before start`);
    if (this.#controllers.some((c) => c.name === controller.name)) {
      throw new Error(`A controller named "${controller.name}" already exists; controller names must be unique`);
    }
    this.#controllers.push(controller);
  }

  /**
   * The Event recorder of a controller: `reportingController` is `name`,
   * `reportingInstance` is the manager's identity.
   */
  eventRecorder(name: string): EventRecorder {
    let recorder = this.#recorders.get(name);
    if (recorder === undefined) {
      recorder = new EventRecorder({
        ...this.#o.eventDefaults,
        sink: this.client,
        reportingController: name,
        reportingInstance: this.identity,
        logger: this.logger,
        registry: this.registry,
        clock: this.#clock,
      });
      this.#recorders.set(name, recorder);
    }
    return recorder;
  }

  /** Adds a check to `/healthz`. */
  addHealthCheck(name: string, check: Check): void {
    this.#healthChecks.set(name, check);
  }

  /** Adds a check to `/readyz` (which already waits for the caches). */
  addReadyCheck(name: string, check: Check): void {
    this.#readyChecks.set(name, check);
  }

  /**
   * Runs everything until `signal` aborts, then shuts down gracefully.
   *
   * @throws {LeaderElectionLostError} when the lease was lost (after shutting down).
   * @throws {Error} when a controller fails to start (its caches did not sync), after shutting down.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error("Manager was already started");
    this.#started = true;
    const log = this.logger.child({ manager: this.identity });
    const stop = new AbortController();
    let failure: Error | undefined;
    const fail = (error: Error) => {
      failure ??= error;
      stop.abort(error);
    };
    const onAbort = () => stop.abort(signal.reason);
    if (signal.aborted) stop.abort(signal.reason);
    else signal.addEventListener("abort", onAbort, { once: true });

    const controllersStopped: Promise<void>[] = [];
    let controllersAbort: AbortController | undefined;
    const runControllers = (leading: AbortSignal) => {
      controllersAbort = new AbortController();
      const both = AbortSignal.any([leading, controllersAbort.signal]);
      for (const controller of this.#controllers) {
        controllersStopped.push(
          controller.start(both).catch((error: unknown) => {
            log.error({ err: error, controller: controller.name }, "controller failed");
            fail(error instanceof Error ? error : new Error(String(error)));
          }),
        );
      }
    };

    let election: Promise<void> = Promise.resolve();
    let idleCollector: IdleCollector | undefined;
    const electionAbort = new AbortController();
    try {
      await this.#startEndpoints();
      log.info({ metrics: this.#metricsUrl, probes: this.#probeUrl, informers: this.#informers.size }, "starting manager");
      for (const informer of this.#informers.values()) informer.start();
      if (this.#o.leaderElection) {
        const le = this.#o.leaderElection;
        const namespace = le.namespace ?? podNamespace();
        this.#elector = new LeaderElector({
          lock: new KubeLeaseLock(this.client, namespace, le.name),
          identity: this.identity,
          leaseDurationMs: le.leaseDurationMs,
          renewDeadlineMs: le.renewDeadlineMs,
          retryPeriodMs: le.retryPeriodMs,
          releaseOnCancel: le.releaseOnCancel,
          name: le.name,
          logger: this.logger,
          registry: this.registry,
          clock: this.#clock,
        });
        election = this.#elector.run(electionAbort.signal, {
          onStartedLeading: runControllers,
          onStoppedLeading: ({ lost }) => {
            if (lost) fail(new LeaderElectionLostError(`Leader election lost: lease ${namespace}/${le.name} could not be renewed`));
          },
        });
      } else {
        runControllers(new AbortController().signal);
      }
      idleCollector = this.#idleCollector();
      idleCollector?.start();
      if (!stop.signal.aborted) await new Promise((resolve) => stop.signal.addEventListener("abort", resolve, { once: true }));
    } catch (error) {
      failure ??= error instanceof Error ? error : new Error(String(error));
    } finally {
      signal.removeEventListener("abort", onAbort);
      idleCollector?.stop();
      // After a lost lease another leader may already run: do not wait for reconciles (as controller-runtime).
      const lost = failure instanceof LeaderElectionLostError;
      await this.#shutdown(log, controllersAbort, controllersStopped, electionAbort, election, lost ? 0 : undefined);
    }
    if (failure) throw failure;
  }

  async #shutdown(
    log: Logger,
    controllersAbort: AbortController | undefined,
    controllersStopped: Promise<void>[],
    electionAbort: AbortController,
    election: Promise<void>,
    timeoutMs?: number,
  ): Promise<void> {
    this.#stopping = true;
    log.info("shutting down: stopping controllers");
    controllersAbort?.abort(new Error("Manager shutting down"));
    const timeout = timeoutMs ?? this.#o.gracefulShutdownTimeoutMs ?? 30_000;
    const gaveUp = new AbortController();
    const finished = await Promise.race([
      Promise.all(controllersStopped).then(() => true),
      sleepUnlessAborted(this.#clock, timeout, gaveUp.signal).then(() => false),
    ]);
    gaveUp.abort();
    if (!finished) log.warn({ timeoutMs: timeout }, "reconciles still running after the graceful shutdown timeout; continuing shutdown");
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
    // Pending Events get a short, bounded chance to be written while this process still leads.
    await Promise.all([...this.#recorders.values()].map((r) => r.close(EVENT_FLUSH_TIMEOUT_MS)));
    electionAbort.abort();
    await election;
    await Promise.all(this.#endpoints.map((e) => e.close()));
    this.#endpoints = [];
    if (this.#ownsClient) await this.client.close();
    log.info("manager stopped");
  }

  /** Idle means every controller's queue empty and none reconciling (a standby replica's controllers do not run: idle). */
  #idleCollector(): IdleCollector | undefined {
    const options = this.#o.idleCollection;
    if (options === false) return undefined;
    return new IdleCollector({
      ...options,
      isIdle: () => this.#controllers.every((c) => c.queue.length === 0 && c.activeWorkers === 0),
      clock: this.#clock,
      logger: this.logger,
    });
  }

  async #startEndpoints(): Promise<void> {
    const metrics = await serve(this.#o.metricsAddress ?? ":8080", {
      "/metrics": async (_req, res) => {
        const body = await this.registry.metrics();
        res.writeHead(200, { "content-type": this.registry.contentType }).end(body);
      },
    });
    if (metrics) this.#endpoints.push(metrics);
    this.#metricsUrl = metrics?.url;
    const probes = await serve(this.#o.probeAddress ?? ":8081", {
      "/healthz": probe(() => this.#healthChecks),
      "/readyz": probe(() => this.#readyChecks),
    });
    if (probes) this.#endpoints.push(probes);
    this.#probeUrl = probes?.url;
  }
}

function isResource<T extends KubeObject>(value: Resource<T> | EventSource<T>): value is Resource<T> {
  return typeof (value as Resource<T>).plural === "string" && typeof (value as EventSource<T>).addEventHandler !== "function";
}

/** The namespace of the pod this runs in, from its service account. */
function podNamespace(): string {
  if (existsSync(SERVICE_ACCOUNT_NAMESPACE)) return readFileSync(SERVICE_ACCOUNT_NAMESPACE, "utf8").trim();
  throw new Error(
    `Leader election needs a namespace for its Lease: set leaderElection.namespace (not running in a pod: ${SERVICE_ACCOUNT_NAMESPACE} does not exist)`,
  );
}

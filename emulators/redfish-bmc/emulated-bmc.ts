/**
 * One emulated BMC, put together from its parts, each with one job: the
 * hardware and its identity (`hardware.ts`), the lights (`lights.ts`), the
 * power, drives and temperature (`machine.ts`), the account and sessions
 * (`sessions.ts`), the EventService with its subscriptions and deliveries
 * (`event-service.ts`, `event-subscriptions.ts`), the injected faults
 * (`faults.ts`), the Redfish service (`redfish-service.ts`) and the HTTP
 * server (`bmc-server.ts`). This class wires them and offers the programmatic
 * control tests and benchmarks use (the same operations as the control API);
 * a BMC that behaves differently changes or replaces a part, not this class.
 *
 * @module
 */
import type { BmcLogger, BmcSettings, SharedResources } from "./bmc-settings.ts";
import { BmcServer } from "./bmc-server.ts";
import type { DeliveryAttempt } from "./event-delivery.ts";
import { EventService } from "./event-service.ts";
import type { SubscriptionInfo } from "./event-subscriptions.ts";
import type { SubscriptionRecord } from "./subscriptions.ts";
import type { EventRecord } from "./events.ts";
import { InjectedFaults } from "./faults.ts";
import type { FaultSettings } from "./faults.ts";
import { allDrives, createHardware } from "./hardware.ts";
import type { Hardware, LedState, PowerState } from "./hardware.ts";
import { Lights } from "./lights.ts";
import type { LightStates } from "./lights.ts";
import { Machine } from "./machine.ts";
import { BmcStateFile, captureState, restoreHardware } from "./persistence.ts";
import { RedfishService } from "./redfish-service.ts";
import type { RequestStats } from "./request-stats.ts";
import { resourcePaths } from "./resources.ts";
import { SessionStore } from "./sessions.ts";
import type { ProfileName } from "./vendor-profile.ts";
import type { TestEventParameters } from "./test-event.ts";

/** One drive, as listed in {@link EmulatedBmcInfo}. */
export interface EmulatedDriveInfo {
  storageId: string;
  driveId: string;
  name: string;
  model: string;
  serialNumber: string;
}

/** Where and how to reach one emulated BMC. Holds its password: never log it whole. */
export interface EmulatedBmcInfo {
  /** The BMC's position in the fleet, from 0. */
  index: number;
  /** The vendor profile it emulates (`generic` unless asked). */
  profile: ProfileName;
  /** `http://127.0.0.1:PORT` (or `https://` with TLS). */
  url: string;
  /** `/redfish/v1/Systems/<id>`. */
  systemPath: string;
  username: string;
  password: string;
  /** The System's UUID, also when the vendor's System does not show it. */
  systemUUID: string;
  /** The Chassis's UUID, also when the vendor's Chassis does not show it. */
  chassisUUID: string;
  drives: EmulatedDriveInfo[];
}

/** One emulated BMC. */
export class EmulatedBmc {
  readonly settings: BmcSettings;
  readonly #hardware: Hardware;
  readonly #log: BmcLogger;
  readonly #faults = new InjectedFaults();
  readonly #sessions: SessionStore;
  readonly #events: EventService;
  readonly #lights: Lights;
  readonly #machine: Machine;
  readonly #server: BmcServer;
  readonly #stateFile: BmcStateFile | undefined;
  readonly #restored: boolean;
  #closing: Promise<void> | undefined;

  constructor(settings: BmcSettings, shared: SharedResources) {
    this.settings = settings;
    const hardware = createHardware(settings.index, settings.drivesPerSystem, settings.profile);
    this.#hardware = hardware;
    this.#log = bmcLogger(settings.index, shared.logger);
    this.#sessions = new SessionStore(settings);
    this.#events = new EventService({
      defaults: settings.eventService,
      defaultOrigin: resourcePaths(hardware).system,
      maxSubscriptions: settings.maxSubscriptions,
      deliveryTimeoutMs: settings.deliveryTimeoutMs,
      onChange: () => this.#persist(),
      delivered: settings.profile.subscriptions.delivered,
      afterFailedDeliveries: settings.profile.subscriptions.afterFailedDeliveries,
      verifyingDispatcher: shared.verifyingDispatcher,
      trustingDispatcher: shared.trustingDispatcher,
      logger: this.#log,
    });
    this.#stateFile = settings.stateFile === undefined ? undefined : new BmcStateFile(settings.stateFile);
    const kept = this.#stateFile?.load();
    if (kept) {
      restoreHardware(hardware, kept);
      this.#events.settings = { ...kept.eventService };
      this.#events.subscriptions.restore(kept.subscriptions, kept.nextSubscriptionId);
    }
    this.#restored = kept !== undefined;
    const scope = { hardware, events: this.#events, owner: `BMC ${settings.index}` };
    this.#lights = new Lights(scope);
    this.#machine = new Machine(scope);
    const service = new RedfishService({
      hardware,
      driveLinkQuirks: settings.driveLinkQuirks,
      simpleStorage: settings.simpleStorage,
      refuseEventTypes: settings.refuseEventTypes === true,
      resumeSubscription: settings.resumeSubscription !== false,
      sessions: this.#sessions,
      lights: this.#lights,
      machine: this.#machine,
      events: this.#events,
      resetBmc: () => this.reset(),
    });
    this.#server = new BmcServer({
      index: settings.index,
      tls: shared.tls,
      faults: this.#faults,
      handle: (request) => {
        const response = service.handle(request);
        if (request.method !== "GET" && request.method !== "HEAD" && response.status < 400) this.#persist();
        return response;
      },
      holdAnswer: (method, path) => this.#takeAnswerHold(method, path),
    });
    this.#persist();
  }

  /** Requests whose answer is to be held, each once: see {@link holdAnswer}. */
  readonly #answerHolds: { method: string; path: string | RegExp; served: () => void }[] = [];

  /**
   * Serves the next request with this method and path (a string, or an
   * expression the path must match) — its effect applied, as any other —
   * but never answers it: the caller's connection stays open until the
   * caller goes away. Resolves once it is served. For crash tests: the
   * instant after a BMC call took effect and before its caller learns so.
   */
  holdAnswer(method: string, path: string | RegExp): Promise<void> {
    return new Promise((served) => this.#answerHolds.push({ method: method.toUpperCase(), path, served }));
  }

  #takeAnswerHold(method: string, path: string): boolean {
    const at = this.#answerHolds.findIndex((h) => h.method === method && (typeof h.path === "string" ? h.path === path : h.path.test(path)));
    if (at < 0) return false;
    const [hold] = this.#answerHolds.splice(at, 1);
    hold!.served();
    return true;
  }

  /** True when the BMC came back with the identity, subscriptions and lights kept by an earlier run. */
  get restored(): boolean {
    return this.#restored;
  }

  /** Writes the kept state (identity, subscriptions, lights, power) if the BMC keeps one. */
  #persist(): void {
    if (!this.#stateFile) return;
    const events = this.#events;
    this.#stateFile.save(
      captureState({
        hardware: this.#hardware,
        eventSettings: () => events.settings,
        subscriptions: () => events.subscriptions.records(),
        nextSubscriptionId: () => events.subscriptions.nextId,
      }),
    );
  }

  // ---- Addressing and lifetime ---------------------------------------------

  /** Where and how to reach this BMC. */
  get info(): EmulatedBmcInfo {
    return {
      index: this.settings.index,
      profile: this.settings.profile.name,
      url: this.#server.url,
      systemPath: resourcePaths(this.#hardware).system,
      username: this.settings.username,
      password: this.settings.password,
      systemUUID: this.#hardware.systemUUID,
      chassisUUID: this.#hardware.chassisUUID,
      drives: allDrives(this.#hardware).map((d) => ({
        storageId: d.storageId,
        driveId: d.id,
        name: d.name,
        model: d.model,
        serialNumber: d.serialNumber,
      })),
    };
  }

  /** Starts serving on 127.0.0.1 at `port` (0 for a free one); resolves with the base URL. */
  listen(port: number): Promise<string> {
    return this.#server.listen(port);
  }

  /** Stops serving, drops every connection and cancels every delivery and timer. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const subscriptions = this.#events.subscriptions;
      subscriptions.cancelDeliveries();
      await this.#server.close();
      await subscriptions.settled();
    })();
    return this.#closing;
  }

  /**
   * Resets the BMC as a firmware reboot would: every subscription and session
   * is lost (subscription IDs start again at 1), queued event deliveries are
   * dropped, every light goes off, the EventService settings return to their
   * defaults and open connections are cut. For `downtimeMs` after, every
   * connection is dropped. Hardware faults, the power state and injected
   * faults stay.
   */
  reset(options: { downtimeMs?: number } = {}): void {
    const downtimeMs = options.downtimeMs ?? 0;
    if (!(downtimeMs >= 0 && downtimeMs <= 600_000)) {
      throw new RangeError(`downtimeMs must be from 0 to 600000 milliseconds, got ${JSON.stringify(options.downtimeMs)}`);
    }
    this.#events.reset();
    this.#sessions.clear();
    this.#lights.allOff();
    this.#persist();
    this.#faults.goDown(downtimeMs);
    this.#server.cutConnections();
    this.#log.info({ downtimeMs }, "BMC reset");
  }

  // ---- Request accounting and injected faults -----------------------------

  /** The request counts so far. */
  stats(): RequestStats {
    return this.#server.counter.snapshot();
  }

  /** Zeroes the request counts. */
  resetStats(): void {
    this.#server.counter.reset();
  }

  /** The current fault settings. */
  faults(): FaultSettings {
    return this.#faults.settings();
  }

  /** Changes some fault settings (validated); returns the result. */
  setFaults(update: Partial<FaultSettings>): FaultSettings {
    return this.#faults.update(update);
  }

  /** Adds `ms` milliseconds of latency before every response. */
  setLatency(ms: number): void {
    this.setFaults({ latencyMs: ms });
  }

  /** Answers a share `rate` (0 to 1) of requests, or only those with `method`, with `status` and a Redfish error. */
  setErrorRate(rate: number, status = 503, method: string | null = null): void {
    this.setFaults({ errorRate: rate, errorStatus: status, errorMethod: method });
  }

  /** Destroys the connection of a share `rate` (0 to 1) of requests without answering. */
  setDropRate(rate: number): void {
    this.setFaults({ dropRate: rate });
  }

  // ---- Lights, power, drives and temperature ------------------------------

  /** The state of every light. */
  lights(): LightStates {
    return this.#lights.states();
  }

  /**
   * Switches a light as someone at the machine would (front-panel button):
   * `target` is `system`, `chassis` or `<storage Id>:<drive Id>`. Raises the
   * same change event as a PATCH.
   */
  setLight(target: string, state: LedState): void {
    this.#lights.set(target, state);
    this.#persist();
  }

  /** Sets the chassis light, raising a change event if it changed. */
  setChassisLed(state: LedState): void {
    this.#lights.setChassis(state);
    this.#persist();
  }

  /** The system's power state. */
  powerState(): PowerState {
    return this.#machine.powerState();
  }

  /** Fails a drive: its health turns Critical and a `StorageDevice.1.0.DriveFailure` alert is raised. */
  failDrive(storageId: string, driveId: string): EventRecord {
    return this.#machine.failDrive(storageId, driveId);
  }

  /** Repairs a failed drive: its health returns to OK and a `DriveFailureCleared` event is raised. */
  repairDrive(storageId: string, driveId: string): EventRecord {
    return this.#machine.repairDrive(storageId, driveId);
  }

  /** Sets the inlet temperature; returns the threshold event it raised, if any (see {@link Machine.setTemperature}). */
  setTemperature(celsius: number): EventRecord | undefined {
    return this.#machine.setTemperature(celsius);
  }

  /** Pushes the temperature past its critical threshold (or to `celsius`); returns the raised alert. */
  raiseTemperature(celsius?: number): EventRecord | undefined {
    return this.#machine.raiseTemperature(celsius);
  }

  // ---- Events and subscriptions -------------------------------------------

  /** Raises a test event, as `#EventService.SubmitTestEvent` does; returns the record sent. */
  submitEvent(parameters: TestEventParameters): EventRecord {
    return this.#events.submit(parameters);
  }

  /** The events raised so far (the last 100), oldest first. */
  events(): EventRecord[] {
    return this.#events.events();
  }

  /** The current subscriptions, with header names only. */
  subscriptions(): SubscriptionInfo[] {
    return this.#events.subscriptions.list();
  }

  /** The current subscriptions as stored, header values included (for tests that check what the BMC would send). */
  subscriptionRecords(): SubscriptionRecord[] {
    return this.#events.subscriptions.records();
  }

  /** Deletes a subscription and its queued deliveries; false when there was none. */
  deleteSubscription(id: string): boolean {
    const deleted = this.#events.subscriptions.delete(id);
    if (deleted) this.#persist();
    return deleted;
  }

  /**
   * Suspends a subscription as the BMC does on its own after failed deliveries
   * (`Status.State: Disabled`, resumable with `ResumeSubscription`); false when there was none.
   */
  suspendSubscription(id: string): boolean {
    const record = this.#events.subscriptions.get(id);
    if (!record) return false;
    this.#events.subscriptions.setState(record, "Disabled");
    this.#persist();
    return true;
  }

  /** The delivery attempts so far (the last 100), oldest first. */
  deliveries(): DeliveryAttempt[] {
    return this.#events.subscriptions.deliveries();
  }

  /** Resolves once no event delivery is in progress (retries included). */
  deliveriesSettled(): Promise<void> {
    return this.#events.subscriptions.settled();
  }
}

/** A logger whose every line names the BMC; silent without `logger`. */
function bmcLogger(index: number, logger: BmcLogger | undefined): BmcLogger {
  return {
    info: (fields, message) => logger?.info({ bmc: index, ...fields }, message),
    warn: (fields, message) => logger?.warn({ bmc: index, ...fields }, message),
  };
}

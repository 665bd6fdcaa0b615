/**
 * One emulated BMC: its hardware, lights, sessions, subscriptions and event
 * deliveries, its HTTP server, and the programmatic control used by tests
 * and benchmarks (the same operations as the control API).
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { Dispatcher } from "undici";
import { EventDeliveryQueues } from "./event-delivery.ts";
import type { DeliveryAttempt } from "./event-delivery.ts";
import { EVENT_TYPES, RAISED_MESSAGES, SEVERITIES, eventPayload, resourceTypeOf } from "./events.ts";
import type { EventRecord, EventType, RaisedEvent, Severity } from "./events.ts";
import { noFaults, updateFaults } from "./faults.ts";
import type { FaultSettings } from "./faults.ts";
import { LED_STATES, allDrives, createHardware } from "./hardware.ts";
import type { DriveState, Hardware, LedState, PowerState } from "./hardware.ts";
import { createRequestListener } from "./bmc-http.ts";
import { RequestCounter } from "./request-stats.ts";
import type { RequestStats } from "./request-stats.ts";
import { drivePath, resourcePaths } from "./resources.ts";
import { subscriptionMatches } from "./subscriptions.ts";
import type { SubscriptionRecord } from "./subscriptions.ts";

/** A pino-compatible logger; the emulator never passes it a password or header value. */
export interface BmcLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

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
  /** `http://127.0.0.1:PORT` (or `https://` with TLS). */
  url: string;
  /** `/redfish/v1/Systems/<id>`. */
  systemPath: string;
  username: string;
  password: string;
  systemUUID: string;
  chassisUUID: string;
  drives: EmulatedDriveInfo[];
}

/** The light states of one BMC, in Redfish `IndicatorLED` words. */
export interface LightStates {
  system: LedState;
  chassis: LedState;
  /** Keyed `<storage Id>:<drive Id>`, the name Ironic gives disk lights. */
  drives: Record<string, LedState>;
}

/** A subscription as the control API shows it: header names only, never values. */
export interface SubscriptionInfo {
  id: string;
  destination: string;
  context: string | null;
  protocol: string;
  eventTypes: string[] | null;
  httpHeaderNames: string[];
  deliveryRetryPolicy: string;
  state: "Enabled" | "Disabled";
}

/** The parameters of a test event, as for `#EventService.SubmitTestEvent`; only `MessageId` is required. */
export interface TestEventParameters {
  MessageId: string;
  EventType?: EventType;
  EventId?: string;
  EventTimestamp?: string;
  Message?: string;
  MessageArgs?: string[];
  MessageSeverity?: Severity;
  Severity?: Severity;
  /** A resource path, such as `/redfish/v1/Systems/System.Embedded.1`. */
  OriginOfCondition?: string;
  EventGroupId?: number;
}

/** The settings of one BMC, filled in by the fleet. */
export interface BmcSettings {
  index: number;
  username: string;
  password: string;
  drivesPerSystem: number;
  /** Whether the System links a `SimpleStorage` collection. */
  simpleStorage: boolean;
  /** Refuse `EventTypes` in a subscription create request, as OpenBMC does (see subscriptions.ts). */
  refuseEventTypes?: boolean;
  maxSubscriptions: number;
  maxSessions: number;
  sessionTimeoutSeconds: number;
  /** Defaults of the EventService, restored by a reset. */
  eventService: { retryAttempts: number; retryIntervalSeconds: number };
  /** Milliseconds before an event POST without response headers counts as failed. */
  deliveryTimeoutMs: number;
}

/** What the BMCs of a fleet share. */
export interface SharedResources {
  verifyingDispatcher: Dispatcher;
  trustingDispatcher: Dispatcher;
  logger?: BmcLogger;
  /** A certificate and key to serve HTTPS with, if TLS is on. */
  tls?: { cert: string; key: string };
}

/** A live session. */
interface SessionRecord {
  id: string;
  token: string;
  username: string;
  lastUsed: number;
}

/** At most this many delivery attempts are kept for {@link EmulatedBmc.deliveries}. */
const DELIVERY_LOG_SIZE = 100;
/** At most this many raised events are kept for {@link EmulatedBmc.events}. */
const EVENT_LOG_SIZE = 100;

/** One emulated BMC. */
export class EmulatedBmc {
  readonly settings: BmcSettings;
  /** The hardware state; the Redfish service reads and changes it. */
  readonly hardware: Hardware;
  readonly #shared: SharedResources;
  readonly #counter = new RequestCounter();
  #faults: FaultSettings = noFaults();
  #downUntil = 0;
  #server: http.Server | undefined;
  #url = "";

  /** Subscriptions by ID, in creation order. */
  readonly subscriptionRecords = new Map<string, SubscriptionRecord>();
  #nextSubscriptionId = 1;
  readonly #sessions = new Map<string, SessionRecord>();
  #nextSessionId = 1;
  /** EventService settings (PATCHable). */
  eventServiceSettings: { serviceEnabled: boolean; retryAttempts: number; retryIntervalSeconds: number };
  #nextEventId = 1;
  readonly #deliveryLog: DeliveryAttempt[] = [];
  readonly #eventLog: EventRecord[] = [];
  readonly #delivery: EventDeliveryQueues;
  readonly #timers = new Set<AbortController>();
  #closed = false;

  constructor(settings: BmcSettings, shared: SharedResources) {
    this.settings = settings;
    this.#shared = shared;
    this.hardware = createHardware(settings.index, settings.drivesPerSystem);
    this.eventServiceSettings = { serviceEnabled: true, ...settings.eventService };
    this.#delivery = new EventDeliveryQueues({
      verifyingDispatcher: shared.verifyingDispatcher,
      trustingDispatcher: shared.trustingDispatcher,
      timeoutMs: settings.deliveryTimeoutMs,
      retryAttempts: () => this.eventServiceSettings.retryAttempts,
      retryIntervalMs: () => this.eventServiceSettings.retryIntervalSeconds * 1000,
      onRetriesExhausted: (subscription) => this.#retriesExhausted(subscription),
      onAttempt: (attempt) => {
        this.#deliveryLog.push(attempt);
        if (this.#deliveryLog.length > DELIVERY_LOG_SIZE) this.#deliveryLog.shift();
        if (attempt.outcome === "failed") {
          this.#shared.logger?.warn(
            {
              bmc: this.settings.index,
              subscription: attempt.subscriptionId,
              destination: attempt.destination,
              attempt: attempt.attempt,
              status: attempt.status,
              error: attempt.error,
            },
            "event delivery failed",
          );
        }
      },
    });
  }

  // ---- Addressing -------------------------------------------------------

  /** Where and how to reach this BMC. */
  get info(): EmulatedBmcInfo {
    return {
      index: this.settings.index,
      url: this.#url,
      systemPath: resourcePaths(this.hardware).system,
      username: this.settings.username,
      password: this.settings.password,
      systemUUID: this.hardware.systemUUID,
      chassisUUID: this.hardware.chassisUUID,
      drives: allDrives(this.hardware).map((d) => ({
        storageId: d.storageId,
        driveId: d.id,
        name: d.name,
        model: d.model,
        serialNumber: d.serialNumber,
      })),
    };
  }

  /** Starts serving on 127.0.0.1 at `port` (0 for a free one); resolves with the base URL. */
  async listen(port: number): Promise<string> {
    const listener = createRequestListener(this);
    const server = this.#shared.tls
      ? https.createServer({ cert: this.#shared.tls.cert, key: this.#shared.tls.key }, listener)
      : http.createServer(listener);
    server.keepAliveTimeout = 5_000;
    server.on("connection", (socket) => {
      if (this.isDown()) socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        reject(new Error(`BMC ${this.settings.index} cannot listen on 127.0.0.1:${port}: ${error.message}`, { cause: error }));
      };
      server.once("error", onError);
      server.listen({ host: "127.0.0.1", port, backlog: 511 }, () => {
        server.off("error", onError);
        resolve();
      });
    });
    this.#server = server;
    const address = server.address() as AddressInfo;
    this.#url = `${this.#shared.tls ? "https" : "http"}://127.0.0.1:${address.port}`;
    return this.#url;
  }

  /** Stops serving, drops every connection and cancels every delivery and timer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#delivery.cancelAll();
    for (const timer of this.#timers) timer.abort();
    this.#timers.clear();
    const server = this.#server;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    }
    await this.#delivery.idle();
  }

  /** An AbortSignal that fires when the BMC closes, for timers such as injected latency. */
  timerSignal(): { signal: AbortSignal; done: () => void } {
    const controller = new AbortController();
    if (this.#closed) controller.abort();
    else this.#timers.add(controller);
    return { signal: controller.signal, done: () => this.#timers.delete(controller) };
  }

  // ---- Request accounting and faults -------------------------------------

  /** The request counter the HTTP layer records into. */
  get counter(): RequestCounter {
    return this.#counter;
  }

  /** The request counts so far. */
  stats(): RequestStats {
    return this.#counter.snapshot();
  }

  /** Zeroes the request counts. */
  resetStats(): void {
    this.#counter.reset();
  }

  /** The current fault settings. */
  faults(): FaultSettings {
    return { ...this.#faults };
  }

  /** Changes some fault settings (validated); returns the result. */
  setFaults(update: Partial<FaultSettings>): FaultSettings {
    this.#faults = updateFaults(this.#faults, update);
    return this.faults();
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

  /** True while a reset's downtime lasts: connections are dropped. */
  isDown(): boolean {
    return this.#downUntil > Date.now();
  }

  // ---- BMC reset ------------------------------------------------------------

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
    this.#delivery.cancelAll();
    this.subscriptionRecords.clear();
    this.#nextSubscriptionId = 1;
    this.#sessions.clear();
    this.hardware.systemLed = "Off";
    this.hardware.chassisLed = "Off";
    for (const d of allDrives(this.hardware)) d.led = "Off";
    this.eventServiceSettings = { serviceEnabled: true, ...this.settings.eventService };
    this.#downUntil = Date.now() + downtimeMs;
    this.#server?.closeAllConnections();
    this.#shared.logger?.info({ bmc: this.settings.index, downtimeMs }, "BMC reset");
  }

  // ---- Lights --------------------------------------------------------------

  /** The state of every light. */
  lights(): LightStates {
    const drives: Record<string, LedState> = {};
    for (const d of allDrives(this.hardware)) drives[`${d.storageId}:${d.id}`] = d.led;
    return { system: this.hardware.systemLed, chassis: this.hardware.chassisLed, drives };
  }

  /**
   * Switches a light as someone at the machine would (front-panel button):
   * `target` is `system`, `chassis` or `<storage Id>:<drive Id>`. Raises the
   * same change event as a PATCH.
   */
  setLight(target: string, state: LedState): void {
    if (!LED_STATES.includes(state)) {
      throw new RangeError(`light state must be one of ${LED_STATES.join(", ")}, got ${JSON.stringify(state)}`);
    }
    if (target === "system") this.setSystemLed(state);
    else if (target === "chassis") this.setChassisLed(state);
    else {
      const [storageId, driveId] = target.split(":");
      this.setDriveLed(this.findDrive(storageId ?? "", driveId ?? ""), state);
    }
  }

  /** Sets the system light, raising a change event if it changed. */
  setSystemLed(state: LedState): void {
    if (this.hardware.systemLed === state) return;
    this.hardware.systemLed = state;
    this.#resourceChanged(resourcePaths(this.hardware).system);
  }

  /** Sets the chassis light, raising a change event if it changed. */
  setChassisLed(state: LedState): void {
    if (this.hardware.chassisLed === state) return;
    this.hardware.chassisLed = state;
    this.#resourceChanged(resourcePaths(this.hardware).chassis);
  }

  /** Sets a drive's light, raising a change event if it changed. */
  setDriveLed(drive: DriveState, state: LedState): void {
    if (drive.led === state) return;
    drive.led = state;
    this.#resourceChanged(drivePath(this.hardware, drive));
  }

  /** The drive with these IDs; throws a RangeError naming them when there is none. */
  findDrive(storageId: string, driveId: string): DriveState {
    const drive = allDrives(this.hardware).find((d) => d.storageId === storageId && d.id === driveId);
    if (!drive) {
      const known = allDrives(this.hardware).map((d) => `${d.storageId}:${d.id}`).join(", ");
      throw new RangeError(`BMC ${this.settings.index} has no drive ${storageId}:${driveId}; it has ${known || "none"}`);
    }
    return drive;
  }

  // ---- Power ---------------------------------------------------------------

  /** The system's power state. */
  powerState(): PowerState {
    return this.hardware.powerState;
  }

  /** Applies a `ComputerSystem.Reset` type; raises a change event when the power state changes. */
  applyResetType(resetType: string): void {
    const before = this.hardware.powerState;
    switch (resetType) {
      case "On":
      case "ForceOn":
        this.hardware.powerState = "On";
        break;
      case "ForceOff":
      case "GracefulShutdown":
        this.hardware.powerState = "Off";
        break;
      case "PushPowerButton":
        this.hardware.powerState = before === "On" ? "Off" : "On";
        break;
      default:
        // Restarts, power cycles and NMIs leave the system on.
        if (before === "Off" && resetType !== "Nmi") this.hardware.powerState = "On";
        break;
    }
    if (this.hardware.powerState !== before) {
      this.#resourceChanged(resourcePaths(this.hardware).system);
    }
  }

  // ---- Hardware faults -----------------------------------------------------

  /** Fails a drive: its health turns Critical and a `StorageDevice.1.0.DriveFailure` alert is raised. */
  failDrive(storageId: string, driveId: string): EventRecord {
    const drive = this.findDrive(storageId, driveId);
    drive.failed = true;
    const m = RAISED_MESSAGES.driveFailure;
    return this.raise({
      EventType: "Alert",
      MessageId: m.MessageId,
      Message: m.message(drive.name),
      MessageArgs: [drive.name],
      MessageSeverity: m.MessageSeverity,
      OriginOfCondition: drivePath(this.hardware, drive),
    });
  }

  /** Repairs a failed drive: its health returns to OK and a `DriveFailureCleared` event is raised. */
  repairDrive(storageId: string, driveId: string): EventRecord {
    const drive = this.findDrive(storageId, driveId);
    drive.failed = false;
    const m = RAISED_MESSAGES.driveFailureCleared;
    return this.raise({
      EventType: "Alert",
      MessageId: m.MessageId,
      Message: m.message(drive.name),
      MessageArgs: [drive.name],
      MessageSeverity: m.MessageSeverity,
      OriginOfCondition: drivePath(this.hardware, drive),
    });
  }

  /**
   * Sets the inlet temperature sensor's reading. Crossing the caution or
   * critical threshold upwards raises a `SensorEvent` alert; falling back
   * below caution raises `ReadingNormalRange`. Returns the raised event, if any.
   */
  setTemperature(celsius: number): EventRecord | undefined {
    if (typeof celsius !== "number" || !Number.isFinite(celsius) || celsius < -50 || celsius > 200) {
      throw new RangeError(`temperature must be a number of degrees Celsius from -50 to 200, got ${JSON.stringify(celsius)}`);
    }
    const t = this.hardware.temperature;
    const level = (c: number) => (c >= t.upperCritical ? 2 : c >= t.upperCaution ? 1 : 0);
    const before = level(t.readingCelsius);
    t.readingCelsius = celsius;
    const after = level(celsius);
    if (after === before) return undefined;
    const origin = resourcePaths(this.hardware).thermal;
    if (after === 0) {
      const m = RAISED_MESSAGES.readingNormal;
      return this.raise({
        EventType: "Alert",
        MessageId: m.MessageId,
        Message: m.message(t.name, celsius),
        MessageArgs: [t.name, String(celsius), "Cel"],
        MessageSeverity: m.MessageSeverity,
        OriginOfCondition: origin,
      });
    }
    if (after < before) return undefined;
    const m = after === 2 ? RAISED_MESSAGES.aboveUpperCritical : RAISED_MESSAGES.aboveUpperCaution;
    const threshold = after === 2 ? t.upperCritical : t.upperCaution;
    return this.raise({
      EventType: "Alert",
      MessageId: m.MessageId,
      Message: m.message(t.name, celsius, threshold),
      MessageArgs: [t.name, String(celsius), "Cel", String(threshold)],
      MessageSeverity: m.MessageSeverity,
      OriginOfCondition: origin,
    });
  }

  /** Pushes the temperature past its critical threshold (or to `celsius`); returns the raised alert. */
  raiseTemperature(celsius?: number): EventRecord | undefined {
    return this.setTemperature(celsius ?? this.hardware.temperature.upperCritical + 3);
  }

  // ---- Events and subscriptions -------------------------------------------

  /** Raises a test event, as `#EventService.SubmitTestEvent` does; returns the record sent. */
  submitEvent(parameters: TestEventParameters): EventRecord {
    const p = validateTestEvent(parameters);
    return this.raise({
      ...p,
      EventType: p.EventType ?? "Alert",
      OriginOfCondition: p.OriginOfCondition ?? resourcePaths(this.hardware).system,
    });
  }

  /** Raises an event: records it and queues it for every matching subscription. */
  raise(partial: {
    EventType: EventType;
    MessageId: string;
    Message?: string;
    MessageArgs?: string[];
    MessageSeverity?: Severity;
    Severity?: Severity;
    EventId?: string;
    EventTimestamp?: string;
    OriginOfCondition: string;
    EventGroupId?: number;
  }): EventRecord {
    const severity = partial.MessageSeverity ?? partial.Severity ?? "OK";
    const record: EventRecord = {
      EventType: partial.EventType,
      EventId: partial.EventId ?? String(this.#nextEventId++),
      EventTimestamp: partial.EventTimestamp ?? new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      Severity: severity,
      MessageSeverity: severity,
      Message: partial.Message ?? "",
      MessageId: partial.MessageId,
      MessageArgs: partial.MessageArgs ?? [],
      OriginOfCondition: { "@odata.id": partial.OriginOfCondition },
    };
    if (partial.EventGroupId !== undefined) record.EventGroupId = partial.EventGroupId;
    this.#eventLog.push(record);
    if (this.#eventLog.length > EVENT_LOG_SIZE) this.#eventLog.shift();
    if (!this.eventServiceSettings.serviceEnabled) return record;
    const event: RaisedEvent = { record, resourceType: resourceTypeOf(partial.OriginOfCondition) };
    for (const subscription of this.subscriptionRecords.values()) {
      if (!subscriptionMatches(subscription, event)) continue;
      this.#delivery.enqueue(subscription, record.EventId, eventPayload(event, subscription.context));
    }
    return record;
  }

  /** The events raised so far (the last 100), oldest first. */
  events(): EventRecord[] {
    return [...this.#eventLog];
  }

  /** The delivery attempts so far (the last 100), oldest first. */
  deliveries(): DeliveryAttempt[] {
    return [...this.#deliveryLog];
  }

  /** Resolves once no event delivery is in progress (retries included). */
  deliveriesSettled(): Promise<void> {
    return this.#delivery.idle();
  }

  /** The current subscriptions, with header names only. */
  subscriptions(): SubscriptionInfo[] {
    return [...this.subscriptionRecords.values()].map((s) => ({
      id: s.id,
      destination: s.destination,
      context: s.context,
      protocol: s.protocol,
      eventTypes: s.eventTypes,
      httpHeaderNames: s.httpHeaders.map(([name]) => name),
      deliveryRetryPolicy: s.deliveryRetryPolicy,
      state: s.state,
    }));
  }

  /** Stores a validated subscription under the next ID; returns it, or undefined when the limit is reached. */
  addSubscription(request: Omit<SubscriptionRecord, "id">): SubscriptionRecord | undefined {
    if (this.subscriptionRecords.size >= this.settings.maxSubscriptions) return undefined;
    const record: SubscriptionRecord = { ...request, id: String(this.#nextSubscriptionId++) };
    this.subscriptionRecords.set(record.id, record);
    this.#shared.logger?.info(
      {
        bmc: this.settings.index,
        subscription: record.id,
        destination: record.destination,
        headers: record.httpHeaders.map(([name]) => name),
      },
      "subscription created",
    );
    return record;
  }

  /** Deletes a subscription and its queued deliveries; false when there was none. */
  deleteSubscription(id: string): boolean {
    const existed = this.subscriptionRecords.delete(id);
    if (existed) {
      this.#delivery.cancel(id);
      this.#shared.logger?.info({ bmc: this.settings.index, subscription: id }, "subscription deleted");
    }
    return existed;
  }

  /** Suspends (`Disabled`) or resumes (`Enabled`) a subscription. */
  setSubscriptionState(record: SubscriptionRecord, state: "Enabled" | "Disabled"): void {
    record.state = state;
    if (state === "Disabled") this.#delivery.cancel(record.id);
  }

  #retriesExhausted(subscription: SubscriptionRecord): void {
    if (this.subscriptionRecords.get(subscription.id) !== subscription) return;
    if (subscription.deliveryRetryPolicy === "SuspendRetries") {
      subscription.state = "Disabled";
      this.#shared.logger?.warn(
        { bmc: this.settings.index, subscription: subscription.id },
        "subscription suspended after its delivery retries",
      );
    } else {
      this.subscriptionRecords.delete(subscription.id);
      this.#shared.logger?.warn(
        { bmc: this.settings.index, subscription: subscription.id },
        "subscription terminated after its delivery retries",
      );
    }
  }

  #resourceChanged(path: string): void {
    const m = RAISED_MESSAGES.resourceChanged;
    this.raise({
      EventType: "ResourceUpdated",
      MessageId: m.MessageId,
      Message: m.Message,
      MessageArgs: [],
      MessageSeverity: m.MessageSeverity,
      OriginOfCondition: path,
    });
  }

  // ---- Sessions --------------------------------------------------------------

  /** Checks a user name and password against this BMC's (in constant time per length). */
  credentialsMatch(username: string, password: string): boolean {
    return safeEqual(username, this.settings.username) && safeEqual(password, this.settings.password);
  }

  /** Opens a session; undefined when the session limit is reached. */
  openSession(username: string): { id: string; token: string } | undefined {
    this.#expireSessions();
    if (this.#sessions.size >= this.settings.maxSessions) return undefined;
    const id = String(this.#nextSessionId++);
    const token = randomBytes(24).toString("hex");
    this.#sessions.set(token, { id, token, username, lastUsed: Date.now() });
    return { id, token };
  }

  /** The session with this token, refreshed; undefined when unknown or expired. */
  sessionByToken(token: string): { id: string; username: string } | undefined {
    this.#expireSessions();
    const s = this.#sessions.get(token);
    if (!s) return undefined;
    s.lastUsed = Date.now();
    return { id: s.id, username: s.username };
  }

  /** Every live session's ID and user. */
  sessionList(): { id: string; username: string }[] {
    this.#expireSessions();
    return [...this.#sessions.values()].map((s) => ({ id: s.id, username: s.username }));
  }

  /** Ends a session by ID; false when there was none. */
  closeSession(id: string): boolean {
    for (const [token, s] of this.#sessions) {
      if (s.id === id) {
        this.#sessions.delete(token);
        return true;
      }
    }
    return false;
  }

  #expireSessions(): void {
    const oldest = Date.now() - this.settings.sessionTimeoutSeconds * 1000;
    for (const [token, s] of this.#sessions) if (s.lastUsed < oldest) this.#sessions.delete(token);
  }
}

function safeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Validates the parameters of a test event (SubmitTestEvent or the control
 * API). Throws a RangeError naming the first bad parameter and its value.
 */
export function validateTestEvent(p: unknown): TestEventParameters {
  if (typeof p !== "object" || p === null || Array.isArray(p)) {
    throw new RangeError("test event parameters must be a JSON object");
  }
  const o = p as Record<string, unknown>;
  const known = new Set([
    "MessageId",
    "EventType",
    "EventId",
    "EventTimestamp",
    "Message",
    "MessageArgs",
    "MessageSeverity",
    "Severity",
    "OriginOfCondition",
    "EventGroupId",
  ]);
  for (const key of Object.keys(o)) {
    if (!known.has(key)) throw new TestEventError(key, o[key], `unknown parameter; known: ${[...known].join(", ")}`);
  }
  if (o.MessageId === undefined) throw new TestEventError("MessageId", undefined, "it is required");
  if (typeof o.MessageId !== "string" || !/^[A-Za-z0-9]+\.\d+\.\d+(\.\d+)?\.[A-Za-z0-9]+$/.test(o.MessageId)) {
    throw new TestEventError("MessageId", o.MessageId, "expected Registry.Major.Minor.Key");
  }
  for (const key of ["EventId", "EventTimestamp", "Message", "OriginOfCondition"] as const) {
    if (o[key] !== undefined && typeof o[key] !== "string") throw new TestEventError(key, o[key], "expected a string");
  }
  if (o.OriginOfCondition !== undefined && !(o.OriginOfCondition as string).startsWith("/redfish/v1")) {
    throw new TestEventError("OriginOfCondition", o.OriginOfCondition, "expected a resource path under /redfish/v1");
  }
  if (o.EventTimestamp !== undefined && Number.isNaN(Date.parse(o.EventTimestamp as string))) {
    throw new TestEventError("EventTimestamp", o.EventTimestamp, "expected an ISO 8601 date and time");
  }
  if (o.MessageArgs !== undefined && !(Array.isArray(o.MessageArgs) && o.MessageArgs.every((a) => typeof a === "string"))) {
    throw new TestEventError("MessageArgs", o.MessageArgs, "expected an array of strings");
  }
  if (o.EventType !== undefined && !EVENT_TYPES.includes(o.EventType as EventType)) {
    throw new TestEventError("EventType", o.EventType, `expected one of ${EVENT_TYPES.join(", ")}`);
  }
  for (const key of ["MessageSeverity", "Severity"] as const) {
    if (o[key] !== undefined && !SEVERITIES.includes(o[key] as Severity)) {
      throw new TestEventError(key, o[key], `expected one of ${SEVERITIES.join(", ")}`);
    }
  }
  if (o.EventGroupId !== undefined && !Number.isInteger(o.EventGroupId)) {
    throw new TestEventError("EventGroupId", o.EventGroupId, "expected an integer");
  }
  return { EventType: "Alert", ...(o as unknown as TestEventParameters) };
}

/** A bad test event parameter: names the parameter and its value. */
export class TestEventError extends RangeError {
  readonly parameter: string;
  readonly value: unknown;
  constructor(parameter: string, value: unknown, why: string) {
    super(`test event parameter ${parameter} ${value === undefined ? "is missing" : `= ${JSON.stringify(value)} is invalid`}: ${why}`);
    this.name = "TestEventError";
    this.parameter = parameter;
    this.value = value;
  }
}

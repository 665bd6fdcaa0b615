/**
 * Injected faults of one BMC's HTTP service: added latency, a rate of error
 * responses and a rate of dropped connections, and the downtime after a BMC
 * reset. Rates of 0 and 1 are exact (never and always), so tests can rely on
 * them.
 *
 * @module
 */

/** The fault settings of one BMC. */
export interface FaultSettings {
  /** Milliseconds added before every Redfish response (the request counts as in flight meanwhile). */
  latencyMs: number;
  /** Share of requests, 0 to 1, answered with {@link FaultSettings.errorStatus} instead of being served. */
  errorRate: number;
  /** The HTTP status of injected errors, 400 to 599. */
  errorStatus: number;
  /** When set, only requests with this method get injected errors (for example `"PATCH"`). */
  errorMethod: string | null;
  /** Share of requests, 0 to 1, whose connection is destroyed without any response. */
  dropRate: number;
}

/** Fault settings with nothing injected. */
export function noFaults(): FaultSettings {
  return { latencyMs: 0, errorRate: 0, errorStatus: 503, errorMethod: null, dropRate: 0 };
}

/** What to do with one request. */
export type FaultDecision = "serve" | "error" | "drop";

/** Validates a partial update of fault settings and applies it to `current`, returning the result. */
export function updateFaults(current: FaultSettings, update: Partial<FaultSettings>): FaultSettings {
  const next = { ...current };
  for (const [key, value] of Object.entries(update)) {
    switch (key) {
      case "latencyMs":
        if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 600_000) {
          throw new RangeError(`latencyMs must be a number of milliseconds from 0 to 600000, got ${JSON.stringify(value)}`);
        }
        next.latencyMs = value;
        break;
      case "errorRate":
      case "dropRate":
        if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
          throw new RangeError(`${key} must be a number from 0 to 1, got ${JSON.stringify(value)}`);
        }
        next[key] = value;
        break;
      case "errorStatus":
        if (typeof value !== "number" || !Number.isInteger(value) || value < 400 || value > 599) {
          throw new RangeError(`errorStatus must be an HTTP error status from 400 to 599, got ${JSON.stringify(value)}`);
        }
        next.errorStatus = value;
        break;
      case "errorMethod":
        if (value !== null && (typeof value !== "string" || !/^[A-Z]+$/.test(value))) {
          throw new RangeError(`errorMethod must be null or an upper-case HTTP method, got ${JSON.stringify(value)}`);
        }
        next.errorMethod = value;
        break;
      default:
        throw new RangeError(
          `unknown fault setting ${JSON.stringify(key)}; known: latencyMs, errorRate, errorStatus, errorMethod, dropRate`,
        );
    }
  }
  return next;
}

/** Decides the fate of one request; `random` returns a number in [0, 1). */
export function decideFault(settings: FaultSettings, method: string, random: () => number = Math.random): FaultDecision {
  if (settings.dropRate > 0 && random() < settings.dropRate) return "drop";
  if (
    settings.errorRate > 0 &&
    (settings.errorMethod === null || settings.errorMethod === method) &&
    random() < settings.errorRate
  ) {
    return "error";
  }
  return "serve";
}

/** The injected faults of one BMC and the downtime after a reset, which its HTTP layer consults on every request. */
export class InjectedFaults {
  #settings: FaultSettings = noFaults();
  #downUntil = 0;

  /** The current fault settings. */
  settings(): FaultSettings {
    return { ...this.#settings };
  }

  /** Changes some fault settings (validated: a bad update changes nothing); returns the result. */
  update(update: Partial<FaultSettings>): FaultSettings {
    this.#settings = updateFaults(this.#settings, update);
    return this.settings();
  }

  /** Drops every connection for the next `ms` milliseconds. */
  goDown(ms: number): void {
    this.#downUntil = Date.now() + ms;
  }

  /** True while a reset's downtime lasts: connections are dropped. */
  isDown(): boolean {
    return this.#downUntil > Date.now();
  }
}

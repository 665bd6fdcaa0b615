/**
 * Structured logs: the pino root logger factory, with redaction of fields
 * that may carry secrets and of URLs' user information, and the child loggers the runtime hands to
 * controllers and reconciles.
 *
 * @module
 */
import { createRequire } from "node:module";
import { type DestinationStream, type Level, type Logger, pino } from "pino";
import type PinoPretty from "pino-pretty";
import { redactUrlUserinfo } from "./url-userinfo.ts";

export type { Logger } from "pino";

/**
 * Log fields replaced by `[REDACTED]` wherever they appear at the top level or
 * one level down: credentials, tokens, HTTP headers (a subscription's headers
 * are secrets) and Secret data.
 */
export const DEFAULT_REDACT_PATHS: readonly string[] = [
  "password", "*.password",
  "token", "*.token",
  "authorization", "*.authorization",
  "Authorization", "*.Authorization",
  "headers", "*.headers",
  "httpHeaders", "*.httpHeaders",
  "credentials", "*.credentials",
  "stringData", "*.stringData",
  "secret", "*.secret",
];

/** The least a write to standard output carries, unless {@link LOG_FLUSH_MS} passes first, bytes. */
export const LOG_WRITE_BYTES = 4096;
/** The longest a line waits to be written, ms. */
export const LOG_FLUSH_MS = 100;

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** `trace`, `debug`, `info`, `warn`, `error`, `fatal` or `silent`. @default "info" */
  level?: Level | "silent";
  /** Human-readable lines instead of JSON (for a terminal). @default false */
  pretty?: boolean;
  /** More field paths to redact, in pino's syntax, added to {@link DEFAULT_REDACT_PATHS}. */
  redact?: readonly string[];
  /** Where lines go. @default standard output, written asynchronously and flushed on exit */
  destination?: DestinationStream;
  /** Fields on every line. */
  base?: Record<string, unknown>;
}

/**
 * The root logger of a process: JSON lines by default, with secrets redacted.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: "debug" });
 * log.child({ controller: "bmceventsubscription" }).info("starting");
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  const allowed = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];
  if (!allowed.includes(level)) {
    throw new RangeError(`Unknown log level "${level}": use one of ${allowed.join(", ")}`);
  }
  // JSON lines go to standard output asynchronously, gathered into writes of
  // at least LOG_WRITE_BYTES or every LOG_FLUSH_MS, whichever comes first:
  // while the operator converges a fleet it logs a few lines per resource, and
  // a write system call per line cost more CPU than the rest of the logging
  // (the footprint benchmark, docs/benchmarks.md). pino flushes what is left on exit.
  const destination =
    options.destination ??
    (options.pretty
      ? prettyStream()
      : pino.destination({ dest: 1, sync: false, minLength: LOG_WRITE_BYTES, periodicFlush: LOG_FLUSH_MS }));
  const config = {
    level,
    base: options.base ?? {},
    redact: { paths: [...DEFAULT_REDACT_PATHS, ...(options.redact ?? [])], censor: "[REDACTED]" },
    // Whatever a line quotes (an error's message or stack, a BMC's reply), no URL keeps its password.
    hooks: { streamWrite: redactUrlUserinfo },
  };
  const logger = pino(config, destination);
  skipRedactionOfScalars(logger);
  return logger;
}

/**
 * pino-pretty's stream, loaded only when asked for: it and its dependencies
 * are 40 modules that a Deployment, which logs JSON, never needs.
 */
function prettyStream(): DestinationStream {
  const pretty = createRequire(import.meta.url)("pino-pretty") as typeof PinoPretty;
  return pretty({ colorize: process.stdout.isTTY, sync: true });
}

type Stringifier = (value: unknown, ...rest: unknown[]) => string | undefined;

/**
 * pino runs the redaction of the `*.field` paths on every field of every line
 * and on its message, strings and numbers included, and `@pinojs/redact` parses
 * each path again at every call: in the footprint benchmark that was the
 * largest single source of garbage (about a tenth of all bytes allocated while
 * 10,000 resources converged, docs/benchmarks.md). A string, number or boolean
 * has no field to redact, so it is written as JSON at once; objects (and
 * anything JSON cannot write) still go through the redaction. The wildcard
 * stringifier is shared by the logger's children.
 */
function skipRedactionOfScalars(logger: Logger): void {
  const stringifiers = (logger as unknown as Record<symbol, Record<symbol, Stringifier | undefined> | undefined>)[pino.symbols.stringifiersSym];
  const redacting = stringifiers?.[pino.symbols.wildcardFirstSym];
  if (stringifiers === undefined || redacting === undefined) return;
  stringifiers[pino.symbols.wildcardFirstSym] = (value, ...rest) => {
    if (typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))) return JSON.stringify(value);
    return redacting(value, ...rest);
  };
}

/** A logger that writes nothing, for tests and quiet components. */
export const silentLogger: Logger = pino({ level: "silent" });

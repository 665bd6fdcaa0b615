/**
 * Shutdown on SIGTERM and SIGINT, as controller-runtime's
 * `SetupSignalHandler`: the first signal aborts the returned signal (the
 * manager then shuts down gracefully); a second one exits at once with code 1.
 *
 * @module
 */
import type { EventEmitter } from "node:events";

/** Options of {@link setupSignalHandler}; the defaults act on the real process. */
export interface SignalHandlerOptions {
  /** @default ["SIGTERM", "SIGINT"] */
  signals?: readonly NodeJS.Signals[];
  /** Where the signals come from. @default process */
  emitter?: Pick<EventEmitter, "on" | "off">;
  /** Called on the second signal. @default () => process.exit(1) */
  exit?: () => void;
}

/**
 * An `AbortSignal` aborted by the first SIGTERM or SIGINT.
 *
 * @example
 * ```ts
 * await manager.start(setupSignalHandler());
 * ```
 */
export function setupSignalHandler(options: SignalHandlerOptions = {}): AbortSignal {
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  const emitter = options.emitter ?? process;
  const exit = options.exit ?? (() => process.exit(1));
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      for (const s of signals) emitter.off(s, onSignal);
      exit();
      return;
    }
    controller.abort(new Error(`Received ${name}: shutting down`));
  };
  for (const s of signals) emitter.on(s, onSignal);
  return controller.signal;
}

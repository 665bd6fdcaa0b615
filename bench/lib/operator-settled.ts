/**
 * Whether a freshly started operator has handled every object it found: it
 * has run at least one reconcile per object and its work queues are empty,
 * read from its `/metrics`.
 *
 * @module
 */
import { sleep } from "./bench-context.ts";
import type { OperatorProcess } from "./operator-process.ts";
import { sumOf } from "./prometheus-text.ts";

/** Reconciles run so far and items still queued, from one `/metrics` text. */
export interface HandledState {
  reconciles: number;
  queued: number;
}

/** Reads the operator's reconcile count and work-queue depth out of its `/metrics` text. */
export function handledState(metrics: string): HandledState {
  return { reconciles: sumOf(metrics, "controller_runtime_reconcile_total"), queued: sumOf(metrics, "workqueue_depth") };
}

/** Whether `state` shows at least `objects` reconciles and nothing queued. */
export function hasHandled(state: HandledState, objects: number): boolean {
  return state.reconciles >= objects && state.queued === 0;
}

/**
 * Polls the operator's `/metrics` every 100 ms until it has handled `objects`
 * objects; throws, naming how far it got, after `timeoutMs`.
 */
export async function waitUntilHandled(operator: OperatorProcess, objects: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const state = handledState(await operator.metrics());
    if (hasHandled(state, objects)) return;
    if (performance.now() > deadline) {
      throw new Error(
        `the operator had run ${state.reconciles} of ${objects} reconciles (queue depth ${state.queued}) after ${timeoutMs} ms`,
      );
    }
    await sleep(100);
  }
}

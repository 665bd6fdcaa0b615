/**
 * The receiver's metrics, in the operator's registry (next to its other
 * metrics on `/metrics`). Labels never hold a token or a header value.
 *
 * @module
 */
import type { Registry } from "prom-client";
import { Counter, Histogram } from "../runtime/prometheus.ts";

/** Why a delivery was refused: the `reason` label of `bmc_event_deliveries_refused_total`. */
export type RefusedReason = "missing_token" | "invalid_token" | "malformed" | "too_large" | "method_not_allowed" | "not_found" | "not_ready";

/** The receiver's counters. */
export class ReceiverMetrics {
  readonly received: Counter<"namespace" | "host" | "severity" | "message_id">;
  readonly refused: Counter<"reason">;
  readonly forwarded: Counter<"namespace" | "result">;
  readonly writes: Counter<"kind" | "result">;
  readonly autoLocated: Counter<"namespace">;
  readonly handling: Histogram;

  constructor(registry: Registry) {
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Counter<L>({ name, help, labelNames, registers: [registry] });
    this.received = counter(
      "bmc_events_received_total",
      "BMC events received and recorded, by the host's namespace and name, severity and MessageId.",
      ["namespace", "host", "severity", "message_id"],
    );
    this.refused = counter(
      "bmc_event_deliveries_refused_total",
      "Deliveries the event receiver refused, by reason (missing_token, invalid_token, malformed, too_large, method_not_allowed, not_found, not_ready).",
      ["reason"],
    );
    this.forwarded = counter(
      "bmc_events_forwarded_total",
      "CloudEvents forwarded to namespace sinks, by namespace and result (delivered, failed after retries, dropped from a full queue).",
      ["namespace", "result"],
    );
    this.writes = counter(
      "bmc_event_api_writes_total",
      "API writes of the Events that record BMC events, by kind (create, patch) and result (ok, failed).",
      ["kind", "result"],
    );
    this.autoLocated = counter(
      "bmc_event_auto_locate_total",
      "BareMetalHostServiceIndicators created by the event receiver to light a failed drive.",
      ["namespace"],
    );
    this.handling = new Histogram({
      name: "bmc_event_delivery_duration_seconds",
      help: "Time from a delivery's arrival to its answer (recording is asynchronous and not included).",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
  }
}

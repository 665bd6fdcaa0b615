/**
 * Wraps a provisioner with metrics: calls by operation and result, and their
 * duration.
 *
 * @module
 */
import type { Registry } from "prom-client";
import { Counter, Histogram } from "../runtime/prometheus.ts";
import { PROVISIONER_OPERATIONS, type Provisioner, ProvisionerError, type ProvisionerOperation } from "../provisioner/provisioner.ts";

/** A provisioner whose every call is counted in `registry`. */
export function instrumentProvisioner(provisioner: Provisioner, registry: Registry): Provisioner {
  const calls = new Counter({
    name: "bmc_operator_provisioner_calls_total",
    help: "Provisioner calls (each one or more BMC or Ironic requests), by operation and result (success or the error kind).",
    labelNames: ["provisioner", "operation", "result"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "bmc_operator_provisioner_call_duration_seconds",
    help: "Duration of provisioner calls, waiting for the per-BMC limiter included.",
    labelNames: ["provisioner", "operation"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const wrapped: Record<string, unknown> = { name: provisioner.name };
  const methods = provisioner as unknown as Record<ProvisionerOperation, (...args: unknown[]) => Promise<unknown>>;
  for (const operation of PROVISIONER_OPERATIONS) {
    wrapped[operation] = async (...args: unknown[]) => {
      const end = duration.startTimer({ provisioner: provisioner.name, operation });
      try {
        const result = await methods[operation].apply(provisioner, args);
        calls.inc({ provisioner: provisioner.name, operation, result: "success" });
        return result;
      } catch (error) {
        const result = error instanceof ProvisionerError ? error.kind : "error";
        calls.inc({ provisioner: provisioner.name, operation, result });
        throw error;
      } finally {
        end();
      }
    };
  }
  if (provisioner.close) wrapped.close = () => provisioner.close?.();
  return wrapped as unknown as Provisioner;
}

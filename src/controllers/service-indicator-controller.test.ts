import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BareMetalHostServiceIndicator } from "../api/baremetalhost-service-indicator.ts";
import { comesBefore, provesLight } from "./service-indicator-controller.ts";

function indicator(
  name: string,
  meta: { created?: string; generation?: number; deleting?: boolean },
  status?: { on: boolean; observedGeneration: number; ready: boolean },
): BareMetalHostServiceIndicator {
  return {
    apiVersion: "metal3.io/v1alpha1",
    kind: "BareMetalHostServiceIndicator",
    metadata: {
      name,
      namespace: "ns",
      generation: meta.generation ?? 1,
      creationTimestamp: (meta.created ?? "2026-01-01T00:00:00Z") as unknown as Date,
      ...(meta.deleting ? { deletionTimestamp: "2026-01-01T00:01:00Z" as unknown as Date } : {}),
    },
    spec: { hostRef: { name: "host" }, id: "x@system", on: true },
    ...(status
      ? {
          status: {
            on: status.on,
            observedGeneration: status.observedGeneration,
            conditions: [
              {
                type: "Ready",
                status: status.ready ? "True" : "False",
                reason: "R",
                message: "",
                lastTransitionTime: "2026-01-01T00:00:00Z",
                observedGeneration: status.observedGeneration,
              },
            ],
          },
        }
      : {}),
  };
}

describe("provesLight", () => {
  it("takes status.on as proof only from a Ready status of the current generation", () => {
    assert.equal(provesLight(indicator("a", { generation: 3 }, { on: true, observedGeneration: 3, ready: true })), true);
    assert.equal(provesLight(indicator("a", { generation: 3 }, { on: true, observedGeneration: 2, ready: true })), false, "a switch since, maybe unrecorded");
    assert.equal(provesLight(indicator("a", { generation: 3 }, { on: true, observedGeneration: 3, ready: false })), false, "a failure");
    assert.equal(provesLight(indicator("a", { generation: 1 })), false, "no status");
  });

  it("while deleting, also from the generation before (the start of deletion counts as one)", () => {
    assert.equal(provesLight(indicator("a", { generation: 4, deleting: true }, { on: false, observedGeneration: 3, ready: true })), true);
    assert.equal(provesLight(indicator("a", { generation: 4, deleting: true }, { on: false, observedGeneration: 2, ready: true })), false);
    assert.equal(provesLight(indicator("a", { generation: 4 }, { on: false, observedGeneration: 3, ready: true })), false, "not deleting");
  });
});

describe("comesBefore", () => {
  it("orders by creationTimestamp, then, in the same second, by name", () => {
    const early = indicator("zeta", { created: "2026-01-01T00:00:00Z" });
    const late = indicator("alpha", { created: "2026-01-01T00:00:01Z" });
    assert.equal(comesBefore(early, late), true);
    assert.equal(comesBefore(late, early), false);
    const same = indicator("beta", { created: "2026-01-01T00:00:01Z" });
    assert.equal(comesBefore(late, same), true);
    assert.equal(comesBefore(same, late), false);
    assert.equal(comesBefore(same, same), false);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BMCEventSubscription } from "../api/bmc-event-subscription.ts";
import { sameTarget } from "./bmc-event-subscription-controller.ts";

const sub: BMCEventSubscription = {
  apiVersion: "metal3.io/v1alpha1",
  kind: "BMCEventSubscription",
  metadata: { name: "events", namespace: "ns" },
  spec: { hostName: "worker", destination: "HTTPS://Events.Example.com:443/hook", context: "ctx" },
};

describe("sameTarget", () => {
  it("takes a destination the BMC stored in normal form for the resource's own", () => {
    assert.ok(sameTarget(sub, { id: "1", destination: "https://events.example.com/hook", context: "ctx" }));
  });
  it("tells another destination, path or context apart", () => {
    assert.ok(!sameTarget(sub, { id: "1", destination: "https://events.example.com/other", context: "ctx" }));
    assert.ok(!sameTarget(sub, { id: "1", destination: "https://events.example.com:8443/hook", context: "ctx" }));
    assert.ok(!sameTarget(sub, { id: "1", destination: "https://events.example.com/hook", context: "" }));
  });
  it("matches an absent context with the BMC's empty one", () => {
    const bare = { ...sub, spec: { ...sub.spec, context: undefined } };
    assert.ok(sameTarget(bare, { id: "1", destination: "https://events.example.com/hook", context: "" }));
  });
});

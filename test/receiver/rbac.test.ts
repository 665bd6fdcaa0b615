/**
 * The receiver's hand-written RBAC (the kustomize component and the chart)
 * grants exactly what the receiver declares it calls, so a new call cannot
 * ship without its grant (metal3 mode's ClusterRole does not hold them).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { policyRules } from "../../src/api/rbac.ts";
import { EVENT_RECEIVER_PERMISSIONS } from "../../src/receiver/setup.ts";

const root = join(import.meta.dirname, "..", "..");

function rulesIn(text: string): unknown {
  const role = parseAllDocuments(text)
    .map((d) => d.toJS() as { kind: string; rules?: unknown })
    .find((d) => d.kind === "ClusterRole");
  return role?.rules;
}

describe("event receiver RBAC", () => {
  it("the component's ClusterRole holds exactly the declared calls", () => {
    const rules = rulesIn(readFileSync(join(root, "config", "components", "event-receiver", "rbac.yaml"), "utf8"));
    assert.deepEqual(rules, policyRules(EVENT_RECEIVER_PERMISSIONS, "cluster"));
  });
  it("the chart's rules are the component's", () => {
    const chart = readFileSync(join(root, "charts", "bmc-operator", "templates", "event-receiver.yaml"), "utf8");
    const rules = chart.slice(chart.indexOf("rules:"), chart.indexOf("---", chart.indexOf("rules:")));
    const component = readFileSync(join(root, "config", "components", "event-receiver", "rbac.yaml"), "utf8");
    const expected = component.slice(component.indexOf("rules:"), component.indexOf("---", component.indexOf("rules:")));
    assert.equal(rules, expected);
  });
});

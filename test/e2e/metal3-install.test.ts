/**
 * The two installs, as kustomize (kubectl 1.35) renders them: config/metal3
 * holds only what metal3 mode needs (no BareMetalHost or BMCEventSubscription
 * CRD, read-only rights on BMO's kinds, the Deployment in metal3 mode with
 * BMO's Ironic settings); config/default stays the standalone install.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { ensureKubectl } from "../support/kubectl.ts";

const root = join(import.meta.dirname, "..", "..");

interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

let kubectl: string;
function kustomize(dir: string): Promise<Doc[]> {
  return new Promise((resolve, reject) => {
    execFile(kubectl, ["kustomize", join(root, dir)], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`kubectl kustomize ${dir}: ${stderr}`));
      else resolve(parseAllDocuments(stdout).map((d) => d.toJS() as Doc));
    });
  });
}

/** BMO's kinds (its CRDs' plurals), from which only baremetalhosts may be read. */
const BMO_RESOURCES = ["baremetalhosts", "bmceventsubscriptions", "hardwaredata", "hostfirmwaresettings", "firmwareschemas", "preprovisioningimages", "dataimages", "hostfirmwarecomponents", "hostupdatepolicies"];

describe("config/metal3: the install next to the Metal3 baremetal-operator", () => {
  let docs: Doc[];
  before(async () => {
    kubectl = await ensureKubectl();
    docs = await kustomize("config/metal3");
  });

  it("has our two CRDs and no BareMetalHost or BMCEventSubscription CRD", () => {
    const crds = docs.filter((d) => d.kind === "CustomResourceDefinition").map((d) => d.metadata.name).sort();
    assert.deepEqual(crds, ["baremetalhostserviceindicators.metal3.io", "hostindicators.metal3.io"]);
    for (const crd of docs.filter((d) => d.kind === "CustomResourceDefinition")) {
      assert.equal(crd.metadata.labels?.["bmc-operator.metal3.io/crd"], "true", crd.metadata.name);
    }
  });

  it("lists and watches BareMetalHosts and GETs Secrets, and has no other right on BMO's kinds or on Secrets", () => {
    const rules = docs.filter((d) => d.kind === "ClusterRole" || d.kind === "Role").flatMap((d) => d.rules as Rule[]);
    for (const rule of rules) {
      for (const resource of rule.resources) {
        const base = resource.split("/")[0]!;
        if (rule.apiGroups.includes("metal3.io") && BMO_RESOURCES.includes(base)) {
          assert.equal(resource, "baremetalhosts", `a right on BMO's ${resource}`);
          assert.deepEqual([...rule.verbs].sort(), ["list", "watch"], `verbs on ${resource} (watched through the cache, never read one by one)`);
        }
        if (rule.apiGroups.includes("") && resource === "secrets") assert.deepEqual(rule.verbs, ["get"]);
        assert.ok(!rule.verbs.includes("*") && !rule.resources.includes("*"), JSON.stringify(rule));
      }
    }
    assert.ok(rules.some((r) => r.resources.includes("baremetalhosts")), "BareMetalHosts can be read");
  });

  it("runs the operator in metal3 mode in BMO's namespace, with BMO's Ironic variables and files", () => {
    const deployment = docs.find((d) => d.kind === "Deployment") as Doc & {
      spec: { template: { spec: { containers: { env: { name: string; value?: string }[]; envFrom: { configMapRef: { name: string } }[]; volumeMounts: { mountPath: string }[] }[] } } };
    };
    assert.equal(deployment.metadata.namespace, "baremetal-operator-system");
    const container = deployment.spec.template.spec.containers[0]!;
    assert.equal(container.env.find((e) => e.name === "BMC_OPERATOR_MODE")?.value, "metal3");
    assert.deepEqual(container.envFrom.map((e) => e.configMapRef.name), ["baremetal-operator-ironic"]);
    assert.deepEqual(container.volumeMounts.map((m) => m.mountPath).sort(), ["/opt/metal3/auth/ironic", "/opt/metal3/certs/ca"]);
  });
});

describe("config/default: the standalone install", () => {
  it("has our three CRDs and says it must not be applied where BMO runs", async () => {
    kubectl ??= await ensureKubectl();
    const docs = await kustomize("config/default");
    const crds = docs.filter((d) => d.kind === "CustomResourceDefinition").map((d) => d.metadata.name).sort();
    assert.deepEqual(crds, ["baremetalhosts.metal3.io", "baremetalhostserviceindicators.metal3.io", "bmceventsubscriptions.metal3.io"]);
    assert.match(readFileSync(join(root, "config/default/kustomization.yaml"), "utf8"), /Do NOT apply it where the Metal3 baremetal-operator runs/);
    const deployment = docs.find((d) => d.kind === "Deployment") as Doc & { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } };
    assert.equal(deployment.spec.template.spec.containers[0]!.env.find((e) => e.name === "BMC_OPERATOR_MODE")?.value, "standalone");
    // The start-up check that refuses to run next to BMO may read the BareMetalHost CRD, and only it.
    const rules = docs.filter((d) => d.kind === "ClusterRole").flatMap((d) => d.rules as (Rule & { resourceNames?: string[] })[]);
    const crdRules = rules.filter((r) => r.resources.includes("customresourcedefinitions"));
    assert.deepEqual(crdRules.map((r) => [r.verbs, r.resourceNames]), [[["get"], ["baremetalhosts.metal3.io"]]]);
  });
});

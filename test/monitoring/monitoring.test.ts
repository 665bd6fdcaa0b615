/**
 * The monitoring that ships: the alerts (config/prometheus/rules.yaml) pass
 * `promtool check rules` and their unit tests (`promtool test rules`), and
 * every query of the Grafana dashboard (config/grafana/) and of the alerts
 * names only metrics, and groups only by labels, that the operator really
 * exports: checked against a scrape of `/metrics` of the operator process
 * after it has registered a host and switched a light, with leader election on.
 *
 * promtool comes from Debian's `prometheus` package (`bash
 * scripts/install-container-tools.sh`); without it those two tests skip,
 * except on CI (CI=true), where they fail.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { BARE_METAL_HOSTS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { indicatorObject, isReady, type OperatorStack, startOperatorStack, waitFor } from "../support/operator-stack.ts";

const root = join(import.meta.dirname, "..", "..");

function promtool(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile("promtool", args, { cwd: join(root, "config", "prometheus"), timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, output: stdout + stderr });
    });
  });
}

const promtoolMissing = await promtool(["--version"]).then((r) =>
  r.code === 0 ? undefined : "promtool is not installed (bash scripts/install-container-tools.sh installs Debian's prometheus package)",
);
if (promtoolMissing && process.env.CI === "true") throw new Error(`CI=true but ${promtoolMissing}`);

describe("the alerts", { skip: promtoolMissing }, () => {
  it("pass promtool check rules", async () => {
    const { code, output } = await promtool(["check", "rules", "rules.yaml"]);
    assert.equal(code, 0, output);
    assert.match(output, /SUCCESS: 7 rules found/);
  });

  it("pass their unit tests (promtool test rules)", async () => {
    const { code, output } = await promtool(["test", "rules", "rules.test.yaml"]);
    assert.equal(code, 0, output);
    assert.match(output, /SUCCESS/);
  });
});

interface RuleFile {
  groups: { rules: { alert: string; expr: string; annotations: { runbook_url: string } }[] }[];
}
const rules = parse(readFileSync(join(root, "config/prometheus/rules.yaml"), "utf8")) as RuleFile;

interface Dashboard {
  panels: { type: string; title: string; targets?: { expr: string }[] }[];
  templating: { list: { query?: string | { query: string } }[] };
}
const dashboard = JSON.parse(readFileSync(join(root, "config/grafana/bmc-operator.json"), "utf8")) as Dashboard;

/** Every PromQL expression of the dashboard, with where it is. */
function dashboardQueries(): [where: string, expr: string][] {
  const queries: [string, string][] = [];
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) queries.push([`panel "${panel.title}"`, target.expr]);
  }
  for (const variable of dashboard.templating.list) {
    const query = typeof variable.query === "object" ? variable.query.query : undefined;
    if (query?.startsWith("label_values(")) queries.push(["a variable", query.slice("label_values(".length, query.lastIndexOf(","))]);
  }
  return queries;
}

const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "inf", "nan"]);

/** The metric names and the grouping and matcher label names of a PromQL expression. */
function namesIn(expr: string): { metrics: string[]; labels: string[] } {
  const labels: string[] = [];
  let text = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\$\{?\w+\}?/g, "1");
  text = text.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_, list: string) => {
    labels.push(...list.split(",").map((l) => l.trim()).filter(Boolean));
    return " ";
  });
  text = text.replace(/\{([^}]*)\}/g, (_, matchers: string) => {
    for (const m of matchers.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) labels.push(m[1]!);
    return " ";
  });
  text = text.replace(/\[[^\]]*\]/g, " ");
  const metrics = [...text.matchAll(/(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .filter((m) => !/^\s*\(/.test(text.slice(m.index + m[0].length))) // a function's name
    .map((m) => m[0])
    .filter((word) => !KEYWORDS.has(word.toLowerCase()));
  return { metrics, labels };
}

/** Labels Prometheus adds to every scraped series (the target's), or to histogram buckets. */
const TARGET_LABELS = new Set(["job", "namespace", "pod", "instance", "service", "endpoint", "container"]);

describe("the dashboard and the alerts query only what the operator exports", () => {
  let stack: OperatorStack;
  let dir: string;
  let child: ChildProcess;
  let output = "";
  /** Metric families (from `# TYPE`), with their type. */
  const families = new Map<string, string>();
  /** Label names seen on each family's samples. */
  const labelsOf = new Map<string, Set<string>>();

  before(async () => {
    stack = await startOperatorStack({ bmcs: 1 });
    await stack.namespace("bmc-operator-system");
    dir = await mkdtemp(join(tmpdir(), "bmc-operator-metrics-"));
    writeFileSync(join(dir, "kubeconfig"), stack.api.kubeconfig);
    child = spawn(
      process.execPath,
      [
        join(root, "src/cli/operator.ts"),
        "--kubeconfig", join(dir, "kubeconfig"),
        "--leader-elect",
        "--metrics-bind-address", "127.0.0.1:0",
        "--health-probe-bind-address", "127.0.0.1:0",
      ],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WATCH_NAMESPACE: "", POD_NAMESPACE: "bmc-operator-system" } },
    );
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const metricsUrl = await waitFor(
      "the metrics address in the log",
      () => Promise.resolve(output.split("\n").filter((l) => l.startsWith("{")).map((l) => (JSON.parse(l) as { metrics?: string }).metrics).find(Boolean)),
      (url) => !!url,
    );

    // Reconcile something: a host registered, a light switched on.
    const ns = await stack.namespace("monitoring");
    await stack.createHost(ns, "worker-0", 0);
    const host = await waitFor(
      "the host to be registered",
      () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name: "worker-0" }),
      (h) => isReady(h) && (h.status?.hardware?.indicators?.length ?? 0) > 0,
    );
    const light = host.status!.hardware!.indicators!.find((i) => i.component === "system")!.id;
    await stack.create(SERVICE_INDICATORS, indicatorObject(ns, "locate", "worker-0", light, true));
    await waitFor("the light to be on", () => stack.client.get(SERVICE_INDICATORS, { namespace: ns, name: "locate" }), (i) => isReady(i) && i.status?.on === true);

    const text = await waitFor(
      "the leader gauge at 1",
      () => fetch(`${metricsUrl}/metrics`).then((r) => r.text()),
      (t) => /leader_election_master_status\{name="bmc-operator"\} 1/.test(t),
    );
    for (const line of text.split("\n")) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) families.set(type[1]!, type[2]!);
      const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/.exec(line);
      if (sample) {
        const set = labelsOf.get(sample[1]!) ?? new Set<string>();
        for (const m of sample[2]!.matchAll(/(\w+)="/g)) set.add(m[1]!);
        labelsOf.set(sample[1]!, set);
      }
    }
  });

  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    await stack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Whether the scrape has `name`: a family, or a histogram's or summary's series of one. */
  function exported(name: string): boolean {
    if (families.has(name)) return true;
    const base = name.replace(/_(bucket|sum|count)$/, "");
    return base !== name && ["histogram", "summary"].includes(families.get(base) ?? "");
  }

  function check(where: string, expr: string, allowed: Set<string>): void {
    const { metrics, labels } = namesIn(expr);
    assert.ok(metrics.length > 0, `${where} names no metric: ${expr}`);
    for (const metric of metrics) {
      assert.ok(exported(metric) || allowed.has(metric), `${where} queries ${metric}, which the operator does not export: ${expr}`);
    }
    for (const label of labels) {
      if (TARGET_LABELS.has(label) || (label === "le" && metrics.some((m) => m.endsWith("_bucket")))) continue;
      const known = metrics.filter((m) => labelsOf.has(m));
      if (known.length === 0) continue; // no sample of these metrics yet: their labels cannot be seen
      assert.ok(known.some((m) => labelsOf.get(m)!.has(label)), `${where} uses the label ${label}, which ${known.join(", ")} does not have: ${expr}`);
    }
  }

  it("scraped the metrics the queries need", () => {
    assert.ok(families.size > 30, `only ${families.size} metric families`);
    assert.ok(labelsOf.has("controller_runtime_reconcile_total"));
  });

  it("every dashboard query", () => {
    const queries = dashboardQueries();
    assert.ok(queries.length > 20, `only ${queries.length} queries`);
    for (const [where, expr] of queries) check(where, expr, new Set());
  });

  it("every alert, each with a runbook section in docs/operations.md", () => {
    const runbook = readFileSync(join(root, "docs/operations.md"), "utf8");
    const alerts = rules.groups.flatMap((g) => g.rules);
    assert.equal(alerts.length, 7);
    for (const rule of alerts) {
      // `up` is Prometheus's own series for the scrape target.
      check(`alert ${rule.alert}`, rule.expr, new Set(["up"]));
      assert.equal(rule.annotations.runbook_url, `docs/operations.md#${rule.alert.toLowerCase()}`);
      assert.match(runbook, new RegExp(`^### ${rule.alert}$`, "m"), `docs/operations.md has no section for ${rule.alert}`);
    }
  });
});

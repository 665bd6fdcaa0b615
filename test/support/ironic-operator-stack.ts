/**
 * The whole stack for end-to-end tests through real Ironic, over real HTTP on
 * 127.0.0.1: the Kubernetes API emulator with the CRDs, a fleet of emulated
 * Redfish BMCs and an event sink (all from {@link startOperatorStack}), a real
 * Ironic ({@link startIronic}), kubectl 1.35 for the user's side, and the
 * operator started in-process the way `npm run operator -- --provisioner
 * ironic --ironic-endpoint …` starts it (the command line parsed by
 * `parseOperatorArgs`, then `startOperator`). The operator can be stopped and
 * started again as a restart would, and so can Ironic.
 *
 * ```ts
 * const stack = await startIronicOperatorStack({ bmcs: 2 });
 * after(() => stack.close());
 * await stack.startOperator();
 * await stack.kubectl(["apply", "-f", "-"], JSON.stringify(manifest));
 * const mark = await stack.ironicRequests.mark();
 * // …
 * await stack.ironicRequests.since(mark); // [{ method: "PUT", path: "/v1/nodes/…/management/indicators/…", status: 204 }]
 * ```
 *
 * @module
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Registry } from "prom-client";
import { parseOperatorArgs } from "../../src/cli/operator-options.ts";
import { type RunningOperator, startOperator } from "../../src/cli/run-operator.ts";
import { IronicClient } from "../../src/provisioner/ironic/client.ts";
import { createLogger, kubeConfigFromString } from "../../src/runtime/index.ts";
import { type IronicRelease, type IronicReleaseName, type IronicServer, startIronic } from "./ironic.ts";
import { ensureKubectl } from "./kubectl.ts";
import { IronicRequestLog } from "./ironic-request-log.ts";
import { type OperatorStack, type OperatorStackOptions, startOperatorStack, waitFor } from "./operator-stack.ts";

/**
 * Options of {@link startIronicOperatorStack}. `tls` defaults to true here
 * (kubectl sends a bearer token only over TLS); `tls: false` puts the API on
 * plain HTTP, for the fault proxy of the crash tests.
 */
export interface IronicOperatorStackOptions extends OperatorStackOptions {
  /** Which Ironic to start (see {@link startIronic}). */
  release?: IronicRelease | IronicReleaseName;
}

/** Options of one operator run. */
export interface IronicOperatorRunOptions {
  /** More command-line flags, after the Ironic ones (a later flag wins). */
  args?: string[];
}

/** The stack. The pieces of {@link OperatorStack} are shared; its Redfish operator is never started. */
export interface IronicOperatorStack extends Pick<OperatorStack, "api" | "fleet" | "sink" | "client" | "namespace" | "createHost" | "create"> {
  ironic: IronicServer;
  /** A client of its own, for the test's look-ups in Ironic. */
  ironicClient: IronicClient;
  /** The requests Ironic's API served, from its log (each read waits for every answered request's line). */
  ironicRequests: IronicRequestLog;
  /** The `--ironic-auth-dir` the operator is started with (empty: Ironic runs noauth). */
  ironicAuthDir: string;
  /** The running operator, if started. */
  operator?: RunningOperator;
  /** Starts the operator with `--provisioner ironic --ironic-endpoint <ironic.url>`. */
  startOperator(options?: IronicOperatorRunOptions): Promise<void>;
  /** Stops the operator gracefully. */
  stopOperator(): Promise<void>;
  /** Runs kubectl 1.35 against the API emulator; rejects with its output when it exits non-zero. */
  kubectl(args: readonly string[], input?: string): Promise<string>;
  /** Everything every operator run has logged so far (JSON lines, debug level and up). */
  operatorLog(): string;
  /**
   * Resolves once the running operator has reconciled every object at least
   * once since it started and has nothing queued or running: every
   * controller's reconcile count at least the number of its objects, its
   * queue empty and no worker busy.
   */
  settled(timeoutMs?: number): Promise<void>;
  /** The sum of every series of a metric of the running operator (0 when it has none). */
  metricSum(name: string): Promise<number>;
  close(): Promise<void>;
}

/** Sums a metric's values per `controller` label (or `name`, else ""), from a registry's JSON. */
async function perController(registry: Registry, name: string): Promise<Map<string, number>> {
  const sums = new Map<string, number>();
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  for (const value of (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[]) {
    const controller = String(value.labels.controller ?? value.labels.name ?? "");
    sums.set(controller, (sums.get(controller) ?? 0) + value.value);
  }
  return sums;
}

/** Starts the API emulator, the BMC fleet, the event sink and Ironic; start the operator with `startOperator`. */
export async function startIronicOperatorStack(options: IronicOperatorStackOptions = {}): Promise<IronicOperatorStack> {
  const { release, ...stackOptions } = options;
  const started = await Promise.allSettled([startOperatorStack({ tls: true, ...stackOptions }), startIronic({ ...(release ? { release } : {}) }), ensureKubectl(), mkdtemp(join(tmpdir(), "bmc-operator-e2e-"))]);
  const [baseResult, ironicResult, kubectlResult, dirResult] = started;
  if (baseResult.status === "rejected" || ironicResult.status === "rejected" || kubectlResult.status === "rejected" || dirResult.status === "rejected") {
    if (baseResult.status === "fulfilled") await baseResult.value.close();
    if (ironicResult.status === "fulfilled") await ironicResult.value.close();
    if (dirResult.status === "fulfilled") await rm(dirResult.value, { recursive: true, force: true });
    const failure = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
    throw failure?.reason instanceof Error ? failure.reason : new Error(String(failure?.reason));
  }
  const base = baseResult.value;
  const ironic = ironicResult.value;
  const kubectlPath = kubectlResult.value;
  const dir = dirResult.value;

  const kubeconfigPath = join(dir, "kubeconfig");
  // An empty auth directory: Ironic runs noauth, and a developer's /opt/metal3/auth is not read.
  const authDir = join(dir, "ironic-auth");
  await Promise.all([writeFile(kubeconfigPath, base.api.kubeconfig, { mode: 0o600 }), mkdir(authDir)]);
  // The operator runs as the ServiceAccount of config/rbac (see operator-stack.ts); kubectl stays the admin.
  const kubeConfig = kubeConfigFromString(base.operatorKubeconfig);
  const ironicClient = new IronicClient({ endpoint: ironic.url });
  const logLines: string[] = [];
  const logger = createLogger({ level: "debug", destination: { write: (line: string) => void logLines.push(line) } });

  let running: { abort: AbortController; operator: RunningOperator } | undefined;

  const stack: IronicOperatorStack = {
    api: base.api,
    fleet: base.fleet,
    sink: base.sink,
    client: base.client,
    namespace: (name) => base.namespace(name),
    createHost: (namespace, name, index) => base.createHost(namespace, name, index),
    create: (resource, object) => base.create(resource, object),
    ironic,
    ironicClient,
    ironicRequests: new IronicRequestLog(ironic),
    ironicAuthDir: authDir,
    async startOperator(run = {}) {
      if (running) throw new Error("the operator is already running");
      const settings = parseOperatorArgs([
        "--provisioner",
        "ironic",
        "--ironic-endpoint",
        ironic.url,
        "--ironic-auth-dir",
        authDir,
        "--ironic-timeout",
        "10s",
        "--metrics-bind-address",
        "0",
        "--health-probe-bind-address",
        "0",
        ...(run.args ?? []),
      ]);
      const abort = new AbortController();
      // `env: {}`: the test's settings are the flags alone, whatever IRONIC_* the environment holds.
      const operator = await startOperator(settings, { signal: abort.signal, kubeConfig, logger, env: {} });
      running = { abort, operator };
      stack.operator = operator;
      const deadline = Date.now() + 10_000;
      while (![operator.hosts, operator.subscriptions, operator.indicators].every((i) => i?.hasSynced() ?? true)) {
        if (Date.now() > deadline) throw new Error("the operator's caches did not sync within 10 s");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async stopOperator() {
      if (!running) return;
      const { abort, operator } = running;
      running = undefined;
      abort.abort();
      await operator.done.catch(() => {});
      stack.operator = undefined;
    },
    kubectl(args, input) {
      return new Promise((resolve, reject) => {
        const child = execFile(
          kubectlPath,
          args,
          {
            timeout: 30_000,
            env: { PATH: process.env.PATH ?? "", HOME: dir, KUBECONFIG: kubeconfigPath, KUBECACHEDIR: join(dir, "kube-cache") },
          },
          (error, stdout, stderr) => {
            if (error) reject(new Error(`kubectl ${args.join(" ")} failed (${String(error.code ?? error.signal)}):\n${stderr}${stdout}`));
            else resolve(stdout);
          },
        );
        child.stdin?.end(input ?? "");
      });
    },
    operatorLog() {
      return logLines.join("");
    },
    async settled(timeoutMs = 20_000) {
      const operator = stack.operator;
      if (!operator) throw new Error("the operator is not running");
      const registry = operator.manager.registry;
      const expected = (): Record<string, number> => ({
        baremetalhost: operator.hosts.list().length,
        bmceventsubscription: operator.subscriptions?.list().length ?? 0,
        baremetalhostserviceindicator: operator.indicators?.list().length ?? 0,
      });
      await waitFor(
        "every object to be reconciled and the queues to be empty",
        async () => {
          const [totals, depth, active] = await Promise.all([
            perController(registry, "controller_runtime_reconcile_total"),
            perController(registry, "workqueue_depth"),
            perController(registry, "controller_runtime_active_workers"),
          ]);
          return Object.entries(expected()).map(([controller, objects]) => ({
            controller,
            objects,
            reconciles: totals.get(controller) ?? 0,
            queued: depth.get(controller) ?? 0,
            busy: active.get(controller) ?? 0,
          }));
        },
        (rows) => rows.every((r) => r.reconciles >= r.objects && r.queued === 0 && r.busy === 0),
        timeoutMs,
      );
    },
    async metricSum(name) {
      const operator = stack.operator;
      if (!operator) throw new Error("the operator is not running");
      const sums = await perController(operator.manager.registry, name);
      return [...sums.values()].reduce((sum, value) => sum + value, 0);
    },
    async close() {
      try {
        await stack.stopOperator();
      } finally {
        ironicClient.close();
        await Promise.allSettled([base.close(), ironic.close()]);
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
  return stack;
}

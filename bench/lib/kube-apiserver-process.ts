/**
 * Starts the Kubernetes API emulator as a child process
 * (`kube-apiserver-child.ts`) and reads its request counters over IPC, so the
 * benchmark can divide its writes by the resources converged and report its
 * CPU time apart from everything else.
 *
 * @module
 */
import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ApiStats } from "../../emulators/kube-apiserver/index.ts";
import { killOnExit } from "./child-processes.ts";

const CHILD = fileURLToPath(new URL("./kube-apiserver-child.ts", import.meta.url));
const START_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 30_000;

/** A message to the child. */
export type KubeApiRequest = { id: number; op: "stats" | "resetStats" | "close" };
/** A message from the child. */
export type KubeApiReply = { id: number; stats?: ApiStats; ready?: { url: string; kubeconfig: string } };

/** A running API emulator process. */
export interface KubeApiProcess {
  url: string;
  pid: number;
  /** The kubeconfig (YAML) and the file it was written to. */
  kubeconfig: string;
  kubeconfigPath: string;
  stats(): Promise<ApiStats>;
  resetStats(): Promise<void>;
  /** Stops the process (and kills it when it does not stop within 10 s). */
  close(): Promise<void>;
}

/** Starts the API emulator on a free port of 127.0.0.1, writing its kubeconfig into `dir`. */
export async function startKubeApiProcess(dir: string): Promise<KubeApiProcess> {
  const kubeconfigPath = join(dir, `kubeconfig-${Date.now()}`);
  // `$BENCH_APISERVER_NODE_ARGS`: Node.js flags for this process alone (space-separated), e.g. to profile it.
  const nodeArgs = (process.env.BENCH_APISERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child: ChildProcess = killOnExit(
    fork(CHILD, [kubeconfigPath], { stdio: ["ignore", "ignore", "pipe", "ipc"], execArgv: [...process.execArgv, ...nodeArgs] }),
  );
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const pending = new Map<number, (reply: KubeApiReply) => void>();
  let nextId = 1;
  child.on("message", (reply: KubeApiReply) => {
    pending.get(reply.id)?.(reply);
    pending.delete(reply.id);
  });

  const ask = (op: KubeApiRequest["op"]): Promise<KubeApiReply> => {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`the API emulator (pid ${child.pid}) did not answer ${op} within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      child.send({ id, op } satisfies KubeApiRequest);
    });
  };

  const ready = await new Promise<{ url: string; kubeconfig: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the API emulator did not start within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    pending.set(0, (reply) => {
      clearTimeout(timer);
      if (reply.ready) resolve(reply.ready);
      else reject(new Error(`the API emulator sent ${JSON.stringify(reply)} instead of its address`));
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the API emulator exited before it was ready (code ${child.exitCode}): ${stderr}`));
    });
  });

  let closing: Promise<void> | undefined;
  return {
    url: ready.url,
    pid: child.pid!,
    kubeconfig: ready.kubeconfig,
    kubeconfigPath,
    stats: async () => {
      const reply = await ask("stats");
      if (!reply.stats) throw new Error("the API emulator answered stats without counts");
      return reply.stats;
    },
    resetStats: async () => {
      await ask("resetStats");
    },
    close: () =>
      (closing ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.send({ id: nextId++, op: "close" } satisfies KubeApiRequest);
        const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(killer);
      })()),
  };
}

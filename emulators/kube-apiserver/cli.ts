/**
 * `npm run kube-apiserver -- --port <port> --kubeconfig <file> [--data-dir <dir>] [--authorization-mode RBAC]`:
 * runs the Kubernetes API emulator on 127.0.0.1 until SIGINT or SIGTERM.
 *
 * @module
 */
import { resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { startKubeApiServer } from "./index.ts";

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new InvalidArgumentError(`the port must be an integer from 0 to 65535 (0 picks a free port), got ${JSON.stringify(value)}`);
  }
  return port;
}

function parsePositive(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1) throw new InvalidArgumentError(`must be a positive integer, got ${JSON.stringify(value)}`);
  return number;
}

const program = new Command()
  .name("kube-apiserver")
  .description(
    "A Kubernetes API server emulator for development and tests. It listens on 127.0.0.1 only, authenticates the admin token of the kubeconfig it writes and ServiceAccount tokens (kubectl create token), and with --authorization-mode RBAC authorizes requests with Roles, ClusterRoles and bindings.",
  )
  .option("--port <port>", "port to listen on (0 picks a free port)", parsePort, 6443)
  .option("--kubeconfig <file>", "write a kubeconfig for the emulator to this file")
  .option("--data-dir <dir>", "keep objects across restarts in an sqlite database in this directory (default: in memory)")
  .option("--watch-cache-size <n>", "changes retained per resource for watches to resume from", parsePositive, 10_000)
  .option("--tls", "serve https with a self-signed certificate (kubectl sends tokens only over https)", false)
  .addOption(new Option("--authorization-mode <mode>", "how requests are authorized").choices(["AlwaysAllow", "RBAC"]).default("AlwaysAllow"))
  .showHelpAfterError();

program.parse();
const options = program.opts<{ port: number; kubeconfig?: string; dataDir?: string; watchCacheSize: number; authorizationMode: "AlwaysAllow" | "RBAC"; tls: boolean }>();

const server = await startKubeApiServer({
  port: options.port,
  watchCacheSize: options.watchCacheSize,
  authorizationMode: options.authorizationMode,
  tls: options.tls,
  ...(options.kubeconfig ? { kubeconfigPath: resolve(options.kubeconfig) } : {}),
  ...(options.dataDir ? { dataDir: resolve(options.dataDir) } : {}),
});

console.log(`Kubernetes API emulator listening on ${server.url} (authorization mode ${options.authorizationMode})`);
if (server.kubeconfigPath) console.log(`kubeconfig written to ${server.kubeconfigPath}; try: KUBECONFIG=${server.kubeconfigPath} kubectl get namespaces`);
console.log(options.dataDir ? `objects are kept in ${resolve(options.dataDir)}` : "objects are kept in memory only (use --data-dir to keep them)");

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal} received, stopping`);
  server.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`failed to stop cleanly: ${(error as Error).message}`);
      process.exit(1);
    },
  );
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));

/**
 * The Kubernetes API emulator in a child process of the benchmark, so that
 * its CPU time is its own. Started by {@link startKubeApiProcess} with
 * `fork`; answers `stats`, `resetStats` and `close` messages over IPC and
 * exits when its parent goes away.
 *
 * Arguments: the kubeconfig path to write.
 *
 * @module
 */
import { startKubeApiServer } from "../../emulators/kube-apiserver/index.ts";
import type { KubeApiRequest, KubeApiReply } from "./kube-apiserver-process.ts";

const kubeconfigPath = process.argv[2];
if (!kubeconfigPath || !process.send) {
  process.stderr.write("kube-apiserver-child: run me through startKubeApiProcess (fork with IPC and a kubeconfig path)\n");
  process.exit(2);
}
const server = await startKubeApiServer({ port: 0, kubeconfigPath });
const reply = (message: KubeApiReply) => process.send?.(message);

let closing = false;
const close = async (): Promise<void> => {
  if (closing) return;
  closing = true;
  await server.close();
  process.exit(0);
};

process.on("message", (message: KubeApiRequest) => {
  switch (message.op) {
    case "stats":
      reply({ id: message.id, stats: server.stats() });
      break;
    case "resetStats":
      server.resetStats();
      reply({ id: message.id });
      break;
    case "close":
      reply({ id: message.id });
      void close();
      break;
  }
});
process.on("disconnect", () => void close());
process.on("SIGTERM", () => void close());
reply({ id: 0, ready: { url: server.url, kubeconfig: server.kubeconfig } });

/**
 * One benchmark run's Kubernetes side: a fresh API emulator process with the
 * CRDs and admission policy installed, a namespace, a client for the
 * benchmark's own writes, and a {@link ReadinessTracker} on the namespace.
 *
 * @module
 */
import { installManifests } from "../../src/api/install.ts";
import { isAlreadyExists, KubeClient, kubeConfigFromString, NAMESPACES } from "../../src/runtime/index.ts";
import { type KubeApiProcess, startKubeApiProcess } from "./kube-apiserver-process.ts";
import { ReadinessTracker } from "./readiness-tracker.ts";

/** A running cluster. */
export interface Cluster {
  api: KubeApiProcess;
  client: KubeClient;
  namespace: string;
  tracker: ReadinessTracker;
  close(): Promise<void>;
}

/** Starts an API emulator process in `dir`, installs the manifests and creates `namespace`. */
export async function startCluster(dir: string, namespace: string): Promise<Cluster> {
  const api = await startKubeApiProcess(dir);
  const client = new KubeClient(kubeConfigFromString(api.kubeconfig));
  let tracker: ReadinessTracker | undefined;
  const close = async () => {
    await tracker?.stop();
    await client.close();
    await api.close();
  };
  try {
    await installManifests(client, { policies: true });
    await client.create(NAMESPACES, { metadata: { name: namespace } }).catch((error: unknown) => {
      if (!isAlreadyExists(error)) throw error;
    });
    tracker = new ReadinessTracker(client, namespace);
    await tracker.start();
    return { api, client, namespace, tracker, close };
  } catch (error) {
    await close();
    throw error;
  }
}

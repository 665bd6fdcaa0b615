/**
 * Finding the cluster: kubeconfig loading in controller-runtime's order
 * (`--kubeconfig`, `$KUBECONFIG`, in-cluster service account, `~/.kube/config`),
 * on client-node's `KubeConfig`.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";

/** Where to load the configuration from; all optional. */
export interface KubeConfigOptions {
  /** A kubeconfig file; wins over everything else. */
  kubeconfig?: string;
  /** The context to use instead of the file's current context. */
  context?: string;
  /** The environment to read `KUBECONFIG` and `KUBERNETES_SERVICE_HOST` from. @default process.env */
  env?: Record<string, string | undefined>;
}

/**
 * Loads the configuration the way controller-runtime's `GetConfig` does:
 * the explicit file, else `$KUBECONFIG` (files separated by `:` are merged),
 * else the in-cluster service account, else `~/.kube/config`. Unlike
 * client-node's `loadFromDefault`, it never falls back to `localhost:8080`.
 *
 * @throws {Error} when no configuration is found, naming the places looked at.
 */
export function loadKubeConfig(options: KubeConfigOptions = {}): KubeConfig {
  const env = options.env ?? process.env;
  const kc = new KubeConfig();
  const home = join(homedir(), ".kube", "config");
  if (options.kubeconfig) {
    kc.loadFromFile(options.kubeconfig);
  } else if (env.KUBECONFIG) {
    const [first, ...rest] = env.KUBECONFIG.split(":").filter(Boolean);
    kc.loadFromFile(first!);
    for (const file of rest) {
      const more = new KubeConfig();
      more.loadFromFile(file);
      kc.mergeConfig(more);
    }
  } else if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) {
    kc.loadFromCluster();
  } else if (existsSync(home)) {
    kc.loadFromFile(home);
  } else {
    throw new Error(
      `No Kubernetes configuration found: no --kubeconfig given, KUBECONFIG is unset, ` +
        `KUBERNETES_SERVICE_HOST is unset (not in a cluster), and "${home}" does not exist`,
    );
  }
  if (options.context) kc.setCurrentContext(options.context);
  if (kc.getCurrentCluster() === null) {
    throw new Error(`The Kubernetes configuration has no cluster for context "${kc.getCurrentContext()}"`);
  }
  return kc;
}

/** A configuration from kubeconfig YAML text, for example the one an emulator hands out. */
export function kubeConfigFromString(yaml: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(yaml);
  if (kc.getCurrentCluster() === null) {
    throw new Error(`The kubeconfig text has no cluster for context "${kc.getCurrentContext()}"`);
  }
  return kc;
}

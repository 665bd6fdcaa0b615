/**
 * Finding the cluster: kubeconfig loading in controller-runtime's order
 * (`--kubeconfig`, `$KUBECONFIG`, in-cluster service account, `~/.kube/config`).
 *
 * The configuration is client-node's model (its `Cluster`, `User` and
 * `Context`, parsed by its own `config_types` module), held by a small
 * {@link KubeConfig} of ours: client-node's `KubeConfig` class loads the whole
 * package with its generated API clients, about 80 MiB of resident memory
 * that the operator, which has a REST client of its own, never uses. The
 * credentials client-node handles and this module does not — exec plugins,
 * auth providers other than a token file, and proxies — load it on first
 * use ({@link clientNodeConfigOf}).
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { isIPv6 } from "node:net";
import type { KubeConfig as ClientNodeKubeConfig } from "@kubernetes/client-node";
import { type Cluster, type Context, newClusters, newContexts, newUsers, type User } from "@kubernetes/client-node/dist/config_types.js";
import { load as parseYaml } from "js-yaml";

export type { Cluster, Context, User };

/** Where a pod's service account is mounted. */
const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * What the client reads of a configuration: this module's {@link KubeConfig}
 * or client-node's, which has the same shape.
 */
export interface KubeConfigLike {
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext: string;
  getCurrentContext(): string;
  getCurrentCluster(): Cluster | null;
  getCurrentUser(): User | null;
}

/** A kubeconfig: clusters, users, contexts and the current context, as client-node's `KubeConfig` holds them. */
export class KubeConfig implements KubeConfigLike {
  clusters: Cluster[] = [];
  users: User[] = [];
  contexts: Context[] = [];
  currentContext = "";

  getCurrentContext(): string {
    return this.currentContext;
  }

  setCurrentContext(name: string): void {
    this.currentContext = name;
  }

  getContextObject(name: string): Context | null {
    return this.contexts.find((c) => c.name === name) ?? null;
  }

  getCurrentCluster(): Cluster | null {
    const context = this.getContextObject(this.currentContext);
    return context === null ? null : (this.clusters.find((c) => c.name === context.cluster) ?? null);
  }

  getCurrentUser(): User | null {
    const context = this.getContextObject(this.currentContext);
    return context === null ? null : (this.users.find((u) => u.name === context.user) ?? null);
  }

  /** Parses kubeconfig YAML (or JSON) with client-node's rules: an entry without a name or server throws. */
  loadFromString(text: string): void {
    const parsed = (parseYaml(text) ?? {}) as Record<string, unknown>;
    if (typeof parsed !== "object") throw new Error(`The kubeconfig is not a YAML mapping: ${JSON.stringify(String(text).slice(0, 80))}`);
    this.clusters = newClusters(parsed.clusters);
    this.users = newUsers(parsed.users);
    this.contexts = newContexts(parsed.contexts);
    this.currentContext = (parsed["current-context"] as string | undefined) ?? "";
  }

  /** Reads a kubeconfig file; its relative certificate and key paths are relative to the file. */
  loadFromFile(file: string): void {
    this.loadFromString(readFileSync(file, "utf8"));
    const root = dirname(file);
    const absolute = (path: string | undefined) => (path === undefined || path === null || isAbsolute(path) ? path : join(root, path));
    for (const cluster of this.clusters) cluster.caFile = absolute(cluster.caFile);
    for (const user of this.users) {
      user.certFile = absolute(user.certFile);
      user.keyFile = absolute(user.keyFile);
    }
  }

  /**
   * The pod's service account, as client-go's `InClusterConfig` and
   * client-node's `loadFromCluster`: the API server from
   * `KUBERNETES_SERVICE_HOST`/`_PORT`, its CA file, and its token file (read
   * again as it rotates). `pathPrefix` moves the mount, for tests.
   */
  loadFromCluster(pathPrefix = "", env: Record<string, string | undefined> = process.env): void {
    const host = env.KUBERNETES_SERVICE_HOST ?? "";
    const port = env.KUBERNETES_SERVICE_PORT ?? "";
    const scheme = port === "80" || port === "8080" || port === "8001" ? "http" : "https";
    const dir = `${pathPrefix}${SERVICE_ACCOUNT_DIR}`;
    const namespaceFile = `${dir}/namespace`;
    this.clusters = [{ name: "inCluster", caFile: `${dir}/ca.crt`, server: `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`, skipTLSVerify: false }];
    this.users = [{ name: "inClusterUser", authProvider: { name: "tokenFile", config: { tokenFile: `${dir}/token` } } }];
    this.contexts = [
      {
        cluster: "inCluster",
        name: "inClusterContext",
        user: "inClusterUser",
        ...(existsSync(namespaceFile) ? { namespace: readFileSync(namespaceFile, "utf8") } : {}),
      },
    ];
    this.currentContext = "inClusterContext";
  }

  /** Adds another configuration's entries; its current context wins. @throws {Error} on a duplicate name. */
  mergeConfig(other: KubeConfigLike): void {
    if (other.currentContext) this.currentContext = other.currentContext;
    const add = <E extends { name: string }>(into: E[], entries: E[], what: string) => {
      for (const entry of entries) {
        if (into.some((e) => e.name === entry.name)) throw new Error(`Duplicate ${what}: ${entry.name}`);
        into.push(entry);
      }
    };
    add(this.clusters, other.clusters, "cluster");
    add(this.users, other.users, "user");
    add(this.contexts, other.contexts, "context");
  }
}

/** Options of {@link loadKubeConfig}; all optional. */
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
    kc.loadFromCluster("", env);
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

/**
 * Whether the configuration's current user or cluster needs client-node
 * itself: an exec plugin, an auth provider other than a service account's
 * token file (OIDC, cloud providers), or a proxy.
 */
export function needsClientNode(kc: KubeConfigLike): boolean {
  const user = kc.getCurrentUser();
  const cluster = kc.getCurrentCluster();
  return Boolean(user?.exec) || (Boolean(user?.authProvider) && tokenFileOf(user) === undefined) || Boolean(cluster?.proxyUrl);
}

/** The token file of a service-account user (client-node's `tokenFile` auth provider), if that is what it is. */
export function tokenFileOf(user: User | null | undefined): string | undefined {
  const file = (user?.authProvider as { config?: { tokenFile?: unknown } } | undefined)?.config?.tokenFile;
  return user?.exec === undefined || user.exec === null ? (typeof file === "string" ? file : undefined) : undefined;
}

/** client-node's `KubeConfig` with the same entries, loading the package (about 80 MiB) on first use. */
export async function clientNodeConfigOf(kc: KubeConfigLike): Promise<ClientNodeKubeConfig> {
  const { KubeConfig: Full } = await import("@kubernetes/client-node");
  if (kc instanceof Full) return kc;
  const full = new Full();
  full.loadFromOptions({ clusters: kc.clusters, users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
  return full;
}

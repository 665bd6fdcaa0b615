/**
 * A Kubernetes API server emulator that kubectl 1.35 and
 * `@kubernetes/client-node` informers accept: start one in-process on a free
 * port, get a kubeconfig for it, and close it when done.
 *
 * It listens on 127.0.0.1 only. It authenticates bearer tokens (the
 * kubeconfig's admin token, and ServiceAccount tokens from the TokenRequest
 * API); with `authorizationMode: "RBAC"` it authorizes every request with
 * the stored Roles, ClusterRoles and bindings, as kube-apiserver does.
 *
 * @example
 * ```ts
 * import { startKubeApiServer } from "./emulators/kube-apiserver/index.ts";
 * const server = await startKubeApiServer();
 * // server.kubeconfig works unmodified with kubectl and client-node
 * await server.close();
 * ```
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { ApiServer } from "./api-server.ts";
import type { RequestAttributes, UserInfo } from "./access-types.ts";
import { Authenticator } from "./authentication.ts";
import { type AuthorizationMode, Authorizer } from "./authorization.ts";
import { serviceAccounts } from "./builtin-access.ts";
import { createRequestHandler } from "./http-handler.ts";
import { renderKubeconfig } from "./kubeconfig.ts";
import { Lifecycle } from "./lifecycle.ts";
import { OpenApiDocuments } from "./openapi.ts";
import { MemoryPersistence, type Persistence, SqlitePersistence } from "./persistence.ts";
import { bootstrapRbac } from "./rbac-bootstrap.ts";
import { ResourceRegistry } from "./registry.ts";
import { type ApiStats, RequestStats } from "./stats.ts";
import { makeServingCertificate } from "./tls.ts";
import { objectKey, Storage } from "./storage.ts";
import { WatchHub } from "./watch.ts";

export type { ApiStats, ResourceWrites } from "./stats.ts";

/** Request counters plus the number of watch streams open right now. */
export interface ServerStats extends ApiStats {
  openWatches: number;
  /** Watch events (and bookmarks) sent to watchers since the last reset. */
  watchEvents: number;
  /** Socket writes that carried them: events for one watcher from the same turn of the event loop share one. */
  watchWrites: number;
}
export { renderKubeconfig } from "./kubeconfig.ts";
export type { AuthorizationMode } from "./authorization.ts";
export type { UserInfo } from "./access-types.ts";

/** Options of {@link startKubeApiServer}. */
export interface KubeApiServerOptions {
  /** The port to listen on, on 127.0.0.1. @default 0 (a free port) */
  port?: number;
  /** Keep objects across restarts in `<dataDir>/kube-apiserver.sqlite` (node:sqlite). Without it, objects live in memory. */
  dataDir?: string;
  /** Also write the kubeconfig to this file. */
  kubeconfigPath?: string;
  /** How many changes per resource are retained for watches to resume from; older resourceVersions get 410 Expired. @default 10000 */
  watchCacheSize?: number;
  /** How often watches that allow bookmarks receive one, in milliseconds. @default 60000 */
  bookmarkIntervalMs?: number;
  /**
   * `RBAC` authorizes every request with the stored Roles, ClusterRoles and
   * bindings (the admin kubeconfig, in `system:masters`, keeps full access);
   * `AlwaysAllow` lets every authenticated or anonymous request through. @default "AlwaysAllow"
   */
  authorizationMode?: AuthorizationMode;
  /**
   * Serve https with a self-signed certificate (made with the `openssl`
   * command) instead of http; the kubeconfig trusts it. kubectl sends a
   * token only to an https server. @default false
   */
  tls?: boolean;
}

/** One kind of call authorization allowed: `verb group resource[/subresource]` (`""` for the core group), or `verb path` for a non-resource request. */
export type AuthorizedCall = string;

/** A running emulator. */
export interface RunningKubeApiServer {
  /** `http://127.0.0.1:<port>` (`https://` with `tls`). */
  url: string;
  port: number;
  /** A kubeconfig (YAML) for this server, usable unmodified by kubectl and client-node. */
  kubeconfig: string;
  /** Where the kubeconfig was written, when asked to. */
  kubeconfigPath?: string;
  /** Ends every watch and connection and stops the server (and flushes persistence). */
  close(): Promise<void>;
  /** Ends every open watch stream, as a server restart or a load balancer would; clients reconnect. */
  dropWatches(): void;
  /** Forgets all retained history, so watches and list continuations from older resourceVersions get 410 Expired. */
  compact(): void;
  /** Request counts by verb (get, list, watch, create, update, patch, delete, deletecollection), write counts by resource, and open watches. */
  stats(): ServerStats;
  /** Sets every counter of {@link RunningKubeApiServer.stats} back to zero. */
  resetStats(): void;
  /** The kinds of calls authorization allowed `username` since the start or {@link resetAuthorizedCalls}, sorted. */
  authorizedCalls(username: string): AuthorizedCall[];
  /** Forgets the calls {@link authorizedCalls} recorded. */
  resetAuthorizedCalls(): void;
}

/** Starts an emulator on 127.0.0.1. */
export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<RunningKubeApiServer> {
  const persistence: Persistence = options.dataDir ? new SqlitePersistence(options.dataDir) : new MemoryPersistence();
  const storage = new Storage(persistence, options.watchCacheSize ?? 10_000);
  const registry = new ResourceRegistry();
  const api = new ApiServer(storage, registry);
  const lifecycle = new Lifecycle(api);
  lifecycle.start();
  bootstrapRbac(storage);
  const authenticator = new Authenticator(
    (namespace, name) => storage.get(serviceAccounts.storage, objectKey(namespace, name))?.object.metadata.uid,
    options.dataDir,
  );
  const authorizer = new Authorizer(options.authorizationMode ?? "AlwaysAllow", storage);
  const calls = new Map<string, Set<AuthorizedCall>>();
  const onAuthorized = (user: UserInfo, attributes: RequestAttributes) => {
    const call = attributes.resourceRequest
      ? `${attributes.verb} ${attributes.apiGroup || '""'} ${attributes.subresource ? `${attributes.resource}/${attributes.subresource}` : attributes.resource}`
      : `${attributes.verb} ${attributes.path}`;
    let set = calls.get(user.username);
    if (!set) calls.set(user.username, (set = new Set()));
    set.add(call);
  };
  const watches = new WatchHub(api, options.bookmarkIntervalMs ? { bookmarkIntervalMs: options.bookmarkIntervalMs } : {});
  const stats = new RequestStats();
  const openapi = new OpenApiDocuments(registry);
  let address = "127.0.0.1:0";
  const handler = createRequestHandler({ api, openapi, watches, stats, serverAddress: () => address, authenticator, authorizer, onAuthorized });
  const certificate = options.tls ? makeServingCertificate() : undefined;
  const server: Server = certificate
    ? createHttpsServer({ keepAliveTimeout: 30_000, noDelay: true, key: certificate.key, cert: certificate.cert }, handler)
    : createServer({ keepAliveTimeout: 30_000, noDelay: true }, handler);
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  address = `127.0.0.1:${port}`;
  const url = `${certificate ? "https" : "http"}://${address}`;
  const kubeconfig = renderKubeconfig(url, authenticator.adminToken, certificate?.cert);
  if (options.kubeconfigPath) writeFileSync(options.kubeconfigPath, kubeconfig, { mode: 0o600 });
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    kubeconfig,
    ...(options.kubeconfigPath ? { kubeconfigPath: options.kubeconfigPath } : {}),
    close() {
      closing ??= new Promise<void>((resolve) => {
        watches.close();
        lifecycle.stop();
        server.close(() => {
          storage.close();
          resolve();
        });
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
    dropWatches: () => watches.dropAll(),
    compact: () => storage.compact(),
    stats: () => {
      const sent = watches.counters();
      return { ...stats.snapshot(), openWatches: watches.size, watchEvents: sent.events, watchWrites: sent.writes };
    },
    resetStats: () => {
      stats.reset();
      watches.resetCounters();
    },
    authorizedCalls: (username) => [...(calls.get(username) ?? [])].sort(),
    resetAuthorizedCalls: () => calls.clear(),
  };
}

/**
 * Shared pieces of the runtime's integration tests: the Kubernetes API
 * emulator on 127.0.0.1, a client for it, CRD installation and a bounded
 * wait.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { startKubeApiServer } from "../../emulators/kube-apiserver/index.ts";
import { KubeClient } from "../../src/runtime/client.ts";
import { kubeConfigFromString } from "../../src/runtime/kube-config.ts";
import { defineResource, type KubeObject } from "../../src/runtime/resource.ts";

/** Core v1 ConfigMaps: a built-in namespaced resource to list and watch. */
export const CONFIG_MAPS = defineResource<KubeObject & { data?: Record<string, string> }>({
  group: "",
  version: "v1",
  plural: "configmaps",
  kind: "ConfigMap",
  namespaced: true,
});

/** CustomResourceDefinitions. */
export const CRDS = defineResource<KubeObject>({
  group: "apiextensions.k8s.io",
  version: "v1",
  plural: "customresourcedefinitions",
  kind: "CustomResourceDefinition",
  namespaced: false,
});

/** The emulator, and a client that talks to it. */
export interface TestCluster {
  server: Awaited<ReturnType<typeof startKubeApiServer>>;
  kubeconfig: string;
  client: KubeClient;
  close(): Promise<void>;
}

/** Starts the emulator on a free port; `close()` stops it and the client. */
export async function startCluster(): Promise<TestCluster> {
  const server = await startKubeApiServer({ port: 0 });
  const client = new KubeClient(kubeConfigFromString(server.kubeconfig));
  return {
    server,
    kubeconfig: server.kubeconfig,
    client,
    async close() {
      await client.close();
      await server.close();
    },
  };
}

/** Creates a namespace (ignoring one that exists). */
export async function createNamespace(client: KubeClient, name: string): Promise<void> {
  const namespaces = defineResource<KubeObject>({ group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false });
  await client.create(namespaces, { metadata: { name } }).catch((error: unknown) => {
    if ((error as { code?: number }).code !== 409) throw error;
  });
}

/** Installs a CRD from `config/crd/` and waits until it is served. */
export async function installCrd(client: KubeClient, file: string): Promise<void> {
  const crd = parse(readFileSync(new URL(`../../config/crd/${file}`, import.meta.url), "utf8")) as KubeObject;
  await client.create(CRDS, crd);
  await eventually(async () => {
    const got = (await client.get(CRDS, { name: crd.metadata!.name! })) as KubeObject & {
      status?: { conditions?: { type: string; status: string }[] };
    };
    return got.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ?? false;
  }, `CRD ${crd.metadata!.name} to be established`);
}

/**
 * Polls `condition` every 10 ms until it holds; fails after `timeoutMs`
 * (default 10 s) saying what it waited for.
 */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await condition()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
}

/**
 * Installs the generated manifests (CRDs and the admission policy) into a
 * cluster, idempotently, and waits until the CRDs are served. Used by
 * `npm start` and the tests; in production, `kubectl apply -k config/` does
 * the same.
 *
 * @module
 */
import { parseAllDocuments } from "yaml";
import { defineResource, isAlreadyExists, type KubeClient, type KubeObject, sleep, realClock } from "../runtime/index.ts";
import { renderManifests } from "./manifests.ts";

const CRDS = defineResource<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>({
  group: "apiextensions.k8s.io",
  version: "v1",
  plural: "customresourcedefinitions",
  kind: "CustomResourceDefinition",
  namespaced: false,
});
const POLICIES = defineResource<KubeObject>({
  group: "admissionregistration.k8s.io",
  version: "v1",
  plural: "validatingadmissionpolicies",
  kind: "ValidatingAdmissionPolicy",
  namespaced: false,
});
const POLICY_BINDINGS = defineResource<KubeObject>({
  group: "admissionregistration.k8s.io",
  version: "v1",
  plural: "validatingadmissionpolicybindings",
  kind: "ValidatingAdmissionPolicyBinding",
  namespaced: false,
});

const RESOURCES: Record<string, typeof POLICIES> = {
  CustomResourceDefinition: CRDS,
  ValidatingAdmissionPolicy: POLICIES,
  ValidatingAdmissionPolicyBinding: POLICY_BINDINGS,
};

/** Creates every generated manifest that does not exist yet, then waits (at most `timeoutMs`) for the CRDs to be established. */
export async function installManifests(
  client: KubeClient,
  options: { timeoutMs?: number; policies?: boolean; install?: "standalone" | "metal3" } = {},
): Promise<void> {
  const crdNames: string[] = [];
  // The standalone install is config/crd and config/policy; the metal3 one, config/metal3/crd and config/metal3/policy.
  const folders = options.install === "metal3" ? ["config/metal3/"] : ["config/crd/", "config/policy/"];
  for (const [path, text] of renderManifests()) {
    if (path.endsWith("kustomization.yaml")) continue;
    if (!folders.some((folder) => path.startsWith(folder))) continue;
    if (path.includes("/policy/") && options.policies === false) continue;
    for (const document of parseAllDocuments(text)) {
      const object = document.toJS() as KubeObject;
      const resource = object.kind ? RESOURCES[object.kind] : undefined;
      if (!resource) throw new Error(`${path}: no installer for kind ${JSON.stringify(object.kind)}`);
      try {
        await client.create(resource, object);
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
      }
      if (resource === CRDS) crdNames.push(object.metadata?.name ?? "");
    }
  }
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (const name of crdNames) {
    for (;;) {
      const crd = await client.get(CRDS, { name });
      if (crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
      if (Date.now() > deadline) throw new Error(`CustomResourceDefinition ${name} was not established in time`);
      await sleep(realClock, 50);
    }
  }
}

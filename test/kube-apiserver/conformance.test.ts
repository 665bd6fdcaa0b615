/**
 * Runs the conformance case table (`conformance-cases.ts`) against the
 * Kubernetes API emulator. To run the same cases against a real cluster
 * (kind, k3d, envtest...), point `KUBE_CONFORMANCE_KUBECONFIG` at its
 * kubeconfig:
 *
 *   KUBE_CONFORMANCE_KUBECONFIG=~/.kube/config node --test test/kube-apiserver/conformance.test.ts
 *
 * The suite then creates a namespace `conformance-<random>` and the CRD
 * `widgets.conformance.bmc-operator.test`, and deletes both at the end.
 * Cases that need an emulator-only hook are skipped with the reason.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { type RunningKubeApiServer, startKubeApiServer } from "../../emulators/kube-apiserver/index.ts";
import { CASES, type CaseContext, eventually, GROUP, WIDGET_CRD } from "./conformance-cases.ts";
import { RestClient } from "./rest-client.ts";

const realKubeconfig = process.env.KUBE_CONFORMANCE_KUBECONFIG;
const suffix = randomBytes(3).toString("hex");
const namespace = `conformance-${suffix}`;
let emulator: RunningKubeApiServer | undefined;
let client: RestClient;
let counter = 0;

describe(`Kubernetes API conformance against ${realKubeconfig ? `the cluster of ${realKubeconfig}` : "the emulator"}`, () => {
  before(async () => {
    if (realKubeconfig) {
      client = new RestClient(readFileSync(realKubeconfig, "utf8"));
    } else {
      // Under RBAC, as a cluster: the admin kubeconfig (system:masters) may do everything, other users what RBAC grants.
      emulator = await startKubeApiServer({ authorizationMode: "RBAC" });
      client = new RestClient(emulator.kubeconfig);
    }
    const crdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    const crd = await client.patch(`${crdPath}/${WIDGET_CRD.metadata.name}`, WIDGET_CRD, "application/apply-patch+yaml", {
      query: { fieldManager: "conformance", force: true },
    });
    if (crd.status >= 300) throw new Error(`Applying the test CRD failed: ${crd.status} ${crd.text}`);
    await eventually(async () => {
      const list = await client.get(`/apis/${GROUP}/v1`);
      if (!list.body?.resources?.some((r: { name: string }) => r.name === "widgets")) throw new Error("widgets not served yet");
    }, 30_000, 100);
    const created = await client.post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
    if (created.status !== 201) throw new Error(`Creating namespace ${namespace} failed: ${created.status} ${created.text}`);
  });

  after(async () => {
    if (realKubeconfig) {
      await client.delete(`/api/v1/namespaces/${namespace}`);
      await client.delete(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${WIDGET_CRD.metadata.name}`);
    }
    await emulator?.close();
  });

  for (const testCase of CASES) {
    const skip = realKubeconfig && testCase.emulatorOnly ? testCase.emulatorOnly : false;
    it(testCase.name, { skip }, async () => {
      const context: CaseContext = {
        client,
        namespace,
        emulator,
        name: (prefix = "w") => `${prefix}-${suffix}-${++counter}`,
      };
      await testCase.run(context);
    });
  }
});

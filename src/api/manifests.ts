/**
 * The generated manifests under `config/`, rendered from `src/api`.
 *
 * @module
 */
import { stringify } from "yaml";
import { admissionPolicy, customResourceDefinition } from "./crd.ts";
import { KINDS } from "./kinds.ts";
import { GROUP } from "./meta.ts";

const HEADER = "# Generated from src/api by `npm run generate`. Do not edit.\n";

function toYaml(documents: unknown[]): string {
  return HEADER + documents.map((doc) => `---\n${stringify(doc, { lineWidth: 0 })}`).join("");
}

/** Every generated manifest, keyed by its path relative to the repository root. */
export function renderManifests(): Map<string, string> {
  const files = new Map<string, string>();
  const crdFiles: string[] = [];
  for (const def of KINDS) {
    const file = `${GROUP}_${def.plural}.yaml`;
    crdFiles.push(file);
    files.set(`config/crd/${file}`, toYaml([customResourceDefinition(def)]));
  }
  files.set(
    "config/crd/kustomization.yaml",
    HEADER +
      stringify({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: crdFiles,
      }),
  );
  const policies = KINDS.flatMap((def) => admissionPolicy(def));
  files.set("config/policy/same-namespace-references.yaml", toYaml(policies));
  files.set(
    "config/policy/kustomization.yaml",
    HEADER +
      stringify({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: ["same-namespace-references.yaml"],
      }),
  );
  return files;
}

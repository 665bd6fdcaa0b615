/**
 * The generated manifests under `config/`, rendered from `src/api`.
 *
 * @module
 */
import { stringify } from "yaml";
import { admissionPolicy, customResourceDefinition } from "./crd.ts";
import { KINDS, METAL3_MODE_KINDS } from "./kinds.ts";
import { GROUP } from "./meta.ts";

const HEADER = "# Generated from src/api by `npm run generate`. Do not edit.\n";

/**
 * One YAML document that reads the same in YAML 1.1 and 1.2. `kubectl apply -f`
 * reads YAML 1.1, where a bare `on`, `off`, `yes` or `y` is a boolean (the
 * indicator's `on` field would become a property named "true"); kustomize reads
 * 1.2. Writing as 1.1 quotes those strings, which both then read as strings.
 */
function yamlDocument(doc: unknown): string {
  return stringify(doc, { lineWidth: 0, version: "1.1" });
}

function toYaml(documents: unknown[]): string {
  return HEADER + documents.map((doc) => `---\n${yamlDocument(doc)}`).join("");
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
      yamlDocument({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: crdFiles,
      }),
  );
  const metal3Files: string[] = [];
  for (const def of METAL3_MODE_KINDS) {
    const file = `${GROUP}_${def.plural}.yaml`;
    metal3Files.push(file);
    files.set(`config/metal3/crd/${file}`, toYaml([customResourceDefinition(def)]));
  }
  files.set(
    "config/metal3/crd/kustomization.yaml",
    HEADER +
      yamlDocument({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: metal3Files,
      }),
  );
  files.set("config/metal3/policy/same-namespace-references.yaml", toYaml(METAL3_MODE_KINDS.flatMap((def) => admissionPolicy(def))));
  files.set(
    "config/metal3/policy/kustomization.yaml",
    HEADER +
      yamlDocument({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: ["same-namespace-references.yaml"],
      }),
  );
  const policies = KINDS.flatMap((def) => admissionPolicy(def));
  files.set("config/policy/same-namespace-references.yaml", toYaml(policies));
  files.set(
    "config/policy/kustomization.yaml",
    HEADER +
      yamlDocument({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: ["same-namespace-references.yaml"],
      }),
  );
  return files;
}

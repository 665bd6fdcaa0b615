/**
 * Writes the generated manifests into `config/`: the CRDs and admission
 * policy from `src/api`, and the RBAC roles from the permissions the
 * controllers declare. Run with `npm run generate`.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { renderManifests } from "./manifests.ts";
import { INSTALLS, renderRbacManifests } from "./rbac.ts";

const root = join(import.meta.dirname, "..", "..");
for (const [path, content] of [...renderManifests(), ...INSTALLS.flatMap((install) => [...renderRbacManifests(install)])]) {
  const target = join(root, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
  console.log(`wrote ${path}`);
}

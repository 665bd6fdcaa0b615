/**
 * What the container image (`Dockerfile`) relies on, and the rule that keeps
 * `src/` the operator only: the image holds `src/` without the tests and
 * `npm ci --omit=dev`, so every module the operator loads must be inside
 * `src/`, not a test, and every package it imports must be one of the
 * package's `dependencies`; and `dependencies` lists only those packages. The
 * emulators and the `npm start` harness (`embedded/`) build on `src/`, never
 * the reverse. The Deployment must run what the image runs.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { moduleImports, packageName, REPO_ROOT as root, resolveRelative, typeScriptFiles } from "../../test/support/module-imports.ts";

const ENTRY = join(root, "src", "cli", "operator.ts");

/**
 * Where `src/` holds modules the operator need not load: the API with its CRD
 * and policy manifests (`npm run generate`, installs for tests and
 * `npm start`), the fixture provisioner, and the stand-ins in any `testing/`
 * folder that tests of the code beside it build on. Anything else in `src/`
 * is the operator, or belongs elsewhere.
 */
function mayBeUnloaded(path: string): boolean {
  return path.startsWith("src/api/") || path.startsWith("src/provisioner/fixture/") || path.split("/").includes("testing");
}

/** Every file reached from `entry` through run-time imports, and every package named on the way (with one importer). */
function importGraph(entry: string): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const { specifier, typeOnly } of moduleImports(file)) {
      if (typeOnly) continue;
      const target = resolveRelative(file, specifier);
      if (target) pending.push(target);
      const name = packageName(specifier);
      if (name) packages.set(name, relative(root, file));
    }
  }
  return { files, packages };
}

describe("the operator's container image", () => {
  const graph = importGraph(ENTRY);
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> };

  it("loads only modules inside src/ that are not tests, and that exist", () => {
    assert.ok(graph.files.size > 20, `only ${graph.files.size} modules found from src/cli/operator.ts`);
    for (const file of graph.files) {
      const path = relative(root, file);
      assert.ok(path.startsWith("src/"), `the operator loads ${path}, which the image (src/ only) does not hold`);
      assert.ok(!path.endsWith(".test.ts"), `the operator loads the test ${path}`);
      assert.ok(existsSync(file), `${path} is imported but does not exist`);
    }
  });

  it("imports only packages listed in dependencies (the image runs npm ci --omit=dev)", () => {
    assert.ok(graph.packages.size > 3, `only ${graph.packages.size} packages found`);
    for (const [name, importer] of graph.packages) {
      assert.ok(name in pkg.dependencies, `${importer} imports ${name}, which is not in package.json's dependencies`);
    }
  });

  it("needs every package listed in dependencies (the others are devDependencies)", () => {
    for (const name of Object.keys(pkg.dependencies)) {
      assert.ok(
        graph.packages.has(name),
        `${name} is in package.json's dependencies, but the operator does not import it at run time: move it to devDependencies`,
      );
    }
  });

  it("is run by the Deployment the way the Dockerfile runs it, from package.json and src/ only", () => {
    const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    assert.ok(entrypoint, "the Dockerfile has no ENTRYPOINT in exec form");
    // scripts/build-image.sh assembles the context: package.json, src/ and `npm ci --omit=dev`.
    assert.match(readFileSync(join(root, "scripts", "build-image.sh"), "utf8"), /npm ci --omit=dev/);
    const copies = dockerfile.match(/^COPY .*$/gm) ?? [];
    assert.deepEqual(
      copies,
      ["COPY package.json ./", "COPY node_modules ./node_modules", "COPY src ./src"],
      "the image takes package.json, the production node_modules and src/, nothing else",
    );
    const manager = parseAllDocuments(readFileSync(join(root, "config", "manager", "manager.yaml"), "utf8"))
      .map((doc) => doc.toJS() as { kind?: string; spec?: { template: { spec: { containers: { command?: string[] }[] } } } })
      .find((doc) => doc.kind === "Deployment");
    assert.deepEqual(manager?.spec?.template.spec.containers[0]?.command, JSON.parse(entrypoint));
  });
});

describe("src/ is the operator only", () => {
  const modules = typeScriptFiles(join(root, "src")).filter((file) => !file.endsWith(".test.ts"));
  const loaded = importGraph(ENTRY).files;

  it("imports nothing from outside src/: the emulators, tests, benchmarks and embedded/ build on it, not the reverse", () => {
    assert.ok(modules.length > 50, `only ${modules.length} modules found under src/`);
    for (const file of modules) {
      for (const { specifier } of moduleImports(file)) {
        const target = resolveRelative(file, specifier);
        if (!target) continue;
        const path = relative(root, target);
        assert.ok(path.startsWith("src/"), `${relative(root, file)} imports ${path}, outside src/`);
      }
    }
  });

  it("holds only modules the operator loads, besides the API's manifests and the stand-ins tests build on", () => {
    for (const file of modules) {
      const path = relative(root, file);
      if (mayBeUnloaded(path)) continue;
      assert.ok(
        loaded.has(file),
        `${path} is not loaded by the operator (src/cli/operator.ts): emulator, harness and test code lives outside src/`,
      );
    }
  });
});

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
    // Packages loaded with `createRequire` (a module of a package, or one loaded only when asked for).
    for (const [, specifier] of readFileSync(file, "utf8").matchAll(/(?:\brequire|createRequire\([^)]*\))\(\s*[`"']([^`"'$]+)/g)) {
      const name = packageName(specifier!);
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
      ["COPY package.json ./", "COPY node_modules ./node_modules", "COPY src ./src", "COPY --chown=65532:65532 compile-cache ./compile-cache"],
      "the image takes package.json, the production node_modules and src/, and an empty directory for the compile cache, nothing else",
    );
    const manager = parseAllDocuments(readFileSync(join(root, "config", "manager", "manager.yaml"), "utf8"))
      .map((doc) => doc.toJS() as { kind?: string; spec?: { template: { spec: { containers: { command?: string[] }[] } } } })
      .find((doc) => doc.kind === "Deployment");
    assert.deepEqual(manager?.spec?.template.spec.containers[0]?.command, JSON.parse(entrypoint));
  });
});

describe("the image's compile cache", () => {
  const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
  const lines = dockerfile.split("\n");
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1] ?? "null") as string[];
  const warmUpAt = lines.findIndex((line) => line.startsWith("RUN ["));
  const warmUp = JSON.parse(lines[warmUpAt]?.slice(4) ?? "null") as string[] | null;
  /** The last USER line before line `at`. */
  const userAt = (at: number) => lines.slice(0, at).findLast((line) => line.startsWith("USER "))?.slice(5);

  it("is written at build time by the ENTRYPOINT's command with its Node.js flags, so the operator reads that cache", () => {
    // Node.js keys the cache by its V8 flags: other flags at build time would make a cache nothing reads.
    assert.ok(warmUp, "the Dockerfile has no RUN in exec form (the base has no shell) that writes the compile cache");
    assert.deepEqual(warmUp, [...entrypoint, "--help"], `the warm-up ${lines[warmUpAt]} must be the ENTRYPOINT ${JSON.stringify(entrypoint)} with --help`);
    const copiedSrc = lines.indexOf("COPY src ./src");
    assert.ok(copiedSrc >= 0 && copiedSrc < warmUpAt, "the warm-up must run after src/ is copied, or it caches nothing of it");
    assert.equal(lines.filter((line) => line.startsWith("RUN ")).length, 1, "one RUN only: the warm-up");
  });

  it("is written by the user the image and the Deployments run as, into a directory that user owns", () => {
    // Node.js keys the cache by the user ID too, and cannot write into a directory it cannot create.
    const user = userAt(lines.length);
    assert.equal(userAt(warmUpAt), user, "the warm-up must run as the image's USER");
    const directory = /^ENV NODE_COMPILE_CACHE=(\S+)$/m.exec(dockerfile)?.[1];
    assert.ok(directory, "the Dockerfile sets no NODE_COMPILE_CACHE");
    const workdir = /^WORKDIR (\S+)$/m.exec(dockerfile)?.[1];
    const copied = lines.find((line) => line.startsWith("COPY --chown=") && `${workdir}/${line.split(" ").at(-1)!.replace(/^\.\//, "")}` === directory);
    assert.equal(copied?.split(" ")[1], `--chown=${user}`, `${directory} must be copied owned by ${user}`);
    const uid = Number(user?.split(":")[0]);
    for (const manifest of [join(root, "config", "manager", "manager.yaml"), join(root, "config", "metal3", "manager.yaml")]) {
      const deployment = parseAllDocuments(readFileSync(manifest, "utf8"))
        .map((doc) => doc.toJS() as { kind?: string; spec?: { template: { spec: { securityContext?: { runAsUser?: number } } } } })
        .find((doc) => doc.kind === "Deployment");
      assert.equal(deployment?.spec?.template.spec.securityContext?.runAsUser, uid, `${relative(root, manifest)} must run as the user that wrote the cache`);
    }
    // The chart's template is not YAML until rendered; its pod runs as a fixed user.
    const chart = readFileSync(join(root, "charts", "bmc-operator", "templates", "deployment.yaml"), "utf8");
    assert.deepEqual([...chart.matchAll(/runAsUser: (\S+)/g)].map((match) => match[1]), [String(uid)], "the chart must run as the user that wrote the cache");
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

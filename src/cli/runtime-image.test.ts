/**
 * What the container image (`Dockerfile`) relies on: it holds `src/` without
 * the tests and `npm ci --omit=dev`, so every module the operator loads must be
 * inside `src/`, not a test, and every package it imports must be one of the
 * package's `dependencies`. The Deployment must run what the image runs.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";
import { parseAllDocuments } from "yaml";

const root = join(import.meta.dirname, "..", "..");
const ENTRY = join(root, "src", "cli", "operator.ts");

/** The module specifiers a file loads at run time: `import type` and `export type` are erased by type stripping. */
function runtimeSpecifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      assert.ok(argument && ts.isStringLiteral(argument), `${relative(root, file)}: a dynamic import() whose module is not a string literal cannot be checked`);
      specifiers.push(argument.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers;
}

/** Every file reached from `entry` through run-time imports, and every package named on the way. */
function importGraph(entry: string): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of runtimeSpecifiers(file)) {
      if (specifier.startsWith(".")) {
        pending.push(resolve(dirname(file), specifier));
      } else if (!specifier.startsWith("node:") && !builtinModules.includes(specifier)) {
        const name = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!;
        packages.set(name, relative(root, file));
      }
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

  it("is run by the Deployment the way the Dockerfile runs it", () => {
    const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    assert.ok(entrypoint, "the Dockerfile has no ENTRYPOINT in exec form");
    assert.match(dockerfile, /npm ci --omit=dev/);
    assert.match(dockerfile, /^COPY src \.\/src$/m);
    const manager = parseAllDocuments(readFileSync(join(root, "config", "manager", "manager.yaml"), "utf8"))
      .map((doc) => doc.toJS() as { kind?: string; spec?: { template: { spec: { containers: { command?: string[] }[] } } } })
      .find((doc) => doc.kind === "Deployment");
    assert.deepEqual(manager?.spec?.template.spec.containers[0]?.command, JSON.parse(entrypoint));
  });
});

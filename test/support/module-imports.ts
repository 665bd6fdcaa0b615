/**
 * The imports of the project's TypeScript modules, read with the TypeScript
 * parser (not run), for the tests that hold the layout: what the operator's
 * image loads, and that no module imports itself through others.
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

/** The repository's root folder. */
export const REPO_ROOT = join(import.meta.dirname, "..", "..");

/** One import or re-export of a module. */
export interface ModuleImport {
  /** The module specifier as written: `./x.ts`, `node:fs`, `undici`. */
  specifier: string;
  /** True for `import type` and `export type`: type stripping erases them, so they load nothing at run time. */
  typeOnly: boolean;
}

/** Every `import`, `export … from` and `import("…")` of `file`. Throws for a dynamic import whose module is not a string literal. */
export function moduleImports(file: string): ModuleImport[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const imports: ModuleImport[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      imports.push({ specifier: node.moduleSpecifier.text, typeOnly: node.importClause?.isTypeOnly ?? false });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      imports.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (!argument || !ts.isStringLiteral(argument)) {
        throw new Error(`${relative(REPO_ROOT, file)}: a dynamic import() whose module is not a string literal cannot be followed`);
      }
      imports.push({ specifier: argument.text, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return imports;
}

/** The absolute path a relative specifier of `file` names; undefined for a package or a built-in module. */
export function resolveRelative(file: string, specifier: string): string | undefined {
  return specifier.startsWith(".") ? resolve(dirname(file), specifier) : undefined;
}

/** The npm package a specifier names (`@scope/name` or `name`); undefined for a relative path or a Node.js built-in. */
export function packageName(specifier: string): string | undefined {
  if (specifier.startsWith(".") || specifier.startsWith("node:") || builtinModules.includes(specifier)) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** Every `.ts` file under `folder` (absolute paths, sorted), or none when the folder does not exist. */
export function typeScriptFiles(folder: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(folder, { recursive: true, encoding: "utf8" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return entries
    .filter((entry) => entry.endsWith(".ts") && !entry.split("/").includes("node_modules"))
    .map((entry) => join(folder, entry))
    .sort();
}

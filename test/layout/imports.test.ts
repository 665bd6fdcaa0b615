/**
 * The import graph of the whole repository: no module imports itself through
 * others (type-only imports count: a cycle of types is still two modules
 * that cannot be understood or changed apart), and the emulators stand alone,
 * so that they cannot share a bug with the operator they test.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { moduleImports, REPO_ROOT, resolveRelative, typeScriptFiles } from "../support/module-imports.ts";

/** The folders that hold the project's TypeScript. */
const FOLDERS = ["src", "emulators", "embedded", "test", "bench", "scripts"];

/** Each module's relative imports, as repository paths. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of FOLDERS.flatMap((folder) => typeScriptFiles(join(REPO_ROOT, folder)))) {
    const targets = moduleImports(file).flatMap(({ specifier }) => {
      const target = resolveRelative(file, specifier);
      return target ? [target] : [];
    });
    for (const target of targets) {
      assert.ok(existsSync(target), `${relative(REPO_ROOT, file)} imports ${relative(REPO_ROOT, target)}, which does not exist`);
    }
    graph.set(relative(REPO_ROOT, file), [...new Set(targets.map((target) => relative(REPO_ROOT, target)))]);
  }
  return graph;
}

/** The strongly connected components of `graph` with a cycle in them (Tarjan's algorithm, iterative). */
function cyclicComponents(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const frames: { node: string; edge: number }[] = [{ node: start, edge: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (frames.length > 0) {
      const frame = frames.at(-1)!;
      const targets = graph.get(frame.node) ?? [];
      if (frame.edge < targets.length) {
        const target = targets[frame.edge++]!;
        if (!index.has(target)) {
          index.set(target, next);
          low.set(target, next++);
          stack.push(target);
          onStack.add(target);
          frames.push({ node: target, edge: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      frames.pop();
      const parent = frames.at(-1);
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.node);
      if (component.length > 1 || targets.includes(frame.node)) components.push(component.sort());
    }
  }
  return components;
}

/** A shortest import path from `from` back to itself within `members`, as `a → b → a` starting at its first module by name. */
function cycleThrough(graph: Map<string, string[]>, from: string, members: Set<string>): string {
  const previous = new Map<string, string>();
  const queue = [from];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const target of graph.get(node) ?? []) {
      if (!members.has(target)) continue;
      if (target === from) {
        const path = [node];
        while (path[0] !== from) path.unshift(previous.get(path[0]!)!);
        const first = path.indexOf([...path].sort()[0]!);
        const rotated = [...path.slice(first), ...path.slice(0, first)];
        return [...rotated, rotated[0]].join(" → ");
      }
      if (!previous.has(target)) {
        previous.set(target, node);
        queue.push(target);
      }
    }
  }
  throw new Error(`no cycle through ${from}`);
}

describe("the import graph", () => {
  const graph = importGraph();

  it("covers the whole repository", () => {
    assert.ok(graph.size > 200, `only ${graph.size} modules found under ${FOLDERS.join(", ")}`);
    for (const folder of ["src", "emulators", "embedded", "test", "bench"]) {
      assert.ok([...graph.keys()].some((path) => path.startsWith(`${folder}/`)), `no module found under ${folder}/`);
    }
  });

  it("has no cycle", () => {
    // A shortest cycle through each module of each tangle, so that every import to cut shows.
    const cycles = cyclicComponents(graph).flatMap((members) => [
      ...new Set(members.map((member) => cycleThrough(graph, member, new Set(members)))),
    ]);
    assert.deepEqual(cycles, [], `modules that import themselves through others:\n${cycles.join("\n")}`);
  });

  it("keeps the emulators apart from the operator, the npm start harness, the tests and the benchmarks", () => {
    for (const [module, targets] of graph) {
      if (!module.startsWith("emulators/")) continue;
      for (const target of targets) {
        assert.ok(target.startsWith("emulators/"), `${module} imports ${target}: an emulator imports only emulator code`);
      }
    }
  });
});

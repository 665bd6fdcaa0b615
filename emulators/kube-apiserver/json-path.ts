/**
 * The JSONPath subset of CRD printer columns (`additionalPrinterColumns`):
 * `.a.b`, `.a[0]`, `.a[*]`, `.a['x.y']` and filters
 * `.a[?(@.type=="Ready")]` (with `==` or `!=` on a string, number or boolean).
 *
 * @module
 */

type Step =
  | { kind: "field"; name: string }
  | { kind: "index"; index: number }
  | { kind: "all" }
  | { kind: "filter"; path: string[]; operator: "==" | "!="; value: unknown };

/** A compiled JSONPath expression. */
export interface JsonPath {
  /** Every value the path selects in `data`, in document order. */
  find(data: unknown): unknown[];
}

function parseLiteral(text: string, expression: string): unknown {
  const trimmed = text.trim();
  if (/^'.*'$/.test(trimmed)) return trimmed.slice(1, -1);
  if (/^".*"$/.test(trimmed)) return JSON.parse(trimmed) as unknown;
  if (trimmed === "true" || trimmed === "false") return trimmed === "true";
  if (trimmed !== "" && !Number.isNaN(Number(trimmed))) return Number(trimmed);
  throw new Error(`Invalid literal ${JSON.stringify(trimmed)} in JSONPath ${JSON.stringify(expression)}`);
}

function parse(expression: string): Step[] {
  let text = expression.trim();
  if (text.startsWith("{") && text.endsWith("}")) text = text.slice(1, -1).trim();
  if (text.startsWith("$")) text = text.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ".") {
      i++;
      const match = /^[A-Za-z0-9_\-$]+/.exec(text.slice(i));
      if (!match) {
        if (text[i] === "[" || i >= text.length) continue;
        throw new Error(`Invalid JSONPath ${JSON.stringify(expression)}: expected a field name at offset ${i}`);
      }
      steps.push({ kind: "field", name: match[0] });
      i += match[0].length;
    } else if (c === "[") {
      const end = findClosingBracket(text, i, expression);
      const inner = text.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === "*") steps.push({ kind: "all" });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: "index", index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ kind: "field", name: String(parseLiteral(inner, expression)) });
      else if (inner.startsWith("?(") && inner.endsWith(")")) {
        const filter = /^@((?:\.[A-Za-z0-9_\-$]+)+)\s*(==|!=)\s*(.+)$/.exec(inner.slice(2, -1).trim());
        if (!filter) throw new Error(`Unsupported JSONPath filter ${JSON.stringify(inner)} in ${JSON.stringify(expression)}`);
        steps.push({
          kind: "filter",
          path: filter[1]!.slice(1).split("."),
          operator: filter[2] as "==" | "!=",
          value: parseLiteral(filter[3]!, expression),
        });
      } else {
        throw new Error(`Unsupported JSONPath subscript [${inner}] in ${JSON.stringify(expression)}`);
      }
    } else {
      throw new Error(`Invalid JSONPath ${JSON.stringify(expression)}: unexpected ${JSON.stringify(c)} at offset ${i}`);
    }
  }
  return steps;
}

function findClosingBracket(text: string, open: number, expression: string): number {
  let quote: string | undefined;
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === "]") {
      return i;
    }
  }
  throw new Error(`Invalid JSONPath ${JSON.stringify(expression)}: unclosed "["`);
}

function get(value: unknown, name: string): unknown {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

/** Compiles a JSONPath expression; throws naming the expression when it is outside the supported subset. */
export function compileJsonPath(expression: string): JsonPath {
  const steps = parse(expression);
  return {
    find(data: unknown): unknown[] {
      let current: unknown[] = [data];
      for (const step of steps) {
        const next: unknown[] = [];
        for (const value of current) {
          switch (step.kind) {
            case "field": {
              const child = get(value, step.name);
              if (child !== undefined) next.push(child);
              break;
            }
            case "index":
              if (Array.isArray(value)) {
                const child = value[step.index < 0 ? value.length + step.index : step.index];
                if (child !== undefined) next.push(child);
              }
              break;
            case "all":
              if (Array.isArray(value)) next.push(...(value as unknown[]));
              else if (value && typeof value === "object") next.push(...Object.values(value));
              break;
            case "filter":
              if (Array.isArray(value)) {
                for (const item of value as unknown[]) {
                  let field: unknown = item;
                  for (const name of step.path) field = get(field, name);
                  const equal = field === step.value;
                  if (step.operator === "==" ? equal : !equal && field !== undefined) next.push(item);
                }
              }
              break;
          }
        }
        current = next;
      }
      return current;
    },
  };
}

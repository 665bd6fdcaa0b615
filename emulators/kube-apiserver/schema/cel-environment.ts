/**
 * The CEL environment of Kubernetes validation rules: standard CEL plus the
 * Kubernetes extension functions that the project's rules use (the URL
 * library: `isURL`, `url` and its accessors).
 *
 * @module
 */
import { Environment, type ParseResult } from "@marcbachmann/cel-js";
import { hostnameOf, parseRequestURI, portOf, queryOf, type RequestURL } from "./kubernetes-url.ts";

/** The CEL `URL` type of the Kubernetes URL library. */
export class CelURL {
  readonly parts: RequestURL;
  constructor(parts: RequestURL) {
    this.parts = parts;
  }
}

function urlAccessor(name: string, returnType: string, read: (url: RequestURL) => unknown) {
  return { name, receiverType: "URL", returnType, handler: (url: CelURL) => read(url.parts), params: [] };
}

function createEnvironment(): Environment {
  return new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false })
    .registerType("URL", CelURL)
    .registerFunction("isURL(string): bool", (raw: string) => parseRequestURI(raw) !== undefined)
    .registerFunction("url(string): URL", (raw: string) => {
      const parts = parseRequestURI(raw);
      if (!parts) throw new Error(`URL parse error during conversion from string: ${JSON.stringify(raw)}`);
      return new CelURL(parts);
    })
    .registerFunction(urlAccessor("getScheme", "string", (u) => u.scheme))
    .registerFunction(urlAccessor("getHost", "string", (u) => u.host))
    .registerFunction(urlAccessor("getHostname", "string", hostnameOf))
    .registerFunction(urlAccessor("getPort", "string", portOf))
    .registerFunction(urlAccessor("getEscapedPath", "string", (u) => u.path))
    .registerFunction(urlAccessor("getQuery", "map", queryOf));
}

const environment = createEnvironment();
const programs = new Map<string, ParseResult>();

/** Compiles a CEL expression once and keeps the program. Throws a ParseError for bad syntax. */
export function compileCel(expression: string): ParseResult {
  let program = programs.get(expression);
  if (!program) {
    program = environment.parse(expression);
    programs.set(expression, program);
  }
  return program;
}

/** Evaluates a CEL expression with the given variables. */
export function evaluateCel(expression: string, variables: Record<string, unknown>): unknown {
  return compileCel(expression)(variables);
}

/**
 * Converts JSON data into CEL values, following the schema where there is one:
 * integers become CEL `int` (BigInt), other numbers `double`.
 */
export function toCelValue(value: unknown, schema?: { [key: string]: unknown }): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === "number") {
    const type = schema?.type;
    if (type === "number") return value;
    return Number.isInteger(value) ? BigInt(value) : value;
  }
  if (Array.isArray(value)) {
    const items = schema?.items as { [key: string]: unknown } | undefined;
    return value.map((item) => toCelValue(item, items));
  }
  if (typeof value === "object") {
    const properties = schema?.properties as Record<string, { [key: string]: unknown }> | undefined;
    const additional = schema?.additionalProperties as { [key: string]: unknown } | undefined;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = toCelValue(
        item,
        properties?.[key] ?? (typeof additional === "object" ? additional : undefined),
      );
    }
    return out;
  }
  return value;
}

/**
 * Label and field selectors: the query-string forms (`app=web,tier!=db`,
 * `env in (a,b)`, `!legacy`, `metadata.name=x`) and the `metav1.LabelSelector`
 * object form, parsed once and matched against many objects.
 *
 * @module
 */
import { badRequest } from "./status.ts";

/** One requirement of a selector. */
export interface Requirement {
  key: string;
  operator: "=" | "!=" | "in" | "notin" | "exists" | "!";
  values: string[];
}

/** A parsed selector: every requirement must hold. */
export type Selector = readonly Requirement[];

const NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Whether `key` is a valid label key: an optional DNS subdomain prefix and a name of at most 63 characters. */
export function isQualifiedName(key: string): boolean {
  const slash = key.indexOf("/");
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0 || prefix.length > 253 || !PREFIX.test(prefix)) return false;
  }
  return name.length > 0 && name.length <= 63 && NAME.test(name);
}

/** Whether `value` is a valid label value: empty, or at most 63 characters of `[A-Za-z0-9-_.]` starting and ending alphanumeric. */
export function isLabelValue(value: string): boolean {
  return value === "" || (value.length <= 63 && NAME.test(value));
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((part) => part.trim()).filter((part) => part !== "");
}

function checkKey(key: string, selector: string): string {
  if (!isQualifiedName(key)) {
    throw badRequest(
      `unable to parse requirement: invalid label key ${JSON.stringify(key)} in selector ${JSON.stringify(selector)}: a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
  }
  return key;
}

function checkValue(value: string, selector: string): string {
  if (!isLabelValue(value)) {
    throw badRequest(
      `unable to parse requirement: invalid label value ${JSON.stringify(value)} in selector ${JSON.stringify(selector)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
  }
  return value;
}

/** Parses a label selector as found in `?labelSelector=`. Throws a 400 naming the selector when it is malformed. */
export function parseLabelSelector(text: string | null | undefined): Selector {
  if (!text) return [];
  const out: Requirement[] = [];
  for (const part of splitTopLevel(text)) {
    const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
    if (set) {
      const values = set[3]!.split(",").map((v) => checkValue(v.trim(), text));
      out.push({ key: checkKey(set[1]!, text), operator: set[2] as "in" | "notin", values });
      continue;
    }
    const comparison = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (comparison) {
      out.push({
        key: checkKey(comparison[1]!, text),
        operator: comparison[2] === "!=" ? "!=" : "=",
        values: [checkValue(comparison[3]!.trim(), text)],
      });
      continue;
    }
    if (part.startsWith("!")) {
      out.push({ key: checkKey(part.slice(1).trim(), text), operator: "!", values: [] });
      continue;
    }
    if (/^\S+$/.test(part)) {
      out.push({ key: checkKey(part, text), operator: "exists", values: [] });
      continue;
    }
    throw badRequest(`unable to parse requirement: ${JSON.stringify(part)} in label selector ${JSON.stringify(text)} is not a valid requirement`);
  }
  return out;
}

/** A `metav1.LabelSelector` (`matchLabels` and `matchExpressions`). */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** Converts a `metav1.LabelSelector` into requirements. An empty selector matches everything. */
export function labelSelectorFromObject(selector: LabelSelectorObject | undefined): Selector {
  if (!selector) return [];
  const out: Requirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    out.push({ key, operator: "=", values: [value] });
  }
  for (const expression of selector.matchExpressions ?? []) {
    const operator = ({ In: "in", NotIn: "notin", Exists: "exists", DoesNotExist: "!" } as const)[
      expression.operator as "In"
    ];
    if (!operator) {
      throw badRequest(`matchExpressions operator ${JSON.stringify(expression.operator)} is not one of In, NotIn, Exists, DoesNotExist`);
    }
    out.push({ key: expression.key, operator, values: expression.values ?? [] });
  }
  return out;
}

/** Whether `labels` satisfy every requirement of `selector`. */
export function matchesLabels(selector: Selector, labels: Record<string, string> | undefined): boolean {
  for (const requirement of selector) {
    const value = labels?.[requirement.key];
    switch (requirement.operator) {
      case "=":
        if (value !== requirement.values[0]) return false;
        break;
      case "!=":
        if (value === requirement.values[0]) return false;
        break;
      case "in":
        if (value === undefined || !requirement.values.includes(value)) return false;
        break;
      case "notin":
        if (value !== undefined && requirement.values.includes(value)) return false;
        break;
      case "exists":
        if (value === undefined) return false;
        break;
      case "!":
        if (value !== undefined) return false;
        break;
    }
  }
  return true;
}

/** Reads one selectable field of an object; `undefined` when the object has none. */
export type FieldGetter = (object: Record<string, any>) => string | undefined;

/**
 * Parses a field selector (`metadata.name=x,status.phase!=Active`), accepting
 * only the fields in `supported`. Throws a 400 naming an unsupported field.
 */
export function parseFieldSelector(text: string | null | undefined, supported: ReadonlyMap<string, FieldGetter>): Selector {
  if (!text) return [];
  const out: Requirement[] = [];
  for (const part of splitTopLevel(text)) {
    const match = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!match) {
      throw badRequest(`invalid field selector ${JSON.stringify(text)}: ${JSON.stringify(part)} is not of the form field=value or field!=value`);
    }
    const key = match[1]!;
    if (!supported.has(key)) {
      throw badRequest(
        `field label not supported: ${JSON.stringify(key)} (supported: ${[...supported.keys()].map((k) => JSON.stringify(k)).join(", ")})`,
      );
    }
    out.push({ key, operator: match[2] === "!=" ? "!=" : "=", values: [match[3]!.trim()] });
  }
  return out;
}

/** Whether `object` satisfies every requirement of a field selector. */
export function matchesFields(
  selector: Selector,
  object: Record<string, any>,
  supported: ReadonlyMap<string, FieldGetter>,
): boolean {
  for (const requirement of selector) {
    const value = supported.get(requirement.key)?.(object) ?? "";
    const equal = value === requirement.values[0];
    if (requirement.operator === "=" ? !equal : equal) return false;
  }
  return true;
}

/** The value of `requirement` when it pins a field to one value (`metadata.name=x`), used to look objects up directly. */
export function pinnedValue(selector: Selector, key: string): string | undefined {
  for (const requirement of selector) {
    if (requirement.key === key && requirement.operator === "=") return requirement.values[0];
  }
  return undefined;
}

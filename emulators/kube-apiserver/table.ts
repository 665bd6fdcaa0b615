/**
 * Server-side printing: `meta.k8s.io/v1` Tables, which `kubectl get` asks
 * for (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`). Columns are
 * Name plus the resource's printer columns (a CRD's
 * `additionalPrinterColumns`); `date` cells are ages like `5m10s`.
 *
 * @module
 */
import { compileJsonPath, type JsonPath } from "./json-path.ts";
import type { KubeObject } from "./object-meta.ts";
import type { PrinterColumn, ResourceType } from "./resource-type.ts";

/** A `metav1.TableColumnDefinition`. */
export interface TableColumn {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

/** What each row carries besides its cells (`?includeObject=`). */
export type IncludeObject = "None" | "Metadata" | "Object";

/** Formats a duration the way kubectl shows ages (`45s`, `5m10s`, `3h`, `2d4h`). */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.floor(milliseconds / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

/** The age of a timestamp, or `<unknown>`. */
export function age(timestamp: unknown, now = Date.now()): string {
  if (typeof timestamp !== "string" || timestamp === "") return "<unknown>";
  const time = Date.parse(timestamp);
  return Number.isNaN(time) ? "<invalid>" : humanDuration(now - time);
}

const compiled = new WeakMap<PrinterColumn, JsonPath | null>();

function pathOf(column: PrinterColumn): JsonPath | null {
  let path = compiled.get(column);
  if (path === undefined) {
    try {
      path = column.jsonPath ? compileJsonPath(column.jsonPath) : null;
    } catch {
      path = null;
    }
    compiled.set(column, path);
  }
  return path;
}

function cell(column: PrinterColumn, object: KubeObject): unknown {
  if (column.cell) {
    const value = column.cell(object);
    return column.type === "date" ? age(value) : value;
  }
  const results = pathOf(column)?.find(object) ?? [];
  if (results.length === 0) return null;
  const value = results[0];
  switch (column.type) {
    case "date":
      return age(value);
    case "string":
      return typeof value === "string" ? value : JSON.stringify(value);
    case "integer":
      return Number.isInteger(value) ? value : null;
    case "number":
      return typeof value === "number" ? value : null;
    case "boolean":
      return typeof value === "boolean" ? value : null;
    default:
      return value;
  }
}

/** The column definitions of a resource: Name, then its printer columns. */
export function tableColumns(type: ResourceType): TableColumn[] {
  const columns = type.printerColumns.map((column) => ({
    name: column.name,
    type: column.type === "date" ? "string" : column.type,
    format: column.format ?? "",
    description: column.description ?? "",
    priority: column.priority ?? 0,
  }));
  if (type.printerColumnsIncludeName) return columns;
  return [
    {
      name: "Name",
      type: "string",
      format: "name",
      description: "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated.",
      priority: 0,
    },
    ...columns,
  ];
}

function rowObject(object: KubeObject, include: IncludeObject): unknown {
  if (include === "None") return undefined;
  if (include === "Object") return object;
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: object.metadata };
}

/** One row of a Table. */
export function tableRow(type: ResourceType, object: KubeObject, include: IncludeObject): Record<string, unknown> {
  const cells = type.printerColumns.map((column) => cell(column, object));
  if (!type.printerColumnsIncludeName) cells.unshift(object.metadata.name ?? "");
  const row: Record<string, unknown> = { cells };
  const embedded = rowObject(object, include);
  if (embedded !== undefined) row.object = embedded;
  return row;
}

/** A `meta.k8s.io/v1` Table of `objects`. */
export function toTable(
  type: ResourceType,
  objects: readonly KubeObject[],
  listMetadata: Record<string, unknown>,
  include: IncludeObject,
): Record<string, unknown> {
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: listMetadata,
    columnDefinitions: tableColumns(type),
    rows: objects.map((object) => tableRow(type, object, include)),
  };
}

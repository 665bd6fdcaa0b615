/**
 * Alternative response forms negotiated through `Accept`: `meta.k8s.io/v1`
 * Tables (`as=Table`, what `kubectl get` asks for) and metadata-only objects
 * (`as=PartialObjectMetadata` and `as=PartialObjectMetadataList`, what
 * metadata informers ask for). Plain JSON objects need no conversion.
 *
 * @module
 */
import { badRequest } from "./status.ts";
import type { KubeObject } from "./object-meta.ts";
import type { ResourceType } from "./resource-type.ts";
import { type IncludeObject, tableColumns, tableRow, toTable } from "./table.ts";

/** A response form other than the object itself. */
export type Presentation = { as: "Table"; include: IncludeObject } | { as: "PartialObjectMetadata" };

/**
 * The form the first media type of `accept` asks for, or `undefined` for
 * plain objects. Later media types are fallbacks and plain JSON always is one.
 */
export function negotiate(accept: string | undefined, query: URLSearchParams): Presentation | undefined {
  const first = (accept ?? "").split(",")[0] ?? "";
  const as = /(?:^|;)\s*as=([A-Za-z]+)/.exec(first)?.[1];
  if (as === "Table") {
    const include = query.get("includeObject") ?? "";
    if (!["", "None", "Metadata", "Object"].includes(include)) {
      throw badRequest(`includeObject: Invalid value: ${JSON.stringify(include)}: must be 'Metadata', 'Object', 'None', or empty`);
    }
    return { as: "Table", include: include === "None" || include === "Object" ? include : "Metadata" };
  }
  if (as === "PartialObjectMetadata" || as === "PartialObjectMetadataList") return { as: "PartialObjectMetadata" };
  return undefined;
}

function partial(object: KubeObject): Record<string, unknown> {
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: object.metadata };
}

/** One object in the negotiated form (for GET and watch events). */
export function presentObject(presentation: Presentation, type: ResourceType, object: KubeObject): Record<string, unknown> {
  if (presentation.as === "PartialObjectMetadata") return partial(object);
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion: object.metadata.resourceVersion ?? "" },
    columnDefinitions: tableColumns(type),
    rows: [tableRow(type, object, presentation.include)],
  };
}

/** A list in the negotiated form. */
export function presentList(
  presentation: Presentation,
  type: ResourceType,
  objects: readonly KubeObject[],
  listMetadata: Record<string, unknown>,
): Record<string, unknown> {
  if (presentation.as === "PartialObjectMetadata") {
    return { kind: "PartialObjectMetadataList", apiVersion: "meta.k8s.io/v1", metadata: listMetadata, items: objects.map(partial) };
  }
  return toTable(type, objects, listMetadata, presentation.include);
}

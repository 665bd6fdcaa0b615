/**
 * OpenAPI v3 documents (`/openapi/v3` and one per group version), enough for
 * `kubectl apply` to see that the server validates fields itself (a PATCH
 * operation with `x-kubernetes-group-version-kind` and a `fieldValidation`
 * parameter, so it sends `fieldValidation=Strict` and skips client-side
 * validation) and for `kubectl explain` (component schemas tagged with their
 * group, version and kind, `metadata` pointing at ObjectMeta).
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Schema } from "./schema/openapi-validator.ts";
import { KUBERNETES_VERSION } from "./discovery.ts";
import { OBJECT_META_SCHEMA } from "./object-meta.ts";
import type { ResourceRegistry } from "./registry.ts";
import { apiVersionOf, type ResourceType } from "./resource-type.ts";

const OBJECT_META_REF = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META_REF = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
const STATUS_REF = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";

const KNOWN_PREFIXES: Record<string, string> = {
  "": "io.k8s.api.core",
  "apiextensions.k8s.io": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions",
};

/** The component schema name of a kind: `io.k8s.api.core.v1.Secret`, `io.metal3.v1alpha1.BMCEventSubscription`. */
export function schemaName(type: Pick<ResourceType, "group" | "version">, kind: string): string {
  let prefix = KNOWN_PREFIXES[type.group];
  if (prefix === undefined) {
    prefix = type.group.endsWith(".k8s.io")
      ? `io.k8s.api.${type.group.slice(0, -".k8s.io".length)}`
      : type.group.split(".").reverse().join(".");
  }
  return `${prefix}.${type.version}.${kind}`;
}

function ref(name: string): Schema {
  return { $ref: `#/components/schemas/${name}` };
}

function objectSchema(type: ResourceType): Schema {
  const properties = { ...((type.schema.properties ?? {}) as Record<string, Schema>) };
  properties.metadata = { allOf: [ref(OBJECT_META_REF)], default: {}, description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata" };
  return {
    ...type.schema,
    properties,
    "x-kubernetes-group-version-kind": [{ group: type.group, kind: type.kind, version: type.version }],
  };
}

function listSchema(type: ResourceType): Schema {
  return {
    type: "object",
    description: `${type.listKind} is a list of ${type.kind}`,
    required: ["items"],
    properties: {
      apiVersion: { type: "string", description: "APIVersion defines the versioned schema of this representation of an object." },
      kind: { type: "string", description: "Kind is a string value representing the REST resource this object represents." },
      items: { type: "array", description: `List of ${type.resource}.`, items: ref(schemaName(type, type.kind)) },
      metadata: { allOf: [ref(LIST_META_REF)], default: {}, description: "Standard list metadata." },
    },
    "x-kubernetes-group-version-kind": [{ group: type.group, kind: type.listKind, version: type.version }],
  };
}

const query = (name: string, description: string, type = "string"): Schema => ({ name, in: "query", description, schema: { type, uniqueItems: true } });

const COMMON_WRITE_PARAMETERS = [
  query("dryRun", "When present, indicates that modifications should not be persisted. Valid value: All."),
  query("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes."),
  query("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn (the default) and Strict."),
];

function responses(schema: string): Schema {
  const content = { "application/json": { schema: ref(schema) }, "application/yaml": { schema: ref(schema) } };
  return { "200": { description: "OK", content }, "401": { description: "Unauthorized" } };
}

function paths(type: ResourceType): Record<string, Schema> {
  const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  const collection = type.namespaced ? `${base}/namespaces/{namespace}/${type.resource}` : `${base}/${type.resource}`;
  const item = `${collection}/{name}`;
  const gvk = { group: type.group, version: type.version, kind: type.kind };
  const kindSchema = schemaName(type, type.kind);
  const listName = schemaName(type, type.listKind);
  const pathParameters = (withName: boolean): Schema[] => [
    ...(withName ? [{ name: "name", in: "path", required: true, description: `name of the ${type.kind}`, schema: { type: "string", uniqueItems: true } }] : []),
    ...(type.namespaced ? [{ name: "namespace", in: "path", required: true, description: "object name and auth scope, such as for teams and projects", schema: { type: "string", uniqueItems: true } }] : []),
  ];
  const body = (types: string[]) => ({ content: Object.fromEntries(types.map((t) => [t, { schema: ref(kindSchema) }])), required: true });
  const operation = (action: string, description: string, extra: Schema = {}): Schema => ({
    tags: [`${type.group || "core"}_${type.version}`],
    description,
    operationId: `${action}${type.kind}`,
    responses: responses(action === "list" ? listName : kindSchema),
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": gvk,
    ...extra,
  });
  const patch = (description: string) =>
    operation("patch", description, {
      parameters: [...COMMON_WRITE_PARAMETERS, query("force", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people.", "boolean")],
      requestBody: {
        content: Object.fromEntries(
          ["application/json-patch+json", "application/merge-patch+json", ...(type.custom ? [] : ["application/strategic-merge-patch+json"]), "application/apply-patch+yaml"].map((t) => [t, { schema: { type: "object" } }]),
        ),
        required: true,
      },
    });
  const out: Record<string, Schema> = {
    [collection]: {
      get: operation("list", `list or watch objects of kind ${type.kind}`, {
        parameters: [
          query("allowWatchBookmarks", "allowWatchBookmarks requests watch events with type \"BOOKMARK\".", "boolean"),
          query("continue", "The continue option should be set when retrieving more results from the server."),
          query("fieldSelector", "A selector to restrict the list of returned objects by their fields."),
          query("labelSelector", "A selector to restrict the list of returned objects by their labels."),
          query("limit", "limit is a maximum number of responses to return for a list call.", "integer"),
          query("resourceVersion", "resourceVersion sets a constraint on what resource versions a request may be served from."),
          query("resourceVersionMatch", "resourceVersionMatch determines how resourceVersion is applied to list calls."),
          query("sendInitialEvents", "`sendInitialEvents=true` may be set together with `watch=true`.", "boolean"),
          query("timeoutSeconds", "Timeout for the list/watch call.", "integer"),
          query("watch", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.", "boolean"),
        ],
      }),
      post: operation("post", `create a ${type.kind}`, { parameters: COMMON_WRITE_PARAMETERS, requestBody: body(["*/*"]) }),
      delete: operation("deletecollection", `delete collection of ${type.kind}`),
      parameters: pathParameters(false),
    },
    [item]: {
      get: operation("get", `read the specified ${type.kind}`),
      put: operation("put", `replace the specified ${type.kind}`, { parameters: COMMON_WRITE_PARAMETERS, requestBody: body(["*/*"]) }),
      patch: patch(`partially update the specified ${type.kind}`),
      delete: operation("delete", `delete a ${type.kind}`),
      parameters: pathParameters(true),
    },
  };
  if (type.statusSubresource) {
    out[`${item}/status`] = {
      get: operation("get", `read status of the specified ${type.kind}`),
      put: operation("put", `replace status of the specified ${type.kind}`, { parameters: COMMON_WRITE_PARAMETERS, requestBody: body(["*/*"]) }),
      patch: patch(`partially update status of the specified ${type.kind}`),
      parameters: pathParameters(true),
    };
  }
  return out;
}

const LIST_META: Schema = {
  type: "object",
  description: "ListMeta describes metadata that synthetic resources must have, including lists and various status objects.",
  properties: {
    continue: { type: "string", description: "continue may be set if the user set a limit on the number of items returned." },
    remainingItemCount: { type: "integer", format: "int64", description: "The number of subsequent items in the list which are not included in this list response." },
    resourceVersion: { type: "string", description: "String that identifies the server's internal version of this object." },
    selfLink: { type: "string", description: "Deprecated: selfLink is a legacy read-only field that is no longer populated by the system." },
  },
};

const STATUS: Schema = {
  type: "object",
  description: "Status is a return value for calls that don't return other objects.",
  properties: {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    code: { type: "integer", format: "int32" },
    message: { type: "string" },
    reason: { type: "string" },
    status: { type: "string" },
    details: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
    metadata: { allOf: [ref(LIST_META_REF)], default: {} },
  },
};

/** The OpenAPI v3 document of one group version. */
export function groupVersionDocument(types: readonly ResourceType[]): Record<string, unknown> {
  const schemas: Record<string, Schema> = {
    [OBJECT_META_REF]: OBJECT_META_SCHEMA,
    [LIST_META_REF]: LIST_META,
    [STATUS_REF]: STATUS,
  };
  const allPaths: Record<string, Schema> = {};
  for (const type of types) {
    schemas[schemaName(type, type.kind)] = objectSchema(type);
    schemas[schemaName(type, type.listKind)] = listSchema(type);
    Object.assign(allPaths, paths(type));
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: KUBERNETES_VERSION.gitVersion },
    paths: allPaths,
    components: { schemas },
  };
}

/** The OpenAPI v3 documents of a registry, rebuilt when its resources change. */
export class OpenApiDocuments {
  readonly #registry: ResourceRegistry;
  #generation = -1;
  #documents = new Map<string, { json: string; hash: string }>();

  constructor(registry: ResourceRegistry) {
    this.#registry = registry;
  }

  #refresh(): void {
    if (this.#generation === this.#registry.generation) return;
    const byGroupVersion = new Map<string, ResourceType[]>();
    for (const type of this.#registry.all()) {
      const key = type.group ? `apis/${apiVersionOf(type)}` : `api/${type.version}`;
      const list = byGroupVersion.get(key) ?? [];
      list.push(type);
      byGroupVersion.set(key, list);
    }
    const documents = new Map<string, { json: string; hash: string }>();
    for (const [key, types] of byGroupVersion) {
      const json = JSON.stringify(groupVersionDocument(types));
      documents.set(key, { json, hash: createHash("sha512").update(json).digest("hex").toUpperCase() });
    }
    this.#documents = documents;
    this.#generation = this.#registry.generation;
  }

  /** `GET /openapi/v3`: where each group version's document is. */
  root(): Record<string, unknown> {
    this.#refresh();
    const paths: Record<string, unknown> = {};
    for (const [key, document] of [...this.#documents].sort(([a], [b]) => a.localeCompare(b))) {
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${document.hash}` };
    }
    return { paths };
  }

  /** The JSON of `GET /openapi/v3/<api/v1 | apis/group/version>`, or `undefined`. */
  document(path: string): string | undefined {
    this.#refresh();
    return this.#documents.get(path)?.json;
  }
}

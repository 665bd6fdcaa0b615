/**
 * A Kubernetes REST client for any resource described by a {@link Resource}:
 * get, list (paged), watch (streamed), create, update, patch with an explicit
 * content type, delete with preconditions, and the `/status` subresource.
 *
 * @module
 */
import type { KubeConfigLike } from "./kube-config.ts";
import type { Operation } from "fast-json-patch";
import { ApiError, type Status } from "./api-error.ts";
import { apiVersionOf, type KubeObject, type ObjectRef, refOf, type Resource } from "./resource.ts";
import { Transport, type TransportOptions } from "./transport.ts";

/** The patch formats, named after the content type each one sends. */
export type PatchType = "merge" | "json" | "apply" | "strategic";

/** `Content-Type` of each {@link PatchType}. */
export const PATCH_CONTENT_TYPES: Readonly<Record<PatchType, string>> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  apply: "application/apply-patch+yaml",
  strategic: "application/strategic-merge-patch+json",
};

/** Options every write accepts. */
export interface WriteOptions {
  /** Names the writer in `managedFields`. Required for `apply` patches. */
  fieldManager?: string;
  /** Validate only, store nothing. */
  dryRun?: boolean;
  signal?: AbortSignal;
}

/** Options of {@link KubeClient.patch}. */
export interface PatchOptions extends WriteOptions {
  /** The patch format: sent as the `Content-Type`, never guessed. */
  type: PatchType;
  /** Server-side apply: take over fields owned by other managers. */
  force?: boolean;
}

/** Options of {@link KubeClient.delete}. */
export interface DeleteOptions {
  /** Delete only if the object still has this UID and/or resourceVersion (else 409). */
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
  gracePeriodSeconds?: number;
  dryRun?: boolean;
  signal?: AbortSignal;
}

/** Options of {@link KubeClient.list}. */
export interface ListOptions {
  /** Only this namespace; all namespaces when unset (for namespaced resources). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size; the answer carries `metadata.continue` when there is more. */
  limit?: number;
  /** The `metadata.continue` token of the previous page. */
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: "Exact" | "NotOlderThan";
  signal?: AbortSignal;
}

/** One page of a list. */
export interface ObjectList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

/** Options of {@link KubeClient.watch}. */
export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Start after this version; unset means "send the current objects as ADDED first". */
  resourceVersion?: string;
  /** Ask for BOOKMARK events carrying the latest resourceVersion. @default true */
  allowWatchBookmarks?: boolean;
  /** Server-side timeout; the stream ends normally after it. */
  timeoutSeconds?: number;
  /** Longest silence on the stream before it is treated as dead, in ms. @default (timeoutSeconds + 30) s, or 5 min */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

/** One event of a watch stream. `ERROR` events are thrown as {@link ApiError} instead. */
export interface WatchEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";
  object: T;
}

/** Options of {@link KubeClient}. */
export type KubeClientOptions = TransportOptions;

/**
 * The client. Every method takes the {@link Resource} first, so the object
 * type follows from it.
 *
 * @example
 * ```ts
 * const client = new KubeClient(loadKubeConfig());
 * const host = await client.get(BareMetalHosts, { namespace: "metal3", name: "node-0" });
 * await client.patchStatus(BareMetalHosts, refOf(host), { status: { operationalStatus: "OK" } }, { type: "merge" });
 * ```
 */
export class KubeClient {
  readonly transport: Transport;

  constructor(kc: KubeConfigLike, options: KubeClientOptions = {}) {
    this.transport = new Transport(kc, options);
  }

  /** Reads one object; 404 throws an {@link ApiError} (see `isNotFound`). */
  get<T extends KubeObject>(resource: Resource<T>, ref: ObjectRef, options: { signal?: AbortSignal } = {}): Promise<T> {
    return this.transport.json<T>({ method: "GET", path: objectPath(resource, ref), signal: options.signal });
  }

  /** Reads one page of objects (all of them when no `limit` is given). */
  list<T extends KubeObject>(resource: Resource<T>, options: ListOptions = {}): Promise<ObjectList<T>> {
    return this.transport.json<ObjectList<T>>({
      method: "GET",
      path: collectionPath(resource, options.namespace),
      query: {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        limit: options.limit,
        continue: options.continue,
        resourceVersion: options.resourceVersion,
        resourceVersionMatch: options.resourceVersionMatch,
      },
      signal: options.signal,
    });
  }

  /**
   * Reads every object, page by page (`limit` objects at a time); returns the
   * objects and the resourceVersion of the list, from which a watch can start.
   * A continue token that expires midway throws a 410 {@link ApiError}.
   */
  async listAll<T extends KubeObject>(
    resource: Resource<T>,
    options: Omit<ListOptions, "continue"> = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let token: string | undefined;
    let resourceVersion = "";
    do {
      const page = await this.list(resource, { ...options, limit: options.limit ?? 500, continue: token });
      items.push(...(page.items ?? []));
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      token = page.metadata?.continue || undefined;
    } while (token !== undefined);
    return { items, resourceVersion };
  }

  /**
   * Streams changes as they happen. The iteration ends when the server closes
   * the stream (for example after `timeoutSeconds`); an in-stream `ERROR`
   * (such as 410 Expired) is thrown as an {@link ApiError}. Breaking out of the
   * loop, or aborting `signal`, closes the connection.
   */
  async *watch<T extends KubeObject>(resource: Resource<T>, options: WatchOptions = {}): AsyncGenerator<WatchEvent<T>> {
    const path = collectionPath(resource, options.namespace);
    const response = await this.transport.stream({
      method: "GET",
      path,
      query: {
        watch: true,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        resourceVersion: options.resourceVersion,
        allowWatchBookmarks: options.allowWatchBookmarks ?? true,
        timeoutSeconds: options.timeoutSeconds,
      },
      signal: options.signal,
      longRunning: true,
      bodyTimeoutMs: options.idleTimeoutMs ?? (options.timeoutSeconds !== undefined ? (options.timeoutSeconds + 30) * 1000 : 300_000),
    });
    const decoder = new TextDecoder();
    let buffered = "";
    try {
      for await (const chunk of response.body) {
        buffered += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line !== "") yield parseWatchLine<T>(line, path);
        }
      }
      const rest = (buffered + decoder.decode()).trim();
      if (rest !== "") yield parseWatchLine<T>(rest, path);
    } finally {
      response.body.destroy();
    }
  }

  /** Creates an object in `object.metadata.namespace`. */
  create<T extends KubeObject>(resource: Resource<T>, object: T, options: WriteOptions = {}): Promise<T> {
    return this.transport.json<T>({
      method: "POST",
      path: collectionPath(resource, namespaceFor(resource, object)),
      query: writeQuery(options),
      body: withTypeMeta(resource, object),
      signal: options.signal,
    });
  }

  /** Replaces an object (PUT); `metadata.resourceVersion` guards against lost updates (409 when stale). */
  update<T extends KubeObject>(resource: Resource<T>, object: T, options: WriteOptions = {}): Promise<T> {
    return this.#put(resource, object, undefined, options);
  }

  /** Replaces the status of an object through the `/status` subresource (PUT). */
  updateStatus<T extends KubeObject>(resource: Resource<T>, object: T, options: WriteOptions = {}): Promise<T> {
    return this.#put(resource, object, "status", options);
  }

  /**
   * Patches an object. `options.type` picks the format, sent as the content
   * type: `merge` (RFC 7386), `json` (RFC 6902 operations), `apply`
   * (server-side apply; needs `fieldManager`), `strategic` (built-in kinds only).
   */
  patch<T extends KubeObject>(
    resource: Resource<T>,
    ref: ObjectRef,
    patch: unknown,
    options: PatchOptions,
  ): Promise<T> {
    return this.#patch(resource, ref, patch, undefined, options);
  }

  /** Patches the status of an object through the `/status` subresource (see {@link patch}). */
  patchStatus<T extends KubeObject>(
    resource: Resource<T>,
    ref: ObjectRef,
    patch: unknown,
    options: PatchOptions,
  ): Promise<T> {
    return this.#patch(resource, ref, patch, "status", options);
  }

  /**
   * Deletes an object. Returns the object when finalizers keep it (with
   * `deletionTimestamp` set), else the server's `Status`.
   */
  delete<T extends KubeObject>(resource: Resource<T>, ref: ObjectRef, options: DeleteOptions = {}): Promise<T | Status> {
    const body: Record<string, unknown> = { apiVersion: "v1", kind: "DeleteOptions" };
    if (options.preconditions) body.preconditions = options.preconditions;
    if (options.propagationPolicy) body.propagationPolicy = options.propagationPolicy;
    if (options.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = options.gracePeriodSeconds;
    return this.transport.json<T | Status>({
      method: "DELETE",
      path: objectPath(resource, ref),
      query: { dryRun: options.dryRun ? "All" : undefined },
      body,
      signal: options.signal,
    });
  }

  /** Closes the client's connections. */
  close(): Promise<void> {
    return this.transport.close();
  }

  #put<T extends KubeObject>(resource: Resource<T>, object: T, subresource: string | undefined, options: WriteOptions): Promise<T> {
    return this.transport.json<T>({
      method: "PUT",
      path: objectPath(resource, refOf(object), subresource),
      query: writeQuery(options),
      body: withTypeMeta(resource, object),
      signal: options.signal,
    });
  }

  #patch<T extends KubeObject>(
    resource: Resource<T>,
    ref: ObjectRef,
    patch: unknown,
    subresource: string | undefined,
    options: PatchOptions,
  ): Promise<T> {
    const contentType = PATCH_CONTENT_TYPES[options.type];
    if (contentType === undefined) {
      throw new TypeError(`Unknown patch type "${String(options.type)}": use merge, json, apply or strategic`);
    }
    if (options.type === "apply" && !options.fieldManager) {
      throw new TypeError(`A server-side apply patch of ${resource.kind} "${ref.name}" needs a fieldManager`);
    }
    if (options.type === "json" && !Array.isArray(patch)) {
      throw new TypeError(`A JSON patch of ${resource.kind} "${ref.name}" must be a list of operations`);
    }
    let body = patch;
    if (options.type === "apply") body = withTypeMeta(resource, patch as T);
    return this.transport.json<T>({
      method: "PATCH",
      path: objectPath(resource, ref, subresource),
      query: { ...writeQuery(options), force: options.type === "apply" && options.force ? true : undefined },
      body,
      contentType,
      signal: options.signal,
    });
  }
}

/** A JSON patch operation (RFC 6902), as fast-json-patch types it. */
export type JsonPatchOperation = Operation;

function writeQuery(options: WriteOptions): Record<string, string | undefined> {
  return { fieldManager: options.fieldManager, dryRun: options.dryRun ? "All" : undefined };
}

function withTypeMeta<T extends KubeObject>(resource: Resource<T>, object: T): T {
  return { ...object, apiVersion: object.apiVersion ?? apiVersionOf(resource), kind: object.kind ?? resource.kind };
}

function namespaceFor(resource: Resource<any>, object: KubeObject): string | undefined {
  const namespace = object.metadata?.namespace;
  if (resource.namespaced && !namespace) {
    throw new TypeError(`A ${resource.kind} is namespaced: set metadata.namespace of "${object.metadata?.name ?? object.metadata?.generateName ?? ""}"`);
  }
  return resource.namespaced ? namespace : undefined;
}

/** The URL path of a resource's collection, in one namespace or across all. */
export function collectionPath(resource: Resource<any>, namespace?: string): string {
  const base = resource.group === "" ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  const scope = resource.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${base}${scope}/${resource.plural}`;
}

/** The URL path of one object, or of one of its subresources. */
export function objectPath(resource: Resource<any>, ref: ObjectRef, subresource?: string): string {
  if (!ref.name) throw new TypeError(`A ${resource.kind} reference needs a name`);
  if (resource.namespaced && !ref.namespace) {
    throw new TypeError(`A ${resource.kind} is namespaced: "${ref.name}" needs a namespace`);
  }
  const path = `${collectionPath(resource, ref.namespace)}/${encodeURIComponent(ref.name)}`;
  return subresource ? `${path}/${subresource}` : path;
}

function parseWatchLine<T>(line: string, path: string): WatchEvent<T> {
  let event: { type?: string; object?: unknown };
  try {
    event = JSON.parse(line) as typeof event;
  } catch (error) {
    throw new Error(`Watch of ${path} sent a line that is not JSON: ${JSON.stringify(line.slice(0, 200))}`, { cause: error });
  }
  if (event.type === "ERROR") throw new ApiError("WATCH", path, (event.object ?? {}));
  if (event.type !== "ADDED" && event.type !== "MODIFIED" && event.type !== "DELETED" && event.type !== "BOOKMARK") {
    throw new Error(`Watch of ${path} sent an event of unknown type ${JSON.stringify(event.type)}`);
  }
  return { type: event.type, object: event.object as T };
}

/**
 * The API semantics, independent of HTTP: get, list, create, update, patch
 * (merge, JSON, strategic, server-side apply) and delete of any served
 * resource, with kube-apiserver's rules — resourceVersion preconditions,
 * generation, status subresource, finalizers, field management, structural
 * pruning, defaulting, validation and ValidatingAdmissionPolicies.
 *
 * Every method works on the served form of its resource type and converts to
 * and from the stored form at the storage boundary.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { applyDefaults } from "./schema/defaults.ts";
import { type FieldError, fieldErrorBody } from "./schema/field-error.ts";
import { validateOpenAPI } from "./schema/openapi-validator.ts";
import type { Schema } from "./schema/openapi-validator.ts";
import { pruneUnknownFields } from "./schema/prune.ts";
import { validateCustomResource } from "./schema/validate.ts";
import { admit, type Operation } from "./admission.ts";
import { namespaces, validatingAdmissionPolicies, validatingAdmissionPolicyBindings } from "./builtin-resources.ts";
import { type CustomResourceDefinition, customResourceDefinitions, establishedStatus } from "./crd.ts";
import { jsonEqual } from "./field-set.ts";
import {
  applyConfiguration,
  decodeManagers,
  encodeManagers,
  type Manager,
  recordUpdate,
  resetFilter,
  sameOwnership,
  type Writer,
} from "./managed-fields.ts";
import { type KubeObject, validateObjectMeta, withObjectMeta } from "./object-meta.ts";
import { jsonPatch, mergePatch, PATCH_TYPES, strategicMergePatch } from "./patch.ts";
import { listOptions, propagationPolicy, queryBool } from "./query.ts";
import type { ResourceRegistry } from "./registry.ts";
import { apiVersionOf, fieldSelectorsOf, type ResourceType, servesStoredForm, toServed, toStored } from "./resource-type.ts";
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, pinnedValue, type Selector } from "./selectors.ts";
import {
  alreadyExists,
  badRequest,
  conflict,
  expired,
  forbidden,
  tooLargeResourceVersion,
  invalid,
  MODIFIED_CONFLICT,
  methodNotAllowed,
  notFound,
  successStatus,
  unsupportedMediaType,
} from "./status.ts";
import { objectKey, type StoredEntry, type Storage } from "./storage.ts";

/** One API request, as the HTTP layer decoded it. */
export interface ApiRequest {
  type: ResourceType;
  /** The namespace in the URL, if any. */
  namespace?: string;
  /** The name in the URL, if any. */
  name?: string;
  /** `""`, or `"status"`. */
  subresource: string;
  query: URLSearchParams;
  userAgent: string;
}

/** The outcome of a write. */
export interface WriteResult {
  code: 200 | 201;
  /** The object in the request's served form, or a Status for some deletions. */
  body: unknown;
  warnings: string[];
}

/** The outcome of a list. */
export interface ListResult {
  entries: StoredEntry[];
  resourceVersion: number;
  continueToken?: string;
  remainingItemCount?: number;
}

/** Namespaces that exist from the start and cannot be deleted. */
export const SYSTEM_NAMESPACES: readonly string[] = ["default", "kube-system", "kube-public", "kube-node-lease"];

const GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** Now, as Kubernetes writes timestamps (RFC 3339, seconds). */
export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function causesOf(errors: FieldError[]) {
  return errors.map((error) => ({ reason: error.type, message: fieldErrorBody(error), field: error.field }));
}

/** Server-side field manager names are limited to 128 characters. */
const MAX_MANAGER_LENGTH = 128;

/** The parsed `continue` token of a paginated list. */
interface ContinueToken {
  rv: number;
  start: string;
}

function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv: token.rv, start: token.start })).toString("base64url");
}

function decodeContinue(text: string): ContinueToken {
  try {
    const value = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as { v?: string; rv?: number; start?: string };
    if (value.v !== "meta.k8s.io/v1" || typeof value.rv !== "number" || typeof value.start !== "string") throw new Error("bad fields");
    return { rv: value.rv, start: value.start };
  } catch {
    throw badRequest(`continue key is not valid: ${JSON.stringify(text)} is not a continue token this server issued`);
  }
}

/** Finds the first index in sorted `keys` not less than `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (keys[mid]! < key) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The API semantics over a storage and a registry of resource types. */
export class ApiServer {
  readonly storage: Storage;
  readonly registry: ResourceRegistry;
  readonly #schemas = new WeakMap<ResourceType, Schema>();
  readonly #fieldSelectors = new WeakMap<ResourceType, ReturnType<typeof fieldSelectorsOf>>();
  /** Called after a change that may let a terminating namespace or CRD finish; set by the lifecycle. */
  onDeletionProgress: (() => void) | undefined;

  constructor(storage: Storage, registry: ResourceRegistry) {
    this.storage = storage;
    this.registry = registry;
  }

  // ---- helpers ------------------------------------------------------------------------------

  /** The schema used for field management: the type's, with the full ObjectMeta. */
  managedSchema(type: ResourceType): Schema {
    let schema = this.#schemas.get(type);
    if (!schema) {
      schema = withObjectMeta(type.schema);
      this.#schemas.set(type, schema);
    }
    return schema;
  }

  /** The field selectors `type` supports. */
  fieldSelectors(type: ResourceType) {
    let selectors = this.#fieldSelectors.get(type);
    if (!selectors) {
      selectors = fieldSelectorsOf(type);
      this.#fieldSelectors.set(type, selectors);
    }
    return selectors;
  }

  /** The JSON of a stored entry as `type` serves it, encoded once per version. */
  servedJson(type: ResourceType, entry: StoredEntry): string {
    if (servesStoredForm(type)) return entry.json;
    const version = apiVersionOf(type);
    entry.views ??= new Map();
    let json = entry.views.get(version);
    if (json === undefined) {
      json = JSON.stringify(toServed(type, entry.object));
      entry.views.set(version, json);
    }
    return json;
  }

  /** A stored entry's object as `type` serves it. Callers must not modify it. */
  served(type: ResourceType, entry: StoredEntry): KubeObject {
    return toServed(type, entry.object);
  }

  #gr(type: ResourceType) {
    return { group: type.group, resource: type.resource };
  }

  #keyOf(type: ResourceType, namespace: string | undefined, name: string): string {
    return objectKey(type.namespaced ? namespace : undefined, name);
  }

  #entry(request: ApiRequest): StoredEntry {
    const { type, name } = request;
    if (!name) throw methodNotAllowed("this operation", this.#gr(type));
    const entry = this.storage.get(type.storage, this.#keyOf(type, request.namespace, name));
    if (!entry) throw notFound(this.#gr(type), name);
    return entry;
  }

  #writer(request: ApiRequest): Writer {
    let manager = request.query.get("fieldManager") ?? "";
    if (manager === "") manager = request.userAgent.split("/")[0] ?? "";
    if (manager.length > MAX_MANAGER_LENGTH) {
      throw badRequest(`fieldManager ${JSON.stringify(manager.slice(0, 40))}... is ${manager.length} characters long; it may be at most ${MAX_MANAGER_LENGTH}`);
    }
    return { manager, apiVersion: apiVersionOf(request.type), subresource: request.subresource, time: timestamp() };
  }

  #dryRun(request: ApiRequest): boolean {
    const values = request.query.getAll("dryRun");
    for (const value of values) {
      if (value !== "All") throw badRequest(`dryRun must be "All", got ${JSON.stringify(value)}`);
    }
    return values.length > 0;
  }

  /** Checks the body of a create or update: an object of the request's apiVersion and kind. */
  #decodeObject(type: ResourceType, body: unknown): KubeObject {
    if (!isPlainObject(body)) throw badRequest(`the request body must be a JSON object (a ${type.kind}), got ${Array.isArray(body) ? "an array" : JSON.stringify(body)}`);
    const apiVersion = apiVersionOf(type);
    if (body.kind === undefined || body.kind === "") {
      // Built-in kinds take their kind from the URL; custom resources must say it.
      if (type.custom) throw badRequest(`Object 'Kind' is missing in the request body; expected "kind": ${JSON.stringify(type.kind)}`);
      body.kind = type.kind;
    }
    if (body.kind !== type.kind) {
      throw badRequest(`the kind in the request body (${JSON.stringify(body.kind)}) does not match the kind of the resource (${JSON.stringify(type.kind)})`);
    }
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) {
      throw badRequest(`the API version in the data (${JSON.stringify(body.apiVersion)}) does not match the expected API version (${apiVersion})`);
    }
    const object = body as KubeObject;
    object.apiVersion = apiVersion;
    if (object.metadata === undefined || object.metadata === null) object.metadata = {};
    if (!isPlainObject(object.metadata)) throw badRequest(`metadata must be an object, got ${JSON.stringify(object.metadata)}`);
    return object;
  }

  /**
   * Drops unknown fields and applies defaults. Under `fieldValidation=Strict`
   * unknown fields are a 400; under `Warn` (the default) they become warnings.
   */
  #normalise(request: ApiRequest, object: KubeObject, defaults = true): string[] {
    const mode = request.query.get("fieldValidation") || "Warn";
    if (!["Strict", "Warn", "Ignore"].includes(mode)) {
      throw badRequest(`fieldValidation must be one of Strict, Warn or Ignore, got ${JSON.stringify(mode)}`);
    }
    const { type } = request;
    const unknown = pruneUnknownFields(type.schema, object, { isResourceRoot: true });
    if (defaults && type.custom) applyDefaults(type.schema, object);
    if (unknown.length === 0 || mode === "Ignore") return [];
    const messages = unknown.map((path) => `unknown field ${JSON.stringify(path)}`);
    if (mode === "Strict") {
      throw badRequest(
        `${type.kind} in version ${JSON.stringify(type.version)} cannot be handled as a ${type.kind}: strict decoding error: ${messages.join(", ")}`,
      );
    }
    return messages;
  }

  /**
   * A built-in kind is decoded into typed fields before anything else, so a
   * value of the wrong JSON type is a 400 decoding error, not a 422.
   */
  #checkDecodable(type: ResourceType, object: KubeObject): void {
    if (type.custom) return;
    const wrong = [
      ...validateOpenAPI(type.schema, object).filter((error) => error.type === "FieldValueTypeInvalid"),
      ...(type.hooks.decode?.(object) ?? []),
    ];
    if (wrong.length === 0) return;
    const goType = (json: unknown) => ({ boolean: "bool", integer: "number", number: "number" })[String(json)] ?? String(json);
    const problems = wrong.map((error) => {
      const expected = /must be of type (\w+)/.exec(error.detail)?.[1] ?? "another type";
      return `json: cannot unmarshal ${goType(error.value)} into Go struct field ${type.kind}.${error.field} of type ${expected}`;
    });
    throw badRequest(`${type.kind} in version ${JSON.stringify(type.version)} cannot be handled as a ${type.kind}: ${problems.join("; ")}`);
  }

  #validate(type: ResourceType, object: KubeObject, old: KubeObject | undefined): void {
    const errors: FieldError[] = validateObjectMeta(object.metadata, type.nameRule);
    if (type.namespaced && !object.metadata.namespace) {
      errors.push({ type: "FieldValueRequired", field: "metadata.namespace", detail: "" });
    }
    if (type.custom) {
      errors.push(...validateCustomResource(type.schema, object, old));
    } else {
      errors.push(...validateOpenAPI(type.schema, object));
      errors.push(...(type.hooks.validate?.(object, old) ?? []));
    }
    if (errors.length) throw invalid({ group: type.group, kind: type.kind }, object.metadata.name ?? "", causesOf(errors));
  }

  #admit(request: ApiRequest, operation: Operation, name: string, object: KubeObject | null, oldObject: KubeObject | null): string[] {
    const policies = this.storage.table(validatingAdmissionPolicies.storage).items;
    if (policies.size === 0) return [];
    const bindings = this.storage.table(validatingAdmissionPolicyBindings.storage).items;
    const objects = (map: Map<string, StoredEntry>) => [...map.values()].map((entry) => entry.object);
    return admit(objects(policies), objects(bindings), {
      type: request.type,
      subresource: request.subresource,
      operation,
      name,
      namespace: request.namespace,
      object,
      oldObject,
    }).warnings;
  }

  /** Namespace lifecycle: the namespace must exist and not be terminating. */
  #checkNamespace(type: ResourceType, namespace: string | undefined, name: string): void {
    if (!type.namespaced || !namespace) return;
    const entry = this.storage.get(namespaces.storage, namespace);
    if (!entry) throw notFound({ group: "", resource: "namespaces" }, namespace);
    if (entry.object.metadata.deletionTimestamp) {
      throw forbidden(
        this.#gr(type),
        name,
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      );
    }
  }

  // ---- reads --------------------------------------------------------------------------------

  /** GET of one object. */
  get(request: ApiRequest): StoredEntry {
    return this.#entry(request);
  }

  /** The parsed label and field selectors of a list or watch. */
  selectors(request: ApiRequest): { labels: Selector; fields: Selector } {
    return {
      labels: parseLabelSelector(request.query.get("labelSelector")),
      fields: parseFieldSelector(request.query.get("fieldSelector"), this.fieldSelectors(request.type)),
    };
  }

  /** Whether a stored object is in the namespace and matches the selectors of a list or watch. */
  matches(request: ApiRequest, selectors: { labels: Selector; fields: Selector }, object: KubeObject): boolean {
    if (request.type.namespaced && request.namespace && object.metadata.namespace !== request.namespace) return false;
    if (selectors.labels.length && !matchesLabels(selectors.labels, object.metadata.labels)) return false;
    if (selectors.fields.length && !matchesFields(selectors.fields, object, this.fieldSelectors(request.type))) return false;
    return true;
  }

  /** The current objects that a list or watch selects, in storage order. */
  select(request: ApiRequest, selectors: { labels: Selector; fields: Selector }): StoredEntry[] {
    const table = this.storage.table(request.type.storage);
    const name = pinnedValue(selectors.fields, "metadata.name");
    if (name !== undefined && (!request.type.namespaced || request.namespace)) {
      const entry = table.items.get(this.#keyOf(request.type, request.namespace, name));
      return entry && this.matches(request, selectors, entry.object) ? [entry] : [];
    }
    const out: StoredEntry[] = [];
    const keys = table.sortedKeys();
    let index = request.type.namespaced && request.namespace ? lowerBound(keys, `${request.namespace}/`) : 0;
    const prefix = request.type.namespaced && request.namespace ? `${request.namespace}/` : "";
    for (; index < keys.length; index++) {
      const key = keys[index]!;
      if (prefix && !key.startsWith(prefix)) break;
      const entry = table.items.get(key)!;
      if (this.matches(request, selectors, entry.object)) out.push(entry);
    }
    return out;
  }

  /**
   * LIST with selectors, `limit`/`continue` and `resourceVersion`: none or
   * `0` reads the latest state; with `resourceVersionMatch=Exact` the state
   * at that resourceVersion (rebuilt from the retained history, 410 Expired
   * beyond it); otherwise (`NotOlderThan`) the latest, or a 504 Timeout when
   * asked for a resourceVersion the server has not reached (kube-apiserver
   * waits 3 s for it first; the emulator's writes are synchronous, so it
   * answers at once).
   */
  list(request: ApiRequest): ListResult {
    const { type, query } = request;
    const selectors = this.selectors(request);
    const options = listOptions(query);
    const { limit } = options;
    const current = this.storage.resourceVersion;
    if (options.continueToken && options.resourceVersion !== "" && options.resourceVersion !== "0") {
      throw badRequest("specifying resource version is not allowed when using continue");
    }
    if (options.resourceVersion !== "" && options.resourceVersion !== "0") {
      if (!/^\d+$/.test(options.resourceVersion)) {
        throw badRequest(`invalid resource version ${JSON.stringify(options.resourceVersion)}: a resourceVersion is a non-negative integer`);
      }
      const asked = Number(options.resourceVersion);
      if (asked > current) throw tooLargeResourceVersion(asked, current);
      if (options.resourceVersionMatch === "Exact" && asked < current) return this.#listAt(request, selectors, asked, limit);
    }
    const table = this.storage.table(type.storage);
    let start = "";
    let listVersion = this.storage.resourceVersion;
    const continueText = query.get("continue");
    if (continueText) {
      const token = decodeContinue(continueText);
      if (token.rv < this.storage.oldestResumable(type.storage)) {
        throw expired(
          "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
        );
      }
      start = token.start;
      listVersion = token.rv;
    }
    const name = pinnedValue(selectors.fields, "metadata.name");
    if (!start && (limit === 0 || (name !== undefined && request.namespace))) {
      return { entries: this.select(request, selectors), resourceVersion: this.storage.resourceVersion };
    }
    const keys = table.sortedKeys();
    const prefix = type.namespaced && request.namespace ? `${request.namespace}/` : "";
    let index = lowerBound(keys, start && start > prefix ? start : prefix);
    const entries: StoredEntry[] = [];
    let lastKey = "";
    for (; index < keys.length; index++) {
      const key = keys[index]!;
      if (prefix && !key.startsWith(prefix)) break;
      const entry = table.items.get(key)!;
      if (!this.matches(request, selectors, entry.object)) continue;
      if (limit && entries.length === limit) {
        const result: ListResult = {
          entries,
          resourceVersion: listVersion,
          continueToken: encodeContinue({ rv: listVersion, start: `${lastKey}\u0000` }),
        };
        if (!selectors.labels.length && !selectors.fields.length) {
          let remaining = 0;
          for (; index < keys.length && (!prefix || keys[index]!.startsWith(prefix)); index++) remaining++;
          result.remainingItemCount = remaining;
        }
        return result;
      }
      entries.push(entry);
      lastKey = key;
    }
    return { entries, resourceVersion: listVersion };
  }

  /** A list of the state at `resourceVersion`, rebuilt by undoing the retained changes after it. */
  #listAt(request: ApiRequest, selectors: { labels: Selector; fields: Selector }, resourceVersion: number, limit: number): ListResult {
    const { type } = request;
    if (resourceVersion < this.storage.oldestResumable(type.storage)) throw expired("The resourceVersion for the provided list is too old.");
    const items = new Map(this.storage.table(type.storage).items);
    const changes = this.storage.changesSince(type.storage, resourceVersion);
    for (let i = changes.length - 1; i >= 0; i--) {
      const change = changes[i]!;
      if (change.previous) items.set(change.entry.key, change.previous);
      else items.delete(change.entry.key);
    }
    const prefix = type.namespaced && request.namespace ? `${request.namespace}/` : "";
    const entries = [...items.keys()]
      .filter((key) => !prefix || key.startsWith(prefix))
      .sort()
      .map((key) => items.get(key)!)
      .filter((entry) => this.matches(request, selectors, entry.object));
    if (!limit || entries.length <= limit) return { entries, resourceVersion };
    const page = entries.slice(0, limit);
    return { entries: page, resourceVersion, continueToken: encodeContinue({ rv: resourceVersion, start: `${page.at(-1)!.key}\u0000` }) };
  }

  // ---- writes -------------------------------------------------------------------------------

  /** POST: creates an object. */
  create(request: ApiRequest, body: unknown): WriteResult {
    if (request.subresource) throw methodNotAllowed("POST", this.#gr(request.type));
    const object = this.#decodeObject(request.type, body);
    return this.#create(request, object, undefined);
  }

  #create(request: ApiRequest, object: KubeObject, managers: Manager[] | undefined): WriteResult {
    const { type } = request;
    const meta = object.metadata;
    if (type.namespaced) {
      if (meta.namespace && request.namespace && meta.namespace !== request.namespace) {
        throw badRequest(
          `the namespace of the provided object (${JSON.stringify(meta.namespace)}) does not match the namespace sent on the request (${JSON.stringify(request.namespace)})`,
        );
      }
      meta.namespace ||= request.namespace;
      if (!meta.namespace) throw badRequest(`a namespace is required to create a ${type.kind}: use /namespaces/<namespace>/${type.resource} or set metadata.namespace`);
    } else {
      delete meta.namespace;
    }
    if (meta.resourceVersion) {
      throw badRequest(`resourceVersion should not be set on objects to be created, got metadata.resourceVersion ${JSON.stringify(meta.resourceVersion)}`);
    }
    if (!meta.name && meta.generateName) {
      let suffix = "";
      for (let i = 0; i < 5; i++) suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
      meta.name = `${meta.generateName}${suffix}`;
    }
    const name = meta.name ?? "";
    const dryRun = this.#dryRun(request);
    const writer = this.#writer(request);
    const warnings = this.#normalise(request, object);
    this.#checkDecodable(type, object);
    this.#checkNamespace(type, meta.namespace, name);

    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (type.generation) meta.generation = 1;
    else delete meta.generation;
    if (type.statusSubresource && type !== namespaces) delete object.status;
    type.hooks.prepare?.(object, undefined);
    if (type === customResourceDefinitions && isPlainObject(object.spec)) {
      object.status = establishedStatus(object as CustomResourceDefinition, meta.creationTimestamp);
    }
    const schema = this.managedSchema(type);
    delete meta.managedFields;
    const owners = managers ?? recordUpdate([], undefined, object, schema, writer);
    if (owners.length) meta.managedFields = encodeManagers(owners);
    this.#validate(type, object, undefined);
    warnings.push(...this.#admit(request, "CREATE", name, object, null));
    const key = this.#keyOf(type, meta.namespace, name);
    if (this.storage.get(type.storage, key)) throw alreadyExists(this.#gr(type), name);
    if (dryRun) return { code: 201, body: object, warnings };
    const entry = this.storage.put(type.storage, key, toStored(type, object));
    return { code: 201, body: this.served(type, entry), warnings };
  }

  /** PUT: replaces an object (or its status). */
  update(request: ApiRequest, body: unknown): WriteResult {
    const { type } = request;
    const object = this.#decodeObject(type, body);
    if (object.metadata.name !== undefined && object.metadata.name !== request.name) {
      throw badRequest(`the name of the object (${String(object.metadata.name)}) does not match the name on the URL (${String(request.name)})`);
    }
    if (type.namespaced && object.metadata.namespace && object.metadata.namespace !== request.namespace) {
      throw badRequest(
        `the namespace of the provided object (${JSON.stringify(object.metadata.namespace)}) does not match the namespace sent on the request (${JSON.stringify(request.namespace)})`,
      );
    }
    const entry = this.#entry(request);
    const old = this.served(type, entry);
    const version = object.metadata.resourceVersion;
    if (!version) {
      if (!type.allowUnconditionalUpdate) {
        throw invalid({ group: type.group, kind: type.kind }, request.name ?? "", [
          { reason: "FieldValueInvalid", message: "Invalid value: 0: must be specified for an update", field: "metadata.resourceVersion" },
        ]);
      }
    } else if (version !== old.metadata.resourceVersion) {
      throw conflict(this.#gr(type), request.name ?? "", MODIFIED_CONFLICT);
    }
    return this.#commitUpdate(request, entry, old, object, undefined);
  }

  /** PATCH in any of the patch formats. */
  patch(request: ApiRequest, contentType: string, raw: string): WriteResult {
    const { type } = request;
    const mediaType = contentType.split(";")[0]!.trim().toLowerCase();
    const accepted: string[] = [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.apply];
    if (!type.custom) accepted.splice(2, 0, PATCH_TYPES.strategic);
    if (!accepted.includes(mediaType)) throw unsupportedMediaType(mediaType, accepted);
    const force = queryBool(request.query, "force");
    let document: unknown;
    try {
      document = mediaType === PATCH_TYPES.apply ? parseYaml(raw) : JSON.parse(raw);
    } catch (error) {
      throw badRequest(`the ${mediaType} body could not be parsed: ${(error as Error).message.split("\n")[0]}`);
    }
    if (mediaType === PATCH_TYPES.apply) return this.#apply(request, document, force);
    const entry = this.#entry(request);
    const old = this.served(type, entry);
    const base = structuredClone(old);
    let patched: unknown;
    if (mediaType === PATCH_TYPES.merge) {
      if (!isPlainObject(document)) throw badRequest(`a merge patch must be a JSON object, got ${JSON.stringify(document)}`);
      patched = mergePatch(base, document);
    } else if (mediaType === PATCH_TYPES.strategic) {
      patched = strategicMergePatch(base, document);
    } else {
      patched = jsonPatch(base, document);
    }
    if (!isPlainObject(patched)) throw badRequest("the patched object is not a JSON object");
    const object = patched as KubeObject;
    if (!isPlainObject(object.metadata)) object.metadata = {};
    if (object.metadata.resourceVersion && object.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(this.#gr(type), request.name ?? "", MODIFIED_CONFLICT);
    }
    object.apiVersion = old.apiVersion;
    object.kind = old.kind;
    return this.#commitUpdate(request, entry, old, object, undefined);
  }

  #apply(request: ApiRequest, document: unknown, force: boolean): WriteResult {
    const { type } = request;
    const writer = this.#writer(request);
    if (!request.query.get("fieldManager")) {
      throw badRequest("fieldManager is required for apply requests (set the fieldManager query parameter)");
    }
    if (!isPlainObject(document)) throw badRequest(`an apply patch must be an object (a ${type.kind}), got ${JSON.stringify(document)}`);
    const config = this.#decodeObject(type, document);
    if (config.metadata.name !== undefined && config.metadata.name !== request.name) {
      throw badRequest(`the name of the object (${String(config.metadata.name)}) does not match the name on the URL (${String(request.name)})`);
    }
    if (type.namespaced && config.metadata.namespace && config.metadata.namespace !== request.namespace) {
      throw badRequest(
        `the namespace of the provided object (${JSON.stringify(config.metadata.namespace)}) does not match the namespace sent on the request (${JSON.stringify(request.namespace)})`,
      );
    }
    // Defaults are the server's: they must not become the applier's fields.
    const applied = config;
    const warnings = this.#normalise(request, applied, false);
    const schema = this.managedSchema(type);
    const ignore = resetFilter(request.subresource, type.statusSubresource);
    const key = this.#keyOf(type, request.namespace, request.name ?? "");
    const entry = this.storage.get(type.storage, key);
    if (!entry) {
      if (request.subresource) throw notFound(this.#gr(type), request.name ?? "");
      const result = applyConfiguration([], undefined, stripServerFields(applied), schema, writer, { force, ignore });
      const object = result.object as KubeObject;
      object.apiVersion = apiVersionOf(type);
      object.kind = type.kind;
      object.metadata = { ...object.metadata, name: request.name ?? "" };
      const created = this.#create(request, object, result.managers);
      created.warnings.unshift(...warnings);
      return created;
    }
    const old = this.served(type, entry);
    if (config.metadata.resourceVersion && config.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(this.#gr(type), request.name ?? "", MODIFIED_CONFLICT);
    }
    const managers = decodeManagers(old.metadata.managedFields);
    const result = applyConfiguration(managers, old, stripServerFields(applied), schema, writer, { force, ignore });
    const outcome = this.#commitUpdate(request, entry, old, result.object as KubeObject, result.managers);
    outcome.warnings.unshift(...warnings);
    return outcome;
  }

  /** The common tail of PUT, PATCH and apply on an existing object. */
  #commitUpdate(
    request: ApiRequest,
    entry: StoredEntry,
    old: KubeObject,
    candidate: KubeObject,
    appliedManagers: Manager[] | undefined,
  ): WriteResult {
    const { type } = request;
    const dryRun = this.#dryRun(request);
    const writer = this.#writer(request);
    let next = structuredClone(candidate);
    const warnings = this.#normalise(request, next);
    const name = old.metadata.name ?? "";
    const meta = (next.metadata ??= {});
    if (meta.name !== undefined && meta.name !== name) {
      throw invalid({ group: type.group, kind: type.kind }, name, [
        { reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(meta.name)}: field is immutable`, field: "metadata.name" },
      ]);
    }
    if (type.namespaced && meta.namespace !== undefined && meta.namespace !== old.metadata.namespace) {
      throw invalid({ group: type.group, kind: type.kind }, name, [
        { reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(meta.namespace)}: field is immutable`, field: "metadata.namespace" },
      ]);
    }
    // Fields only the server sets.
    meta.name = name;
    if (type.namespaced) meta.namespace = old.metadata.namespace;
    else delete meta.namespace;
    for (const field of ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"] as const) {
      if (old.metadata[field] === undefined) delete meta[field];
      else (meta as Record<string, unknown>)[field] = old.metadata[field];
    }
    if (type.statusSubresource) {
      if (request.subresource === "status") {
        const status = next.status;
        next = structuredClone(old);
        if (status === undefined) delete next.status;
        else next.status = status;
      } else if (old.status === undefined) {
        delete next.status;
      } else {
        next.status = structuredClone(old.status);
      }
    }
    const nextMeta = next.metadata;
    this.#checkDecodable(type, next);
    type.hooks.prepare?.(next, old);
    if (type === customResourceDefinitions && isPlainObject(next.spec)) {
      next.status = establishedStatus(next as CustomResourceDefinition, timestamp(), old.status as Record<string, unknown> | undefined);
    }
    if (old.metadata.deletionTimestamp) {
      const before = new Set(old.metadata.finalizers ?? []);
      const added = (nextMeta.finalizers ?? []).filter((finalizer) => !before.has(finalizer));
      if (added.length) {
        throw invalid({ group: type.group, kind: type.kind }, name, [
          {
            reason: "FieldValueForbidden",
            message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
            field: "metadata.finalizers",
          },
        ]);
      }
    }
    if (type.generation && !sameContent(old, next)) nextMeta.generation = (old.metadata.generation ?? 0) + 1;

    const before = decodeManagers(old.metadata.managedFields);
    delete nextMeta.managedFields;
    const managers = appliedManagers ?? recordUpdate(before, old, next, this.managedSchema(type), writer);
    const encoded = encodeManagers(managers);
    if (encoded.length) nextMeta.managedFields = encoded;
    this.#validate(type, next, old);
    warnings.push(...this.#admit(request, "UPDATE", name, next, old));

    nextMeta.resourceVersion = old.metadata.resourceVersion;
    if (sameOwnership(managers, before) && sameObject(old, next)) {
      return { code: 200, body: old, warnings };
    }
    if (dryRun) return { code: 200, body: next, warnings };
    if (nextMeta.deletionTimestamp && pendingFinalizers(type, next) === 0) {
      const removed = this.storage.remove(type.storage, entry.key, toStored(type, next))!;
      this.onDeletionProgress?.();
      return { code: 200, body: this.served(type, removed), warnings };
    }
    const stored = this.storage.put(type.storage, entry.key, toStored(type, next));
    return { code: 200, body: this.served(type, stored), warnings };
  }

  /** DELETE of one object. */
  delete(request: ApiRequest, body: unknown): WriteResult {
    const { type } = request;
    if (request.subresource) throw methodNotAllowed("DELETE", this.#gr(type));
    const options = isPlainObject(body) ? body : {};
    const entry = this.#entry(request);
    const old = this.served(type, entry);
    const name = old.metadata.name ?? "";
    const preconditions = (options.preconditions ?? {}) as { uid?: string; resourceVersion?: string };
    if (preconditions.uid && preconditions.uid !== old.metadata.uid) {
      throw conflict(this.#gr(type), name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (preconditions.resourceVersion && preconditions.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(
        this.#gr(type),
        name,
        `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
      );
    }
    if (type === namespaces && SYSTEM_NAMESPACES.slice(0, 3).includes(name)) {
      throw forbidden(this.#gr(type), name, "this namespace may not be deleted");
    }
    const propagation = propagationPolicy(options.propagationPolicy, request.query);
    const dryRun = this.#dryRun(request) || (Array.isArray(options.dryRun) && options.dryRun.includes("All"));
    const warnings = this.#admit(request, "DELETE", name, null, old);
    if (dryRun) return { code: 200, body: type.returnDeletedObject ? old : successStatus(this.#gr(type), name, old.metadata.uid ?? ""), warnings };
    return { ...this.deleteEntry(type, entry, propagation), warnings };
  }

  /**
   * Deletes a stored object: with finalizers pending it only gets a
   * deletionTimestamp; otherwise it goes. Used by DELETE, namespace and CRD
   * cleanup and garbage collection.
   */
  deleteEntry(type: ResourceType, entry: StoredEntry, propagation = "Background"): Omit<WriteResult, "warnings"> {
    const old = this.served(type, entry);
    const name = old.metadata.name ?? "";
    this.onBeforeDelete?.(type, entry, propagation);
    if (old.metadata.deletionTimestamp) return { code: 200, body: old };
    if (pendingFinalizers(type, old) > 0) {
      const next = structuredClone(old);
      next.metadata.deletionTimestamp = timestamp();
      next.metadata.deletionGracePeriodSeconds = 0;
      if (type.generation) next.metadata.generation = (old.metadata.generation ?? 0) + 1;
      type.hooks.prepare?.(next, old);
      if (type === customResourceDefinitions) {
        next.status = establishedStatus(next as CustomResourceDefinition, timestamp(), old.status as Record<string, unknown>);
      }
      const stored = this.storage.put(type.storage, entry.key, toStored(type, next));
      this.onDeletionProgress?.();
      return { code: 200, body: this.served(type, stored) };
    }
    const removed = this.storage.remove(type.storage, entry.key, structuredClone(entry.object))!;
    this.onDeletionProgress?.();
    return {
      code: 200,
      body: type.returnDeletedObject ? this.served(type, removed) : successStatus(this.#gr(type), name, old.metadata.uid ?? ""),
    };
  }

  /** Called before an object is deleted, with the propagation policy; set by the garbage collector. */
  onBeforeDelete: ((type: ResourceType, entry: StoredEntry, propagation: string) => void) | undefined;

  /** DELETE of a collection: deletes every selected object. */
  deleteCollection(request: ApiRequest, body: unknown): WriteResult {
    const { type } = request;
    const selectors = this.selectors(request);
    const options = isPlainObject(body) ? body : {};
    const propagation = propagationPolicy(options.propagationPolicy, request.query);
    const items: unknown[] = [];
    const warnings: string[] = [];
    const dryRun = this.#dryRun(request);
    for (const entry of this.select(request, selectors)) {
      const object = this.served(type, entry);
      warnings.push(...this.#admit(request, "DELETE", object.metadata.name ?? "", null, object));
      if (dryRun) {
        items.push(object);
        continue;
      }
      const result = this.deleteEntry(type, entry, propagation);
      if (type.returnDeletedObject) items.push(result.body);
    }
    return {
      code: 200,
      body: { kind: type.listKind, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(this.storage.resourceVersion) }, items },
      warnings,
    };
  }

  /** Stores a system change to an object (no admission or field management), for the lifecycle controllers. */
  systemUpdate(type: ResourceType, entry: StoredEntry, change: (object: KubeObject) => void): void {
    const next = structuredClone(this.served(type, entry));
    change(next);
    if (next.metadata.deletionTimestamp && pendingFinalizers(type, next) === 0) {
      this.storage.remove(type.storage, entry.key, toStored(type, next));
      this.onDeletionProgress?.();
      return;
    }
    this.storage.put(type.storage, entry.key, toStored(type, next));
  }
}

/** Fields an apply configuration may not own: the server sets them. */
function stripServerFields(config: KubeObject): KubeObject {
  const metadata = { ...config.metadata };
  for (const field of ["uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"] as const) {
    delete metadata[field];
  }
  return { ...config, metadata };
}

/** How many finalizers still hold an object being deleted (a namespace's spec finalizers included). */
export function pendingFinalizers(type: ResourceType, object: KubeObject): number {
  let count = object.metadata.finalizers?.length ?? 0;
  if (type === namespaces) count += ((object.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).length;
  return count;
}

/** Whether two objects have the same content outside metadata and status (what bumps generation). */
function sameContent(a: KubeObject, b: KubeObject): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    if (key === "metadata" || key === "status" || key === "apiVersion" || key === "kind") continue;
    if (!jsonEqual(a[key], b[key])) return false;
  }
  return true;
}

/** Whether two versions of an object are equal apart from managedFields. */
function sameObject(a: KubeObject, b: KubeObject): boolean {
  const { managedFields: _a, ...metaA } = a.metadata;
  const { managedFields: _b, ...metaB } = b.metadata;
  if (!jsonEqual(metaA, metaB)) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    if (key === "metadata") continue;
    if (!jsonEqual(a[key], b[key])) return false;
  }
  return true;
}

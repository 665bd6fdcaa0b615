/**
 * The HTTP layer: routes Kubernetes API paths to the {@link ApiServer},
 * serves discovery, OpenAPI and health endpoints, negotiates Table and
 * metadata-only output,
 * reads bodies, writes JSON responses and `Warning` headers, and turns
 * errors into `metav1.Status` responses.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { parse as parseYaml } from "yaml";
import { type ApiRequest, type ApiServer, type WriteResult } from "./api-server.ts";
import type { UserInfo } from "./access-types.ts";
import type { Authenticator } from "./authentication.ts";
import type { RequestAttributes } from "./access-types.ts";
import { type Authorizer, forbiddenRequest, requestAttributes } from "./authorization.ts";
import { serviceAccounts } from "./builtin-access.ts";
import {
  AGGREGATED_DISCOVERY_TYPE,
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  versionInfo,
} from "./discovery.ts";
import type { OpenApiDocuments } from "./openapi.ts";
import { negotiate, type Presentation, presentList, presentObject } from "./presentation.ts";
import { decodeProtobufObject } from "./protobuf.ts";
import { queryBool, queryInt, validateWriteOptions } from "./query.ts";
import { PATCH_TYPES } from "./patch.ts";
import { apiVersionOf } from "./resource-type.ts";
import type { RequestStats, Verb } from "./stats.ts";
import {
  badRequest,
  internalError,
  methodNotAllowed,
  pathNotFound,
  requestEntityTooLarge,
  StatusError,
  unsupportedMediaType,
} from "./status.ts";
import { requestToken } from "./token-request.ts";
import type { WatchHub } from "./watch.ts";

/** The largest request body accepted, as etcd's default request limit. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** What the handler serves from. */
export interface HandlerContext {
  api: ApiServer;
  openapi: OpenApiDocuments;
  watches: WatchHub;
  stats: RequestStats;
  /** `host:port` as clients reach the server. */
  serverAddress(): string;
  authenticator: Authenticator;
  authorizer: Authorizer;
  /** Called for every request that authorization allowed, with who made it and what it asked. */
  onAuthorized?(user: UserInfo, attributes: RequestAttributes): void;
}

function sendJson(response: ServerResponse, code: number, body: string, contentType = "application/json", warnings: string[] = []): void {
  const headers: Record<string, string | string[]> = {
    "Content-Type": contentType,
    "Content-Length": String(Buffer.byteLength(body)),
    "Cache-Control": "no-cache, private",
  };
  if (warnings.length) headers.Warning = warnings.map((warning) => `299 - ${JSON.stringify(warning)}`);
  response.writeHead(code, headers);
  response.end(body);
}

function sendStatus(response: ServerResponse, error: StatusError): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  sendJson(response, error.code, JSON.stringify(error.status));
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(requestEntityTooLarge(MAX_BODY_BYTES));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

const PROTOBUF = "application/vnd.kubernetes.protobuf";

/** Parses a create, update or delete body: JSON, YAML, or protobuf for a few built-ins. Anything else is a 415. */
function parseObjectBody(body: Buffer, contentType: string, allowProtobuf = true): unknown {
  const mediaType = contentType.split(";")[0]!.trim().toLowerCase();
  if (mediaType === PROTOBUF) {
    if (!allowProtobuf) return undefined;
    return decodeProtobufObject(body);
  }
  const raw = body.toString("utf8");
  if (raw.trim() === "") return undefined;
  if (mediaType === "" || mediaType === "application/json" || mediaType === "*/*") {
    try {
      return JSON.parse(raw);
    } catch (error) {
      throw badRequest(`the request body is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (mediaType === "application/yaml") {
    try {
      return parseYaml(raw);
    } catch (error) {
      throw badRequest(`the request body is not valid YAML: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  throw unsupportedMediaType(mediaType, ["application/json", "application/yaml", `${PROTOBUF} (Namespace, Secret, ConfigMap and the kinds of kubectl create token and kubectl auth only)`]);
}

/** A decoded resource path. */
interface ResourcePath {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource: string;
  legacyWatch: boolean;
}

function decodeResourcePath(segments: string[], group: string, version: string): ResourcePath | undefined {
  let rest = segments;
  let legacyWatch = false;
  if (rest[0] === "watch") {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  if (rest.length === 0) return undefined;
  let namespace: string | undefined;
  const namespaceSubresource = group === "" && rest[0] === "namespaces" && rest.length === 3 && (rest[2] === "status" || rest[2] === "finalize");
  if (rest[0] === "namespaces" && rest.length >= 3 && !namespaceSubresource) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length > 3) return undefined;
  const [resource, name, subresource] = rest;
  return {
    group,
    version,
    ...(namespace !== undefined ? { namespace } : {}),
    resource: resource!,
    ...(name !== undefined ? { name } : {}),
    subresource: subresource ?? "",
    legacyWatch,
  };
}

/** Creates the request listener of the emulator's HTTP server. */
export function createRequestHandler(context: HandlerContext): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    handle(context, request, response).catch((error: unknown) => {
      sendStatus(response, error instanceof StatusError ? error : internalError((error as Error)?.message ?? String(error)));
    });
  };
}

async function handle(context: HandlerContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = request.url ?? "/";
  const queryStart = url.indexOf("?");
  const rawPath = queryStart < 0 ? url : url.slice(0, queryStart);
  let pathname: string;
  try {
    pathname = decodeURIComponent(rawPath);
  } catch {
    throw badRequest(`the request path ${JSON.stringify(rawPath)} is not validly percent-encoded`);
  }
  const query = new URLSearchParams(queryStart < 0 ? "" : url.slice(queryStart + 1));
  const segments = pathname.split("/").filter((segment) => segment !== "");
  const method = request.method ?? "GET";
  const accept = request.headers.accept;
  const { api, stats } = context;
  // As kube-apiserver: authenticate, then authorize, then serve (a 403 comes before a 404).
  const user = context.authenticator.authenticate(request.headers.authorization);
  const attributes = requestAttributes(method, segments, query, pathname);
  const decision = context.authorizer.authorize(user, attributes);
  if (!decision.allowed) {
    stats.recordOther();
    throw forbiddenRequest(user, attributes, decision.reason);
  }
  context.onAuthorized?.(user, attributes);

  if (segments[0] !== "api" && segments[0] !== "apis") {
    stats.recordOther();
    return serveNonResource(context, segments, pathname, method, response);
  }
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === "api") {
    if (segments.length === 1) {
      stats.recordOther();
      if (accept?.includes("as=APIGroupDiscoveryList")) {
        return sendJson(response, 200, JSON.stringify(aggregatedDiscovery(api.registry, true)), AGGREGATED_DISCOVERY_TYPE);
      }
      return sendJson(response, 200, JSON.stringify(apiVersions(context.serverAddress())));
    }
    group = "";
    version = segments[1]!;
    rest = segments.slice(2);
  } else {
    if (segments.length === 1) {
      stats.recordOther();
      if (accept?.includes("as=APIGroupDiscoveryList")) {
        return sendJson(response, 200, JSON.stringify(aggregatedDiscovery(api.registry, false)), AGGREGATED_DISCOVERY_TYPE);
      }
      return sendJson(response, 200, JSON.stringify(apiGroupList(api.registry)));
    }
    if (segments.length === 2) {
      stats.recordOther();
      const body = apiGroup(api.registry, segments[1]!);
      if (!body) throw pathNotFound(pathname);
      return sendJson(response, 200, JSON.stringify(body));
    }
    group = segments[1]!;
    version = segments[2]!;
    rest = segments.slice(3);
  }
  if (rest.length === 0) {
    stats.recordOther();
    const body = apiResourceList(api.registry, group, version);
    if (!body) throw pathNotFound(pathname);
    return sendJson(response, 200, JSON.stringify(body));
  }
  const path = decodeResourcePath(rest, group, version);
  const type = path && api.registry.lookup(group, version, path.resource);
  if (!path || !type) {
    stats.recordOther();
    throw pathNotFound(pathname);
  }
  if (path.namespace !== undefined && !type.namespaced) {
    stats.recordOther();
    throw pathNotFound(pathname);
  }
  if (type === serviceAccounts && path.subresource === "token" && path.name !== undefined && path.namespace !== undefined) {
    if (method !== "POST") {
      stats.recordOther();
      throw methodNotAllowed(method, { group, resource: "serviceaccounts/token" });
    }
    stats.record("create", group, type.resource, path.subresource);
    const raw = await readBody(request);
    const body = requestToken(api.storage, context.authenticator, path.namespace, path.name, parseObjectBody(raw, request.headers["content-type"] ?? ""));
    return sendJson(response, 201, JSON.stringify(body));
  }
  if (type.review) {
    if (method !== "POST" || path.name !== undefined || path.subresource) {
      stats.recordOther();
      throw methodNotAllowed(method, { group, resource: type.resource });
    }
    stats.record("create", group, type.resource, "");
    const raw = await readBody(request);
    const body = parseObjectBody(raw, request.headers["content-type"] ?? "");
    if (body === null || typeof body !== "object" || Array.isArray(body)) throw badRequest(`the request body must be a ${type.kind} object, got ${JSON.stringify(body)}`);
    const review = type.review(body as never, { user, authorize: (asked) => context.authorizer.authorize(user, asked), rulesFor: (namespace) => context.authorizer.rulesFor(user, namespace) });
    return sendJson(response, 201, JSON.stringify(review));
  }
  if (path.subresource && !(path.subresource === "status" && type.statusSubresource)) {
    stats.recordOther();
    throw pathNotFound(pathname);
  }
  const apiRequest: ApiRequest = {
    type,
    ...(path.namespace !== undefined ? { namespace: path.namespace } : {}),
    ...(path.name !== undefined ? { name: path.name } : {}),
    subresource: path.subresource,
    query,
    userAgent: request.headers["user-agent"] ?? "",
  };
  const isWatch = path.legacyWatch || queryBool(query, "watch");
  const verb = verbOf(method, path.name !== undefined, isWatch);
  if (!verb) {
    stats.recordOther();
    throw methodNotAllowed(method, { group, resource: type.resource });
  }
  stats.record(verb, group, type.resource, path.subresource);
  const needsName = verb === "get" || verb === "update" || verb === "patch" || verb === "delete";
  if (type.namespaced && path.namespace === undefined && (needsName || verb === "create")) {
    throw pathNotFound(pathname);
  }
  const presentation = negotiate(accept, query);

  switch (verb) {
    case "get": {
      const entry = api.get(apiRequest);
      if (presentation) return sendJson(response, 200, JSON.stringify(presentObject(presentation, type, api.served(type, entry))));
      return sendJson(response, 200, api.servedJson(type, entry));
    }
    case "list":
      return sendList(context, response, apiRequest, presentation);
    case "watch":
      context.watches.serve(response, apiRequest, presentation);
      return;
    case "create": {
      validateWriteOptions(query, "CreateOptions");
      const raw = await readBody(request);
      return sendWrite(response, api.create(apiRequest, parseObjectBody(raw, request.headers["content-type"] ?? "")));
    }
    case "update": {
      validateWriteOptions(query, "UpdateOptions");
      const raw = await readBody(request);
      return sendWrite(response, api.update(apiRequest, parseObjectBody(raw, request.headers["content-type"] ?? "")));
    }
    case "patch": {
      const patchType = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
      validateWriteOptions(query, "PatchOptions", patchType === PATCH_TYPES.apply);
      const raw = await readBody(request);
      return sendWrite(response, api.patch(apiRequest, request.headers["content-type"] ?? "", raw.toString("utf8")));
    }
    case "delete": {
      const raw = await readBody(request);
      if (raw.length === 0) validateDeleteQuery(query);
      return sendWrite(response, api.delete(apiRequest, parseObjectBody(raw, request.headers["content-type"] ?? "", false)));
    }
    case "deletecollection": {
      const raw = await readBody(request);
      if (raw.length === 0) validateDeleteQuery(query);
      return sendWrite(response, api.deleteCollection(apiRequest, parseObjectBody(raw, request.headers["content-type"] ?? "", false)));
    }
  }
}

/** DeleteOptions from the query, which kube-apiserver reads when a DELETE has no body. */
function validateDeleteQuery(query: URLSearchParams): void {
  queryInt(query, "gracePeriodSeconds");
  queryBool(query, "orphanDependents");
  validateWriteOptions(query, "DeleteOptions");
}

function verbOf(method: string, named: boolean, watch: boolean): Verb | undefined {
  switch (method) {
    case "GET":
      if (watch) return "watch";
      return named ? "get" : "list";
    case "POST":
      return named ? undefined : "create";
    case "PUT":
      return named ? "update" : undefined;
    case "PATCH":
      return named ? "patch" : undefined;
    case "DELETE":
      return named ? "delete" : "deletecollection";
    default:
      return undefined;
  }
}

function sendWrite(response: ServerResponse, result: WriteResult): void {
  sendJson(response, result.code, JSON.stringify(result.body), "application/json", result.warnings);
}

function sendList(context: HandlerContext, response: ServerResponse, request: ApiRequest, presentation: Presentation | undefined): void {
  const { api } = context;
  const { type } = request;
  const result = api.list(request);
  const metadata: Record<string, unknown> = { resourceVersion: String(result.resourceVersion) };
  if (result.continueToken) metadata.continue = result.continueToken;
  if (result.remainingItemCount !== undefined) metadata.remainingItemCount = result.remainingItemCount;
  if (presentation) {
    const body = presentList(presentation, type, result.entries.map((entry) => api.served(type, entry)), metadata);
    return sendJson(response, 200, JSON.stringify(body));
  }
  const head = `{"kind":${JSON.stringify(type.listKind)},"apiVersion":${JSON.stringify(apiVersionOf(type))},"metadata":${JSON.stringify(metadata)},"items":[`;
  const items = result.entries.map((entry) => api.servedJson(type, entry));
  const body = `${head}${items.join(",")}]}`;
  sendJson(response, 200, body);
}

function serveNonResource(context: HandlerContext, segments: string[], pathname: string, method: string, response: ServerResponse): void {
  if (method !== "GET" && method !== "HEAD") throw methodNotAllowed(method, { group: "", resource: pathname });
  const [first, second, ...rest] = segments;
  if (segments.length === 0) {
    const paths = ["/api", "/api/v1", "/apis", ...context.api.registry.groups().flatMap((g) => [`/apis/${g.name}`, ...g.versions.map((v) => `/apis/${g.name}/${v}`)]), "/healthz", "/livez", "/openapi/v3", "/readyz", "/version"];
    return sendJson(response, 200, JSON.stringify({ paths }));
  }
  if (first === "healthz" || first === "livez" || first === "readyz") {
    response.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" });
    response.end("ok");
    return;
  }
  if (first === "version" && segments.length === 1) return sendJson(response, 200, JSON.stringify(versionInfo()));
  if (first === "openapi" && second === "v3") {
    if (rest.length === 0) return sendJson(response, 200, JSON.stringify(context.openapi.root()));
    const document = context.openapi.document(rest.join("/"));
    if (document) return sendJson(response, 200, document);
  }
  throw pathNotFound(pathname);
}

/**
 * A BMC made of a static Redfish resource tree (`<folder>/<path under
 * /redfish/v1>/index.json`, as in `../shared/redfish-vendor-trees/`), served
 * over real HTTP on 127.0.0.1: GET answers the files (a file holding a
 * top-level `error` is answered with status 404, as the real BMC did), PATCH
 * merges into an in-memory copy (the files are never written), and the
 * EventService's Subscriptions collection takes POST and DELETE. How a PATCH
 * or a create is answered, and whether ETags are sent, follow the vendor's
 * documented behaviour (`SOURCES.md` of the trees); every request is logged.
 *
 * ```ts
 * const bmc = await startStaticTree("../shared/redfish-vendor-trees/openbmc", STATIC_TREE_STYLES.openbmc);
 * bmc.resource("/redfish/v1/Systems/system")?.LocationIndicatorActive;
 * await bmc.close();
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { REPO_ROOT } from "./module-imports.ts";

/** Where the vendor trees live: `../shared/redfish-vendor-trees` from the repository root. */
export const VENDOR_TREES = join(REPO_ROOT, "..", "shared", "redfish-vendor-trees");

/** How a vendor's BMC answers writes. */
export interface StaticTreeStyle {
  /** The answer to a successful PATCH. */
  patch: "200-error-envelope" | "200-extended-info" | "200-success" | "204";
  /** Whether resources carry ETags (and `If-Match` is checked). */
  etags: boolean;
  /** Member links end with `/` (iLO). */
  trailingSlash?: boolean;
}

/** The documented write behaviour of each tree's vendor (see the trees' `SOURCES.md`). */
export const STATIC_TREE_STYLES: Record<string, StaticTreeStyle> = {
  "hpe-ilo5": { patch: "200-error-envelope", etags: true, trailingSlash: true },
  "dell-idrac8": { patch: "200-extended-info", etags: true },
  supermicro: { patch: "200-success", etags: true },
  openbmc: { patch: "204", etags: true },
  gigabyte: { patch: "204", etags: true },
  intel: { patch: "204", etags: false },
};

/** One request as the BMC saw it. */
export interface StaticTreeRequest {
  method: string;
  path: string;
  ifMatch: string | undefined;
  body: any;
}

/** A running static-tree BMC. */
export interface StaticTreeBmc {
  /** `redfish+http://127.0.0.1:PORT`. */
  address: string;
  username: string;
  password: string;
  log: StaticTreeRequest[];
  /** The resource at `path` as the BMC holds it now (trailing slashes aside). */
  resource(path: string): Record<string, unknown> | undefined;
  /** The subscriptions' paths as the collection lists them. */
  subscriptionPaths(): string[];
  close(): Promise<void>;
}

/** The key of a path: without trailing slashes. */
function keyOf(path: string): string {
  return path.replace(/\/+$/, "") || "/";
}

/** Reads every `index.json` under `folder`, by resource path. */
function readTree(folder: string): Map<string, Record<string, unknown>> {
  const resources = new Map<string, Record<string, unknown>>();
  const walk = (dir: string, path: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name), `${path}/${entry.name}`);
      else if (entry.name === "index.json") resources.set(keyOf(path), JSON.parse(readFileSync(join(dir, entry.name), "utf8")));
    }
  };
  walk(folder, "/redfish/v1");
  return resources;
}

/** Starts a BMC serving the tree in `folder` on a free port of 127.0.0.1. */
export async function startStaticTree(folder: string, style: StaticTreeStyle): Promise<StaticTreeBmc> {
  if (!existsSync(join(folder, "index.json"))) throw new Error(`${folder} holds no Redfish tree (no index.json)`);
  const resources = readTree(folder);
  const username = "admin";
  const password = "static-tree-9c2e";
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  const log: StaticTreeRequest[] = [];
  const eventService = resources.get("/redfish/v1/EventService");
  const collectionPath = keyOf(String((eventService?.Subscriptions as { "@odata.id"?: string } | undefined)?.["@odata.id"] ?? ""));
  let nextId = 1 + Math.max(0, ...[...resources.keys()].map((p) => Number(p.slice(collectionPath.length + 1))).filter(Number.isInteger));

  const etagOf = (body: unknown): string => `"${createHash("sha256").update(JSON.stringify(body)).digest("base64url").slice(0, 12)}"`;
  const error = (status: number, id: string, message: string): [number, unknown, Record<string, string>] => [
    status,
    { error: { code: `Base.1.8.${id}`, message, "@Message.ExtendedInfo": [{ MessageId: `Base.1.8.${id}`, Message: message }] } },
    {},
  ];
  const ok = (status: number, body: Record<string, unknown>): [number, unknown, Record<string, string>] => [
    status,
    body,
    style.etags ? { etag: etagOf(body) } : {},
  ];
  const success = (body: Record<string, unknown>): [number, unknown, Record<string, string>] => {
    const headers: Record<string, string> = style.etags ? { etag: etagOf(body) } : {};
    switch (style.patch) {
      case "204":
        return [204, undefined, headers];
      case "200-error-envelope":
        return [200, { error: { code: "iLO.0.10.ExtendedInfo", message: "See @Message.ExtendedInfo for more information.", "@Message.ExtendedInfo": [{ MessageId: "Base.1.4.Success" }] } }, headers];
      case "200-extended-info":
        return [200, { "@Message.ExtendedInfo": [{ MessageId: "Base.1.0.Success", Message: "Successfully Completed Request", Severity: "OK" }] }, headers];
      case "200-success":
        return [200, { Success: { code: "Base.v1_4_0.Success", Message: "Successfully Completed Request." } }, headers];
    }
  };

  const handle = (req: StaticTreeRequest, authorization: string | undefined): [number, unknown, Record<string, string>] => {
    const key = keyOf(req.path);
    if (key !== "/redfish/v1" && authorization !== expected) return error(401, "InsufficientPrivilege", "Invalid credentials.");
    if (key === collectionPath && req.method === "POST") {
      const id = String(nextId++);
      const path = `${collectionPath}/${id}${style.trailingSlash ? "/" : ""}`;
      const body = { "@odata.id": path, Id: id, Name: `Subscription ${id}`, ...req.body };
      resources.set(keyOf(path), body);
      const collection = resources.get(collectionPath)!;
      collection.Members = [...((collection.Members as unknown[]) ?? []), { "@odata.id": path }];
      collection["Members@odata.count"] = (collection.Members as unknown[]).length;
      const answer: Record<string, unknown> =
        style.patch === "200-error-envelope"
          ? { error: { code: "iLO.0.10.ExtendedInfo", "@Message.ExtendedInfo": [{ MessageId: "Base.1.4.Created" }] } }
          : body;
      return [201, answer, { location: path }];
    }
    const resource = resources.get(key);
    if (resource === undefined || "error" in resource) {
      return resource === undefined ? error(404, "ResourceMissingAtURI", `No resource at ${req.path}.`) : [404, resource, {}];
    }
    if (req.method === "GET") return ok(200, resource);
    if (req.method === "PATCH") {
      if (style.etags && req.ifMatch !== undefined && req.ifMatch !== etagOf(resource)) {
        return error(412, "PreconditionFailed", "The ETag does not match.");
      }
      Object.assign(resource, req.body);
      return success(resource);
    }
    if (req.method === "DELETE" && key.startsWith(`${collectionPath}/`)) {
      resources.delete(key);
      const collection = resources.get(collectionPath)!;
      collection.Members = ((collection.Members as { "@odata.id": string }[]) ?? []).filter((m) => keyOf(m["@odata.id"]) !== key);
      collection["Members@odata.count"] = (collection.Members as unknown[]).length;
      return [204, undefined, {}];
    }
    return error(405, "OperationNotAllowed", `${req.method} is not allowed on ${req.path}.`);
  };

  const server = createServer((request: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const logged: StaticTreeRequest = {
        method: request.method ?? "",
        path: decodeURIComponent((request.url ?? "").split("?")[0]!),
        ifMatch: request.headers["if-match"],
        body: text === "" ? undefined : JSON.parse(text),
      };
      log.push(logged);
      const [status, body, headers] = handle(logged, request.headers.authorization);
      const out = body === undefined ? "" : JSON.stringify(body);
      res.writeHead(status, body === undefined ? headers : { ...headers, "content-type": "application/json" }).end(out);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `redfish+http://127.0.0.1:${port}`,
    username,
    password,
    log,
    resource: (path) => resources.get(keyOf(path)),
    subscriptionPaths: () => ((resources.get(collectionPath)?.Members as { "@odata.id": string }[] | undefined) ?? []).map((m) => m["@odata.id"]),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

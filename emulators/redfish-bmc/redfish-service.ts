/**
 * The Redfish service of one emulated BMC, independent of the HTTP server:
 * authentication (HTTP Basic and `X-Auth-Token` sessions), routing, `ETag`
 * and `If-Match`, PATCH validation, actions, and subscriptions. It takes a
 * parsed request and returns a response to write.
 *
 * @module
 */
import type { IncomingHttpHeaders } from "node:http";
import type { DriveLinkQuirks } from "./bmc-settings.ts";
import type { EventService } from "./event-service.ts";
import { LED_STATES, allDrives } from "./hardware.ts";
import type { Hardware, LedState } from "./hardware.ts";
import type { Lights } from "./lights.ts";
import type { Machine } from "./machine.ts";
import { RedfishError, badRequest, baseMessages, notFound } from "./redfish-errors.ts";
import type { RedfishMessage } from "./redfish-errors.ts";
import * as render from "./resources.ts";
import type { SessionStore } from "./sessions.ts";
import { DELIVERY_RETRY_POLICIES, parseSubscriptionRequest, renderSubscription } from "./subscriptions.ts";
import type { DeliveryRetryPolicy } from "./subscriptions.ts";
import { TestEventError, validateTestEvent } from "./test-event.ts";
import { createdAnswer, etagListIncludes, patchAnswer, shapedPath, shapedResource } from "./vendor-answers.ts";
import { lightStateFor, lightActive } from "./vendor-profile.ts";
import type { LightModel, ResourceShape, VendorProfile } from "./vendor-profile.ts";

/** The parts of one BMC the Redfish service reads and changes. */
export interface RedfishBackend {
  /** The hardware the resources describe; its profile says how this vendor's BMC serves them. */
  hardware: Hardware;
  /** Drive link faults of the Storage resources (repeated and dead links). */
  driveLinkQuirks?: DriveLinkQuirks;
  /** Whether the System links a `SimpleStorage` collection. */
  simpleStorage: boolean;
  /** Refuse `EventTypes` in a subscription create request, as OpenBMC does (see subscriptions.ts). */
  refuseEventTypes?: boolean;
  /** `false`: no `ResumeSubscription` action on subscriptions (not shown, its POST answered 404), as BMCs without it. */
  resumeSubscription?: boolean;
  sessions: SessionStore;
  lights: Lights;
  machine: Machine;
  events: EventService;
  /** Resets the BMC (`Manager.Reset`); called once its response is sent. */
  resetBmc(): void;
}

/** A request as the service sees it. */
export interface ServiceRequest {
  method: string;
  /** The path without the query, as sent. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The raw body; empty when there was none. */
  body: Buffer;
}

/** A response for the HTTP layer to write. */
export interface ServiceResponse {
  status: number;
  headers: Record<string, string>;
  /** The body, serialized, with its `Content-Type` in `headers`. */
  body?: string;
  /** Runs once the response is sent (a Manager reset happens after its 204). */
  afterSend?: () => void;
}

/** The handler of one method on one route. */
type Handler = (request: ParsedRequest, params: string[]) => ServiceResponse;

interface ParsedRequest extends ServiceRequest {
  /** The parsed JSON body; undefined when there was none. */
  json: unknown;
}

interface Route {
  /** Path segments; `*` matches one segment, whose value goes to the handler. */
  segments: string[];
  methods: Partial<Record<"GET" | "PATCH" | "POST" | "DELETE", Handler>>;
  /** The methods served without credentials. */
  public?: ("GET" | "POST")[];
}

/** A JSON response, serialized once, with an `ETag` header when one is given. */
function json(status: number, body: unknown, headers: Record<string, string> = {}, etag?: string): ServiceResponse {
  const all: Record<string, string> = { ...headers, "Content-Type": "application/json; charset=utf-8" };
  if (etag !== undefined) all.ETag = etag;
  return { status, headers: all, body: JSON.stringify(body) };
}

/** A resource as the vendor serves it: shaped, with its ETag (serialized once). */
function shapedJson(status: number, shape: ResourceShape, body: unknown, headers: Record<string, string> = {}): ServiceResponse {
  const shaped = shapedResource(shape, body);
  const all: Record<string, string> = { ...headers, "Content-Type": "application/json; charset=utf-8" };
  if (shaped.etag !== undefined) all.ETag = shaped.etag;
  return { status, headers: all, body: shaped.text };
}

/**
 * Throws a 412 unless `If-Match` is absent, `*` or lists the current ETag
 * (as served); a 428 when the vendor requires it and it is absent. A vendor
 * without ETags does not check it.
 */
function checkIfMatch(request: ParsedRequest, shape: ResourceShape, current: unknown): void {
  const ifMatch = request.headers["if-match"];
  if (ifMatch === undefined) {
    if (shape.requireIfMatch) throw new RedfishError(428, [baseMessages.preconditionRequired()]);
    return;
  }
  const etag = shapedResource(shape, current).etag;
  if (etag === undefined) return;
  if (!etagListIncludes(ifMatch, etag)) {
    throw new RedfishError(412, [baseMessages.preconditionFailed(ifMatch)]);
  }
}

function requireObject(body: unknown, what: string): Record<string, unknown> {
  if (body === undefined) throw badRequest(baseMessages.malformedJSON(`${what} needs a JSON object body, and none was sent`));
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest(baseMessages.malformedJSON(`${what} needs a JSON object body, got ${Array.isArray(body) ? "an array" : typeof body}`));
  }
  return body as Record<string, unknown>;
}

/**
 * Rejects properties that are neither writable nor annotations: read-only ones
 * the resource has, and unknown ones (with the vendor's one message for both, if it has one).
 */
function rejectOthers(
  body: Record<string, unknown>,
  writable: readonly string[],
  current: Record<string, unknown>,
  errors: RedfishMessage[],
  refused?: (property: string) => RedfishMessage,
): void {
  for (const key of Object.keys(body)) {
    if (writable.includes(key) || key.startsWith("@odata.")) continue;
    if (refused) errors.push(refused(key));
    else errors.push(key in current ? baseMessages.propertyNotWritable(key) : baseMessages.propertyUnknown(key));
  }
}

/**
 * Validates the light properties of a PATCH body and returns the light state
 * they ask for, or undefined when they name no light property. `model` says
 * what `LocationIndicatorActive` means on this vendor's light.
 */
function requestedLed(body: Record<string, unknown>, model: LightModel, current: LedState, errors: RedfishMessage[]): LedState | undefined {
  const led = body.IndicatorLED;
  const active = body.LocationIndicatorActive;
  let fromLed: LedState | undefined;
  if (led !== undefined) {
    if (typeof led === "string" && LED_STATES.includes(led as LedState)) fromLed = led as LedState;
    else if (typeof led === "string" || led === null) errors.push(baseMessages.propertyValueNotInList("IndicatorLED", led));
    else errors.push(baseMessages.propertyValueTypeError("IndicatorLED", led));
  }
  if (active !== undefined && typeof active !== "boolean") {
    errors.push(baseMessages.propertyValueTypeError("LocationIndicatorActive", active));
    return undefined;
  }
  if (fromLed !== undefined && typeof active === "boolean" && active !== lightActive(model, fromLed)) {
    errors.push(baseMessages.propertyValueConflict("LocationIndicatorActive", "IndicatorLED"));
    return undefined;
  }
  if (fromLed !== undefined) return fromLed;
  if (typeof active === "boolean") return lightStateFor(model, active, current);
  return undefined;
}

/** The light properties a PATCH may write on a resource with this light. */
function writableLight(model: LightModel): readonly string[] {
  return model.writableAt === "self" ? model.properties : [];
}

const BOOT_VALUES: Record<string, readonly string[]> = {
  BootSourceOverrideTarget: ["None", "Pxe", "Hdd", "Cd", "BiosSetup", "UefiHttp"],
  BootSourceOverrideEnabled: ["Disabled", "Once", "Continuous"],
  BootSourceOverrideMode: ["Legacy", "UEFI"],
};

/** The Redfish service of one BMC. */
export class RedfishService {
  readonly #bmc: RedfishBackend;
  readonly #routes: Route[];

  constructor(bmc: RedfishBackend) {
    this.#bmc = bmc;
    this.#routes = this.#buildRoutes();
  }

  /** How this vendor shapes its resources. */
  get #shape(): ResourceShape {
    return this.#bmc.hardware.profile.shape;
  }

  get #profile(): VendorProfile {
    return this.#bmc.hardware.profile;
  }

  /**
   * A GET response in the vendor's shape with its ETag (if the vendor sends
   * one) and the `Link` to its JSON schema (`rel=describedby`, DSP0266); a
   * 304 when `If-None-Match` names the ETag.
   */
  #resource(request: ParsedRequest, body: unknown): ServiceResponse {
    const schema = describedBy(body);
    const link: Record<string, string> = schema === undefined ? {} : { Link: `<${schema}>; rel=describedby` };
    const response = shapedJson(200, this.#shape, body, link);
    const etag = response.headers.ETag;
    const ifNoneMatch = request.headers["if-none-match"];
    if (etag !== undefined && ifNoneMatch !== undefined && etagListIncludes(ifNoneMatch, etag)) {
      return { status: 304, headers: { ETag: etag, ...link } };
    }
    return response;
  }

  /** Serves one request; never throws. */
  handle(request: ServiceRequest): ServiceResponse {
    try {
      return this.#handle(request);
    } catch (error) {
      if (error instanceof RedfishError) {
        return json(error.status, error.body(), error.headers);
      }
      return json(500, new RedfishError(500, [baseMessages.internalError()]).body());
    }
  }

  #handle(request: ServiceRequest): ServiceResponse {
    // DSP0266: a request for an OData version the service does not support is refused with 412.
    const odataVersion = request.headers["odata-version"];
    if (odataVersion !== undefined && String(odataVersion).trim() !== "4.0") {
      throw new RedfishError(412, [
        baseMessages.generalError(`The OData-Version ${JSON.stringify(odataVersion)} is not supported; this service supports 4.0.`),
      ]);
    }
    const segments = normalizedSegments(request.path);
    const route = this.#routes.find((r) => matchSegments(r.segments, segments) !== undefined);
    const method = request.method === "HEAD" ? "GET" : request.method;
    const isPublic = route?.public?.includes(method as "GET" | "POST") === true;
    if (!isPublic) this.#authenticate(request);
    for (const key of request.query.keys()) {
      if (key.startsWith("$")) throw new RedfishError(501, [baseMessages.queryNotSupported(key)]);
    }
    if (!route) throw notFound(request.path);
    const allowed = Object.keys(route.methods).flatMap((m) => (m === "GET" ? ["GET", "HEAD"] : [m]));
    const handler = route.methods[method as keyof Route["methods"]];
    if (!handler) {
      throw new RedfishError(405, [baseMessages.operationNotAllowed(request.method, request.path, allowed)], {
        Allow: allowed.join(", "),
      });
    }
    let parsed: unknown;
    if (request.body.length > 0) {
      try {
        parsed = JSON.parse(request.body.toString("utf8"));
      } catch (error) {
        throw badRequest(baseMessages.malformedJSON((error as Error).message));
      }
    }
    const response = handler({ ...request, json: parsed }, matchSegments(route.segments, segments)!);
    // DSP0266: GET and HEAD say which methods the resource allows.
    if (method === "GET") response.headers.Allow = allowed.join(", ");
    return response;
  }

  #authenticate(request: ServiceRequest): void {
    const bmc = this.#bmc;
    const token = request.headers["x-auth-token"];
    if (typeof token === "string" && token !== "") {
      if (bmc.sessions.byToken(token)) return;
      throw new RedfishError(401, [baseMessages.resourceAtUriUnauthorized(request.path, "the X-Auth-Token names no live session")]);
    }
    const authorization = request.headers.authorization;
    if (typeof authorization === "string" && /^basic /i.test(authorization)) {
      const decoded = Buffer.from(authorization.slice(6).trim(), "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon >= 0 && bmc.sessions.credentialsMatch(decoded.slice(0, colon), decoded.slice(colon + 1))) return;
      throw new RedfishError(
        401,
        [baseMessages.resourceAtUriUnauthorized(request.path, "the user name or password is wrong")],
        { "WWW-Authenticate": 'Basic realm="Redfish BMC emulator"' },
      );
    }
    throw new RedfishError(401, [baseMessages.noValidSession()], {
      "WWW-Authenticate": 'Basic realm="Redfish BMC emulator"',
    });
  }

  #buildRoutes(): Route[] {
    const bmc = this.#bmc;
    const hw = bmc.hardware;
    const paths = render.resourcePaths(hw);
    const seg = (path: string) => normalizedSegments(path);
    const routes: Route[] = [
      { segments: seg("/redfish"), public: ["GET"], methods: { GET: (r) => this.#resource(r, render.versions()) } },
      { segments: seg("/redfish/v1"), public: ["GET"], methods: { GET: (r) => this.#resource(r, render.serviceRoot(hw)) } },
      { segments: seg("/redfish/v1/odata"), public: ["GET"], methods: { GET: (r) => this.#resource(r, render.odataServiceDocument()) } },
      {
        segments: seg("/redfish/v1/$metadata"),
        public: ["GET"],
        methods: {
          GET: () => ({ status: 200, headers: { "Content-Type": "application/xml" }, body: render.metadataDocument() }),
        },
      },
      {
        segments: seg("/redfish/v1/Systems"),
        methods: {
          GET: (r) => this.#resource(r, render.collection("ComputerSystemCollection", "/redfish/v1/Systems", "Computer System Collection", [paths.system])),
        },
      },
      {
        segments: seg(paths.system),
        methods: {
          GET: (r) => this.#resource(r, render.computerSystem(hw, bmc.simpleStorage)),
          PATCH: (r) => this.#patchSystem(r),
        },
      },
      {
        segments: seg(`${paths.system}/Actions/ComputerSystem.Reset`),
        methods: { POST: (r) => this.#systemReset(r) },
      },
      {
        segments: seg(paths.storageCollection),
        methods: {
          GET: (r) =>
            this.#resource(
              r,
              render.collection(
                "StorageCollection",
                paths.storageCollection,
                "Storage Collection",
                hw.storage.map((s) => `${paths.storageCollection}/${s.id}`),
              ),
            ),
        },
      },
      {
        segments: [...seg(paths.storageCollection), "*"],
        methods: { GET: (r, [id]) => this.#resource(r, render.storage(hw, this.#storage(r, id!), bmc.driveLinkQuirks)) },
      },
      ...this.#driveRoutes(),
      {
        segments: seg(paths.chassis),
        methods: { GET: (r) => this.#resource(r, render.chassis(hw)), PATCH: (r) => this.#patchChassis(r) },
      },
      {
        segments: seg("/redfish/v1/Chassis"),
        methods: {
          GET: (r) =>
            this.#resource(
              r,
              render.collection("ChassisCollection", "/redfish/v1/Chassis", "Chassis Collection", [
                paths.chassis,
                ...(paths.drivesChassis === undefined ? [] : [paths.drivesChassis]),
              ]),
            ),
        },
      },
      { segments: seg(paths.thermal), methods: { GET: (r) => this.#resource(r, render.thermal(hw)) } },
      {
        segments: seg("/redfish/v1/Managers"),
        methods: {
          GET: (r) => this.#resource(r, render.collection("ManagerCollection", "/redfish/v1/Managers", "Manager Collection", [paths.manager])),
        },
      },
      { segments: seg(paths.manager), methods: { GET: (r) => this.#resource(r, render.manager(hw)) } },
      { segments: seg(`${paths.manager}/Actions/Manager.Reset`), methods: { POST: (r) => this.#managerReset(r) } },
      {
        segments: seg(paths.sessionService),
        methods: { GET: (r) => this.#resource(r, render.sessionService(bmc.sessions.timeoutSeconds)) },
      },
      {
        segments: seg(paths.sessions),
        public: ["POST"],
        methods: {
          GET: (r) =>
            this.#resource(
              r,
              render.collection("SessionCollection", paths.sessions, "Session Collection", bmc.sessions.list().map((s) => `${paths.sessions}/${s.id}`)),
            ),
          POST: (r) => this.#openSession(r),
        },
      },
      {
        // DSP0266: a session may also be created by a POST to the collection's Members.
        segments: [...seg(paths.sessions), "Members"],
        public: ["POST"],
        methods: { POST: (r) => this.#openSession(r) },
      },
      {
        segments: [...seg(paths.sessions), "*"],
        methods: {
          GET: (r, [id]) => {
            const s = bmc.sessions.list().find((x) => x.id === id);
            if (!s) throw notFound(r.path);
            return this.#resource(r, render.session(s.id, s.username));
          },
          DELETE: (r, [id]) => {
            if (!bmc.sessions.close(id!)) throw notFound(r.path);
            return { status: 204, headers: {} };
          },
        },
      },
      {
        segments: seg(paths.eventService),
        methods: {
          GET: (r) => this.#resource(r, render.eventService(bmc.events.settings, hw.profile.eventService)),
          PATCH: (r) => this.#patchEventService(r),
        },
      },
      {
        segments: seg(`${paths.eventService}/Actions/EventService.SubmitTestEvent`),
        methods: { POST: (r) => this.#submitTestEvent(r) },
      },
      {
        segments: seg(paths.subscriptions),
        methods: {
          GET: (r) =>
            this.#resource(
              r,
              render.collection(
                "EventDestinationCollection",
                paths.subscriptions,
                "Event Subscriptions Collection",
                bmc.events.subscriptions.ids().map((id) => `${paths.subscriptions}/${id}`),
              ),
            ),
          POST: (r) => this.#createSubscription(r),
        },
      },
      {
        segments: [...seg(paths.subscriptions), "*"],
        methods: {
          GET: (r, [id]) => this.#resource(r, renderSubscription(this.#subscription(r, id!), paths.subscriptions, bmc.resumeSubscription !== false)),
          PATCH: (r, [id]) => this.#patchSubscription(r, id!),
          DELETE: (r, [id]) => {
            this.#subscription(r, id!);
            bmc.events.subscriptions.delete(id!);
            return { status: 204, headers: {} };
          },
        },
      },
      {
        segments: [...seg(paths.subscriptions), "*", "Actions", "*"],
        methods: { POST: (r, [id, action]) => this.#subscriptionAction(r, id!, action!) },
      },
    ];
    if (bmc.simpleStorage) {
      routes.push(
        {
          segments: seg(paths.simpleStorageCollection),
          methods: {
            GET: (r) =>
              this.#resource(
                r,
                render.collection(
                  "SimpleStorageCollection",
                  paths.simpleStorageCollection,
                  "Simple Storage Collection",
                  hw.storage.map((s) => `${paths.simpleStorageCollection}/${s.id}`),
                ),
              ),
          },
        },
        {
          segments: [...seg(paths.simpleStorageCollection), "*"],
          methods: { GET: (r, [id]) => this.#resource(r, render.simpleStorage(hw, this.#storage(r, id!))) },
        },
      );
    }
    return routes;
  }

  /** The routes of the drives: under their Storage, or under the backplane chassis (with its Drives collection). */
  #driveRoutes(): Route[] {
    const hw = this.#bmc.hardware;
    const paths = render.resourcePaths(hw);
    const seg = (path: string) => normalizedSegments(path);
    if (paths.drivesChassis === undefined) {
      const drive = [...seg(paths.storageCollection), "*", "Drives", "*"];
      return [
        {
          segments: drive,
          methods: {
            GET: (r, [sid, did]) => this.#resource(r, render.drive(hw, this.#drive(r, sid, did!))),
            PATCH: (r, [sid, did]) => this.#patchDrive(r, sid, did!),
          },
        },
        {
          segments: [...drive, "Actions", "Oem", "*"],
          methods: { POST: (r, [sid, did, action]) => this.#driveOemAction(r, sid, did!, action!) },
        },
      ];
    }
    const backplane = paths.drivesChassis;
    return [
      { segments: seg(backplane), methods: { GET: (r) => this.#resource(r, render.backplaneChassis(hw)) } },
      {
        segments: seg(`${backplane}/Drives`),
        methods: {
          GET: (r) =>
            this.#resource(
              r,
              render.collection("DriveCollection", `${backplane}/Drives`, "Drive Collection", allDrives(hw).map((d) => render.drivePath(hw, d))),
            ),
        },
      },
      {
        segments: [...seg(`${backplane}/Drives`), "*"],
        methods: {
          GET: (r, [did]) => this.#resource(r, render.drive(hw, this.#drive(r, undefined, did!))),
          PATCH: (r, [did]) => this.#patchDrive(r, undefined, did!),
        },
      },
      {
        segments: [...seg(`${backplane}/Drives`), "*", "Actions", "Oem", "*"],
        methods: { POST: (r, [did, action]) => this.#driveOemAction(r, undefined, did!, action!) },
      },
    ];
  }

  #storage(request: ParsedRequest, id: string) {
    const s = this.#bmc.hardware.storage.find((x) => x.id === id);
    if (!s) throw notFound(request.path);
    return s;
  }

  /** The drive at the request's path; `storageId` undefined for drives under a backplane chassis (found by ID alone). */
  #drive(request: ParsedRequest, storageId: string | undefined, driveId: string) {
    const d = allDrives(this.#bmc.hardware).find((x) => (storageId === undefined || x.storageId === storageId) && x.id === driveId);
    if (!d) throw notFound(request.path);
    return d;
  }

  #subscription(request: ParsedRequest, id: string) {
    const s = this.#bmc.events.subscriptions.get(id);
    if (!s) throw notFound(request.path);
    return s;
  }

  /**
   * The common shape of a PATCH: If-Match, validate everything, then apply,
   * then answer as the vendor does (the new resource, 204, or a success message).
   */
  #patch(
    request: ParsedRequest,
    renderNow: () => Record<string, unknown>,
    validate: (body: Record<string, unknown>, current: Record<string, unknown>, errors: RedfishMessage[]) => () => void,
  ): ServiceResponse {
    const current = renderNow();
    checkIfMatch(request, this.#shape, current);
    const body = requireObject(request.json, `PATCH ${request.path}`);
    const errors: RedfishMessage[] = [];
    if (Object.keys(body).filter((k) => !k.startsWith("@odata.")).length === 0) {
      errors.push(baseMessages.generalError(`The PATCH body for ${request.path} names no property to change.`));
    }
    const apply = validate(body, current, errors);
    if (errors.length > 0) throw new RedfishError(400, errors);
    apply();
    const answer = patchAnswer(this.#profile.patch, renderNow());
    if (answer.body === undefined) return { status: answer.status, headers: {} };
    return this.#profile.patch === "resource" ? shapedJson(answer.status, this.#shape, answer.body) : json(answer.status, answer.body);
  }

  #patchSystem(request: ParsedRequest): ServiceResponse {
    const bmc = this.#bmc;
    const hw = bmc.hardware;
    return this.#patch(
      request,
      () => render.computerSystem(hw, bmc.simpleStorage),
      (body, current, errors) => {
        const model = hw.profile.lights.system;
        rejectOthers(body, [...writableLight(model), "Boot"], current, errors, hw.profile.refusedProperty);
        const led = requestedLed(body, model, hw.systemLed, errors);
        const boot: Record<string, string> = {};
        if (body.Boot !== undefined) {
          if (typeof body.Boot !== "object" || body.Boot === null || Array.isArray(body.Boot)) {
            errors.push(baseMessages.propertyValueTypeError("Boot", body.Boot));
          } else {
            for (const [key, value] of Object.entries(body.Boot as Record<string, unknown>)) {
              const allowed = BOOT_VALUES[key];
              if (!allowed) {
                errors.push(key in hw.boot || key.includes("@") ? baseMessages.propertyNotWritable(`Boot/${key}`) : baseMessages.propertyUnknown(`Boot/${key}`));
              } else if (typeof value !== "string" || !allowed.includes(value)) {
                errors.push(baseMessages.propertyValueNotInList(`Boot/${key}`, value));
              } else boot[key] = value;
            }
          }
        }
        return () => {
          Object.assign(hw.boot, boot);
          if (led !== undefined) bmc.lights.setSystem(led);
        };
      },
    );
  }

  #patchChassis(request: ParsedRequest): ServiceResponse {
    const bmc = this.#bmc;
    return this.#patch(
      request,
      () => render.chassis(bmc.hardware),
      (body, current, errors) => {
        const model = bmc.hardware.profile.lights.chassis;
        rejectOthers(body, writableLight(model), current, errors, bmc.hardware.profile.refusedProperty);
        const led = requestedLed(body, model, bmc.hardware.chassisLed, errors);
        return () => {
          if (led !== undefined) bmc.lights.setChassis(led);
        };
      },
    );
  }

  #patchDrive(request: ParsedRequest, storageId: string | undefined, driveId: string): ServiceResponse {
    const bmc = this.#bmc;
    const drive = this.#drive(request, storageId, driveId);
    return this.#patch(
      request,
      () => render.drive(bmc.hardware, drive),
      (body, current, errors) => {
        const model = bmc.hardware.profile.lights.drive;
        rejectOthers(body, writableLight(model), current, errors, bmc.hardware.profile.refusedProperty);
        const led = requestedLed(body, model, drive.led, errors);
        return () => {
          if (led !== undefined) bmc.lights.setDrive(drive, led);
        };
      },
    );
  }

  #patchEventService(request: ParsedRequest): ServiceResponse {
    const bmc = this.#bmc;
    return this.#patch(
      request,
      () => render.eventService(bmc.events.settings, bmc.hardware.profile.eventService),
      (body, current, errors) => {
        rejectOthers(body, ["ServiceEnabled", "DeliveryRetryAttempts", "DeliveryRetryIntervalSeconds"], current, errors, bmc.hardware.profile.refusedProperty);
        const next = { ...bmc.events.settings };
        if (body.ServiceEnabled !== undefined) {
          if (typeof body.ServiceEnabled === "boolean") next.serviceEnabled = body.ServiceEnabled;
          else errors.push(baseMessages.propertyValueTypeError("ServiceEnabled", body.ServiceEnabled));
        }
        if (body.DeliveryRetryAttempts !== undefined) {
          const v = body.DeliveryRetryAttempts;
          if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 100) next.retryAttempts = v;
          else errors.push(baseMessages.propertyValueFormatError("DeliveryRetryAttempts", v, "expected an integer from 0 to 100"));
        }
        if (body.DeliveryRetryIntervalSeconds !== undefined) {
          const v = body.DeliveryRetryIntervalSeconds;
          if (typeof v === "number" && v >= 0.01 && v <= 86_400) next.retryIntervalSeconds = v;
          else {
            errors.push(
              baseMessages.propertyValueFormatError("DeliveryRetryIntervalSeconds", v, "expected a number of seconds from 0.01 to 86400"),
            );
          }
        }
        return () => {
          bmc.events.settings = next;
        };
      },
    );
  }

  #patchSubscription(request: ParsedRequest, id: string): ServiceResponse {
    const bmc = this.#bmc;
    const record = this.#subscription(request, id);
    const collectionPath = render.resourcePaths(bmc.hardware).subscriptions;
    return this.#patch(
      request,
      () => renderSubscription(record, collectionPath, bmc.resumeSubscription !== false),
      (body, current, errors) => {
        rejectOthers(body, ["Context", "DeliveryRetryPolicy"], current, errors, bmc.hardware.profile.refusedProperty);
        let context = record.context;
        let policy = record.deliveryRetryPolicy;
        if (body.Context !== undefined) {
          if (body.Context === null || (typeof body.Context === "string" && body.Context.length <= 256)) context = body.Context;
          else errors.push(baseMessages.propertyValueTypeError("Context", body.Context));
        }
        if (body.DeliveryRetryPolicy !== undefined) {
          if (DELIVERY_RETRY_POLICIES.includes(body.DeliveryRetryPolicy as DeliveryRetryPolicy)) {
            policy = body.DeliveryRetryPolicy as DeliveryRetryPolicy;
          } else errors.push(baseMessages.propertyValueNotInList("DeliveryRetryPolicy", body.DeliveryRetryPolicy));
        }
        return () => {
          record.context = context;
          record.deliveryRetryPolicy = policy;
        };
      },
    );
  }

  /** Creates a subscription by the vendor's rules: its accepted, refused and required properties, destinations, limit and answer. */
  #createSubscription(request: ParsedRequest): ServiceResponse {
    const bmc = this.#bmc;
    const rules = this.#profile.subscriptions;
    const full = () => {
      const { status, message } = rules.limitError(bmc.events.subscriptions.limit);
      return new RedfishError(status, [message]);
    };
    if (rules.limitFirst && bmc.events.subscriptions.ids().length >= bmc.events.subscriptions.limit) throw full();
    const parsed = parseSubscriptionRequest(request.json, {
      refuseEventTypes: bmc.refuseEventTypes === true,
      accepted: rules.accepted,
      refused: rules.refused,
      required: rules.required,
      unknownProperty: rules.unknownProperty,
    });
    if (rules.httpsOnly && parsed.destination.startsWith("http:")) throw badRequest(rules.httpsOnly(parsed.destination));
    if (rules.advertisedFiltersOnly) {
      const advert = this.#profile.eventService;
      const outside: RedfishMessage[] = [];
      for (const [property, values, allowed] of [
        ["RegistryPrefixes", parsed.registryPrefixes, advert.registryPrefixes],
        ["ResourceTypes", parsed.resourceTypes, advert.resourceTypes],
      ] as const) {
        for (const v of values ?? []) if (!(allowed ?? []).includes(v)) outside.push(baseMessages.propertyValueNotInList(property, v));
      }
      if (outside.length > 0) throw new RedfishError(400, outside);
    }
    if (rules.duplicateDestination && bmc.events.subscriptions.records().some((s) => s.destination === parsed.destination)) {
      throw badRequest(rules.duplicateDestination(parsed.destination));
    }
    const record = bmc.events.subscriptions.add(parsed);
    if (!record) throw full();
    const collectionPath = render.resourcePaths(bmc.hardware).subscriptions;
    const location = shapedPath(this.#shape, `${collectionPath}/${record.id}`);
    if (rules.created === "resource") return shapedJson(201, this.#shape, renderSubscription(record, collectionPath, bmc.resumeSubscription !== false), { Location: location });
    return json(201, createdAnswer(rules.created, undefined), { Location: location });
  }

  /** A vendor's OEM light action on a drive (Supermicro's `Indicate`): body `{"Active": true|false}`. */
  #driveOemAction(request: ParsedRequest, storageId: string | undefined, driveId: string, action: string): ServiceResponse {
    const bmc = this.#bmc;
    const model = bmc.hardware.profile.lights.drive;
    const drive = this.#drive(request, storageId, driveId);
    if (model.oemAction === undefined || action !== model.oemAction) throw notFound(request.path);
    const body = requireObject(request.json, model.oemAction);
    for (const key of Object.keys(body)) {
      if (key !== "Active") throw badRequest(baseMessages.actionParameterUnknown(model.oemAction, key));
    }
    if (body.Active === undefined) throw badRequest(baseMessages.actionParameterMissing(model.oemAction, "Active"));
    if (typeof body.Active !== "boolean") throw badRequest(baseMessages.actionParameterValueTypeError(model.oemAction, "Active", body.Active));
    bmc.lights.setDrive(drive, lightStateFor(model, body.Active, drive.led));
    const answer = patchAnswer(this.#profile.patch, undefined);
    return answer.body === undefined || this.#profile.patch === "resource"
      ? { status: 204, headers: {} }
      : json(answer.status, answer.body);
  }

  #subscriptionAction(request: ParsedRequest, id: string, action: string): ServiceResponse {
    const record = this.#subscription(request, id);
    if (action === "EventDestination.ResumeSubscription" && this.#bmc.resumeSubscription !== false) {
      this.#bmc.events.subscriptions.setState(record, "Enabled");
    } else if (action === "EventDestination.SuspendSubscription") {
      this.#bmc.events.subscriptions.setState(record, "Disabled");
    } else throw notFound(request.path);
    return { status: 204, headers: {} };
  }

  #systemReset(request: ParsedRequest): ServiceResponse {
    const action = "ComputerSystem.Reset";
    const body = requireObject(request.json, action);
    for (const key of Object.keys(body)) {
      if (key !== "ResetType") throw badRequest(baseMessages.actionParameterUnknown(action, key));
    }
    if (body.ResetType === undefined) throw badRequest(baseMessages.actionParameterMissing(action, "ResetType"));
    if (typeof body.ResetType !== "string" || !(render.RESET_TYPES as readonly string[]).includes(body.ResetType)) {
      throw badRequest(baseMessages.actionParameterValueNotInList(action, "ResetType", body.ResetType));
    }
    this.#bmc.machine.applyResetType(body.ResetType);
    return { status: 204, headers: {} };
  }

  #managerReset(request: ParsedRequest): ServiceResponse {
    const action = "Manager.Reset";
    const body = request.json === undefined ? {} : requireObject(request.json, action);
    for (const key of Object.keys(body)) {
      if (key !== "ResetType") throw badRequest(baseMessages.actionParameterUnknown(action, key));
    }
    if (body.ResetType !== undefined && body.ResetType !== "GracefulRestart" && body.ResetType !== "ForceRestart") {
      throw badRequest(baseMessages.actionParameterValueNotInList(action, "ResetType", body.ResetType));
    }
    return { status: 204, headers: {}, afterSend: () => this.#bmc.resetBmc() };
  }

  #submitTestEvent(request: ParsedRequest): ServiceResponse {
    const action = "EventService.SubmitTestEvent";
    const body = requireObject(request.json, action);
    try {
      this.#bmc.events.submit(validateTestEvent(body));
    } catch (error) {
      if (error instanceof TestEventError) {
        if (error.value === undefined) throw badRequest(baseMessages.actionParameterMissing(action, error.parameter));
        if (error.message.includes("unknown parameter")) throw badRequest(baseMessages.actionParameterUnknown(action, error.parameter));
        throw badRequest(baseMessages.actionParameterValueTypeError(action, error.parameter, error.value));
      }
      throw error;
    }
    return { status: 204, headers: {} };
  }

  #openSession(request: ParsedRequest): ServiceResponse {
    const bmc = this.#bmc;
    const body = requireObject(request.json, "creating a session");
    const errors: RedfishMessage[] = [];
    for (const key of ["UserName", "Password"] as const) {
      if (body[key] === undefined) errors.push(baseMessages.propertyMissing(key));
      else if (typeof body[key] !== "string") {
        errors.push(key === "Password" ? baseMessages.propertyValueTypeErrorHidden(key, "a string") : baseMessages.propertyValueTypeError(key, body[key]));
      }
    }
    if (errors.length > 0) throw new RedfishError(400, errors);
    const username = body.UserName as string;
    if (!bmc.sessions.credentialsMatch(username, body.Password as string)) {
      throw new RedfishError(401, [baseMessages.resourceAtUriUnauthorized(request.path, "the user name or password is wrong")]);
    }
    const opened = bmc.sessions.open(username);
    if (!opened) throw new RedfishError(503, [baseMessages.sessionLimitExceeded()]);
    const sessions = render.resourcePaths(bmc.hardware).sessions;
    return json(201, shapedResource(this.#shape, render.session(opened.id, username)).body, {
      Location: shapedPath(this.#shape, `${sessions}/${opened.id}`),
      "X-Auth-Token": opened.token,
    });
  }
}

/**
 * The DMTF JSON schema a resource is described by, from its `@odata.type`
 * (`#ComputerSystem.v1_20_0.ComputerSystem` → `…/ComputerSystem.v1_20_0.json`,
 * a collection's `#ChassisCollection.ChassisCollection` → `…/ChassisCollection.json`).
 */
function describedBy(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const type = (body as Record<string, unknown>)["@odata.type"];
  if (typeof type !== "string" || !type.startsWith("#")) return undefined;
  const parts = type.slice(1).split(".");
  const file = parts.length > 2 ? parts.slice(0, -1).join(".") : parts[0];
  return `https://redfish.dmtf.org/schemas/v1/${file}.json`;
}

/** The path's segments, with the trailing slash and empty segments dropped and percent-escapes decoded. */
function normalizedSegments(path: string): string[] {
  return path
    .split("/")
    .filter((s) => s !== "")
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

/** The wildcard values when `segments` fit `pattern`, else undefined. */
function matchSegments(pattern: string[], segments: string[]): string[] | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === "*") params.push(segments[i]!);
    else if (pattern[i] !== segments[i]) return undefined;
  }
  return params;
}

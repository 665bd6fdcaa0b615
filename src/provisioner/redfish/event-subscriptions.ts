/**
 * A BMC's event subscriptions over Redfish: the Subscriptions collection
 * found from the service root and the EventService (2 GETs, once per BMC and
 * credentials), and a create payload that fits the BMC:
 *
 * - `Destination`, `Context`, `Protocol: "Redfish"` always (bmcweb requires
 *   `Protocol`), `HttpHeaders` only when there are headers, as Ironic sends.
 * - `EventTypes` only where the EventService filters by it: it advertises
 *   `EventTypesForSubscription` but neither `RegistryPrefixes` nor
 *   `ResourceTypes` (iLO 5, older Intel BMCs), and then every advertised type
 *   but `MetricReport`, so the subscription still receives every event; or
 *   when the `eventTypes` option asks for it. bmcweb refuses it as unknown.
 * - Once per create, a property the BMC refuses as unknown
 *   (`PropertyUnknown`, iLO's `PropertyNotWritableOrUnknown`) is left out and the POST sent again, and the BMC is
 *   remembered not to take it. Properties the subscription needs
 *   (`Destination`, `Protocol`, `Context`, `HttpHeaders`) are never dropped:
 *   their refusal is the error.
 *
 * A subscription the BMC suspended is resumed with the action its resource
 * advertises (`#EventDestination.ResumeSubscription`, one GET and one POST);
 * a BMC that does not advertise it, or answers 404, 405 or 501 to it, cannot
 * resume one (`"unsupported"`).
 *
 * A full BMC (`EventSubscriptionLimitExceeded`, `CreateLimitReachedForResource`,
 * or an error saying so) is a
 * `SubscriptionLimit` error naming the limit; a BMC's refusal of an `http`
 * destination (Dell iDRAC, OpenBMC take HTTPS only) says so.
 *
 * @module
 */
import { ProvisionerError, type Subscription, type SubscriptionRequest } from "../provisioner.ts";
import { redactSecrets } from "../redact.ts";
import { saysSubscriptionLimit } from "../subscription-limit.ts";
import { credentialsHash, trimOldest } from "./light-cache.ts";
import { isObject, lastSegment, linkOf, links, stringOf } from "./redfish-json.ts";
import { redfishErrorText, type RedfishRequest, type RedfishResponse, type RedfishTarget, type RedfishTransport } from "./transport.ts";

/** What is known of one BMC's EventService (by origin and credentials). */
interface EventServiceFacts {
  subscriptionsPath: string;
  /** `EventTypes` to send with each create, when the EventService filters by them. */
  eventTypes?: string[];
  /** Properties the BMC refused as unknown: not sent again. */
  refused: Set<string>;
}

/** Properties a create can do without: left out, once, when the BMC refuses them as unknown. */
const DROPPABLE = new Set(["EventTypes", "SubscriptionType", "DeliveryRetryPolicy", "EventFormatType"]);

/** Event types that need another delivery format than events, never asked for. */
const NOT_EVENTS = new Set(["MetricReport"]);

/** Lists, creates and deletes BMCs' event subscriptions. */
export class EventSubscriptions {
  readonly #transport: RedfishTransport;
  readonly #eventTypes: string[] | undefined;
  readonly #maxBmcs: number;
  readonly #bmcs = new Map<string, EventServiceFacts>();

  /** `eventTypes`: sent with every create when given, whatever the EventService advertises. */
  constructor(transport: RedfishTransport, eventTypes: string[] | undefined, maxBmcs: number) {
    this.#transport = transport;
    this.#eventTypes = eventTypes;
    this.#maxBmcs = maxBmcs;
  }

  async list(target: RedfishTarget, operation: string, signal?: AbortSignal): Promise<Subscription[]> {
    const { subscriptionsPath } = await this.#facts(target, operation, signal);
    const req: RedfishRequest = { method: "GET", path: subscriptionsPath, operation };
    const response = await this.#transport.send(target, req, signal);
    if (response.status !== 200 || !isObject(response.body)) throw this.#transport.failure(target, req, response);
    const subscriptions: Subscription[] = [];
    for (const path of links(response.body.Members)) {
      const memberReq: RedfishRequest = { method: "GET", path, operation };
      const member = await this.#transport.send(target, memberReq, signal);
      // Deleted between the two reads: it is no longer there to list.
      if (member.status === 404) continue;
      if (member.status !== 200 || !isObject(member.body)) throw this.#transport.failure(target, memberReq, member);
      const subscription: Subscription = {
        id: stringOf(member.body.Id) ?? lastSegment(path),
        destination: typeof member.body.Destination === "string" ? member.body.Destination : "",
        context: typeof member.body.Context === "string" ? member.body.Context : "",
      };
      if (isSuspended(member.body)) subscription.suspended = true;
      subscriptions.push(subscription);
    }
    return subscriptions;
  }

  async create(target: RedfishTarget, request: SubscriptionRequest, operation: string, signal?: AbortSignal): Promise<Subscription> {
    checkDestination(target, request, operation);
    signal?.throwIfAborted();
    const facts = await this.#facts(target, operation, signal);
    const body = this.#payload(facts, request);
    let req: RedfishRequest = { method: "POST", path: facts.subscriptionsPath, body, operation };
    let response = await this.#transport.send(target, req, signal);
    const unknown = refusedProperty(response);
    if (unknown !== undefined && DROPPABLE.has(unknown) && unknown in body) {
      // Remembered for this BMC: later creates leave it out from the start.
      facts.refused.add(unknown);
      const { [unknown]: _dropped, ...rest } = body;
      req = { method: "POST", path: facts.subscriptionsPath, body: rest, operation };
      response = await this.#transport.send(target, req, signal);
    }
    if (response.status < 200 || response.status >= 300) throw await this.#createFailure(target, facts, req, request, response, signal);
    const id = createdId(response);
    if (id === undefined) {
      throw new ProvisionerError(
        "Rejected",
        `redfish BMC ${target.address.display}: ${operation}: POST ${facts.subscriptionsPath} returned HTTP ${response.status} ` +
          "with neither a Location header nor an Id, so the new subscription cannot be found",
      );
    }
    return { id, destination: request.destination, context: request.context };
  }

  async delete(target: RedfishTarget, id: string, operation: string, signal?: AbortSignal): Promise<"deleted" | "gone"> {
    const req: RedfishRequest = { method: "DELETE", path: await this.#subscriptionPath(target, id, operation, signal), operation };
    const response = await this.#transport.send(target, req, signal);
    if (response.status === 404) return "gone";
    if (response.status >= 200 && response.status < 300) return "deleted";
    throw this.#transport.failure(target, req, response);
  }

  async resume(target: RedfishTarget, id: string, operation: string, signal?: AbortSignal): Promise<"resumed" | "unsupported" | "gone"> {
    // Read now rather than kept from the listing: the action's target is the BMC's to choose.
    const getReq: RedfishRequest = { method: "GET", path: await this.#subscriptionPath(target, id, operation, signal), operation };
    const resource = await this.#transport.send(target, getReq, signal);
    if (resource.status === 404) return "gone";
    if (resource.status !== 200 || !isObject(resource.body)) throw this.#transport.failure(target, getReq, resource);
    const path = resumeTarget(resource.body);
    if (path === undefined) return "unsupported";
    const req: RedfishRequest = { method: "POST", path, body: {}, operation };
    const response = await this.#transport.send(target, req, signal);
    if (response.status >= 200 && response.status < 300) return "resumed";
    // The action advertised but not there after all (older firmware): the subscription is created again instead.
    if (response.status === 404 || response.status === 405 || response.status === 501) return "unsupported";
    throw this.#transport.failure(target, req, response);
  }

  /** The path of subscription `id` in the BMC's collection; an ID that is no path segment is refused. */
  async #subscriptionPath(target: RedfishTarget, id: string, operation: string, signal?: AbortSignal): Promise<string> {
    if (id === "" || id === "." || id === "..") {
      throw new ProvisionerError("Rejected", `redfish BMC ${target.address.display}: ${operation}: not a subscription ID`);
    }
    const { subscriptionsPath } = await this.#facts(target, operation, signal);
    return `${subscriptionsPath}/${encodeURIComponent(id)}`;
  }

  /** The create body for this BMC. */
  #payload(facts: EventServiceFacts, request: SubscriptionRequest): Record<string, unknown> {
    const body: Record<string, unknown> = { Destination: request.destination, Context: request.context, Protocol: "Redfish" };
    const headers = Object.entries(request.httpHeaders);
    if (headers.length > 0) body.HttpHeaders = headers.map(([name, value]) => ({ [name]: value }));
    const eventTypes = this.#eventTypes ?? facts.eventTypes;
    if (eventTypes !== undefined && !facts.refused.has("EventTypes")) body.EventTypes = eventTypes;
    return body;
  }

  /** The error for a refused create: the limit, an HTTPS-only BMC, or what the BMC said. */
  async #createFailure(
    target: RedfishTarget,
    facts: EventServiceFacts,
    req: RedfishRequest,
    request: SubscriptionRequest,
    response: RedfishResponse,
    signal?: AbortSignal,
  ): Promise<ProvisionerError> {
    const error = this.#transport.failure(target, req, response);
    const text = redfishErrorText(response.body);
    if (saysSubscriptionLimit(text)) {
      const held = await this.#count(target, facts, req.operation, signal);
      const limit = held === undefined ? "its limit" : `its limit of ${held}`;
      return new ProvisionerError(
        "SubscriptionLimit",
        `redfish BMC ${target.address.display}: ${req.operation}: the BMC already holds ${limit} subscriptions and refuses ` +
          `another (${error.message.slice(error.message.indexOf("returned HTTP"))}); delete subscriptions it no longer needs`,
        { cause: error },
      );
    }
    // Dell iDRAC (older iDRAC9 firmware) and OpenBMC's default build take HTTPS destinations only, and
    // say so as a 400 about Destination; newer iDRAC9 firmware takes HTTP, so it is not refused up front.
    const destinationRefused = response.status === 400 && /Destination|https/i.test(text);
    if (destinationRefused && request.destination.startsWith("http:")) {
      return new ProvisionerError(
        "Rejected",
        redactSecrets(
          `redfish BMC ${target.address.display}: ${req.operation}: the BMC refused HTTP destination ` +
            `${JSON.stringify(request.destination)}; it takes HTTPS destinations only (Dell iDRAC, OpenBMC): ` +
            `give the receiver an https URL (${text})`,
          target.secrets,
        ),
        { cause: error },
      );
    }
    return error;
  }

  /** How many subscriptions the BMC holds, or `undefined` when it does not say. */
  async #count(target: RedfishTarget, facts: EventServiceFacts, operation: string, signal?: AbortSignal): Promise<number | undefined> {
    try {
      const response = await this.#transport.send(target, { method: "GET", path: facts.subscriptionsPath, operation }, signal);
      if (response.status !== 200 || !isObject(response.body)) return undefined;
      const count = response.body["Members@odata.count"];
      return typeof count === "number" ? count : Array.isArray(response.body.Members) ? response.body.Members.length : undefined;
    } catch {
      return undefined;
    }
  }

  /** The BMC's EventService facts: read once per BMC and credentials (service root, EventService). */
  async #facts(target: RedfishTarget, operation: string, signal?: AbortSignal): Promise<EventServiceFacts> {
    const key = `${target.address.origin} ${credentialsHash(target.host)}`;
    const known = this.#bmcs.get(key);
    if (known !== undefined) return known;
    const root = await this.#getObject(target, "/redfish/v1/", operation, signal);
    const eventService = linkOf(root.EventService);
    if (eventService === undefined) {
      throw new ProvisionerError("Rejected", `redfish BMC ${target.address.display}: ${operation}: the BMC has no EventService`);
    }
    const service = await this.#getObject(target, eventService, operation, signal);
    const subscriptions = linkOf(service.Subscriptions);
    if (subscriptions === undefined) {
      throw new ProvisionerError(
        "Rejected",
        `redfish BMC ${target.address.display}: ${operation}: the EventService at ${eventService} has no Subscriptions collection`,
      );
    }
    const facts: EventServiceFacts = {
      subscriptionsPath: subscriptions.replace(/\/+$/, ""),
      refused: new Set(),
    };
    const eventTypes = filteringEventTypes(service);
    if (eventTypes !== undefined) facts.eventTypes = eventTypes;
    this.#bmcs.set(key, facts);
    trimOldest(this.#bmcs, this.#maxBmcs);
    return facts;
  }

  async #getObject(target: RedfishTarget, path: string, operation: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const req: RedfishRequest = { method: "GET", path, operation };
    const response = await this.#transport.send(target, req, signal);
    if (response.status !== 200 || !isObject(response.body)) throw this.#transport.failure(target, req, response);
    return response.body;
  }
}

/**
 * The `EventTypes` to send to an EventService that filters by them: it
 * advertises `EventTypesForSubscription` and none of the newer filters.
 */
function filteringEventTypes(service: Record<string, unknown>): string[] | undefined {
  const advertised = service.EventTypesForSubscription;
  if (!Array.isArray(advertised) || advertised.length === 0) return undefined;
  if (Array.isArray(service.RegistryPrefixes) || Array.isArray(service.ResourceTypes)) return undefined;
  const types = advertised.filter((t): t is string => typeof t === "string" && !NOT_EVENTS.has(t));
  return types.length === 0 ? undefined : types;
}

/** A subscription the BMC suspended (`Status.State` `Disabled` or `StandbyOffline`). */
function isSuspended(body: Record<string, unknown>): boolean {
  const state = isObject(body.Status) ? body.Status.State : undefined;
  return state === "Disabled" || state === "StandbyOffline";
}

/**
 * The path of the subscription's `#EventDestination.ResumeSubscription`
 * action, when its resource advertises one (a path, or a URL whose path is
 * taken, as some BMCs write it).
 */
function resumeTarget(body: Record<string, unknown>): string | undefined {
  const actions = isObject(body.Actions) ? body.Actions : undefined;
  const action = actions?.["#EventDestination.ResumeSubscription"];
  const target = isObject(action) ? stringOf(action.target) : undefined;
  if (target === undefined) return undefined;
  if (target.startsWith("/")) return target;
  return URL.canParse(target) ? new URL(target).pathname : undefined;
}

/** The property a 400 answer refuses as unknown (`PropertyUnknown`, iLO's `PropertyNotWritableOrUnknown`), if that is what it says. */
function refusedProperty(response: RedfishResponse): string | undefined {
  if (response.status !== 400 || !isObject(response.body) || !isObject(response.body.error)) return undefined;
  const info = response.body.error["@Message.ExtendedInfo"];
  for (const entry of Array.isArray(info) ? info : []) {
    if (!isObject(entry) || typeof entry.MessageId !== "string" || !/PropertyUnknown$|PropertyNotWritableOrUnknown$/.test(entry.MessageId)) continue;
    const args = Array.isArray(entry.MessageArgs) ? entry.MessageArgs : [];
    const related = Array.isArray(entry.RelatedProperties) ? entry.RelatedProperties : [];
    const name = stringOf(args[0]) ?? stringOf(related[0])?.replace(/^#\//, "");
    if (name !== undefined) return name;
  }
  return undefined;
}

/** The new subscription's ID: the body's `Id`, else the last segment of `Location` or of the body's `@odata.id`. */
function createdId(response: RedfishResponse): string | undefined {
  if (isObject(response.body) && stringOf(response.body.Id) !== undefined) return response.body.Id as string;
  if (response.location !== undefined) {
    const id = lastSegment(new URL(response.location, "http://bmc.invalid").pathname);
    if (id !== "") return id;
  }
  const odataId = isObject(response.body) ? linkOf(response.body) : undefined;
  return odataId === undefined ? undefined : lastSegment(odataId) || undefined;
}

/** Refuses a destination a BMC could not POST Redfish events to, without a BMC call. */
function checkDestination(target: RedfishTarget, request: SubscriptionRequest, operation: string): void {
  let url: URL | undefined;
  try {
    url = new URL(request.destination);
  } catch {
    url = undefined;
  }
  if (url !== undefined && (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "") return;
  throw new ProvisionerError(
    "Rejected",
    redactSecrets(
      `redfish BMC ${target.address.display}: ${operation}: destination ${JSON.stringify(request.destination)} ` +
        "is not an http or https URL, so the BMC could not deliver events to it",
      target.secrets,
    ),
  );
}

/**
 * The `ironic` provisioner: Ironic owns the BMCs, and bmc-operator asks it
 * about a host's lights and subscriptions. A host is Ironic's node with the
 * UUID in `status.provisioning.ID`, else the node named `<namespace>~<name>`
 * (as the Metal3 baremetal-operator names them). Unless registration is
 * switched off, {@link IronicProvisioner.registerHost} enrolls a host that
 * has no node (driver `redfish`) and keeps its `driver_info` in step with the
 * host's BMC address and credentials.
 *
 * Every call runs through the shared {@link BmcCallLimiter}, keyed by node, so
 * at most one call per node is in flight by default.
 *
 * ```ts
 * const provisioner = createIronicProvisioner({ client: { endpoint: "http://127.0.0.1:6385" } });
 * const { provisioningID, indicators } = await provisioner.registerHost(host);
 * await provisioner.setIndicator(host, indicators[0].id, "on");
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { HostIndicator } from "../../api/baremetalhost.ts";
import type { IndicatorComponent } from "../../api/baremetalhost-service-indicator.ts";
import { parseIndicatorId } from "../indicator-id.ts";
import { BmcCallLimiter } from "../limiter.ts";
import {
  type HostAccess,
  type HostRegistration,
  type IndicatorState,
  type Provisioner,
  ProvisionerError,
  type ProvisionerErrorKind,
  type Subscription,
  type SubscriptionRequest,
} from "../provisioner.ts";
import { redactSecrets, secretsOf } from "../redact.ts";
import { saysSubscriptionLimit } from "../subscription-limit.ts";
import { type IronicClientOptions, IronicClient, type IronicIndicator, type IronicNode } from "./client.ts";
import { driverInfoPatch, IRONIC_DRIVER, redfishDriverInfo, UnsupportedAddressError } from "./driver-info.ts";
import { DriveDetails, type DriveDetailsOptions } from "./drive-details.ts";
import { IronicError } from "./errors.ts";

/** How to build an {@link IronicProvisioner}. */
export interface IronicProvisionerOptions {
  /** A client, or the options to create one with. */
  client: IronicClient | IronicClientOptions;
  /** The BMC call limiter shared by every provisioner of the process. Default: a new one (one call per node). */
  limiter?: BmcCallLimiter;
  /**
   * Enroll hosts that have no node and keep their `driver_info` in step. Off
   * where another component (the baremetal-operator) owns registration: then
   * hosts are only looked up, and a host with no node is HostNotFound.
   * Default true.
   */
  registerHosts?: boolean;
  /**
   * Complete each disk light's drive (name, model, serial number) from its
   * Drive resource, read once from the BMC with the host's own address and
   * credentials (see {@link DriveDetails}); `false` keeps what Ironic says
   * (storage and drive ID). Default on.
   */
  driveDetails?: DriveDetailsOptions | false;
}

/** The name of the node for a host, as the Metal3 baremetal-operator names it. */
export function ironicNodeName(host: Pick<HostAccess, "namespace" | "name">): string {
  return `${host.namespace}~${host.name}`;
}

const COMPONENTS: readonly string[] = ["system", "chassis", "disk"] satisfies readonly IndicatorComponent[];

/** A host's light as Ironic lists it, in the API's words; `undefined` for components the API does not have. */
export function hostIndicator(indicator: IronicIndicator): HostIndicator | undefined {
  if (!COMPONENTS.includes(indicator.component)) return undefined;
  const component = indicator.component as IndicatorComponent;
  const result: HostIndicator = {
    id: indicator.name,
    component,
    readonly: indicator.readonly,
    states: [...indicator.states].sort(),
  };
  if (component === "disk") {
    // Ironic names a disk light `<storage ID>:<drive ID>@disk`.
    const name = parseIndicatorId(indicator.name)?.name ?? indicator.name.replace(/@disk$/, "");
    const colon = name.indexOf(":");
    result.drive = colon > 0 ? { storage: name.slice(0, colon), id: name.slice(colon + 1) } : { id: name };
  }
  return result;
}

/** Ironic's error texts for an indicator ID that is not one of the node's. */
const INDICATOR_NOT_FOUND =
  /Invalid indicator|Unknown indicator|Invalid component|Malformed indicator|Missing indicator|attribute (Simple)?Storage is missing/i;
/** Ironic's error text for a node it does not have. */
const NODE_NOT_FOUND = /^Node .* could not be found/;
/** A BMC that refused the credentials, as sushy reports it through Ironic. */
const BMC_UNAUTHORIZED = /returned code (401|403)\b|AccessError|Access denied|Unauthorized/;
/** The BMC has no such system: sushy's ResourceNotFoundError for the node's system, through Ironic. */
const BMC_SYSTEM_NOT_FOUND = /Resource \S*\/Systems\/\S* not found|HTTP GET \S*\/Systems\/\S* returned code 404\b/;
/** The BMC refused the request as invalid (sushy's BadRequestError through Ironic). */
const BMC_REJECTED = /returned code (400|405|422)\b/;

/**
 * The BMC's answer to a subscription create as Ironic quotes it (sushy's
 * "HTTP POST <url> returned code 400. <message ID>: <message>. Extended
 * information: […]"): the code and the messages, without the BMC's URL.
 */
const BMC_CREATE_ANSWER = /HTTP POST (\S+) returned code (\d+)\.\s*(.*)$/s;

/**
 * When Ironic's error for `create_subscription` quotes a BMC that refused the
 * subscription because it is full, what the BMC said (`the BMC answered HTTP
 * 400: Base.1.8.CreateLimitReachedForResource: …`); otherwise `undefined`.
 * Ironic (21.4 and 29.0 alike) answers 500 "Redfish exception occurred. Error:
 * Failed to create subscription on node … Subscription payload: {…}. Error:
 * HTTP POST …/EventService/Subscriptions returned code 400. …", with the
 * BMC's message IDs and messages; a refusal quoted from another request
 * (sushy's session login, say) is not the subscriptions' limit.
 */
export function subscriptionLimitRefusal(error: IronicError): string | undefined {
  if (error.failure !== "http" || error.status !== 500) return undefined;
  const answer = BMC_CREATE_ANSWER.exec(error.fault);
  if (answer === null) return saysSubscriptionLimit(error.fault) ? error.fault : undefined;
  const [, url = "", code = "", text = ""] = answer;
  // The limit may be said only in the extended information (a generic `code`), which is not repeated in the message.
  if (!/\/Subscriptions\/?$/.test(url) || !saysSubscriptionLimit(text)) return undefined;
  const said = text.split(/\s*Extended information:/)[0]!.replace(/\.$/, "");
  return `the BMC answered HTTP ${code}: ${said || text}`;
}

/** What a call was doing, for messages and error mapping. */
interface Operation {
  /** What failed, after "cannot": `set indicator abc@system to on`. */
  what: string;
  /** The call concerns one indicator: 400s about indicators are IndicatorNotFound. */
  indicator?: string;
}

/** Ironic as a {@link Provisioner}. */
export class IronicProvisioner implements Provisioner {
  readonly name = "ironic";
  readonly client: IronicClient;
  readonly registerHosts: boolean;
  readonly #limiter: BmcCallLimiter;
  readonly #ownsClient: boolean;
  /** Node UUID → hash of the BMC credentials last written to it by this process. */
  readonly #written = new Map<string, string>();
  readonly #drives: DriveDetails | undefined;

  constructor(options: IronicProvisionerOptions) {
    this.#ownsClient = !(options.client instanceof IronicClient);
    this.client = options.client instanceof IronicClient ? options.client : new IronicClient(options.client);
    this.#limiter = options.limiter ?? new BmcCallLimiter();
    this.registerHosts = options.registerHosts ?? true;
    this.#drives = options.driveDetails === false ? undefined : new DriveDetails(options.driveDetails);
  }

  /** Closes the client's connections, when the provisioner created the client. */
  close(): void {
    if (this.#ownsClient) this.client.close();
    void this.#drives?.close();
  }

  /** The host's lights from Ironic's list, each disk light with its drive's details. */
  async #hostIndicators(host: HostAccess, indicators: IronicIndicator[], signal?: AbortSignal): Promise<HostIndicator[]> {
    const lights = toHostIndicators(indicators);
    return this.#drives === undefined ? lights : await this.#drives.complete(host, lights, signal);
  }

  async registerHost(host: HostAccess, signal?: AbortSignal): Promise<HostRegistration> {
    return await this.#run(host, { what: "register host" }, signal, async () => {
      const secrets = secretsOf(host);
      let node = await this.#findNode(host, signal);
      let enrolled = false;
      if (node === undefined) {
        if (!this.registerHosts) {
          throw new ProvisionerError(
            "HostNotFound",
            `Ironic has no node ${JSON.stringify(ironicNodeName(host))}` +
              `${host.provisioningID ? ` or ${host.provisioningID}` : ""}, and host registration is off`,
          );
        }
        ({ node, enrolled } = await this.#enroll(host, signal));
      } else if (this.registerHosts && node.driver === IRONIC_DRIVER) {
        node = await this.#syncDriverInfo(node, host, signal);
      }
      try {
        const indicators = await this.client.listIndicators(node.uuid, { signal, secrets });
        return { provisioningID: node.uuid, indicators: await this.#hostIndicators(host, indicators, signal) };
      } catch (error) {
        // A node just enrolled for a system the BMC does not have is removed again, leaving nothing behind.
        if (enrolled && error instanceof IronicError && ironicErrorKind(error, false) === "HostNotFound") {
          await this.client.deleteNode(node.uuid, { signal }).catch(() => undefined);
          this.#written.delete(node.uuid);
        }
        throw error;
      }
    });
  }

  async listIndicators(host: HostAccess, signal?: AbortSignal): Promise<HostIndicator[]> {
    return await this.#run(host, { what: "list indicators" }, signal, async () =>
      this.#hostIndicators(host, await this.#onNode(host, signal, (node) => this.client.listIndicators(node, { signal })), signal),
    );
  }

  async getIndicator(host: HostAccess, id: string, signal?: AbortSignal): Promise<IndicatorState> {
    checkIndicatorId(host, id);
    return await this.#run(host, { what: `get indicator ${id}`, indicator: id }, signal, () =>
      this.#onNode(host, signal, (node) => this.client.getIndicatorState(node, id, { signal })),
    );
  }

  async setIndicator(host: HostAccess, id: string, state: IndicatorState, signal?: AbortSignal): Promise<void> {
    checkIndicatorId(host, id);
    if (state !== "on" && state !== "off" && state !== "blinking") {
      throw new ProvisionerError(
        "Rejected",
        `host ${host.namespace}/${host.name}: cannot set indicator ${id} to ${JSON.stringify(state)}: ` +
          `a light can be set to on, off or blinking`,
      );
    }
    await this.#run(host, { what: `set indicator ${id} to ${state}`, indicator: id }, signal, () =>
      this.#onNode(host, signal, (node) => this.client.setIndicatorState(node, id, state, { signal })),
    );
  }

  async createSubscription(host: HostAccess, request: SubscriptionRequest, signal?: AbortSignal): Promise<Subscription> {
    const secrets = secretsOf(host, request);
    return await this.#run(
      host,
      { what: "create subscription" },
      signal,
      async () => {
        try {
          const created = await this.#onNode(host, signal, (node) =>
            this.client.createSubscription(node, request, { signal, secrets }),
          );
          return { id: created.id, destination: created.destination, context: created.context };
        } catch (error) {
          const refusal = error instanceof IronicError ? subscriptionLimitRefusal(error) : undefined;
          if (refusal === undefined || !(error instanceof IronicError)) throw error;
          throw await this.#subscriptionLimit(host, error, refusal, signal);
        }
      },
      secrets,
    );
  }

  async listSubscriptions(host: HostAccess, signal?: AbortSignal): Promise<Subscription[]> {
    return await this.#run(host, { what: "list subscriptions" }, signal, () =>
      this.#onNode(host, signal, async (node) => {
        const ids = await this.client.listSubscriptionIds(node, { signal });
        const subscriptions: Subscription[] = [];
        for (const id of ids) {
          try {
            const s = await this.client.getSubscription(node, id, { signal });
            subscriptions.push({ id: s.id, destination: s.destination, context: s.context });
          } catch (error) {
            // Ironic answers 500 for an ID the BMC no longer holds: skip it if it is gone meanwhile.
            if (!(error instanceof IronicError) || error.status !== 500) throw error;
            if ((await this.client.listSubscriptionIds(node, { signal })).includes(id)) throw error;
          }
        }
        return subscriptions;
      }),
    );
  }

  async deleteSubscription(host: HostAccess, id: string, signal?: AbortSignal): Promise<"deleted" | "gone"> {
    // No ID, nothing on the BMC to delete (Ironic would answer 400 "id can't be None").
    if (id === "") return "gone";
    return await this.#run(host, { what: `delete subscription ${id}` }, signal, () =>
      this.#onNode(host, signal, (node) => this.client.deleteSubscription(node, id, { signal })),
    );
  }

  /**
   * Always `"unsupported"`, without a request: Ironic's vendor passthru has
   * create, get, list and delete of subscriptions, but nothing that resumes
   * one the BMC suspended, so the controller creates it again instead.
   */
  resumeSubscription(_host: HostAccess, _id: string, signal?: AbortSignal): Promise<"resumed" | "unsupported" | "gone"> {
    signal?.throwIfAborted();
    return Promise.resolve("unsupported");
  }

  /**
   * The error for a create the BMC refused because it is full, naming the
   * limit: the number of subscriptions the BMC holds, read with one more
   * `get_all_subscriptions` (left out when that read fails too, or lists
   * none, which cannot be the limit).
   */
  async #subscriptionLimit(host: HostAccess, error: IronicError, refusal: string, signal?: AbortSignal): Promise<ProvisionerError> {
    const held = await this.#onNode(host, signal, (node) => this.client.listSubscriptionIds(node, { signal })).then(
      (ids) => ids.length,
      () => undefined,
    );
    const holds = held === undefined || held === 0 ? "as many subscriptions as it can" : `its limit of ${held} subscriptions`;
    return new ProvisionerError(
      "SubscriptionLimit",
      `host ${host.namespace}/${host.name}: cannot create subscription: the BMC already holds ${holds} and ` +
        `refuses another (Ironic ${error.request} failed (${error.status}): ${refusal}); delete subscriptions it no longer needs`,
    );
  }

  // --- nodes ---

  /** The host's node: by `provisioningID`, else by name; `undefined` when neither exists. */
  async #findNode(host: HostAccess, signal?: AbortSignal): Promise<IronicNode | undefined> {
    if (host.provisioningID) {
      const node = await this.client.findNode(host.provisioningID, { signal });
      if (node !== undefined) return node;
    }
    return await this.client.findNode(ironicNodeName(host), { signal });
  }

  /**
   * Runs `call` against the host's node, addressed by `provisioningID` when
   * there is one, falling back to the node's name when Ironic has no node with
   * that UUID.
   */
  async #onNode<T>(host: HostAccess, signal: AbortSignal | undefined, call: (node: string) => Promise<T>): Promise<T> {
    const name = ironicNodeName(host);
    const first = host.provisioningID || name;
    try {
      return await call(first);
    } catch (error) {
      if (first === name || !isNodeNotFound(error)) throw error;
    }
    signal?.throwIfAborted();
    return await call(name);
  }

  /** Enrolls the host; `enrolled` is false when another caller enrolled it first. */
  async #enroll(host: HostAccess, signal?: AbortSignal): Promise<{ node: IronicNode; enrolled: boolean }> {
    const driverInfo = redfishDriverInfo(host);
    const name = ironicNodeName(host);
    try {
      const node = await this.client.createNode(
        { name, driver: IRONIC_DRIVER, driver_info: { ...driverInfo } },
        { signal, secrets: secretsOf(host) },
      );
      this.#written.set(node.uuid, credentialsHash(host));
      return { node, enrolled: true };
    } catch (error) {
      // Enrolled meanwhile by another call or component: use that node.
      if (!(error instanceof IronicError) || error.status !== 409) throw error;
      const node = await this.client.findNode(name, { signal });
      if (node === undefined) throw error;
      return { node: await this.#syncDriverInfo(node, host, signal), enrolled: false };
    }
  }

  async #syncDriverInfo(node: IronicNode, host: HostAccess, signal?: AbortSignal): Promise<IronicNode> {
    const hash = credentialsHash(host);
    const patch = driverInfoPatch(node.driver_info, redfishDriverInfo(host), this.#written.get(node.uuid) !== hash);
    if (patch.length === 0) return node;
    const updated = await this.client.patchNode(node.uuid, patch, { signal, secrets: secretsOf(host) });
    this.#written.set(node.uuid, hash);
    return updated;
  }

  // --- limiter and errors ---

  /** Runs `body` in the host's limiter slot and turns its failures into {@link ProvisionerError}s. */
  async #run<T>(
    host: HostAccess,
    operation: Operation,
    signal: AbortSignal | undefined,
    body: () => Promise<T>,
    secrets: readonly string[] = secretsOf(host),
  ): Promise<T> {
    try {
      return await this.#limiter.run(`ironic:${ironicNodeName(host)}`, () => body(), signal);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw toProvisionerError(error, host, operation, secrets);
    }
  }
}

function toHostIndicators(indicators: IronicIndicator[]): HostIndicator[] {
  return indicators
    .map(hostIndicator)
    .filter((i): i is HostIndicator => i !== undefined)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function checkIndicatorId(host: HostAccess, id: string): void {
  if (parseIndicatorId(id) === undefined) {
    throw new ProvisionerError(
      "IndicatorNotFound",
      `indicator ${JSON.stringify(id)} of host ${host.namespace}/${host.name} is not <name>@<component> ` +
        `with component system, chassis or disk`,
    );
  }
}

function isNodeNotFound(error: unknown): boolean {
  return error instanceof IronicError && error.status === 404 && NODE_NOT_FOUND.test(error.fault);
}

function credentialsHash(host: HostAccess): string {
  return createHash("sha256").update(`${host.username}\u0000${host.password}`).digest("hex");
}

/** The kind of failure an Ironic error is, for an operation. */
export function ironicErrorKind(error: IronicError, indicatorCall: boolean): ProvisionerErrorKind {
  // A timeout may be a slow BMC behind Ironic (indicator calls wait for it); no connection, or an
  // answer that is not Ironic's API, is Ironic itself.
  if (error.failure === "timeout") return "Transient";
  if (error.failure !== "http") return "ProvisionerUnavailable";
  const { status, fault } = error;
  // 503 is Ironic's TemporaryFailure (no free conductor worker); 502 and 504 come from a proxy in front of it.
  if (status === 502 || status === 503 || status === 504) return "ProvisionerUnavailable";
  if (status === 404 && NODE_NOT_FOUND.test(fault)) return "HostNotFound";
  if (status === 401 || status === 403) return "Unauthorized";
  if (indicatorCall && (status === 400 || status === 500) && INDICATOR_NOT_FOUND.test(fault)) return "IndicatorNotFound";
  if (status === 400) return "Rejected";
  if (status === 500) {
    if (BMC_UNAUTHORIZED.test(fault)) return "Unauthorized";
    if (BMC_SYSTEM_NOT_FOUND.test(fault)) return "HostNotFound";
    if (BMC_REJECTED.test(fault)) return "Rejected";
  }
  return "Transient";
}

function toProvisionerError(
  error: unknown,
  host: HostAccess,
  operation: Operation,
  secrets: readonly string[],
): ProvisionerError {
  if (error instanceof ProvisionerError) {
    return new ProvisionerError(error.kind, redactSecrets(error.message, secrets));
  }
  const cannot = `host ${host.namespace}/${host.name}: cannot ${operation.what}`;
  if (error instanceof UnsupportedAddressError) {
    return new ProvisionerError("Unsupported", `${cannot}: ${error.message}`);
  }
  if (error instanceof IronicError) {
    const kind = ironicErrorKind(error, operation.indicator !== undefined);
    const subject = kind === "IndicatorNotFound" ? ` (indicator ${JSON.stringify(operation.indicator)} not found)` : "";
    // No `cause`: the message says it all, and a logged cause must not carry anything unredacted.
    return new ProvisionerError(kind, redactSecrets(`${cannot}${subject}: ${error.message}`, secrets));
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ProvisionerError("Transient", redactSecrets(`${cannot}: ${message}`, secrets));
}

/** Creates the Ironic provisioner. */
export function createIronicProvisioner(options: IronicProvisionerOptions): IronicProvisioner {
  return new IronicProvisioner(options);
}

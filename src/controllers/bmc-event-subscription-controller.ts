/**
 * The BMCEventSubscription controller. It creates each subscription on the
 * host's BMC exactly once, even when the operator dies at any instant
 * between a BMC call and its record, deletes it when the resource goes
 * (never leaving the finalizer stuck, never leaving one behind), re-creates
 * it with new headers when the headers Secret changes, and can check now and
 * then that a BMC reset did not lose it.
 *
 * Identity: a BMC subscription is this resource's when its destination and
 * context are the resource's, not merely when its ID is recorded: a BMC
 * restarts its IDs at 1 after a reset, so a lost ID can come back as another
 * resource's subscription. Destination and context identify a resource on
 * its host, since a second resource with the same pair on the same host is
 * refused (`DuplicateSubscription`, naming the first). A subscription that
 * another resource records is never adopted or deleted.
 *
 * Exactly once: every POST to the BMC is sent while the API holds no
 * `subscriptionID` for the resource (the finalizer, the header change or the
 * loss is written first), and the write that records the new ID also records,
 * as stale, any other subscription of the resource found on the BMC. So a
 * recorded ID proves that nothing unrecorded exists, and a reconcile that
 * finds the finalizer but no ID knows an earlier attempt may have reached the
 * BMC: it lists the BMC's subscriptions first. One found there whose headers
 * cannot be proven (BMCs never show header values, and the Secret may have
 * changed since) is replaced: a new one is created, then the found one
 * deleted (first, when the BMC refuses the new one beside it: one
 * subscription per destination, as Dell iDRAC, or full). Without `httpHeadersRef` the headers are always none, so the found
 * one is adopted. Creations are serialised per host, and a reconcile never
 * acts on a cache older than its own last write.
 *
 * Header changes: the new subscription is created first and the old one
 * deleted after, so no event is lost in between (a BMC may deliver an event
 * twice during the overlap, which a webhook tolerates more easily than a
 * missed hardware alert). The old ID is kept in `status.staleSubscriptionIDs`
 * until it is deleted, so a crash cannot orphan it.
 *
 * Deletion: a recorded ID, with nothing stale and no other resource holding
 * the same ID, is deleted with one DELETE (the ID proves nothing unrecorded
 * exists). Otherwise (no ID recorded, so a creation may have reached the BMC
 * unrecorded; replaced ones still to delete; or an ID another resource also
 * holds, after a BMC reset) the BMC's subscriptions are listed and every one
 * that is this resource's by destination and context is deleted, recorded or
 * not, and none that another resource records.
 *
 * Suspension: a subscription the BMC suspended after failed deliveries is
 * resumed where the BMC offers `ResumeSubscription` (same ID, no status
 * write); elsewhere it is retired as stale and created again as above.
 *
 * Costs: a creation is one POST; a restart of a converged subscription no BMC
 * request; a deletion one DELETE; a header change one listing, one POST and
 * one DELETE.
 *
 * @module
 */
import type { BareMetalHost } from "../api/baremetalhost.ts";
import type { BMCEventSubscription, BMCEventSubscriptionStatus } from "../api/bmc-event-subscription.ts";
import { BMC_EVENT_SUBSCRIPTION_FINALIZER } from "../api/names.ts";
import type { HostAccess, Provisioner, Subscription } from "../provisioner/provisioner.ts";
import { ProvisionerError } from "../provisioner/provisioner.ts";
import { type Controller, EVENT_RECORDER_PERMISSIONS, type EventRecorder, findStatusCondition, hasFinalizer, type Informer, isStatusConditionTrue, type KubeClient, type Manager, objectKey, type Permission, permissionOn, type ReconcileContext, refOf, contentChanged, type Result, type Secret, TerminalError } from "../runtime/index.ts";
import { messageOf, sanitizeErrorMessage } from "./error-message.ts";
import { HostAccessError } from "./host-access.ts";
import type { HostAccessResolver } from "./host-access-resolver.ts";
import { headersFromSecret } from "./http-headers.ts";
import { KeyedMutex } from "./keyed-mutex.ts";
import { type Failure, type Reconciling, ResourceReconciler } from "./resource-reconciler.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS } from "./resources.ts";
import { SECRET_READER_PERMISSIONS, type SecretReader } from "./secret-reader.ts";
import { cachedHost, WaitingForHostError } from "./waiting-for-host.ts";

/** Index of subscriptions by the key (`namespace/name`) of their host. */
export const SUBSCRIPTIONS_BY_HOST = "host";
/** Index of subscriptions by the key (`namespace/name`) of their headers Secret. */
export const SUBSCRIPTIONS_BY_SECRET = "headers-secret";

/** The host key a subscription points at. */
export function subscriptionHostKey(subscription: BMCEventSubscription): string {
  return `${subscription.metadata.namespace ?? ""}/${subscription.spec.hostName}`;
}

/** The headers Secret key of a subscription, if it has one. */
export function subscriptionSecretKeys(subscription: BMCEventSubscription): string[] {
  const ref = subscription.spec.httpHeadersRef;
  return ref ? [`${subscription.metadata.namespace ?? ""}/${ref.name}`] : [];
}

/**
 * The other subscriptions of `subscription`'s host with the same destination
 * and context: those that wait for it to go (`DuplicateSubscription`), for
 * the watch that wakes them when it is deleted.
 */
export function sameTargetSubscriptions(
  subscriptions: Pick<Informer<BMCEventSubscription>, "byIndex">,
  subscription: BMCEventSubscription,
): BMCEventSubscription[] {
  return subscriptions
    .byIndex(SUBSCRIPTIONS_BY_HOST, subscriptionHostKey(subscription))
    .filter(
      (other) =>
        other.metadata.uid !== subscription.metadata.uid &&
        normalUrl(other.spec.destination) === normalUrl(subscription.spec.destination) &&
        (other.spec.context ?? "") === (subscription.spec.context ?? ""),
    );
}

/** What the controller needs. */
export interface BMCEventSubscriptionControllerDeps {
  client: KubeClient;
  provisioner: Provisioner;
  subscriptions: Informer<BMCEventSubscription>;
  hosts: Informer<BareMetalHost>;
  secrets: SecretReader;
  access: HostAccessResolver;
  events: EventRecorder;
  /** How often to check that the BMC still holds each subscription, in ms; 0 (the default) never checks. */
  checkIntervalMs?: number;
  /** Headers sent besides those of `httpHeadersRef` (the event receiver's token); none when unset. */
  extraHeaders?: ExtraHeaders;
  now?: () => number;
  random?: () => number;
}

type Sub = BMCEventSubscription;

/**
 * Headers a subscription gets besides those of its `httpHeadersRef`, merged
 * over them. A change of `version` re-creates the subscription on the BMC
 * through the same crash-safe path as a change of the headers Secret.
 */
export interface ExtraHeaders {
  /** Whether `subscription` gets extra headers (then a subscription found on the BMC cannot be adopted: its headers are unknown). */
  appliesTo(subscription: BMCEventSubscription): boolean;
  /** The headers and their version, or the name of what is still missing (the subscription then waits for it). */
  get(subscription: BMCEventSubscription, signal: AbortSignal): Promise<{ headers: Record<string, string>; version: string } | { missing: string }>;
}

/** Another resource of the same host already has this destination and context. */
class DuplicateError extends Error {
  override name = "DuplicateError";
}

/** What identifies a BMC subscription: its ID, destination and context (an ID alone is reused after a BMC reset). */
function identity(id: string, destination: string, context: string): string {
  return JSON.stringify([id, destination, context]);
}

/**
 * Whether the BMC subscription has the resource's destination and context.
 * URLs are compared in their normal form, since a BMC may store the
 * destination normalised (lowercase host, no default port): comparing the
 * text would take the resource's own subscription for a stranger's.
 */
export function sameTarget(sub: BMCEventSubscription, subscription: Subscription): boolean {
  return (
    normalUrl(subscription.destination) === normalUrl(sub.spec.destination) && subscription.context === (sub.spec.context ?? "")
  );
}

/** Destinations as the WHATWG URL parser writes them, remembered: the duplicate check compares each with its host's others. */
const normalUrls = new Map<string, string>();

function normalUrl(url: string): string {
  let normal = normalUrls.get(url);
  if (normal === undefined) {
    normal = URL.canParse(url) ? new URL(url).href : url;
    if (normalUrls.size >= 4096) normalUrls.delete(normalUrls.keys().next().value!);
    normalUrls.set(url, normal);
  }
  return normal;
}

/** The resource's destination and context, as one key. */
function targetKey(sub: Sub): string {
  return JSON.stringify([normalUrl(sub.spec.destination), sub.spec.context ?? ""]);
}

/** Whether `a` was created before `b` (by creation time, then name), to tell which of two duplicates came first. */
function createdBefore(a: Sub, b: Sub): boolean {
  const at = Date.parse(String(a.metadata.creationTimestamp ?? "")) || 0;
  const bt = Date.parse(String(b.metadata.creationTimestamp ?? "")) || 0;
  if (at !== bt) return at < bt;
  return (a.metadata.name ?? "") < (b.metadata.name ?? "");
}

/** Reconciles BMCEventSubscriptions. */
export class BMCEventSubscriptionReconciler extends ResourceReconciler<Sub, BMCEventSubscriptionStatus> {
  readonly #d: BMCEventSubscriptionControllerDeps;
  readonly #hostLocks = new KeyedMutex();
  /** When each subscription was last found on its BMC (or first seen by this process). */
  readonly #lastChecked = new Map<string, number>();
  /**
   * UIDs of subscriptions whose finalizer this process added and for which it
   * has not asked the BMC to create anything yet: for those, no earlier
   * attempt can have reached the BMC, so there is nothing to adopt and no
   * need to list the BMC's subscriptions first.
   */
  readonly #neverAttempted = new Set<string>();
  /**
   * By host key: which resource (UID) each BMC subscription ID went to, as
   * this process created or adopted it; so a deletion sees another resource's
   * new subscription on a reused ID before that resource's status write
   * reaches the cache.
   */
  readonly #idOwners = new Map<string, Map<string, string>>();
  /**
   * By host key: the resource (UID) this process let through to the BMC for
   * each destination and context, before its finalizer reaches the cache.
   */
  readonly #through = new Map<string, Map<string, string>>();

  constructor(deps: BMCEventSubscriptionControllerDeps) {
    // Waiting for the host: retried with backoff; the host's next change requeues sooner.
    const waitingForHost = { event: false, retry: true };
    const now = deps.now && (() => new Date(deps.now!()));
    const actions = { sync: "CreateSubscription", cleanUp: "DeleteSubscription" };
    super({ ...deps, now, resource: BMC_EVENT_SUBSCRIPTIONS, cache: deps.subscriptions, finalizer: BMC_EVENT_SUBSCRIPTION_FINALIZER, actions, waitingForHost });
    this.#d = deps;
  }

  #now(): number {
    return (this.#d.now ?? Date.now)();
  }

  protected override forget(key: string): void {
    this.#lastChecked.delete(key);
  }

  protected override noteError(status: BMCEventSubscriptionStatus, message: string | undefined, sub: Sub): void {
    if (message === undefined) {
      delete status.errorMessage;
      delete status.error;
    } else {
      status.errorMessage = message;
      status.error = message;
    }
    status.observedGeneration = sub.metadata.generation;
  }

  protected override classify(error: unknown, phase: "sync" | "cleanUp"): Failure {
    if (phase === "cleanUp") {
      return { reason: "DeleteFailed", terminal: false, message: `deleting the subscription failed: ${messageOf(error)}` };
    }
    // Waiting for a Secret or the duplicate's deletion: retried with backoff, and the Secret's or the
    // duplicate's next change requeues sooner.
    if (error instanceof SecretMissingError) return { reason: "SecretNotFound", terminal: false };
    if (error instanceof DuplicateError) return { reason: "DuplicateSubscription", terminal: false };
    return super.classify(error, phase);
  }

  /**
   * Subscribes once: refuses a duplicate, puts the finalizer on, retires the
   * subscription whose headers changed, keeps (and, when asked, checks) the
   * recorded one, or creates (or adopts) one and records it.
   */
  protected override async sync(work: Reconciling<Sub>, status: BMCEventSubscriptionStatus, ctx: ReconcileContext): Promise<Result> {
    const host = this.#host(work.object);
    this.#refuseDuplicate(work.object);
    const { headers, version } = await this.#headers(work.object, ctx.signal);
    const access = await this.#d.access.forHost(host, ctx.signal);
    await this.#holdFinalizer(work);
    if (status.subscriptionID && (status.httpHeadersVersion ?? "") !== version) await this.#retire(work, status);
    let lost = false;
    let listing: Subscription[] | undefined;
    if (status.subscriptionID) {
      const check = await this.#checkStillThere(work.object, status.subscriptionID, access, ctx);
      if (check.found) {
        await this.#deleteStale(work, status, access, check.listing, ctx);
        await this.#markReady(work, status);
        return check.next;
      }
      const resumed = check.suspended ? await this.#resume(work.object, status.subscriptionID, access, ctx) : "unsupported";
      if (resumed === "resumed") {
        await this.#deleteStale(work, status, access, check.listing, ctx);
        await this.#markReady(work, status);
        return this.#nextCheck();
      }
      await this.#forgetLost(work, status, check.suspended === true && resumed === "unsupported");
      lost = true;
      listing = check.listing;
    }
    // A recorded ID proves nothing else exists; without one, an earlier attempt may have reached the BMC.
    const mayExist = !this.#firstAttempt(work.object) && !lost;
    return this.#subscribe(work, status, access, { headers, version }, mayExist, listing, ctx);
  }

  /** Throws a {@link DuplicateError} when another resource of the host came first with the same destination and context. */
  #refuseDuplicate(sub: Sub): void {
    const duplicate = this.#earlierDuplicate(sub);
    if (!duplicate) return;
    throw new DuplicateError(
      `BMCEventSubscription "${objectKey(duplicate)}" already subscribes destination ${JSON.stringify(sub.spec.destination)} ` +
        `with context ${JSON.stringify(sub.spec.context ?? "")} on BareMetalHost "${subscriptionHostKey(sub)}"; ` +
        "a BMC cannot tell two such subscriptions apart: change the context of one, or delete one",
    );
  }

  /**
   * Puts the finalizer on before the first BMC request, not at creation: while
   * the host registers there is nothing to clean up, and a burst of new
   * subscriptions then costs the API no writes until their hosts are ready.
   */
  async #holdFinalizer(work: Reconciling<Sub>): Promise<void> {
    this.#letThrough(work.object);
    if (await work.addFinalizer()) this.#neverAttempted.add(work.object.metadata.uid ?? objectKey(work.object));
  }

  /** Whether this is the first attempt since this process added the finalizer (nothing can be on the BMC); once. */
  #firstAttempt(sub: Sub): boolean {
    return this.#neverAttempted.delete(sub.metadata.uid ?? objectKey(sub));
  }

  /**
   * The headers changed: retires the old subscription (deleted after the new
   * one exists). Written before the new one is created, so the API never holds
   * an ID while a POST is out.
   */
  async #retire(work: Reconciling<Sub>, status: BMCEventSubscriptionStatus): Promise<void> {
    const old = status.subscriptionID!;
    status.staleSubscriptionIDs = [...(status.staleSubscriptionIDs ?? []), old];
    delete status.subscriptionID;
    delete status.httpHeadersVersion;
    await work.writeStatus(status);
    this.#d.events.event(work.object, {
      type: "Normal",
      reason: "HeadersChanged",
      action: "RecreateSubscription",
      note: `The headers (their Secret or the event token) changed; creating the subscription again (old ID ${old})`,
    });
  }

  /**
   * Asks the BMC to resume the subscription it suspended, under the host's
   * lock as every create is: the ID kept, nothing to record, nothing else sent. A
   * resume is idempotent and leaves the status as it was, so a crash right
   * after the BMC took it needs no record: the next check finds the
   * subscription enabled, or suspended still and resumes it again.
   * `"unsupported"` (the BMC cannot resume one) and `"gone"` (no longer held)
   * leave it to be created again.
   */
  async #resume(sub: Sub, id: string, access: HostAccess, ctx: ReconcileContext): Promise<"resumed" | "unsupported" | "gone"> {
    const result = await this.#hostLocks.run(subscriptionHostKey(sub), () =>
      this.#d.provisioner.resumeSubscription(access, id, ctx.signal),
    );
    if (result !== "resumed") {
      ctx.logger.info({ subscriptionID: id, result }, "the BMC cannot resume the suspended subscription; creating it again");
      return result;
    }
    this.#lastChecked.set(objectKey(sub), this.#now());
    ctx.logger.info({ subscriptionID: id }, "resumed the subscription");
    // A Warning: the BMC suspends a subscription whose deliveries failed, and the destination may still be failing.
    this.#d.events.event(sub, {
      type: "Warning",
      reason: "SubscriptionResumed",
      action: "CheckSubscription",
      note: `The BMC had suspended subscription ${id} (after failed deliveries?) and sent it no events; resumed it (check that the destination answers)`,
    });
    return result;
  }

  /**
   * The BMC no longer holds the recorded subscription (a BMC reset?), or has
   * suspended it after failed deliveries: forgets it, to create it again. A
   * suspended one is retired as stale, recorded before anything is sent to
   * the BMC: it is deleted once the new one is recorded, or first when the BMC
   * refuses the new one beside it (one subscription per destination, as Dell
   * iDRAC; or full), so a crash at any instant leaves it on record.
   */
  async #forgetLost(work: Reconciling<Sub>, status: BMCEventSubscriptionStatus, suspended: boolean): Promise<void> {
    const lost = status.subscriptionID!;
    if (suspended) {
      this.#d.events.event(work.object, suspendedEvent(lost));
      status.staleSubscriptionIDs = [...(status.staleSubscriptionIDs ?? []), lost];
    } else {
      this.#d.events.event(work.object, {
        type: "Warning",
        reason: "SubscriptionLost",
        action: "CheckSubscription",
        note: `The BMC no longer holds subscription ${lost} with this destination and context (a BMC reset?); creating it again`,
      });
      // Not kept as stale: it is gone, or its ID now belongs to another subscription.
      this.#forgetOwner(work.object, [lost]);
    }
    delete status.subscriptionID;
    delete status.httpHeadersVersion;
    await work.writeStatus(status);
  }

  /** Creates (or adopts) the subscription under the host's lock, records it, and deletes what it replaced. */
  async #subscribe(
    work: Reconciling<Sub>,
    status: BMCEventSubscriptionStatus,
    access: HostAccess,
    { headers, version }: { headers: Record<string, string>; version: string },
    mayExist: boolean,
    listing: Subscription[] | undefined,
    ctx: ReconcileContext,
  ): Promise<Result> {
    const sub = work.object;
    const create = (replaced: string[]) =>
      this.#hostLocks.run(subscriptionHostKey(sub), () => this.#createOnce(sub, status, access, headers, mayExist, listing, replaced, ctx));
    let created: Awaited<ReturnType<typeof create>>;
    // Unrecorded ones of this resource found on the BMC (an earlier attempt's), to be replaced.
    const found: string[] = [];
    try {
      created = await create(found);
    } catch (error) {
      const beside = [...(status.staleSubscriptionIDs ?? []), ...found];
      if (!refusedBesideReplaced(error, beside)) throw error;
      // A BMC that holds one subscription per destination (Dell iDRAC), or is full, refuses the new one
      // beside the ones it replaces, recorded or found unrecorded: delete those first, then create it.
      status.staleSubscriptionIDs = beside;
      await this.#deleteStale(work, status, access, undefined, ctx);
      created = await create([]);
    }
    const { subscription, adopted, replaced } = created;
    status.subscriptionID = subscription.id;
    if (version) status.httpHeadersVersion = version;
    else delete status.httpHeadersVersion;
    if (replaced.length > 0) status.staleSubscriptionIDs = [...(status.staleSubscriptionIDs ?? []), ...replaced];
    this.#lastChecked.set(objectKey(sub), this.#now());
    await this.#markReady(work, status);
    ctx.logger.info({ subscriptionID: subscription.id, adopted, replaced }, adopted ? "adopted the subscription" : "created the subscription");
    this.#d.events.event(work.object, {
      type: "Normal",
      reason: adopted ? "SubscriptionAdopted" : "SubscriptionCreated",
      action: "CreateSubscription",
      note: adopted
        ? `Adopted subscription ${subscription.id} that an earlier attempt had created on the BMC`
        : replaced.length > 0
          ? `Created subscription ${subscription.id} on the BMC of BareMetalHost ${sub.spec.hostName}, replacing ` +
            `${replaced.join(", ")} that an earlier attempt had created, whose headers cannot be proven current`
          : `Created subscription ${subscription.id} on the BMC of BareMetalHost ${sub.spec.hostName}`,
    });
    await this.#deleteStale(work, status, access, created.listing, ctx);
    return this.#nextCheck();
  }

  /** The subscription's host; a {@link WaitingForHostError} while it is missing or not registered. */
  #host(sub: Sub): BareMetalHost {
    const namespace = sub.metadata.namespace ?? "";
    const host = cachedHost(this.#d.hosts, namespace, sub.spec.hostName);
    if (!isStatusConditionTrue(host.status?.conditions, "Ready")) {
      const ready = findStatusCondition(host.status?.conditions, "Ready");
      if (ready === undefined) {
        throw new WaitingForHostError(`BareMetalHost "${namespace}/${sub.spec.hostName}" is not registered yet`, { registering: true });
      }
      // Say why, so the cause (bad credentials, a BMC down) is read here rather than on the host.
      throw new WaitingForHostError(`BareMetalHost "${namespace}/${sub.spec.hostName}" is not registered: ${ready.reason}: ${ready.message}`);
    }
    return host;
  }

  /** The other resources of the subscription's host, from the cache. */
  #others(sub: Sub): Sub[] {
    return this.#d.subscriptions
      .byIndex(SUBSCRIPTIONS_BY_HOST, subscriptionHostKey(sub))
      .filter((other) => other.metadata.uid !== sub.metadata.uid);
  }

  /**
   * The other resource of the host with the same destination and context that
   * comes first, if one does: one that already went to the BMC (it has the
   * finalizer, or this process let it through) before one that did not, then
   * the earlier created. So a resource that subscribed is never made the
   * duplicate of a newer one created in the same second.
   */
  #earlierDuplicate(sub: Sub): Sub | undefined {
    const through = this.#through.get(subscriptionHostKey(sub));
    const went = (o: Sub) =>
      hasFinalizer(o, BMC_EVENT_SUBSCRIPTION_FINALIZER) || through?.get(targetKey(o)) === (o.metadata.uid ?? objectKey(o));
    const first = (a: Sub, b: Sub) => (went(a) !== went(b) ? went(a) : createdBefore(a, b));
    return sameTargetSubscriptions(this.#d.subscriptions, sub)
      .filter((o) => first(o, sub))
      .sort((a, b) => (first(a, b) ? -1 : 1))[0];
  }

  /** The identities of the BMC subscriptions the host's other resources record: never adopted or deleted. */
  #claimedByOthers(sub: Sub): Set<string> {
    const claimed = new Set<string>();
    for (const other of this.#others(sub)) {
      const ids = [other.status?.subscriptionID, ...(other.status?.staleSubscriptionIDs ?? [])];
      for (const id of ids) if (id) claimed.add(identity(id, other.spec.destination, other.spec.context ?? ""));
    }
    return claimed;
  }

  /** Whether `subscription` is this resource's: its destination and context, and no other resource records it. */
  #isMine(sub: Sub, subscription: Subscription, claimed: Set<string>): boolean {
    return sameTarget(sub, subscription) && !claimed.has(identity(subscription.id, subscription.destination, subscription.context));
  }

  /** Notes that the resource passed the duplicate check and may go to the BMC. */
  #letThrough(sub: Sub): void {
    const key = subscriptionHostKey(sub);
    const through = this.#through.get(key) ?? new Map<string, string>();
    through.set(targetKey(sub), sub.metadata.uid ?? objectKey(sub));
    this.#through.set(key, through);
  }

  #forgetThrough(sub: Sub): void {
    const through = this.#through.get(subscriptionHostKey(sub));
    if (through?.get(targetKey(sub)) !== (sub.metadata.uid ?? objectKey(sub))) return;
    through.delete(targetKey(sub));
    if (through.size === 0) this.#through.delete(subscriptionHostKey(sub));
  }

  /** Notes that BMC subscription `id` of the resource's host is now the resource's. */
  #noteOwner(sub: Sub, id: string): void {
    const key = subscriptionHostKey(sub);
    const owners = this.#idOwners.get(key) ?? new Map<string, string>();
    owners.set(id, sub.metadata.uid ?? objectKey(sub));
    this.#idOwners.set(key, owners);
  }

  /** Forgets the resource's IDs (all of them, or those in `ids`). */
  #forgetOwner(sub: Sub, ids?: readonly string[]): void {
    const key = subscriptionHostKey(sub);
    const owners = this.#idOwners.get(key);
    if (!owners) return;
    const uid = sub.metadata.uid ?? objectKey(sub);
    for (const [id, owner] of owners) if (owner === uid && (!ids || ids.includes(id))) owners.delete(id);
    if (owners.size === 0) this.#idOwners.delete(key);
  }

  /**
   * Whether another resource of the host records `id` too, or got it from the
   * BMC in this process: after a BMC reset the ID may be theirs now.
   */
  #contested(sub: Sub, id: string): boolean {
    const uid = sub.metadata.uid ?? objectKey(sub);
    const owner = this.#idOwners.get(subscriptionHostKey(sub))?.get(id);
    if (owner !== undefined && owner !== uid) return true;
    return this.#others(sub).some(
      (other) => other.status?.subscriptionID === id || (other.status?.staleSubscriptionIDs ?? []).includes(id),
    );
  }

  /** The headers to send and the version of the Secret they came from ("" without a Secret). */
  async #headers(sub: Sub, signal: AbortSignal): Promise<{ headers: Record<string, string>; version: string }> {
    const own = await this.#refHeaders(sub, signal);
    const extra = this.#d.extraHeaders;
    if (!extra?.appliesTo(sub)) return own;
    const more = await extra.get(sub, signal);
    if ("missing" in more) throw new SecretMissingError(more.missing);
    return { headers: { ...own.headers, ...more.headers }, version: `${own.version}+${more.version}` };
  }

  /** The headers of `httpHeadersRef` and the version of the Secret they came from ("" without a Secret). */
  async #refHeaders(sub: Sub, signal: AbortSignal): Promise<{ headers: Record<string, string>; version: string }> {
    const ref = sub.spec.httpHeadersRef;
    if (!ref) return { headers: {}, version: "" };
    const namespace = sub.metadata.namespace ?? "";
    if (ref.namespace && ref.namespace !== namespace) {
      throw new TerminalError(
        `spec.httpHeadersRef.namespace "${ref.namespace}" must be empty or the subscription's own namespace "${namespace}"`,
      );
    }
    const secret = await this.#d.secrets.get({ namespace, name: ref.name }, signal);
    if (!secret) throw new SecretMissingError(`headers Secret "${namespace}/${ref.name}" not found`);
    return {
      headers: headersFromSecret({ ...secret, metadata: { name: ref.name, namespace } }),
      version: `${secret.metadata?.uid ?? ""}/${secret.metadata?.resourceVersion ?? ""}`,
    };
  }

  /**
   * Creates the subscription, or adopts the one an earlier attempt created.
   * `mayExist` says whether an earlier attempt may have reached the BMC: then
   * the BMC's subscriptions are listed first, and those of this resource that
   * nothing records are adopted (one, when the resource has no headers, which
   * are then provably current) or replaced (added to `replaced` before the
   * create is sent, so that a BMC's refusal of the new one beside them can be
   * answered by deleting them first; returned in `replaced`, to be recorded as
   * stale and deleted once the new one is recorded).
   */
  async #createOnce(
    sub: Sub,
    status: BMCEventSubscriptionStatus,
    access: HostAccess,
    headers: Record<string, string>,
    mayExist: boolean,
    listing: Subscription[] | undefined,
    replaced: string[],
    ctx: ReconcileContext,
  ): Promise<{ subscription: Subscription; adopted: boolean; replaced: string[]; listing?: Subscription[] }> {
    const destination = sub.spec.destination;
    const context = sub.spec.context ?? "";
    if (mayExist) {
      listing ??= await this.#d.provisioner.listSubscriptions(access, ctx.signal);
      const claimed = this.#claimedByOthers(sub);
      const stale = new Set(status.staleSubscriptionIDs ?? []);
      let adopt: Subscription | undefined;
      for (const found of listing) {
        if (!this.#isMine(sub, found, claimed) || stale.has(found.id)) continue;
        if (!adopt && !sub.spec.httpHeadersRef && !this.#d.extraHeaders?.appliesTo(sub) && !found.suspended) adopt = found;
        else replaced.push(found.id);
      }
      if (adopt) {
        this.#noteOwner(sub, adopt.id);
        return { subscription: adopt, adopted: true, replaced, listing };
      }
    }
    const subscription = await this.#d.provisioner.createSubscription(
      access,
      { destination, context, httpHeaders: headers },
      ctx.signal,
    );
    this.#noteOwner(sub, subscription.id);
    return { subscription, adopted: false, replaced, listing };
  }

  /**
   * With a check interval set: whether it is time to look at the BMC, and if
   * so whether it still holds the subscription (its ID, with this resource's
   * destination and context). The first sight of a subscription in this
   * process only schedules a check, so a restart costs no BMC request.
   */
  async #checkStillThere(
    sub: Sub,
    id: string,
    access: HostAccess,
    ctx: ReconcileContext,
  ): Promise<{ found: boolean; suspended?: boolean; next: Result; listing?: Subscription[] }> {
    const interval = this.#d.checkIntervalMs ?? 0;
    if (interval <= 0) return { found: true, next: {} };
    const key = objectKey(sub);
    const last = this.#lastChecked.get(key);
    const now = this.#now();
    if (last === undefined) {
      this.#lastChecked.set(key, now);
      return { found: true, next: this.#nextCheck() };
    }
    if (now - last < interval) return { found: true, next: { requeueAfter: interval - (now - last) } };
    const listing = await this.#d.provisioner.listSubscriptions(access, ctx.signal);
    const held = listing.find((s) => s.id === id && sameTarget(sub, s));
    if (!held) return { found: false, next: {}, listing };
    if (held.suspended) return { found: false, suspended: true, next: {}, listing };
    this.#lastChecked.set(key, now);
    return { found: true, next: this.#nextCheck(), listing };
  }

  /** When to check next: the interval, jittered by ±10 % so that checks of many hosts spread out. */
  #nextCheck(): Result {
    const interval = this.#d.checkIntervalMs ?? 0;
    if (interval <= 0) return {};
    const jitter = 0.9 + 0.2 * (this.#d.random ?? Math.random)();
    return { requeueAfter: Math.round(interval * jitter) };
  }

  async #markReady(work: Reconciling<Sub>, status: BMCEventSubscriptionStatus): Promise<void> {
    this.ready(status, work.object, "Subscribed", `The BMC sends events to ${work.object.spec.destination}`);
    await work.writeStatus(status);
  }

  /**
   * Deletes the subscriptions this resource replaced, then forgets them. Each
   * is deleted only while the BMC shows it with this resource's destination
   * and context (`listing`, read now when not given): after a BMC reset its
   * ID may be another subscription's.
   */
  async #deleteStale(
    work: Reconciling<Sub>,
    status: BMCEventSubscriptionStatus,
    access: HostAccess,
    listing: Subscription[] | undefined,
    ctx: ReconcileContext,
  ) {
    const sub = work.object;
    const stale = status.staleSubscriptionIDs ?? [];
    if (stale.length === 0) return;
    listing ??= await this.#d.provisioner.listSubscriptions(access, ctx.signal);
    const claimed = this.#claimedByOthers(sub);
    for (const id of stale) {
      const found = listing.find((s) => s.id === id);
      if (!found || !this.#isMine(sub, found, claimed)) {
        ctx.logger.info({ subscriptionID: id }, "a replaced subscription is no longer on the BMC");
        continue;
      }
      await this.#d.provisioner.deleteSubscription(access, id, ctx.signal);
      this.#d.events.event(sub, {
        type: "Normal",
        reason: "SubscriptionDeleted",
        action: "DeleteSubscription",
        note: `Deleted replaced subscription ${id}`,
      });
    }
    this.#forgetOwner(sub, stale);
    delete status.staleSubscriptionIDs;
    await work.writeStatus(status);
  }

  /**
   * Deletes every BMC subscription of this resource, recorded or not (best
   * effort when the host is gone), before the finalizer goes.
   */
  protected override async cleanUp(work: Reconciling<Sub>, ctx: ReconcileContext): Promise<void> {
    const sub = work.object;
    const status = structuredClone(sub.status ?? {});
    const recorded = [status.subscriptionID, ...(status.staleSubscriptionIDs ?? [])].filter((id): id is string => !!id);
    const namespace = sub.metadata.namespace ?? "";
    const host = this.#d.hosts.get({ namespace, name: sub.spec.hostName });
    const attempted = !this.#neverAttempted.has(sub.metadata.uid ?? objectKey(sub));
    let leftBehind: string | undefined;
    if (!host) {
      leftBehind = `BareMetalHost "${namespace}/${sub.spec.hostName}" no longer exists`;
    } else if (recorded.length > 0 || (attempted && isStatusConditionTrue(host.status?.conditions, "Ready"))) {
      try {
        const access = await this.#d.access.forHost(host, ctx.signal);
        const mine = await this.#hostLocks.run(subscriptionHostKey(sub), async () => {
          const current = status.subscriptionID;
          if (current && recorded.length === 1 && !this.#contested(sub, current)) {
            // A recorded ID proves nothing unrecorded exists (every POST is sent while none is
            // recorded), and no other resource has this ID: one DELETE.
            return [current];
          }
          // A creation may have reached the BMC unrecorded, a replaced one may still be there, or the
          // ID may be another's after a BMC reset: find this resource's by destination and context.
          // A later duplicate never created anything unrecorded: it may delete only what it records.
          const duplicate = this.#earlierDuplicate(sub) !== undefined;
          const claimed = this.#claimedByOthers(sub);
          const listing = await this.#d.provisioner.listSubscriptions(access, ctx.signal);
          const found = listing.filter((s) => this.#isMine(sub, s, claimed) && (!duplicate || recorded.includes(s.id)));
          for (const id of recorded) {
            if (found.some((s) => s.id === id)) continue;
            this.#d.events.event(sub, {
              type: "Normal",
              reason: "SubscriptionDeleted",
              action: "DeleteSubscription",
              note: `Subscription ${id} was already gone from the BMC`,
            });
          }
          return found.map((s) => s.id);
        });
        for (const id of mine) {
          const result = await this.#d.provisioner.deleteSubscription(access, id, ctx.signal);
          ctx.logger.info({ subscriptionID: id, result, recorded: recorded.includes(id) }, "deleted the subscription");
          this.#d.events.event(sub, {
            type: "Normal",
            reason: "SubscriptionDeleted",
            action: "DeleteSubscription",
            note: result === "gone" ? `Subscription ${id} was already gone from the BMC` : `Deleted subscription ${id}`,
          });
        }
      } catch (error) {
        const hostGone =
          (error instanceof ProvisionerError && error.kind === "HostNotFound") ||
          (error instanceof HostAccessError && error.reason !== "InvalidCredentials");
        if (!hostGone) throw error;
        leftBehind = sanitizeErrorMessage(messageOf(error));
      }
    }
    if (leftBehind !== undefined && recorded.length > 0) {
      this.#d.events.event(sub, {
        type: "Warning",
        reason: "SubscriptionLeftBehind",
        action: "DeleteSubscription",
        note: `Released without deleting subscription ${recorded.join(", ")} from the BMC: ${leftBehind}`,
      });
    }
  }

  protected override released(sub: Sub): void {
    this.#lastChecked.delete(objectKey(sub));
    this.#neverAttempted.delete(sub.metadata.uid ?? objectKey(sub));
    this.#forgetOwner(sub);
    this.#forgetThrough(sub);
  }
}

/**
 * Adds the BMCEventSubscription controller to `manager`. It reconciles a
 * subscription on a change of its spec or its deletion, a change of its host
 * or of its headers Secret, and the deletion of another subscription of the
 * host with the same destination and context, which lets it go ahead.
 */
export function setUpBMCEventSubscriptionController(
  manager: Manager,
  deps: Omit<BMCEventSubscriptionControllerDeps, "subscriptions"> & { secretCache: Informer<Secret>; workers: number },
): { subscriptions: Informer<BMCEventSubscription>; reconciler: BMCEventSubscriptionReconciler; controller: Controller } {
  const subscriptions = manager.informer(BMC_EVENT_SUBSCRIPTIONS);
  subscriptions.addIndex(SUBSCRIPTIONS_BY_HOST, (s) => [subscriptionHostKey(s)]);
  subscriptions.addIndex(SUBSCRIPTIONS_BY_SECRET, subscriptionSecretKeys);
  const reconciler = new BMCEventSubscriptionReconciler({ ...deps, subscriptions });
  const controller = reconciler
    .controller(manager, "bmceventsubscription", deps.workers)
    .watch(deps.hosts, {
      map: (host) => subscriptions.byIndex(SUBSCRIPTIONS_BY_HOST, objectKey(host)).map(refOf),
      predicates: [contentChanged],
    })
    .watch(deps.secretCache, {
      map: (secret) => subscriptions.byIndex(SUBSCRIPTIONS_BY_SECRET, objectKey(secret)).map(refOf),
      predicates: [contentChanged],
    })
    .watch(subscriptions, {
      map: (gone) => sameTargetSubscriptions(subscriptions, gone).map(refOf),
      predicates: [{ add: () => false, update: () => false }],
    });
  return { subscriptions, reconciler, controller };
}

/** The headers Secret does not exist (yet). */
class SecretMissingError extends Error {
  override name = "SecretMissingError";
}

/**
 * The API calls of the BMCEventSubscription controller (its informer,
 * finalizer patches, status writes, the hosts' cache, BMC credentials and
 * header Secrets, Events), from which the RBAC manifests are generated.
 */
export const BMC_EVENT_SUBSCRIPTION_CONTROLLER_PERMISSIONS: readonly Permission[] = [
  permissionOn(BMC_EVENT_SUBSCRIPTIONS, ["list", "watch", "patch"]),
  permissionOn(BMC_EVENT_SUBSCRIPTIONS, ["patch"], { subresource: "status" }),
  permissionOn(BARE_METAL_HOSTS, ["list", "watch"]),
  ...SECRET_READER_PERMISSIONS,
  ...EVENT_RECORDER_PERMISSIONS,
];

/** The Event of a subscription the BMC suspended after failed deliveries and cannot resume, which is re-created. */
function suspendedEvent(id: string): { type: "Warning"; reason: string; action: string; note: string } {
  return {
    type: "Warning",
    reason: "SubscriptionSuspended",
    action: "CheckSubscription",
    note: `The BMC suspended subscription ${id} (after failed deliveries?) and sends it no events; creating it again, then deleting it`,
  };
}

/**
 * Whether a create was refused because of the replaced subscriptions
 * (`replaced`: those recorded as stale and those found unrecorded) still on
 * the BMC (full, or one subscription per destination: Dell's
 * `PropertyValueModified`), not for something the new one itself got wrong.
 */
function refusedBesideReplaced(error: unknown, replaced: readonly string[]): boolean {
  if (replaced.length === 0 || !(error instanceof ProvisionerError)) return false;
  return error.kind === "SubscriptionLimit" || (error.kind === "Rejected" && /PropertyValueModified|already exists/i.test(error.message));
}

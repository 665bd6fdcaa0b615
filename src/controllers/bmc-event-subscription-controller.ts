/**
 * The BMCEventSubscription controller. It creates each subscription on the
 * host's BMC exactly once, even when the operator dies between the BMC call
 * and the status write, deletes it when the resource goes (never leaving the
 * finalizer stuck), re-creates it with new headers when the headers Secret
 * changes, and can check now and then that a BMC reset did not lose it.
 *
 * Exactly once: the finalizer is added before any BMC state exists, so a
 * reconcile that finds the finalizer already there but no `subscriptionID`
 * knows that an earlier attempt may have reached the BMC. It then lists the
 * BMC's subscriptions and adopts one with the same destination and context
 * that no other BMCEventSubscription claims, before creating anything.
 * Creations are serialised per host, so two resources never adopt the same
 * subscription. A reconcile never acts on a cache older than its own last
 * write.
 *
 * Header changes: the new subscription is created first and the old one
 * deleted after, so no event is lost in between (a BMC may deliver an event
 * twice during the overlap, which a webhook tolerates more easily than a
 * missed hardware alert). The old ID is kept in `status.staleSubscriptionIDs`
 * until it is deleted, so a crash cannot orphan it.
 *
 * @module
 */
import type { BareMetalHost } from "../api/baremetalhost.ts";
import {
  BMC_EVENT_SUBSCRIPTION_FINALIZER,
  type BMCEventSubscription,
  type BMCEventSubscriptionStatus,
} from "../api/bmc-event-subscription.ts";
import type { HostAccess, Provisioner, Subscription } from "../provisioner/provisioner.ts";
import { ProvisionerError } from "../provisioner/provisioner.ts";
import {
  addFinalizer,
  type EventRecorder,
  findStatusCondition,
  hasFinalizer,
  type Informer,
  isDeleting,
  isStatusConditionTrue,
  type KubeClient,
  objectKey,
  type Predicate,
  type ReconcileContext,
  type Request,
  type Result,
  removeFinalizer,
  TerminalError,
} from "../runtime/index.ts";
import { messageOf, sanitizeErrorMessage } from "./error-message.ts";
import { setReady } from "./ready-condition.ts";
import { isYoung, missingHostGrace } from "./object-age.ts";
import { HostAccessError } from "./host-access.ts";
import type { HostAccessResolver } from "./host-access-resolver.ts";
import { headersFromSecret } from "./http-headers.ts";
import { KeyedMutex } from "./keyed-mutex.ts";
import { classifyFailure } from "./reasons.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS } from "./resources.ts";
import type { SecretReader } from "./secret-reader.ts";
import { StatusWriter } from "./status-writer.ts";
import { STALE_CACHE_FALLBACK_MS, WrittenVersions } from "./written-versions.ts";
import { EVENT_RECORDER_PERMISSIONS, type Permission, permissionOn } from "../runtime/index.ts";
import { SECRET_READER_PERMISSIONS } from "./secret-reader.ts";

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
  now?: () => number;
  random?: () => number;
}

type Sub = BMCEventSubscription;

/** A reason to wait for something else to change, without a BMC call. */
class WaitError extends Error {
  readonly reason: string;
  /** True when the host exists and its first registration has not finished. */
  readonly registering: boolean;
  constructor(reason: string, message: string, registering = false) {
    super(message);
    this.name = "WaitError";
    this.reason = reason;
    this.registering = registering;
  }
}

/** Reconciles BMCEventSubscriptions. */
export class BMCEventSubscriptionReconciler {
  readonly #d: BMCEventSubscriptionControllerDeps;
  readonly #written = new WrittenVersions();
  readonly #status: StatusWriter<Sub>;
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

  constructor(deps: BMCEventSubscriptionControllerDeps) {
    this.#d = deps;
    this.#status = new StatusWriter(deps.client, BMC_EVENT_SUBSCRIPTIONS, this.#written);
  }

  #now(): number {
    return (this.#d.now ?? Date.now)();
  }

  /**
   * Passes the update that shows this reconciler its own last write, when a
   * reconcile was put off because the cache was behind it; for the
   * controller's predicates.
   */
  get cacheCaughtUp(): Predicate {
    return this.#written.caughtUp;
  }

  /** The reconcile function, for a controller. */
  readonly reconcile = async (request: Request, ctx: ReconcileContext): Promise<Result> => {
    const cached = this.#d.subscriptions.get(request);
    const key = objectKey({ metadata: request });
    if (!cached) {
      this.#written.forget(key);
      this.#lastChecked.delete(key);
      return {};
    }
    if (this.#written.isStale(cached)) return { requeueAfter: STALE_CACHE_FALLBACK_MS };
    if (isDeleting(cached)) return this.#finalize(cached, ctx);

    let sub = cached;
    const uid = sub.metadata.uid ?? key;
    const status: BMCEventSubscriptionStatus = structuredClone(sub.status ?? {});
    try {
      const host = this.#host(sub);
      const { headers, version } = await this.#headers(sub, ctx.signal);
      const access = await this.#d.access.forHost(host, ctx.signal);
      // The finalizer goes on before the first BMC request, not at creation: while the
      // host registers there is nothing to clean up, and a burst of new subscriptions
      // then costs the API no writes until their hosts are ready.
      if (!hasFinalizer(sub, BMC_EVENT_SUBSCRIPTION_FINALIZER)) {
        sub = await addFinalizer(this.#d.client, BMC_EVENT_SUBSCRIPTIONS, sub, BMC_EVENT_SUBSCRIPTION_FINALIZER, {
          signal: ctx.signal,
        });
        this.#written.record(sub);
        this.#neverAttempted.add(uid);
      }

      if (status.subscriptionID && (status.httpHeadersVersion ?? "") !== version) {
        // The headers changed: retire the old subscription (deleted after the new one exists).
        status.staleSubscriptionIDs = [...(status.staleSubscriptionIDs ?? []), status.subscriptionID];
        delete status.subscriptionID;
        delete status.httpHeadersVersion;
        sub = await this.#status.write(sub, status, ctx.signal);
        this.#d.events.event(sub, {
          type: "Normal",
          reason: "HeadersChanged",
          action: "RecreateSubscription",
          note: `The headers Secret changed; creating the subscription again (old ID ${status.staleSubscriptionIDs.at(-1)})`,
        });
      }

      let lost = false;
      if (status.subscriptionID) {
        const check = await this.#checkStillThere(sub, status.subscriptionID, access, ctx);
        if (check.found) {
          await this.#deleteStale(sub, status, access, ctx);
          await this.#markReady(sub, status, ctx);
          return check.next;
        }
        lost = true;
        this.#d.events.event(sub, {
          type: "Warning",
          reason: "SubscriptionLost",
          action: "CheckSubscription",
          note: `The BMC no longer holds subscription ${status.subscriptionID} (a BMC reset?); creating it again`,
        });
        delete status.subscriptionID;
        sub = await this.#status.write(sub, status, ctx.signal);
      }

      const mayExist = !lost && !this.#neverAttempted.has(uid);
      this.#neverAttempted.delete(uid);
      const { subscription, adopted } = await this.#hostLocks.run(subscriptionHostKey(sub), () =>
        this.#createOnce(sub, status, access, headers, mayExist, ctx),
      );
      status.subscriptionID = subscription.id;
      if (version) status.httpHeadersVersion = version;
      else delete status.httpHeadersVersion;
      this.#lastChecked.set(objectKey(sub), this.#now());
      sub = await this.#markReady(sub, status, ctx);
      ctx.logger.info({ subscriptionID: subscription.id, adopted }, adopted ? "adopted the subscription" : "created the subscription");
      this.#d.events.event(sub, {
        type: "Normal",
        reason: adopted ? "SubscriptionAdopted" : "SubscriptionCreated",
        action: "CreateSubscription",
        note: adopted
          ? `Adopted subscription ${subscription.id} that an earlier attempt had created on the BMC`
          : `Created subscription ${subscription.id} on the BMC of BareMetalHost ${sub.spec.hostName}`,
      });
      await this.#deleteStale(sub, status, access, ctx);
      return this.#nextCheck();
    } catch (error) {
      return this.#fail(sub, status, error, ctx);
    }
  };

  /** The subscription's host; a {@link WaitError} while it is missing or not registered. */
  #host(sub: Sub): BareMetalHost {
    const namespace = sub.metadata.namespace ?? "";
    const host = this.#d.hosts.get({ namespace, name: sub.spec.hostName });
    if (!host) throw new WaitError("HostNotFound", `BareMetalHost "${namespace}/${sub.spec.hostName}" not found`);
    if (!isStatusConditionTrue(host.status?.conditions, "Ready")) {
      const registering = findStatusCondition(host.status?.conditions, "Ready") === undefined;
      throw new WaitError("HostNotReady", `BareMetalHost "${namespace}/${sub.spec.hostName}" is not registered yet`, registering);
    }
    return host;
  }

  /** The headers to send and the version of the Secret they came from ("" without a Secret). */
  async #headers(sub: Sub, signal: AbortSignal): Promise<{ headers: Record<string, string>; version: string }> {
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
   * `mayExist` says whether an earlier attempt may have reached the BMC.
   */
  async #createOnce(
    sub: Sub,
    status: BMCEventSubscriptionStatus,
    access: HostAccess,
    headers: Record<string, string>,
    mayExist: boolean,
    ctx: ReconcileContext,
  ): Promise<{ subscription: Subscription; adopted: boolean }> {
    const destination = sub.spec.destination;
    const context = sub.spec.context ?? "";
    if (mayExist) {
      const claimed = new Set<string>(status.staleSubscriptionIDs ?? []);
      for (const other of this.#d.subscriptions.byIndex(SUBSCRIPTIONS_BY_HOST, subscriptionHostKey(sub))) {
        if (other.metadata.uid === sub.metadata.uid) continue;
        if (other.status?.subscriptionID) claimed.add(other.status.subscriptionID);
        for (const id of other.status?.staleSubscriptionIDs ?? []) claimed.add(id);
      }
      const existing = await this.#d.provisioner.listSubscriptions(access, ctx.signal);
      const mine = existing.find((s) => s.destination === destination && s.context === context && !claimed.has(s.id));
      if (mine) return { subscription: mine, adopted: true };
    }
    const subscription = await this.#d.provisioner.createSubscription(
      access,
      { destination, context, httpHeaders: headers },
      ctx.signal,
    );
    return { subscription, adopted: false };
  }

  /**
   * With a check interval set: whether it is time to look at the BMC, and if
   * so whether the subscription is still there. The first sight of a
   * subscription in this process only schedules a check, so a restart costs
   * no BMC request.
   */
  async #checkStillThere(
    sub: Sub,
    id: string,
    access: HostAccess,
    ctx: ReconcileContext,
  ): Promise<{ found: boolean; next: Result }> {
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
    const existing = await this.#d.provisioner.listSubscriptions(access, ctx.signal);
    if (!existing.some((s) => s.id === id)) return { found: false, next: {} };
    this.#lastChecked.set(key, now);
    return { found: true, next: this.#nextCheck() };
  }

  /** When to check next: the interval, jittered by ±10 % so that checks of many hosts spread out. */
  #nextCheck(): Result {
    const interval = this.#d.checkIntervalMs ?? 0;
    if (interval <= 0) return {};
    const jitter = 0.9 + 0.2 * (this.#d.random ?? Math.random)();
    return { requeueAfter: Math.round(interval * jitter) };
  }

  async #markReady(sub: Sub, status: BMCEventSubscriptionStatus, ctx: ReconcileContext): Promise<Sub> {
    delete status.errorMessage;
    status.observedGeneration = sub.metadata.generation;
    setReady(status, true, "Subscribed", `The BMC sends events to ${sub.spec.destination}`, sub.metadata.generation);
    return this.#status.write(sub, status, ctx.signal);
  }

  /** Deletes subscriptions this resource replaced, recording each deletion. */
  async #deleteStale(sub: Sub, status: BMCEventSubscriptionStatus, access: HostAccess, ctx: ReconcileContext) {
    const stale = status.staleSubscriptionIDs ?? [];
    if (stale.length === 0) return;
    for (const id of stale) {
      await this.#d.provisioner.deleteSubscription(access, id, ctx.signal);
      this.#d.events.event(sub, {
        type: "Normal",
        reason: "SubscriptionDeleted",
        action: "DeleteSubscription",
        note: `Deleted replaced subscription ${id}`,
      });
    }
    delete status.staleSubscriptionIDs;
    await this.#status.write(sub, status, ctx.signal);
  }

  async #fail(sub: Sub, status: BMCEventSubscriptionStatus, error: unknown, ctx: ReconcileContext): Promise<Result> {
    if (error instanceof WaitError && error.registering && isYoung(sub, new Date(this.#now()))) {
      // The host is being registered right now; its status change requeues this subscription. Writing
      // "waiting" here would only cost an API write per resource when many are created at once.
      return {};
    }
    if (error instanceof WaitError && error.reason === "HostNotFound") {
      // Applied together with its host, whose watch event has not arrived yet: wait a moment quietly.
      const grace = missingHostGrace(sub, new Date(this.#now()));
      if (grace !== undefined) return { requeueAfter: grace };
    }
    const { reason, terminal } =
      error instanceof WaitError
        ? { reason: error.reason, terminal: false }
        : error instanceof SecretMissingError
          ? { reason: "SecretNotFound", terminal: false }
          : classifyFailure(error);
    const message = sanitizeErrorMessage(messageOf(error));
    status.errorMessage = message;
    status.observedGeneration = sub.metadata.generation;
    setReady(status, false, reason, message, sub.metadata.generation);
    await this.#status.write(sub, status, ctx.signal);
    ctx.logger.warn({ reason, terminal }, message);
    if (!(error instanceof WaitError)) {
      this.#d.events.event(sub, { type: "Warning", reason, action: "CreateSubscription", note: message });
    }
    if (terminal) throw new TerminalError(message, { cause: error });
    // Waiting for a host or a Secret: retried with backoff, and the host's or Secret's next change requeues sooner.
    throw error;
  }

  /** Deletes the subscription from the BMC (best effort when the host is gone), then releases the finalizer. */
  async #finalize(sub: Sub, ctx: ReconcileContext): Promise<Result> {
    if (!hasFinalizer(sub, BMC_EVENT_SUBSCRIPTION_FINALIZER)) return {};
    const status = structuredClone(sub.status ?? {});
    const ids = [status.subscriptionID, ...(status.staleSubscriptionIDs ?? [])].filter((id): id is string => !!id);
    const namespace = sub.metadata.namespace ?? "";
    const host = this.#d.hosts.get({ namespace, name: sub.spec.hostName });
    let leftBehind: string | undefined;
    if (!host) {
      leftBehind = `BareMetalHost "${namespace}/${sub.spec.hostName}" no longer exists`;
    } else {
      try {
        const access = await this.#d.access.forHost(host, ctx.signal);
        const attempted = !this.#neverAttempted.has(sub.metadata.uid ?? objectKey(sub));
        if (ids.length === 0 && attempted && isStatusConditionTrue(host.status?.conditions, "Ready")) {
          // A creation may have reached the BMC before the operator could record its ID.
          const orphan = await this.#hostLocks.run(subscriptionHostKey(sub), async () => {
            const claimed = new Set<string>();
            for (const other of this.#d.subscriptions.byIndex(SUBSCRIPTIONS_BY_HOST, subscriptionHostKey(sub))) {
              if (other.metadata.uid !== sub.metadata.uid && other.status?.subscriptionID) claimed.add(other.status.subscriptionID);
            }
            const existing = await this.#d.provisioner.listSubscriptions(access, ctx.signal);
            return existing.find(
              (s) => s.destination === sub.spec.destination && s.context === (sub.spec.context ?? "") && !claimed.has(s.id),
            );
          });
          if (orphan) ids.push(orphan.id);
        }
        for (const id of ids) {
          const result = await this.#d.provisioner.deleteSubscription(access, id, ctx.signal);
          ctx.logger.info({ subscriptionID: id, result }, "deleted the subscription");
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
        if (!hostGone) {
          const message = sanitizeErrorMessage(`deleting the subscription failed: ${messageOf(error)}`);
          status.errorMessage = message;
          setReady(status, false, "DeleteFailed", message, sub.metadata.generation);
          await this.#status.write(sub, status, ctx.signal);
          this.#d.events.event(sub, { type: "Warning", reason: "DeleteFailed", action: "DeleteSubscription", note: message });
          throw error;
        }
        leftBehind = sanitizeErrorMessage(messageOf(error));
      }
    }
    if (leftBehind !== undefined && ids.length > 0) {
      this.#d.events.event(sub, {
        type: "Warning",
        reason: "SubscriptionLeftBehind",
        action: "DeleteSubscription",
        note: `Released without deleting subscription ${ids.join(", ")} from the BMC: ${leftBehind}`,
      });
    }
    const released = await removeFinalizer(this.#d.client, BMC_EVENT_SUBSCRIPTIONS, sub, BMC_EVENT_SUBSCRIPTION_FINALIZER, {
      signal: ctx.signal,
    });
    this.#written.record(released);
    this.#lastChecked.delete(objectKey(sub));
    this.#neverAttempted.delete(sub.metadata.uid ?? objectKey(sub));
    return {};
  }
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

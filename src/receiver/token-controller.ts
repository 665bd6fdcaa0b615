/**
 * Keeps each receiver-bound subscription's token Secret: creates it (owned by
 * the subscription, so it goes with it) with a random token, and rotates the
 * token when the subscription's `bmc-operator.metal3.io/rotate-event-token`
 * annotation takes a new value. A rotation keeps the replaced token as
 * `previous-token`, still accepted, until the subscription controller has
 * re-created the BMC subscription with the new token and deleted the old one
 * (its crash-safe header-change path: create the new, then delete the old),
 * so no delivery is refused during the overlap; then it drops it.
 *
 * Also the `ExtraHeaders` the subscription controller merges over the
 * `httpHeadersRef` headers: the token header, versioned by a hash of the
 * token.
 *
 * @module
 */
import type { BMCEventSubscription } from "../api/bmc-event-subscription.ts";
import type { ExtraHeaders } from "../controllers/bmc-event-subscription-controller.ts";
import {
  isAlreadyExists,
  isDeleting,
  isNotFound,
  type Informer,
  type KubeClient,
  objectKey,
  type ReconcileContext,
  type Request,
  type Result,
  SECRETS,
  type Secret,
} from "../runtime/index.ts";
import {
  currentToken,
  isTokenSecretOf,
  newToken,
  PREVIOUS_TOKEN_KEY,
  ROTATE_TOKEN_ANNOTATION,
  ROTATED_FOR_ANNOTATION,
  secretValue,
  TOKEN_FOR_LABEL,
  TOKEN_HEADER,
  tokenSecretName,
  tokenVersion,
} from "./event-token.ts";
import { isReceiverDestination } from "./receiver-url.ts";

/** What the token controller needs. */
export interface TokenControllerDeps {
  client: KubeClient;
  subscriptions: Informer<BMCEventSubscription>;
  /** The token Secrets' cache (Secrets labelled with {@link TOKEN_FOR_LABEL}). */
  secrets: Informer<Secret>;
  receiverUrl: URL;
  /**
   * Whether the rotation annotation rotates the token. Off in metal3 mode: the Metal3
   * baremetal-operator does not re-create a BMC subscription when its headers Secret changes, so
   * a new token would never reach the BMC; there a rotation is re-creating the subscription.
   * @default true
   */
  rotate?: boolean;
}

/** Whether the subscription sends its events to the receiver. */
export function aimedAtReceiver(subscription: BMCEventSubscription, receiverUrl: URL): boolean {
  return isReceiverDestination(subscription.spec?.destination ?? "", receiverUrl);
}

/** The token Secret of a subscription, from the cache, if it is really its own. */
export function tokenSecretOf(secrets: Pick<Informer<Secret>, "get">, subscription: BMCEventSubscription): Secret | undefined {
  const secret = secrets.get({ namespace: subscription.metadata?.namespace ?? "", name: tokenSecretName(subscription.metadata?.name ?? "") });
  return secret && isTokenSecretOf(secret, subscription) ? secret : undefined;
}

/**
 * The token header for the subscription controller. A subscription whose
 * token Secret is not there yet gets it created on the spot (the token
 * controller would create the same one a moment later), so that a new
 * subscription never waits, or shows an error, for its token.
 */
export function receiverTokenHeaders(deps: Pick<TokenControllerDeps, "client" | "secrets" | "receiverUrl">): ExtraHeaders {
  return {
    appliesTo: (subscription) => aimedAtReceiver(subscription, deps.receiverUrl),
    get: async (subscription, signal) => {
      const secret = tokenSecretOf(deps.secrets, subscription) ?? (await ensureTokenSecret(deps.client, subscription, signal));
      const token = currentToken(secret);
      if (!token) return { missing: `event token Secret "${subscription.metadata?.namespace}/${secret.metadata?.name}" holds no ${TOKEN_HEADER}` };
      return { headers: { [TOKEN_HEADER]: token }, version: tokenVersion(token) };
    },
  };
}

/**
 * Creates the subscription's token Secret, or reads the one created a moment
 * ago (by the other of the two controllers); refuses a Secret of that name
 * that is not the subscription's.
 */
export async function ensureTokenSecret(client: KubeClient, subscription: BMCEventSubscription, signal?: AbortSignal): Promise<Secret> {
  const namespace = subscription.metadata?.namespace ?? "";
  const name = tokenSecretName(subscription.metadata?.name ?? "");
  const secret: Secret = {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name,
      namespace,
      // environment.metal3.io=baremetal: the Metal3 baremetal-operator reads a headers Secret through
      // a cache of Secrets with that label only, so without it BMO would not find the token.
      labels: { [TOKEN_FOR_LABEL]: subscription.metadata?.name ?? "", "environment.metal3.io": "baremetal" },
      annotations: { [ROTATED_FOR_ANNOTATION]: subscription.metadata?.annotations?.[ROTATE_TOKEN_ANNOTATION] ?? "" },
      ownerReferences: [
        {
          apiVersion: "metal3.io/v1alpha1",
          kind: "BMCEventSubscription",
          name: subscription.metadata?.name ?? "",
          uid: subscription.metadata?.uid ?? "",
          controller: true,
        },
      ],
    },
    data: { [TOKEN_HEADER]: b64(newToken()) },
  };
  try {
    return await client.create(SECRETS, secret, { signal });
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
    const existing = await client.get(SECRETS, { namespace, name }, { signal }).catch((e: unknown) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
    if (!existing || !isTokenSecretOf(existing, subscription)) {
      throw new Error(
        `Secret "${namespace}/${name}" exists and is not the event token of BMCEventSubscription "${objectKey(subscription)}" (label ${TOKEN_FOR_LABEL} or owner differs); delete it to let the receiver create the token`,
        { cause: error },
      );
    }
    return existing;
  }
}

/** Reconciles the token Secrets of receiver-bound subscriptions. */
export class TokenReconciler {
  readonly #d: TokenControllerDeps;

  constructor(deps: TokenControllerDeps) {
    this.#d = deps;
  }

  /** The subscription of a token Secret, for the Secret watch. */
  subscriptionOf(secret: Secret): Request[] {
    const name = secret.metadata?.labels?.[TOKEN_FOR_LABEL];
    return name ? [{ namespace: secret.metadata?.namespace ?? "", name }] : [];
  }

  readonly reconcile = async (request: Request, ctx: ReconcileContext): Promise<Result> => {
    const subscription = this.#d.subscriptions.get(request);
    if (!subscription || isDeleting(subscription) || !aimedAtReceiver(subscription, this.#d.receiverUrl)) return {};
    const namespace = subscription.metadata?.namespace ?? "";
    const name = tokenSecretName(subscription.metadata?.name ?? "");
    const rotation = subscription.metadata?.annotations?.[ROTATE_TOKEN_ANNOTATION] ?? "";
    const secret = tokenSecretOf(this.#d.secrets, subscription);
    if (!secret) {
      await ensureTokenSecret(this.#d.client, subscription, ctx.signal);
      ctx.logger.info({ subscription: objectKey(subscription), secret: `${namespace}/${name}` }, "created the event token");
      return {};
    }
    const token = currentToken(secret);
    const rotatedFor = secret.metadata?.annotations?.[ROTATED_FOR_ANNOTATION] ?? "";
    if (!token || (rotatedFor !== rotation && this.#d.rotate !== false)) {
      // One step: a new token, the old one still accepted until the BMC has the new one.
      const data: Record<string, string | null> = { [TOKEN_HEADER]: b64(newToken()) };
      data[PREVIOUS_TOKEN_KEY] = token ? b64(token) : null;
      await this.#d.client.patch(
        SECRETS,
        { namespace, name },
        { metadata: { annotations: { [ROTATED_FOR_ANNOTATION]: rotation } }, data },
        { type: "merge", signal: ctx.signal },
      );
      ctx.logger.info({ subscription: objectKey(subscription), secret: `${namespace}/${name}` }, "rotated the event token");
      return {};
    }
    if (secretValue(secret, PREVIOUS_TOKEN_KEY) !== undefined && this.#rotationDone(subscription, token)) {
      await this.#d.client.patch(SECRETS, { namespace, name }, { data: { [PREVIOUS_TOKEN_KEY]: null } }, { type: "merge", signal: ctx.signal });
      ctx.logger.info({ subscription: objectKey(subscription) }, "the BMC sends the new event token only; the previous one is no longer accepted");
    }
    return {};
  };

  /** The BMC subscription with the new token is recorded and the replaced one deleted. */
  #rotationDone(subscription: BMCEventSubscription, token: string): boolean {
    const status = subscription.status;
    return (
      !!status?.subscriptionID &&
      (status.httpHeadersVersion ?? "").endsWith(`+${tokenVersion(token)}`) &&
      (status.staleSubscriptionIDs ?? []).length === 0
    );
  }
}

function b64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

/**
 * The per-subscription token a BMC sends with every delivery to the event
 * receiver: where it is kept (a Secret owned by the subscription), which
 * header carries it, and the hash the receiver looks deliveries up by. The
 * token proves which subscription (and so which host) sent a delivery; its
 * value never appears in a log, an Event, a status, a metric or an error.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import type { BMCEventSubscription } from "../api/bmc-event-subscription.ts";
import type { Secret } from "../runtime/index.ts";

/** The HTTP header that carries the token (also the Secret's data key, so the Secret works as an `httpHeadersRef`). */
export const TOKEN_HEADER = "X-BMC-Event-Token";
/** The data key of the token that a rotation replaced, accepted until the BMC sends the new one only. */
export const PREVIOUS_TOKEN_KEY = "previous-token";
/** Label of a token Secret: the name of its subscription. */
export const TOKEN_FOR_LABEL = "bmc-operator.metal3.io/event-token-for";
/** Annotation of a subscription: set it to a new value to rotate the token (one step). */
export const ROTATE_TOKEN_ANNOTATION = "bmc-operator.metal3.io/rotate-event-token";
/** Annotation of a token Secret: the rotation value its token answers. */
export const ROTATED_FOR_ANNOTATION = "bmc-operator.metal3.io/rotated-for";

/** The name of a subscription's token Secret. */
export function tokenSecretName(subscriptionName: string): string {
  const name = `${subscriptionName}-event-token`;
  // Secret names may be 253 characters; a subscription name nearly that long gets a hashed tail.
  return name.length <= 253 ? name : `${subscriptionName.slice(0, 220)}-${sha256(subscriptionName).slice(0, 16)}-event-token`;
}

/** A new random token: 32 bytes, base64url. */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Hex SHA-256 of a text, the key deliveries are looked up by (a hash compares without leaking timing of the token). */
export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The decoded value of a data key of a Secret (data is base64; stringData is plain, as sent by a client before the API merges it). */
export function secretValue(secret: Secret, key: string): string | undefined {
  const data = secret.data?.[key];
  if (data !== undefined) return Buffer.from(data, "base64").toString("utf8");
  return secret.stringData?.[key];
}

/** The current token of a token Secret. */
export function currentToken(secret: Secret): string | undefined {
  return secretValue(secret, TOKEN_HEADER) || undefined;
}

/** The hashes of the tokens a token Secret accepts: the current one, and the previous one during a rotation. */
export function acceptedTokenHashes(secret: Secret): string[] {
  if (secret.metadata?.labels?.[TOKEN_FOR_LABEL] === undefined) return [];
  return [currentToken(secret), secretValue(secret, PREVIOUS_TOKEN_KEY)].filter((t): t is string => !!t).map(sha256);
}

/**
 * The version of a token as the subscription controller records it: a short
 * hash, which changes with the token (not with the Secret's resourceVersion,
 * so that dropping the previous token after a rotation re-creates nothing).
 */
export function tokenVersion(token: string): string {
  return `token-${sha256(token).slice(0, 16)}`;
}

/** Whether `secret` is the token Secret of `subscription` (by label and owner). */
export function isTokenSecretOf(secret: Secret, subscription: BMCEventSubscription): boolean {
  if (secret.metadata?.labels?.[TOKEN_FOR_LABEL] !== subscription.metadata?.name) return false;
  const uid = subscription.metadata?.uid;
  return !uid || (secret.metadata?.ownerReferences ?? []).some((o) => o.uid === uid);
}

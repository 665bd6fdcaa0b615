/**
 * The TokenRequest API: `POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token`
 * issues a token of that ServiceAccount (what `kubectl create token` calls),
 * valid for `spec.expirationSeconds` (one hour by default, ten minutes at
 * least) and while the ServiceAccount exists.
 *
 * @module
 */
import type { Authenticator } from "./authentication.ts";
import { TOKEN_ISSUER } from "./authentication.ts";
import { serviceAccounts } from "./builtin-access.ts";
import type { Storage } from "./storage.ts";
import { objectKey } from "./storage.ts";
import { badRequest, invalid, notFound } from "./status.ts";

const DEFAULT_EXPIRATION_SECONDS = 3600;
const MIN_EXPIRATION_SECONDS = 600;

/** Answers a TokenRequest for ServiceAccount `namespace/name`. */
export function requestToken(storage: Storage, authenticator: Authenticator, namespace: string, name: string, body: unknown): Record<string, unknown> {
  if (body !== undefined && (body === null || typeof body !== "object" || Array.isArray(body))) {
    throw badRequest(`the request body must be a TokenRequest object, got ${JSON.stringify(body)}`);
  }
  const request = (body ?? {}) as { kind?: string; spec?: { audiences?: unknown; expirationSeconds?: unknown; boundObjectRef?: unknown } };
  if (request.kind !== undefined && request.kind !== "TokenRequest") {
    throw badRequest(`the kind in the request body (${JSON.stringify(request.kind)}) does not match the kind of the subresource ("TokenRequest")`);
  }
  const account = storage.get(serviceAccounts.storage, objectKey(namespace, name));
  if (!account) throw notFound({ group: "", resource: "serviceaccounts" }, name);
  const spec = request.spec ?? {};
  const expirationSeconds = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  if (typeof expirationSeconds !== "number" || !Number.isInteger(expirationSeconds) || expirationSeconds < MIN_EXPIRATION_SECONDS) {
    throw invalid({ group: "authentication.k8s.io", kind: "TokenRequest" }, name, [
      { reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(expirationSeconds)}: may not specify a duration less than 10 minutes`, field: "spec.expirationSeconds" },
    ]);
  }
  const audiences = Array.isArray(spec.audiences) && spec.audiences.length ? spec.audiences.map(String) : [TOKEN_ISSUER];
  const issued = authenticator.issue({ namespace, name, uid: account.object.metadata.uid ?? "" }, expirationSeconds, audiences);
  return {
    kind: "TokenRequest",
    apiVersion: "authentication.k8s.io/v1",
    metadata: { name, namespace, creationTimestamp: null },
    spec: { audiences, expirationSeconds, boundObjectRef: spec.boundObjectRef ?? null },
    status: issued,
  };
}

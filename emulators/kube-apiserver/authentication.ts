/**
 * Authentication as kube-apiserver does it with bearer tokens: the admin
 * token of the kubeconfig the emulator writes (a member of `system:masters`),
 * and ServiceAccount tokens issued through the TokenRequest API
 * (`POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token`, what
 * `kubectl create token` calls). ServiceAccount tokens are JWTs signed by the
 * emulator (HS256 with a key of its own, where kube-apiserver signs RS256);
 * one is valid until it expires and while its ServiceAccount exists with the
 * same uid. A request without a token is `system:anonymous`; one with a token
 * the emulator did not issue is 401 Unauthorized.
 *
 * @module
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { UserInfo } from "./access-types.ts";
import { StatusError } from "./status.ts";

/** The user of the admin kubeconfig, as kubeadm names it. */
export const ADMIN_USER = "kubernetes-admin";
/** The group RBAC never restricts. */
export const SUPERUSER_GROUP = "system:masters";
/** Requests without credentials. */
export const ANONYMOUS: UserInfo = { username: "system:anonymous", groups: ["system:unauthenticated"] };

/** The issuer and default audience of the emulator's ServiceAccount tokens. */
export const TOKEN_ISSUER = "https://kubernetes.default.svc.cluster.local";

/** A ServiceAccount a token is issued for. */
export interface ServiceAccountRef {
  namespace: string;
  name: string;
  uid: string;
}

/** The claims of a ServiceAccount token the emulator reads back. */
interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  "kubernetes.io": { namespace: string; serviceaccount: { name: string; uid: string } };
}

/** 401 Unauthorized, as kube-apiserver answers a token it cannot authenticate. */
export function unauthorized(): StatusError {
  return new StatusError(401, "Unauthorized", "Unauthorized");
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

/** The emulator's credentials: the admin token and the ServiceAccount token signing key. */
export class Authenticator {
  readonly adminToken: string;
  readonly #key: Buffer;
  /** Finds a ServiceAccount's current uid, or undefined when it is gone. */
  readonly #serviceAccountUid: (namespace: string, name: string) => string | undefined;

  /**
   * With `dataDir`, the admin token and the signing key are kept in
   * `<dataDir>/kube-apiserver-auth.json`, so a restart keeps the kubeconfig
   * and the issued tokens valid, as the objects are kept.
   */
  constructor(serviceAccountUid: (namespace: string, name: string) => string | undefined, dataDir?: string) {
    this.#serviceAccountUid = serviceAccountUid;
    const path = dataDir ? join(dataDir, "kube-apiserver-auth.json") : undefined;
    if (path && existsSync(path)) {
      const saved = JSON.parse(readFileSync(path, "utf8")) as { adminToken: string; signingKey: string };
      this.adminToken = saved.adminToken;
      this.#key = Buffer.from(saved.signingKey, "base64");
    } else {
      this.adminToken = `admin-${randomBytes(24).toString("base64url")}`;
      this.#key = randomBytes(32);
      if (path && dataDir) {
        mkdirSync(dataDir, { recursive: true });
        writeFileSync(path, JSON.stringify({ adminToken: this.adminToken, signingKey: this.#key.toString("base64") }), { mode: 0o600 });
      }
    }
  }

  #sign(input: string): Buffer {
    return createHmac("sha256", this.#key).update(input).digest();
  }

  /** A token of `account` valid for `expirationSeconds`, as the TokenRequest API returns it. */
  issue(account: ServiceAccountRef, expirationSeconds: number, audiences: string[], now = Date.now()): { token: string; expirationTimestamp: string } {
    const iat = Math.floor(now / 1000);
    const claims: TokenClaims = {
      iss: TOKEN_ISSUER,
      sub: `system:serviceaccount:${account.namespace}:${account.name}`,
      aud: audiences.length ? audiences : [TOKEN_ISSUER],
      exp: iat + expirationSeconds,
      iat,
      nbf: iat,
      jti: randomUUID(),
      "kubernetes.io": { namespace: account.namespace, serviceaccount: { name: account.name, uid: account.uid } },
    };
    const unsigned = `${base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${base64url(JSON.stringify(claims))}`;
    return {
      token: `${unsigned}.${base64url(this.#sign(unsigned))}`,
      expirationTimestamp: new Date(claims.exp * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    };
  }

  /** The user of an `Authorization` header; throws 401 for a token that is not valid. */
  authenticate(authorization: string | undefined, now = Date.now()): UserInfo {
    if (!authorization) return ANONYMOUS;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw unauthorized();
    const token = match[1]!;
    if (token.length === this.adminToken.length && timingSafeEqual(Buffer.from(token), Buffer.from(this.adminToken))) {
      return { username: ADMIN_USER, groups: [SUPERUSER_GROUP, "system:authenticated"] };
    }
    const claims = this.#verify(token);
    if (!claims || claims.exp * 1000 <= now) throw unauthorized();
    const { namespace, serviceaccount } = claims["kubernetes.io"];
    if (this.#serviceAccountUid(namespace, serviceaccount.name) !== serviceaccount.uid) throw unauthorized();
    return {
      username: claims.sub,
      uid: serviceaccount.uid,
      groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
      extra: { "authentication.kubernetes.io/credential-id": [`JTI=${claims.jti}`] },
    };
  }

  #verify(token: string): TokenClaims | undefined {
    const parts = token.split(".");
    if (parts.length !== 3) return undefined;
    const expected = this.#sign(`${parts[0]}.${parts[1]}`);
    const given = Buffer.from(parts[2]!, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      return JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as TokenClaims;
    } catch {
      return undefined;
    }
  }
}

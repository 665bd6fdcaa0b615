/**
 * Builds what a provisioner needs to reach a host's BMC from the
 * BareMetalHost and its credentials Secret.
 *
 * @module
 */
import type { V1Secret } from "@kubernetes/client-node";
import type { BareMetalHost } from "../api/baremetalhost.ts";
import type { HostAccess } from "../provisioner/provisioner.ts";

/** The host cannot be reached yet: its spec or its credentials are incomplete. The message holds no secret. */
export class HostAccessError extends Error {
  /** `CredentialsMissing` when the Secret is absent, `InvalidSpec` or `InvalidCredentials` otherwise. */
  readonly reason: "InvalidSpec" | "CredentialsMissing" | "InvalidCredentials";
  constructor(reason: HostAccessError["reason"], message: string) {
    super(message);
    this.name = "HostAccessError";
    this.reason = reason;
  }
}

function secretValue(secret: V1Secret, key: string): string | undefined {
  const encoded = secret.data?.[key];
  if (encoded !== undefined) return Buffer.from(encoded, "base64").toString("utf8");
  return secret.stringData?.[key];
}

/**
 * The {@link HostAccess} of a host. `secret` is its `spec.bmc.credentialsName`
 * Secret, or undefined when it does not exist.
 */
export function hostAccessFrom(host: BareMetalHost, secret: V1Secret | undefined): HostAccess {
  const namespace = host.metadata.namespace ?? "";
  const name = host.metadata.name ?? "";
  const bmc = host.spec.bmc;
  if (!bmc?.address) {
    throw new HostAccessError("InvalidSpec", `BareMetalHost "${namespace}/${name}" has no spec.bmc.address`);
  }
  if (!bmc.credentialsName) {
    throw new HostAccessError("InvalidSpec", `BareMetalHost "${namespace}/${name}" has no spec.bmc.credentialsName`);
  }
  if (!secret) {
    throw new HostAccessError(
      "CredentialsMissing",
      `credentials Secret "${namespace}/${bmc.credentialsName}" of BareMetalHost "${name}" not found`,
    );
  }
  const username = secretValue(secret, "username");
  const password = secretValue(secret, "password");
  for (const [key, value] of [
    ["username", username],
    ["password", password],
  ] as const) {
    if (!value) {
      throw new HostAccessError(
        "InvalidCredentials",
        `credentials Secret "${namespace}/${bmc.credentialsName}" has no "${key}" key (or it is empty)`,
      );
    }
  }
  const access: HostAccess = {
    namespace,
    name,
    address: bmc.address,
    disableCertificateVerification: bmc.disableCertificateVerification === true,
    username: username ?? "",
    password: password ?? "",
  };
  const provisioningID = host.status?.provisioning?.ID;
  if (provisioningID) access.provisioningID = provisioningID;
  if (host.spec.bootMACAddress) access.bootMACAddress = host.spec.bootMACAddress;
  return access;
}

/**
 * The {@link HostAccess} of a host whose provisioner node someone else (the
 * Metal3 baremetal-operator) enrolled and keeps: enough to find the node (its
 * namespace, name and `status.provisioning.ID`). The credentials, when the
 * Secret exists, are carried only so that they are redacted from messages;
 * nothing is sent with them.
 */
export function lookUpAccessFrom(host: BareMetalHost, secret: V1Secret | undefined): HostAccess {
  const access: HostAccess = {
    namespace: host.metadata.namespace ?? "",
    name: host.metadata.name ?? "",
    address: host.spec.bmc?.address ?? "",
    disableCertificateVerification: host.spec.bmc?.disableCertificateVerification === true,
    username: secret ? (secretValue(secret, "username") ?? "") : "",
    password: secret ? (secretValue(secret, "password") ?? "") : "",
  };
  const provisioningID = host.status?.provisioning?.ID;
  if (provisioningID) access.provisioningID = provisioningID;
  return access;
}

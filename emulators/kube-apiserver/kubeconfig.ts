/**
 * The kubeconfig of an emulator: one cluster, user and context, all named
 * `bmc-operator-emulator`, with namespace `default`. A plain http server on
 * loopback gets `insecure-skip-tls-verify: true`, without which
 * `@kubernetes/client-node` refuses http:// servers; an https one (`tls`) its
 * self-signed certificate as the certificate authority. The user
 * is the emulator's admin (`kubernetes-admin`, in `system:masters`), with
 * the admin bearer token.
 *
 * @module
 */
import { stringify } from "yaml";

/** The name of the cluster, user and context of an emulator's kubeconfig. */
export const KUBECONFIG_NAME = "bmc-operator-emulator";

/** A kubeconfig (YAML) for the emulator at `url`. */
export function renderKubeconfig(url: string, token: string, certificateAuthority?: string): string {
  const cluster = certificateAuthority
    ? { server: url, "certificate-authority-data": Buffer.from(certificateAuthority).toString("base64") }
    : { server: url, "insecure-skip-tls-verify": true };
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: KUBECONFIG_NAME, cluster }],
    users: [{ name: KUBECONFIG_NAME, user: { token } }],
    contexts: [{ name: KUBECONFIG_NAME, context: { cluster: KUBECONFIG_NAME, user: KUBECONFIG_NAME, namespace: "default" } }],
    "current-context": KUBECONFIG_NAME,
    preferences: {},
  });
}

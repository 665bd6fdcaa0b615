/**
 * The receiver serves the certificate of its folder (the mounted
 * kubernetes.io/tls Secret) and, once the files are renewed, the new one to
 * new connections, without a restart.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { connect } from "node:tls";
import { selfSignedCertificate } from "../../emulators/redfish-bmc/tls.ts";
import { prepareEventReceiver, type StartedEventReceiver } from "../../src/receiver/setup.ts";
import { kubeConfigFromString, Manager, silentLogger } from "../../src/runtime/index.ts";
import { waitFor } from "../support/operator-stack.ts";

let dir: string | undefined;
let receiver: StartedEventReceiver | undefined;
after(async () => {
  await receiver?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The fingerprint of the certificate a new TLS connection to `port` is served. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once("error", reject);
  });
}

describe("the receiver's certificate", () => {
  it("is read from its folder, and a renewed one is served to new connections", async () => {
    dir = await mkdtemp(join(tmpdir(), "receiver-cert-"));
    const first = await selfSignedCertificate();
    await writeFile(join(dir, "tls.key"), first.key);
    await writeFile(join(dir, "tls.crt"), first.cert);
    // Never started: the listener needs no cluster.
    const kubeconfig = "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'http://127.0.0.1:1'}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n";
    const manager = new Manager({ kubeConfig: kubeConfigFromString(kubeconfig), metricsAddress: "0", probeAddress: "0", logger: silentLogger });
    const prepared = prepareEventReceiver(manager, { bindAddress: "127.0.0.1:0", url: "https://127.0.0.1/events", certDir: dir, certCheckIntervalMs: 20 });
    receiver = await prepared.start();
    const before = await servedFingerprint(receiver.port);

    const renewed = await selfSignedCertificate();
    await writeFile(join(dir, "tls.key"), renewed.key);
    await writeFile(join(dir, "tls.crt"), renewed.cert);
    const after = await waitFor("the renewed certificate to be served", () => servedFingerprint(receiver!.port), (fingerprint) => fingerprint !== before);
    assert.notEqual(after, before);
  });
});

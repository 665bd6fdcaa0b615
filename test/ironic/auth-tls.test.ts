/**
 * The Ironic client against a real Ironic that serves HTTPS, requires a
 * client certificate and HTTP Basic auth (`auth_strategy = http_basic`): each
 * credential is needed, a wrong one is refused with a clear error that holds
 * no secret, and the insecure switch skips only the server check.
 *
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { IronicClient, type IronicClientOptions } from "../../src/provisioner/ironic/client.ts";
import { IronicError } from "../../src/provisioner/ironic/errors.ts";
import { IronicProvisioner } from "../../src/provisioner/ironic/provisioner.ts";
import { ProvisionerError } from "../../src/provisioner/provisioner.ts";
import { type IronicServer, ironicReleases, ironicSkipReason, startIronic } from "../support/ironic.ts";
import { makeTestCertificates, type TestCertificates } from "./certificates.ts";

const USERNAME = "bmc-operator";
const PASSWORD = "ironic-basic-pass-31a7";

for (const release of ironicReleases()) {
  describe(`IronicClient with TLS, a client certificate and HTTP Basic auth (${release.label})`, { skip: ironicSkipReason(release) }, () => {
    let certs: TestCertificates;
    let ironic: IronicServer;
    let good: IronicClientOptions;

    before(async () => {
      certs = await makeTestCertificates();
      ironic = await startIronic({
        release,
        httpBasic: { username: USERNAME, password: PASSWORD },
        tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, clientCAFile: certs.caFile },
      });
      good = {
        endpoint: ironic.url,
        username: USERNAME,
        password: PASSWORD,
        ca: certs.ca,
        cert: certs.clientCert,
        key: certs.clientKey,
        timeoutMs: 10_000,
      };
      const client = new IronicClient(good);
      try {
        await client.createNode({ name: "tls~fake-0", driver: "fake-hardware", driver_info: {} });
      } finally {
        client.close();
      }
    });
    after(async () => {
      await ironic?.close();
      await certs?.remove();
    });

    async function attempt(options: IronicClientOptions): Promise<unknown> {
      const client = new IronicClient(options);
      try {
        return await client.getNode("tls~fake-0");
      } catch (error) {
        return error;
      } finally {
        client.close();
      }
    }

    it("works with the CA, the client certificate and the Basic credentials", async () => {
      assert.match(ironic.url, /^https:\/\/127\.0\.0\.1:/);
      const node = await attempt(good);
      assert.equal((node as { name: string }).name, "tls~fake-0");
    });

    it("is refused without the Basic credentials, or with a wrong password that no message shows", async () => {
      for (const options of [
        { ...good, username: undefined, password: undefined },
        { ...good, password: "wrong-basic-pass-77" },
      ]) {
        const error = await attempt(options);
        assert.ok(error instanceof IronicError, String(error));
        assert.equal(error.status, 401);
        assert.ok(!error.message.includes("wrong-basic-pass-77") && !error.message.includes(PASSWORD), error.message);
      }
      const provisioner = new IronicProvisioner({ client: { ...good, password: "wrong-basic-pass-77" }, registerHosts: false });
      try {
        const host = {
          namespace: "tls",
          name: "fake-0",
          address: "redfish://127.0.0.1:1",
          disableCertificateVerification: false,
          username: "u",
          password: "p",
        };
        await assert.rejects(provisioner.listIndicators(host), (error: unknown) => {
          assert.ok(error instanceof ProvisionerError);
          assert.equal(error.kind, "Unauthorized");
          assert.ok(!error.message.includes("wrong-basic-pass-77"), error.message);
          return true;
        });
      } finally {
        provisioner.close();
      }
    });

    it("does not trust Ironic's certificate without its CA", async () => {
      for (const options of [{ ...good, ca: undefined }, { ...good, ca: certs.otherCa }]) {
        const error = await attempt(options);
        assert.ok(error instanceof IronicError, String(error));
        assert.equal(error.failure, "connection");
        assert.match(error.message, /certificate/i);
      }
    });

    it("skips only the server check when insecure, and still needs the client certificate", async () => {
      const node = await attempt({ ...good, ca: certs.otherCa, insecure: true });
      assert.equal((node as { name: string }).name, "tls~fake-0");
      const error = await attempt({ ...good, insecure: true, cert: undefined, key: undefined });
      assert.ok(error instanceof IronicError, String(error));
      assert.equal(error.failure, "connection");
    });
  });
}

/**
 * A throwaway self-signed certificate for 127.0.0.1 and localhost, made with
 * the `openssl` command line (Node cannot issue certificates by itself).
 *
 * @module
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A PEM certificate and its private key. */
export interface SelfSignedCertificate {
  cert: string;
  key: string;
}

/** Issues a P-256 certificate valid for 7 days for `127.0.0.1` and `localhost`. */
export async function selfSignedCertificate(): Promise<SelfSignedCertificate> {
  const dir = await mkdtemp(join(tmpdir(), "redfish-bmc-tls-"));
  try {
    const keyFile = join(dir, "key.pem");
    const certFile = join(dir, "cert.pem");
    try {
      await run(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-keyout",
          keyFile,
          "-out",
          certFile,
          "-days",
          "7",
          "-subj",
          "/CN=Redfish BMC emulator",
          "-addext",
          "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        { timeout: 30_000 },
      );
    } catch (error) {
      throw new Error(`tls: true needs the openssl command to issue a self-signed certificate: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return { cert: await readFile(certFile, "utf8"), key: await readFile(keyFile, "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

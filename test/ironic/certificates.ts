/**
 * Throwaway certificates for the TLS tests, made with the `openssl` command:
 * a CA, a server certificate for 127.0.0.1 and a client certificate it
 * signed, and an unrelated CA that trusts neither.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Paths of the files made, and their PEM contents. */
export interface TestCertificates {
  dir: string;
  caFile: string;
  ca: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed none of the above. */
  otherCa: string;
  /** Removes the directory. */
  remove(): Promise<void>;
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** Makes a CA, a server certificate for 127.0.0.1 and a client certificate, valid for a day. */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), "bmc-operator-certs-"));
  try {
    for (const ca of ["ca", "other-ca"]) {
      openssl(dir, ["req", "-x509", ...EC_KEY, "-keyout", `${ca}.key`, "-out", `${ca}.crt`, "-days", "1", "-subj", `/CN=${ca}`]);
    }
    const leaf = (name: string, subject: string, extensions: string[]): void =>
      openssl(dir, [
        "req", "-x509", ...EC_KEY, "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "1",
        "-CA", "ca.crt", "-CAkey", "ca.key", "-subj", subject, ...extensions.flatMap((e) => ["-addext", e]),
      ]);
    leaf("server", "/CN=127.0.0.1", ["basicConstraints=critical,CA:FALSE", "subjectAltName=IP:127.0.0.1", "extendedKeyUsage=serverAuth"]);
    leaf("client", "/CN=bmc-operator", ["basicConstraints=critical,CA:FALSE", "extendedKeyUsage=clientAuth"]);
    const read = (file: string): Promise<string> => readFile(join(dir, file), "utf8");
    return {
      dir,
      caFile: join(dir, "ca.crt"),
      ca: await read("ca.crt"),
      serverCertFile: join(dir, "server.crt"),
      serverKeyFile: join(dir, "server.key"),
      clientCert: await read("client.crt"),
      clientKey: await read("client.key"),
      otherCa: await read("other-ca.crt"),
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

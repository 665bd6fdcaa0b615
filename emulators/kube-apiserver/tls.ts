/**
 * A throwaway serving certificate for the emulator's https mode, made with
 * the `openssl` command: a self-signed P-256 certificate for 127.0.0.1 and
 * localhost, valid for two days. kubectl sends credentials only to https
 * servers (client-go's clientcmd drops them for http://), so authenticating
 * kubectl needs it.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A PEM key and certificate. */
export interface ServingCertificate {
  key: string;
  cert: string;
}

/** Makes a key and a self-signed certificate for 127.0.0.1. */
export function makeServingCertificate(): ServingCertificate {
  const dir = mkdtempSync(join(tmpdir(), "kube-apiserver-emulator-tls-"));
  try {
    execFileSync(
      "openssl",
      [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "tls.key", "-out", "tls.crt", "-days", "2", "-subj", "/CN=kube-apiserver-emulator",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
      ],
      { cwd: dir, stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 },
    );
    return { key: readFileSync(join(dir, "tls.key"), "utf8"), cert: readFileSync(join(dir, "tls.crt"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

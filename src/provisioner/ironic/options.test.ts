import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ironicClientOptions, ironicSettingsFromEnv, METAL3_DEFAULTS, parseBoolean } from "./options.ts";

function files(map: Record<string, string>): { read: (p: string) => string; exists: (p: string) => boolean } {
  return {
    read: (p) => {
      const content = map[p];
      if (content === undefined) throw new Error("ENOENT");
      return content;
    },
    exists: (p) => p in map,
  };
}

describe("Ironic options", () => {
  it("reads the Metal3 variables, with flags winning", () => {
    const settings = ironicSettingsFromEnv(
      {
        IRONIC_ENDPOINT: "https://ironic.example:6385",
        IRONIC_CACERT_FILE: "/ca.pem",
        IRONIC_INSECURE: "True",
        IRONIC_CLIENT_TIMEOUT: "45",
        IRONIC_REGISTER_HOSTS: "false",
      },
      { timeoutMs: 5000 },
    );
    assert.deepEqual(settings, {
      endpoint: "https://ironic.example:6385",
      authRootDir: METAL3_DEFAULTS.authRootDir,
      caCertFile: "/ca.pem",
      insecure: true,
      timeoutMs: 5000,
      registerHosts: false,
    });
    assert.equal(ironicSettingsFromEnv({ IRONIC_ENDPOINT: "http://i:6385", IRONIC_CLIENT_TIMEOUT: "2m" }).timeoutMs, 120_000);
  });

  it("says which setting is missing or malformed", () => {
    assert.throws(() => ironicSettingsFromEnv({}), /--ironic-endpoint or IRONIC_ENDPOINT/);
    assert.throws(() => ironicSettingsFromEnv({ IRONIC_ENDPOINT: "http://i", IRONIC_INSECURE: "maybe" }), /IRONIC_INSECURE must be true or false, got "maybe"/);
    assert.throws(() => ironicSettingsFromEnv({ IRONIC_ENDPOINT: "http://i", IRONIC_CLIENT_TIMEOUT: "soon" }), /IRONIC_CLIENT_TIMEOUT must be a duration/);
    assert.equal(parseBoolean("NO", "X"), false);
  });

  it("uses Basic auth when both credential files exist", () => {
    const settings = ironicSettingsFromEnv({ IRONIC_ENDPOINT: "http://i:6385", METAL3_AUTH_ROOT_DIR: "/auth" });
    const fs = files({ "/auth/ironic/username": "op\n", "/auth/ironic/password": " pass word \n" });
    assert.deepEqual(ironicClientOptions(settings, fs.read, fs.exists), {
      endpoint: "http://i:6385",
      timeoutMs: 30_000,
      username: "op",
      password: " pass word ",
    });
    const none = files({});
    assert.deepEqual(ironicClientOptions(settings, none.read, none.exists), { endpoint: "http://i:6385", timeoutMs: 30_000 });
    const half = files({ "/auth/ironic/username": "op" });
    assert.throws(() => ironicClientOptions(settings, half.read, half.exists), /needs both .*only \/auth\/ironic\/username exists/);
  });

  it("reads the CA and client certificate for https, Metal3's paths when present", () => {
    const settings = ironicSettingsFromEnv({ IRONIC_ENDPOINT: "https://i:6385", METAL3_AUTH_ROOT_DIR: "/none" });
    const fs = files({
      [METAL3_DEFAULTS.caCertFile]: "CA",
      [METAL3_DEFAULTS.clientCertFile]: "CERT",
      [METAL3_DEFAULTS.clientKeyFile]: "KEY",
    });
    assert.deepEqual(ironicClientOptions(settings, fs.read, fs.exists), {
      endpoint: "https://i:6385",
      timeoutMs: 30_000,
      ca: "CA",
      cert: "CERT",
      key: "KEY",
    });
    const missing = files({});
    assert.throws(
      () => ironicClientOptions({ ...settings, caCertFile: "/etc/missing.pem" }, missing.read, missing.exists),
      /cannot read the Ironic CA file \/etc\/missing\.pem/,
    );
    assert.throws(
      () => ironicClientOptions({ ...settings, endpoint: "http://i:6385", insecure: true }, missing.read, missing.exists),
      /TLS settings were given but the Ironic endpoint http:\/\/i:6385 is plain http/,
    );
  });
});

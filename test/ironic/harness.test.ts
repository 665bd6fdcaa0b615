/**
 * The Ironic test harness itself: Ironic starts on a free port, answers,
 * keeps its database across a stop and a restart, and is gone after close.
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { type IronicServer, ironicReleases, ironicSkipReason, startIronic } from "../support/ironic.ts";

const API_VERSION = { "X-OpenStack-Ironic-API-Version": "1.63", "Content-Type": "application/json" };

for (const release of ironicReleases()) {
  describe(`Ironic test harness (${release.label})`, { skip: ironicSkipReason(release) }, () => {
    let ironic: IronicServer;
    before(async () => {
      ironic = await startIronic({ release });
    });
    after(async () => {
      await ironic?.close();
    });

    it("serves the Ironic API on 127.0.0.1 with its version range", async () => {
      assert.match(ironic.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const response = await fetch(`${ironic.url}/v1`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("x-openstack-ironic-api-minimum-version") ?? "", /^1\.\d+$/);
      const max = response.headers.get("x-openstack-ironic-api-maximum-version") ?? "";
      assert.ok(Number(max.split(".")[1]) >= 63, `maximum version ${max} supports indicators (1.63)`);
      const drivers = (await (await fetch(`${ironic.url}/v1/drivers`, { headers: API_VERSION })).json()) as {
        drivers: { name: string }[];
      };
      assert.deepEqual(drivers.drivers.map((d) => d.name).sort(), ["fake-hardware", "redfish"]);
    });

    it("keeps its database and port across stop/start and restart", async () => {
      const created = await fetch(`${ironic.url}/v1/nodes`, {
        method: "POST",
        headers: API_VERSION,
        body: JSON.stringify({ name: "harness-node", driver: "fake-hardware" }),
      });
      assert.equal(created.status, 201, await created.clone().text());
      const { uuid } = (await created.json()) as { uuid: string };

      await ironic.stop();
      assert.equal(ironic.running, false);
      await assert.rejects(fetch(`${ironic.url}/`), "nothing answers while Ironic is stopped");
      await ironic.restart();
      assert.equal(ironic.running, true);

      const found = await fetch(`${ironic.url}/v1/nodes/harness-node`, { headers: API_VERSION });
      assert.equal(found.status, 200);
      assert.equal(((await found.json()) as { uuid: string }).uuid, uuid);
    });

    it("stops Ironic and removes its directory on close", async () => {
      assert.ok(existsSync(ironic.logPath));
      await ironic.close();
      assert.equal(ironic.running, false);
      assert.equal(existsSync(ironic.dir), false);
      await assert.rejects(fetch(`${ironic.url}/`));
    });
  });
}

describe("Ironic test harness without Ironic", () => {
  const probe = (env: Record<string, string>): { status: number | null; output: string } => {
    const code =
      `import { ironicAvailable, ironicSkipReason } from ${JSON.stringify(new URL("../support/ironic.ts", import.meta.url).href)};\n` +
      `console.log(ironicAvailable(), ironicSkipReason());`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", code], {
      env: { ...process.env, ...env },
      encoding: "utf8",
    });
    return { status: result.status, output: result.stdout + result.stderr };
  };

  it("skips with a reason naming the install script outside CI", () => {
    const { status, output } = probe({ IRONIC_PYTHON: "/nonexistent/python3", CI: "" });
    assert.equal(status, 0, output);
    assert.match(output, /^false Ironic is not installed: .*run scripts\/install-ironic\.sh/);
  });

  it("skips Ironic 29 with a reason naming the trixie root and the install script outside CI", () => {
    const code =
      `import { ironicAvailable, ironicSkipReason } from ${JSON.stringify(new URL("../support/ironic.ts", import.meta.url).href)};\n` +
      `console.log(ironicAvailable("trixie"), ironicSkipReason("trixie"));`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", code], {
      env: { ...process.env, IRONIC_TRIXIE_ROOT: "/nonexistent/trixie", CI: "" },
      encoding: "utf8",
    });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^false Ironic 29 \(Debian trixie\) is not installed: chroot \/nonexistent\/trixie .*run scripts\/install-ironic\.sh trixie/);
  });

  it("names each release in the suite titles, and refuses an unknown one in IRONIC_RELEASES", () => {
    const code =
      `import { ironicReleases } from ${JSON.stringify(new URL("../support/ironic.ts", import.meta.url).href)};\n` +
      `console.log(JSON.stringify(ironicReleases().map((r) => [r.name, r.label])));`;
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ["--input-type=module", "-e", code], { env: { ...process.env, ...env }, encoding: "utf8" });
    const missing = run({ IRONIC_RELEASES: "trixie,bookworm", IRONIC_PYTHON: "/nonexistent/python3", IRONIC_TRIXIE_ROOT: "/nonexistent/trixie" });
    assert.deepEqual(JSON.parse(missing.stdout), [
      ["trixie", "Ironic (trixie, not installed)"],
      ["bookworm", "Ironic (bookworm, not installed)"],
    ]);
    const unknown = run({ IRONIC_RELEASES: "bookworm,sid" });
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /IRONIC_RELEASES: unknown Ironic release "sid" \(expected bookworm or trixie\)/);
  });

  it("fails loudly on CI", () => {
    const { status, output } = probe({ IRONIC_PYTHON: "/nonexistent/python3", CI: "true" });
    assert.notEqual(status, 0);
    assert.match(output, /Ironic is not installed: .*scripts\/install-ironic\.sh.*CI=true/);
  });
});

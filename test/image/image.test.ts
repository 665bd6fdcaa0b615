/**
 * The operator's container image, built with `npm run image` (podman, the
 * locally made Node.js base) and run as a user would run it: `--help`, then
 * against the API emulator and an emulated BMC on 127.0.0.1 (host network) as
 * user 65532 on a read-only root filesystem with every capability dropped:
 * probes and metrics answer, a light is switched on the BMC, and SIGTERM
 * stops it with exit code 0. It starts from the compile cache the build
 * wrote, and as another user (without that cache) too.
 *
 * Skipped, with the reason, where podman cannot run (not installed: `bash
 * scripts/install-container-tools.sh`; not root); on CI (CI=true) that fails.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { BARE_METAL_HOSTS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { indicatorObject, isReady, type OperatorStack, startOperatorStack, waitFor } from "../support/operator-stack.ts";

const root = join(import.meta.dirname, "..", "..");
const run = promisify(execFile);
const TAG = "localhost/bmc-operator:image-test";
const NAME = `bmc-operator-image-test-${process.pid}`;

/** Why podman cannot build and run images here, or undefined when it can. */
async function podmanUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "podman needs root here (the tests run as a non-root user)";
  try {
    await run("podman", ["info", "--format", "{{.Host.OCIRuntime.Name}}"], { timeout: 30_000 });
    await run("buildah", ["--version"], { timeout: 30_000 });
    return undefined;
  } catch (error) {
    const { code, stderr } = error as { code?: string; stderr?: string };
    if (code === "ENOENT") return "podman or buildah is not installed (bash scripts/install-container-tools.sh)";
    return `podman cannot run here: ${(stderr ?? String(error)).trim().split("\n")[0]}`;
  }
}

const unavailable = await podmanUnavailable();
if (unavailable && process.env.CI === "true") {
  throw new Error(`CI=true but the image test cannot run: ${unavailable}`);
}

/** The limits a VM that cannot raise them needs, and runc (crun refuses hybrid cgroups). */
async function runOptions(): Promise<string[]> {
  const { stdout } = await run("bash", ["-c", "ulimit -Hn"]);
  const nofile = stdout.trim() === "unlimited" ? "1048576" : stdout.trim();
  return ["--runtime", "runc", "--ulimit", `nofile=${nofile}:${nofile}`, "--ulimit", "nproc=32768:32768"];
}

/** A read-only root filesystem, no capabilities, no privilege escalation. */
const LOCKED_DOWN = ["--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"];
/** The hardened way a Deployment runs the container. */
const HARDENED = ["--user", "65532:65532", ...LOCKED_DOWN];

describe("the container image", { skip: unavailable }, () => {
  let stack: OperatorStack;
  let dir: string;
  let options: string[];
  let operator: ChildProcess | undefined;
  let output = "";

  before(async () => {
    // Builds (or reuses the cached base and dependencies, then builds) the image.
    const build = await run("bash", [join(root, "scripts", "build-image.sh"), "--tag", TAG], { timeout: 300_000 });
    assert.match(build.stdout, /image: localhost\/bmc-operator:image-test on /);
    options = await runOptions();
    stack = await startOperatorStack({ bmcs: 1 });
    // The emulator's kubeconfig is for its owner only; the container's user 65532 must read it.
    dir = await mkdtemp(join(tmpdir(), "bmc-operator-image-"));
    await chmod(dir, 0o755);
    await writeFile(join(dir, "kubeconfig"), stack.api.kubeconfig, { mode: 0o644 });
  });

  after(async () => {
    if (operator && operator.exitCode === null) {
      await run("podman", ["rm", "--force", "--time", "0", NAME]).catch(() => {});
    }
    await stack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    await run("podman", ["rmi", "--force", TAG]).catch(() => {});
  });

  it("holds Node.js 24, the operator and its production dependencies only, and runs as user 65532", async () => {
    const { stdout } = await run("podman", ["image", "inspect", TAG, "--format", "{{.Config.User}} {{json .Config.Entrypoint}} {{.Size}}"]);
    const [user, entrypoint, size] = stdout.trim().split(" ");
    assert.equal(user, "65532:65532");
    // The Dockerfile's, Node.js flags included (src/cli/runtime-image.test.ts holds the Deployments to it).
    const dockerfileEntrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(await readFile(join(root, "Dockerfile"), "utf8"))?.[1];
    assert.equal(entrypoint, JSON.stringify(JSON.parse(dockerfileEntrypoint ?? "null")));
    assert.match(entrypoint ?? "", /^\["node",.*"src\/cli\/operator\.ts"\]$/);
    assert.ok(Number(size) < 250_000_000, `the image is ${size} bytes`);
    const listing = await run("podman", [
      "run", "--rm", ...options, ...HARDENED, "--entrypoint", "node", TAG, "-e",
      `const fs = require("node:fs");
       const files = fs.readdirSync("src", { recursive: true }).map(String);
       console.log(JSON.stringify({
         version: process.version,
         uid: process.getuid(),
         tests: files.filter((f) => f.endsWith(".test.ts")).length,
         operator: files.includes("cli/operator.ts"),
         top: fs.readdirSync("."),
         packages: fs.readdirSync("node_modules"),
       }));`,
    ]);
    const found = JSON.parse(listing.stdout) as { version: string; uid: number; tests: number; operator: boolean; top: string[]; packages: string[] };
    assert.match(found.version, /^v24\./);
    assert.equal(found.uid, 65532);
    assert.equal(found.tests, 0, "no tests in the image");
    assert.ok(found.operator);
    assert.deepEqual(found.top.sort(), ["compile-cache", "node_modules", "package.json", "src"]);
    for (const dev of ["typescript", "eslint", "ajv", "yaml", "@aws-cdk", "node"]) {
      assert.ok(!found.packages.includes(dev), `the dev dependency ${dev} is in the image`);
    }
    for (const dependency of ["@kubernetes", "prom-client", "undici", "pino", "commander"]) {
      assert.ok(found.packages.includes(dependency), `${dependency} is missing from the image`);
    }
  });

  it("prints its help", async () => {
    const { stdout } = await run("podman", ["run", "--rm", ...options, ...HARDENED, TAG, "--help"], { timeout: 60_000 });
    assert.match(stdout, /^Usage: bmc-operator \[options\]/);
    assert.match(stdout, /--kubeconfig/);
  });

  it("starts from the compile cache the build wrote, on a read-only root filesystem", async () => {
    // Node.js reports every cache lookup on stderr with NODE_DEBUG_NATIVE=COMPILE_CACHE.
    const { stdout, stderr } = await run("podman", ["run", "--rm", ...options, ...HARDENED, "--env", "NODE_DEBUG_NATIVE=COMPILE_CACHE", TAG, "--help"], {
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    assert.match(stdout, /^Usage: bmc-operator \[options\]/);
    const lines = stderr.split("\n");
    // The stripped source, so the type stripper is never loaded, and V8's code cache of each module of src/.
    assert.ok(
      lines.includes("[compile cache] retrieving transpile cache for StrippedTypeScript file:///app/src/cli/operator.ts...success"),
      `operator.ts was not read from the compile cache:\n${stderr.slice(0, 3000)}`,
    );
    const ours = lines.filter((line) => line.includes(" file:///app/src/"));
    const misses = ours.filter((line) => /no transpile cache for|V8 code cache for .* was (?!accepted)/.test(line));
    assert.deepEqual(misses, [], "modules of src/ missing from the compile cache");
    const accepted = ours.filter((line) => / was accepted, /.test(line)).length;
    assert.ok(accepted > 50, `only ${accepted} modules of src/ had their code cache accepted`);
  });

  it("never loads the type stripper (swc as WebAssembly), which the compile cache replaces", async () => {
    const { stdout } = await run("podman", ["image", "inspect", TAG, "--format", "{{json .Config.Entrypoint}}"]);
    const [node, ...flags] = JSON.parse(stdout) as string[];
    const script = flags.pop()!;
    // Node.js's own modules loaded in the process, listed as it exits; a module preloaded with --import adds no V8 flag.
    const report = `process.on("exit", () => console.error("loaded " + JSON.stringify(process.moduleLoadList.filter((m) => m.includes("amaro")))))`;
    const { stderr } = await run(
      "podman",
      ["run", "--rm", ...options, ...HARDENED, "--entrypoint", node!, TAG, ...flags, "--import", `data:text/javascript,${report}`, script, "--help"],
      { timeout: 60_000 },
    );
    assert.match(stderr, /^loaded \[\]$/m, "the type stripper (Node.js's internal/deps/amaro) was loaded");
  });

  it("starts without the compile cache as a user other than the one that wrote it (OpenShift's arbitrary user IDs)", async () => {
    const { stdout, stderr } = await run(
      "podman",
      ["run", "--rm", ...options, "--user", "1000680000:0", ...LOCKED_DOWN, "--env", "NODE_DEBUG_NATIVE=COMPILE_CACHE", TAG, "--help"],
      { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    );
    assert.match(stdout, /^Usage: bmc-operator \[options\]/);
    // Its cache would be a subdirectory of its own, which it cannot create on the read-only filesystem.
    assert.match(stderr, /Cannot create cache directory/);
    assert.doesNotMatch(stderr, /retrieving transpile cache/);
  });

  it("serves probes and metrics, switches a light on the BMC, and exits 0 on SIGTERM", async () => {
    operator = spawn(
      "podman",
      [
        "run", "--rm", "--name", NAME, ...options, ...HARDENED, "--network", "host",
        "--volume", `${dir}:/config:ro`, TAG,
        "--kubeconfig", "/config/kubeconfig",
        "--metrics-bind-address", "127.0.0.1:0",
        "--health-probe-bind-address", "127.0.0.1:0",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    operator.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    operator.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => operator!.once("exit", (code) => resolve(code)));

    const announced = (field: "metrics" | "probes") => {
      for (const line of output.split("\n")) {
        if (!line.startsWith("{")) continue;
        const record = JSON.parse(line) as Record<string, unknown>;
        if (typeof record[field] === "string") return record[field];
      }
      return undefined;
    };
    const probes = await waitFor("the probe address in the container's log", () => Promise.resolve(announced("probes")), (url) => !!url, 60_000)
      .catch((error: unknown) => assert.fail(`${String(error)}\n${output.slice(-3000)}`));
    await waitFor("readiness", () => fetch(`${probes}/readyz`).then((r) => r.status), (status) => status === 200, 30_000);
    assert.equal((await fetch(`${probes}/healthz`)).status, 200);

    const ns = await stack.namespace("image");
    await stack.createHost(ns, "worker-0", 0);
    const host = await waitFor(
      "the host to be registered by the containerized operator",
      () => stack.client.get(BARE_METAL_HOSTS, { namespace: ns, name: "worker-0" }),
      (h) => isReady(h) && (h.status?.hardware?.indicators?.length ?? 0) > 0,
      30_000,
    );
    const systemLight = host.status?.hardware?.indicators?.find((i) => i.component === "system")?.id;
    assert.ok(systemLight, JSON.stringify(host.status?.hardware?.indicators));
    const lights = async () => (await (await fetch(`${stack.fleet.controlUrl}/bmcs/0/lights`)).json()) as { system: string };
    assert.equal((await lights()).system, "Off");
    await stack.create(SERVICE_INDICATORS, indicatorObject(ns, "locate", "worker-0", systemLight, true));
    await waitFor("the BMC's system light to be lit", lights, (l) => l.system === "Lit", 30_000);
    await waitFor(
      "the indicator to be Ready",
      () => stack.client.get(SERVICE_INDICATORS, { namespace: ns, name: "locate" }),
      (i) => isReady(i) && i.status?.on === true,
    );

    const metrics = await (await fetch(`${announced("metrics")}/metrics`)).text();
    assert.match(metrics, /controller_runtime_reconcile_total\{controller="baremetalhostserviceindicator",result="success"\} [1-9]/);
    assert.match(metrics, /bmc_operator_provisioner_calls_total\{provisioner="redfish",operation="setIndicator",result="success"\} 1/);

    await run("podman", ["kill", "--signal", "SIGTERM", NAME]);
    const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve("timeout"), 30_000).unref())]);
    assert.equal(code, 0, `exit after SIGTERM: ${String(code)}\n${output.slice(-3000)}`);
    assert.match(output, /manager stopped/);
  });
});

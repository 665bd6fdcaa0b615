/**
 * kubectl 1.35 against the Kubernetes API emulator: applying the project's
 * CRDs, admission policy and samples (client-side and server-side), reading
 * them as tables and YAML, patching, labelling, `diff`, server dry runs,
 * `describe`, `api-resources`, watching (`get -w`), `edit`, `replace`,
 * `events`, deleting with a finalizer, waiting for conditions, JSONPath
 * values and deletion, `explain`, and the messages of invalid objects.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type RunningKubeApiServer, startKubeApiServer } from "../../emulators/kube-apiserver/index.ts";
import { ensureKubectl } from "../support/kubectl.ts";

const root = join(import.meta.dirname, "..", "..");
const NS = "some-namespace";

let kubectlPath: string;
let server: RunningKubeApiServer;

/** Watch requests the emulator has received so far. */
function watchRequests(): number {
  return server.stats().byVerb.watch ?? 0;
}

/** Waits until a kubectl started after `before` was counted has opened its watch: what it waits for can then change. */
async function kubectlWatching(before: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (watchRequests() <= before) {
    if (Date.now() > deadline) throw new Error("kubectl did not open a watch within 15 s");
    await new Promise((resolve) => setTimeout(resolve, 10)); // a poll of observable state, not a wait for time to pass
  }
}
let workDir: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl's environment: the emulator's kubeconfig, a cache of its own, and `extra`. */
function kubectlEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "", HOME: workDir, KUBECONFIG: join(workDir, "kubeconfig"), KUBECACHEDIR: join(workDir, "cache"), ...extra };
}

/** Runs kubectl against the emulator; resolves with the exit code and output (a non-zero exit does not throw). */
function kubectl(args: string[], timeoutMs = 20_000, env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      kubectlPath,
      args,
      {
        timeout: timeoutMs,
        env: kubectlEnv(env),
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs kubectl and fails the test, showing its output, when it does not succeed. */
async function ok(args: string[]): Promise<string> {
  const result = await kubectl(args);
  assert.equal(result.code, 0, `kubectl ${args.join(" ")} failed (${result.code}):\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** Runs kubectl expecting it to fail; returns its error output. */
async function fails(args: string[]): Promise<string> {
  const result = await kubectl(args);
  assert.notEqual(result.code, 0, `kubectl ${args.join(" ")} should have failed:\n${result.stdout}`);
  return result.stderr;
}

/** A kubectl that keeps running (`get -w`): a wait for a pattern in its standard output, and a stop. */
interface RunningKubectl {
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): void;
}

function startKubectl(args: string[]): RunningKubectl {
  const child = spawn(kubectlPath, args, { env: kubectlEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of waiters) waiter();
  };
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    wake();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.on("exit", wake);
  return {
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout)) {
            done();
            resolve(stdout);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`kubectl ${args.join(" ")} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${stderr}${stdout}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`kubectl ${args.join(" ")} did not print ${pattern} within ${timeoutMs} ms:\n${stderr}${stdout}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    stop() {
      child.kill();
    },
  };
}

describe("kubectl 1.35 against the emulator", () => {
  before(async () => {
    [kubectlPath, workDir] = await Promise.all([ensureKubectl(), mkdtemp(join(tmpdir(), "kubectl-suite-"))]);
    server = await startKubeApiServer({ kubeconfigPath: join(workDir, "kubeconfig") });
  });

  after(async () => {
    await server?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it("applies the CRDs (client-side) and they become Established", async () => {
    const out = await ok(["apply", "-k", join(root, "config", "crd")]);
    assert.match(out, /customresourcedefinition.apiextensions.k8s.io\/bmceventsubscriptions.metal3.io created/);
    await ok(["wait", "--for=condition=Established", "crd/bmceventsubscriptions.metal3.io", "crd/baremetalhostserviceindicators.metal3.io", "crd/baremetalhosts.metal3.io", "--timeout=10s"]);
    const crds = await ok(["get", "crd"]);
    assert.match(crds, /^NAME\s+CREATED AT/m);
  });

  it("applies the admission policy and the samples, with a namespace made by kubectl create (protobuf)", async () => {
    await ok(["apply", "-f", join(root, "config", "policy", "same-namespace-references.yaml")]);
    await ok(["create", "namespace", NS]);
    await ok(["apply", "-f", join(root, "config", "samples", "metal3.io_v1alpha1_baremetalhost.yaml")]);
    await ok(["apply", "-f", join(root, "config", "samples", "metal3.io_v1alpha1_bmceventsubscription.yaml")]);
    // The sample quotes its `"on"` key: YAML 1.1, which kubectl speaks, reads a bare `on` as true.
    await ok(["apply", "-f", join(root, "config", "samples", "metal3.io_v1alpha1_baremetalhostserviceindicator.yaml")]);
    const secret = await ok(["create", "secret", "generic", "some-secret-name", "-n", NS, "--from-literal=Authorization=Bearer x"]);
    assert.match(secret, /secret\/some-secret-name created/);
  });

  it("applies each CRD file on its own (-f reads YAML 1.1): unchanged from -k, and `on` is still a boolean field", async () => {
    for (const plural of ["baremetalhosts", "bmceventsubscriptions", "baremetalhostserviceindicators"]) {
      const out = await ok(["apply", "-f", join(root, "config", "crd", `metal3.io_${plural}.yaml`)]);
      assert.match(out, new RegExp(`customresourcedefinition.apiextensions.k8s.io/${plural}.metal3.io unchanged`));
    }
    assert.match(await ok(["explain", "baremetalhostserviceindicators.spec.on"]), /^FIELD: on <boolean>$/m);
    // Client-side validation reads the OpenAPI v3 document built from the CRD.
    await ok(["apply", "-f", join(root, "config", "samples", "metal3.io_v1alpha1_baremetalhostserviceindicator.yaml")]);
  });

  it("gets tables with the printer columns, YAML, and label-selected lists", async () => {
    const table = await ok(["get", "bes", "-n", NS]);
    assert.match(table, /^NAME\s+HOST\s+DESTINATION\s+SUBSCRIPTION ID\s+READY\s+ERROR\s+AGE$/m);
    assert.match(table, /^worker-1-events\s+ostest-worker-1\s+https:\/\/events\.apps\.corp\.example\.com\/webhook/m);
    const yaml = await ok(["get", "bmceventsubscription", "worker-1-events", "-n", NS, "-o", "yaml"]);
    assert.match(yaml, /^kind: BMCEventSubscription$/m);
    assert.match(yaml, /^ {2}resourceVersion: "\d+"$/m);
    assert.match(yaml, /^ {2}hostName: ostest-worker-1$/m);
    await ok(["label", "bes", "worker-1-events", "-n", NS, "team=infra"]);
    assert.match(await ok(["get", "bes", "-n", NS, "-l", "team=infra", "-o", "name"]), /^bmceventsubscription.metal3.io\/worker-1-events$/m);
    assert.equal((await ok(["get", "bes", "-n", NS, "-l", "team=other", "-o", "name"])).trim(), "");
    const all = await ok(["get", "bmh,bes,bmhsi", "-A", "--no-headers"]);
    assert.equal(all.trim().split("\n").length, 3);
  });

  it("patches, and server-side apply reports a conflict with the patcher until forced", async () => {
    const indicator = join(root, "config", "samples", "metal3.io_v1alpha1_baremetalhostserviceindicator.yaml");
    await ok(["apply", "--server-side", "-f", indicator]);
    await ok(["patch", "bmhsi", "worker-1-chassis-light", "-n", NS, "--type=merge", "-p", '{"spec":{"on":false}}']);
    assert.equal(await ok(["get", "bmhsi", "worker-1-chassis-light", "-n", NS, "-o", "jsonpath={.spec.on}"]), "false");
    const conflict = await fails(["apply", "--server-side", "-f", indicator]);
    assert.match(conflict, /Apply failed with 1 conflict: conflict with "kubectl-patch" using metal3\.io\/v1alpha1: \.spec\.on/);
    await ok(["apply", "--server-side", "--force-conflicts", "-f", indicator]);
    assert.equal(await ok(["get", "bmhsi", "worker-1-chassis-light", "-n", NS, "-o", "jsonpath={.spec.on}"]), "true");
    const strategic = await fails(["patch", "bmhsi", "worker-1-chassis-light", "-n", NS, "-p", '{"spec":{"on":false}}']);
    assert.match(strategic, /application\/strategic-merge-patch\+json is not supported/);
  });

  it("diffs and dry-runs a change on the server without making it, describes, and lists the API resources", async () => {
    const indicator = join(root, "config", "samples", "metal3.io_v1alpha1_baremetalhostserviceindicator.yaml");
    const off = join(workDir, "indicator-off.yaml");
    await writeFile(off, (await readFile(indicator, "utf8")).replace('"on": true', '"on": false'));
    const diff = await kubectl(["diff", "-f", off]);
    assert.equal(diff.code, 1, `kubectl diff should report a difference (exit 1):\n${diff.stderr}${diff.stdout}`);
    assert.match(diff.stdout, /^- {2}"on": true$/m);
    assert.match(diff.stdout, /^\+ {2}"on": false$/m);
    assert.match(await ok(["apply", "--dry-run=server", "-f", off]), /worker-1-chassis-light configured \(server dry run\)/);
    assert.equal(await ok(["get", "bmhsi", "worker-1-chassis-light", "-n", NS, "-o", "jsonpath={.spec.on}"]), "true");
    const described = await ok(["describe", "bmhsi", "worker-1-chassis-light", "-n", NS]);
    assert.match(described, /^Name:\s+worker-1-chassis-light$/m);
    assert.match(described, /^Kind:\s+BareMetalHostServiceIndicator$/m);
    assert.match(described, /^Events:/m);
    const resources = await ok(["api-resources", "--api-group=metal3.io", "--no-headers"]);
    assert.deepEqual(resources.trim().split("\n").map((line) => line.split(/\s+/)[0]), ["baremetalhosts", "baremetalhostserviceindicators", "bmceventsubscriptions"]);
  });

  it("watches a change (get -w), waits for a JSONPath value, edits through $KUBE_EDITOR and replaces with a resourceVersion", async () => {
    const name = "worker-1-chassis-light";
    const watch = startKubectl(["get", "bmhsi", name, "-n", NS, "-w", "-o", 'jsonpath={.spec.on}{"\\n"}']);
    try {
      await watch.waitFor(/^true\n/);
      await ok(["patch", "bmhsi", name, "-n", NS, "--type=merge", "-p", '{"spec":{"on":false}}']);
      await watch.waitFor(/^true\nfalse\n/);
    } finally {
      watch.stop();
    }

    const watchesBefore = watchRequests();
    const waiting = kubectl(["wait", "--for=jsonpath={.spec.on}=true", `bmhsi/${name}`, "-n", NS, "--timeout=15s"]);
    await kubectlWatching(watchesBefore);
    await ok(["patch", "bmhsi", name, "-n", NS, "--type=merge", "-p", '{"spec":{"on":true}}']);
    const waited = await waiting;
    assert.equal(waited.code, 0, waited.stderr);
    assert.match(waited.stdout, /condition met/);

    // kubectl edit opens the object in $KUBE_EDITOR and sends what changed as a merge patch.
    const editor = join(workDir, "editor.sh");
    await writeFile(editor, "#!/bin/sh\nsed -i 's/^    team: infra$/    team: edited/' \"$1\"\n");
    await chmod(editor, 0o755);
    const edited = await kubectl(["edit", "bes", "worker-1-events", "-n", NS], 20_000, { KUBE_EDITOR: editor });
    assert.equal(edited.code, 0, `kubectl edit failed:\n${edited.stderr}${edited.stdout}`);
    assert.match(edited.stdout, /bmceventsubscription\.metal3\.io\/worker-1-events edited/);
    assert.equal(await ok(["get", "bes", "worker-1-events", "-n", NS, "-o", "jsonpath={.metadata.labels.team}"]), "edited");

    // kubectl replace sends the whole object back with its resourceVersion: a second replace of the same copy is stale.
    const copy = JSON.parse(await ok(["get", "bmhsi", name, "-n", NS, "-o", "json"])) as { spec: { on: boolean } };
    copy.spec.on = false;
    const file = join(workDir, "replace.json");
    await writeFile(file, JSON.stringify(copy));
    assert.match(await ok(["replace", "-f", file]), /worker-1-chassis-light replaced/);
    assert.equal(await ok(["get", "bmhsi", name, "-n", NS, "-o", "jsonpath={.spec.on}"]), "false");
    const stale = await fails(["replace", "-f", file]);
    assert.match(stale, /Operation cannot be fulfilled on baremetalhostserviceindicators\.metal3\.io "worker-1-chassis-light": the object has been modified/);
    await ok(["patch", "bmhsi", name, "-n", NS, "--type=merge", "-p", '{"spec":{"on":true}}']);
  });

  it("lists an object's Events with kubectl events and describe", async () => {
    const name = "worker-1-chassis-light";
    const uid = await ok(["get", "bmhsi", name, "-n", NS, "-o", "jsonpath={.metadata.uid}"]);
    const event = join(workDir, "event.yaml");
    await writeFile(
      event,
      [
        "apiVersion: events.k8s.io/v1",
        "kind: Event",
        "metadata:",
        `  name: ${name}.light-on`,
        `  namespace: ${NS}`,
        'eventTime: "2026-01-01T00:00:00.000000Z"',
        "reportingController: metal3.io/baremetalhostserviceindicator-controller",
        "reportingInstance: bmc-operator-test",
        "action: SwitchLight",
        "reason: LightOn",
        "type: Normal",
        "note: Switched the chassis light on",
        "regarding:",
        "  apiVersion: metal3.io/v1alpha1",
        "  kind: BareMetalHostServiceIndicator",
        `  name: ${name}`,
        `  namespace: ${NS}`,
        `  uid: ${uid}`,
        "",
      ].join("\n"),
    );
    await ok(["create", "-f", event]);
    const events = await ok(["events", "-n", NS, "--for", `baremetalhostserviceindicator/${name}`]);
    assert.match(events, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/m);
    assert.match(events, /Normal\s+LightOn\s+BareMetalHostServiceIndicator\/worker-1-chassis-light\s+Switched the chassis light on/);
    assert.equal((await ok(["events", "-n", NS, "--for", "bes/worker-1-events", "-o", "name"])).trim(), "");
    const described = await ok(["describe", "bmhsi", name, "-n", NS]);
    assert.match(described, /^ {2}Normal\s+LightOn\s+.*metal3\.io\/baremetalhostserviceindicator-controller\s+Switched the chassis light on$/m);
  });

  it("waits for a Ready condition set through the status subresource", async () => {
    const watchesBefore = watchRequests();
    const waiting = kubectl(["wait", "--for=condition=Ready", "bes/worker-1-events", "-n", NS, "--timeout=15s"]);
    await kubectlWatching(watchesBefore);
    const status = { status: { observedGeneration: 1, conditions: [{ type: "Ready", status: "True", reason: "Subscribed", message: "subscribed", lastTransitionTime: "2026-01-01T00:00:00Z" }] } };
    await ok(["patch", "bes", "worker-1-events", "-n", NS, "--subresource=status", "--type=merge", "-p", JSON.stringify(status)]);
    const result = await waiting;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /condition met/);
  });

  it("deletes an object with a finalizer only once the finalizer is removed", async () => {
    await ok(["patch", "bmh", "ostest-worker-1", "-n", NS, "--type=merge", "-p", '{"metadata":{"finalizers":["metal3.io/test-hold"]}}']);
    await ok(["delete", "bmh", "ostest-worker-1", "-n", NS, "--wait=false"]);
    const deletion = await ok(["get", "bmh", "ostest-worker-1", "-n", NS, "-o", "jsonpath={.metadata.deletionTimestamp}"]);
    assert.match(deletion, /^\d{4}-\d\d-\d\dT/);
    const watchesBefore = watchRequests();
    const waiting = kubectl(["wait", "--for=delete", "bmh/ostest-worker-1", "-n", NS, "--timeout=15s"]);
    await kubectlWatching(watchesBefore);
    await ok(["patch", "bmh", "ostest-worker-1", "-n", NS, "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
    const result = await waiting;
    assert.equal(result.code, 0, result.stderr);
    const gone = await fails(["get", "bmh", "ostest-worker-1", "-n", NS]);
    assert.match(gone, /NotFound.*"ostest-worker-1" not found/);
  });

  it("explains our kinds from the OpenAPI v3 documents", async () => {
    const out = await ok(["explain", "bmceventsubscriptions.spec"]);
    assert.match(out, /KIND:\s+BMCEventSubscription/);
    assert.match(out, /destination\s+<string> -required-/);
    assert.match(out, /The http or https URL that receives the events/);
  });

  it("shows the CRD's messages for invalid objects, the strict decoding error, and the admission policy's denial", async () => {
    const invalid = join(workDir, "invalid.yaml");
    await writeFile(
      invalid,
      ["apiVersion: metal3.io/v1alpha1", "kind: BMCEventSubscription", "metadata:", "  name: bad", `  namespace: ${NS}`, "spec:", "  hostName: Bad_Host", "  destination: ftp://example.com/x", ""].join("\n"),
    );
    const messages = await fails(["apply", "-f", invalid]);
    assert.match(messages, /The BMCEventSubscription "bad" is invalid/);
    assert.match(messages, /destination must be an absolute http or https URL with a host and a path .*got 'ftp:\/\/example.com\/x'/);
    assert.match(messages, /hostName must be the name of a BareMetalHost/);

    const unknown = join(workDir, "unknown.yaml");
    await writeFile(unknown, ["apiVersion: metal3.io/v1alpha1", "kind: BMCEventSubscription", "metadata:", "  name: unknown-field", `  namespace: ${NS}`, "spec:", "  hostName: h", "  destination: https://e.example.com/", "  colour: blue", ""].join("\n"));
    assert.match(await fails(["apply", "-f", unknown]), /strict decoding error: unknown field "spec.colour"/);

    const cross = join(workDir, "cross.yaml");
    await writeFile(
      cross,
      ["apiVersion: metal3.io/v1alpha1", "kind: BMCEventSubscription", "metadata:", "  name: cross-namespace", `  namespace: ${NS}`, "spec:", "  hostName: ostest-worker-1", "  destination: https://e.example.com/hook", "  httpHeadersRef:", "    name: some-secret-name", "    namespace: other-namespace", ""].join("\n"),
    );
    const denied = await fails(["apply", "-f", cross]);
    assert.match(denied, /ValidatingAdmissionPolicy 'bmceventsubscription\.metal3\.io' with binding 'bmceventsubscription\.metal3\.io' denied request: spec\.httpHeadersRef\.namespace must be empty or the BMCEventSubscription's own namespace/);
    await fails(["get", "bes", "cross-namespace", "-n", NS]);
  });
});

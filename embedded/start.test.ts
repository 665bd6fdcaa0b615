/**
 * `npm start` as a user runs it: `embedded/start.ts` in its own process
 * prints the KUBECONFIG to use, the operator on the emulated cluster lists the
 * sample hosts' lights and switches one at the emulated BMC, a failed drive
 * shows as an Event in `kubectl describe bmh worker-0` (through the event
 * receiver the demo subscription aims at) and, with auto-locate on, lights its
 * light; and Ctrl-C (SIGINT) stops everything with exit code 0. Started again on the same data
 * directory, the BMCs keep their identity and lights; `--fresh` starts anew.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { promisify } from "node:util";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS, SERVICE_INDICATORS } from "../src/controllers/resources.ts";
import { AUTO_LOCATE_ANNOTATION, CREATED_BY_LABEL } from "../src/receiver/auto-locate.ts";
import { ensureKubectl } from "../test/support/kubectl.ts";
import { KubeClient, kubeConfigFromString } from "../src/runtime/index.ts";
import { indicatorObject, isReady, subscriptionObject, waitFor } from "../test/support/operator-stack.ts";

let dir: string;
let child: ChildProcess;
let output = "";
let client: KubeClient | undefined;

/** Starts `npm start` on `dir` with `extra` flags; its output collects in `output`. */
function start(extra: string[] = []): void {
  output = "";
  child = spawn(
    process.execPath,
    [
      join(import.meta.dirname, "start.ts"),
      "--data-dir",
      dir,
      "--bmcs",
      "2",
      "--bmc-port",
      "0",
      "--sink-port",
      "0",
      "--receiver-port",
      "0",
      "--log-level",
      "warn",
      ...extra,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
}

/** Waits for the instructions; returns the control API's URL. */
async function started(): Promise<string> {
  const ready = (text: string) => text.includes("Press Ctrl-C to stop.");
  await waitFor("the instructions on standard output", () => Promise.resolve(output), (text) => ready(text) || child.exitCode !== null, 60_000);
  assert.ok(ready(output), `npm start exited with code ${child.exitCode}:\n${output}`);
  const controlUrl = /BMC control API\s+(http:\/\/\S+)/.exec(output)?.[1];
  assert.ok(controlUrl, output);
  return controlUrl;
}

/** Ctrl-C, and the exit code 0. */
async function stop(): Promise<void> {
  const exited = once(child, "exit");
  child.kill("SIGINT");
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0, output);
  assert.match(output, /Stopped\.\n$/);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "bmc-operator-start-"));
  start();
});

after(async () => {
  await client?.close();
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

describe("npm start", () => {
  it("prints its KUBECONFIG, runs the operator on the emulators, and stops on Ctrl-C", async () => {
    const controlUrl = await started();
    const kubeconfig = /export KUBECONFIG=(\S+)/.exec(output)?.[1];
    assert.equal(kubeconfig, join(dir, "kubeconfig"), output);
    assert.match(output, /\(generic\).*\(dell-idrac9\)/, "the BMCs emulate several vendors");

    client = new KubeClient(kubeConfigFromString(readFileSync(kubeconfig, "utf8")));
    const host = await waitFor(
      "worker-0 to list its lights",
      () => client!.get(BARE_METAL_HOSTS, { namespace: "demo", name: "worker-0" }),
      (h) => isReady(h) && (h.status?.hardware?.indicators?.length ?? 0) > 0,
    );
    const chassis = host.status?.hardware?.indicators?.find((indicator) => indicator.component === "chassis");
    assert.ok(chassis, JSON.stringify(host.status));
    await client.create(SERVICE_INDICATORS, indicatorObject("demo", "worker-0-chassis", "worker-0", chassis.id, true));
    await waitFor(
      "the chassis light of BMC 0 to be lit",
      () => fetch(`${controlUrl}/bmcs/0/lights`).then((r) => r.json() as Promise<{ chassis: string }>),
      (lights) => lights.chassis === "Lit",
    );

    // The receiver: its URL on a line of its own, the demo subscription aimed at it, a drive failure on worker-0.
    await waitFor("the event receiver's line", () => Promise.resolve(output), (text) => /^Event receiver https:\/\/127\.0\.0\.1:\d+\/events/m.test(text));
    const receiverUrl = /^Event receiver (\S+)/m.exec(output)![1]!;
    const subscription = await waitFor(
      "the demo subscription to be Ready",
      () => client!.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: "demo", name: "worker-0-events" }),
      isReady,
      30_000,
    );
    assert.equal(subscription.spec.destination, receiverUrl);
    const [first, second] = host.status!.hardware!.indicators!.filter((i) => i.drive);
    assert.ok(first?.drive && second?.drive, JSON.stringify(host.status?.hardware?.indicators));
    const failed = await fetch(`${controlUrl}/bmcs/0/drives/${first.drive.storage}/${first.drive.id}/fail`, { method: "POST" });
    assert.equal(failed.status, 200);
    const kubectl = await ensureKubectl();
    const described = await waitFor(
      "kubectl describe bmh worker-0 to show the drive failure",
      async () => (await promisify(execFile)(kubectl, ["--kubeconfig", kubeconfig, "describe", "bmh", "worker-0", "-n", "demo"])).stdout,
      (text) => text.includes("DriveFailure"),
      30_000,
    );
    assert.ok(described.includes(first.drive.serialNumber!), described);
    assert.match(described, /Warning\s+DriveFailure/);

    // Auto-locate on: the next failed drive lights its own light.
    await client.patch(BARE_METAL_HOSTS, { namespace: "demo", name: "worker-0" }, { metadata: { annotations: { [AUTO_LOCATE_ANNOTATION]: "true" } } }, { type: "merge" });
    await fetch(`${controlUrl}/bmcs/0/drives/${second.drive.storage}/${second.drive.id}/fail`, { method: "POST" });
    const lit = await waitFor(
      "an auto-located indicator",
      () => client!.list(SERVICE_INDICATORS, { namespace: "demo" }),
      (list) => list.items.some((i) => i.metadata?.labels?.[CREATED_BY_LABEL] === "event-receiver"),
      30_000,
    );
    assert.equal(lit.items.find((i) => i.metadata?.labels?.[CREATED_BY_LABEL])?.spec.id, second.id);
    await waitFor(
      "the failed drive's light to be lit",
      () => fetch(`${controlUrl}/bmcs/0/lights`).then((r) => r.json() as Promise<{ drives: Record<string, string> }>),
      (lights) => lights.drives[`${second.drive!.storage}:${second.drive!.id}`] === "Lit",
    );

    // A subscription to the event sink, kept across the restart below.
    const sinkUrl = /Event sink\s+(http:\/\/\S+)/.exec(output)?.[1];
    assert.ok(sinkUrl, output);
    await client.create(BMC_EVENT_SUBSCRIPTIONS, subscriptionObject("demo", "worker-0-sink", "worker-0", sinkUrl));
    const subscribed = await waitFor(
      "worker-0's subscription to the sink to be Ready",
      () => client!.get(BMC_EVENT_SUBSCRIPTIONS, { namespace: "demo", name: "worker-0-sink" }),
      (s) => isReady(s) && (s.status?.subscriptionID ?? "") !== "",
    );
    subscriptionID = subscribed.status!.subscriptionID!;
    identity = await bmcIdentity(controlUrl);
    await client.close();
    client = undefined;
    await stop();
  });

  it("keeps each BMC's identity and lights across a restart; --fresh starts anew", async () => {
    assert.ok(identity, "the first run recorded the BMCs' identity");
    start();
    let controlUrl = await started();
    assert.deepEqual(await bmcIdentity(controlUrl), identity, "the same hardware after a restart");
    const lights = (await fetch(`${controlUrl}/bmcs/0/lights`).then((r) => r.json())) as { chassis: string };
    assert.equal(lights.chassis, "Lit", "the chassis light stayed on");
    const kept = (await fetch(`${controlUrl}/bmcs/0/subscriptions`).then((r) => r.json())) as { subscriptions: { id: string; context: string }[] };
    assert.ok(
      kept.subscriptions.some((s) => s.id === subscriptionID && s.context === "ctx-worker-0-sink"),
      `the kept BMCEventSubscription's subscription is still on the BMC: ${JSON.stringify(kept.subscriptions)}`,
    );
    await stop();

    start(["--fresh"]);
    controlUrl = await started();
    const fresh = await bmcIdentity(controlUrl);
    assert.notDeepEqual(fresh, identity, "new hardware after --fresh");
    assert.equal(((await fetch(`${controlUrl}/bmcs/0/lights`).then((r) => r.json())) as { chassis: string }).chassis, "Off");
    await stop();
  });
});

let identity: string[][] | undefined;
let subscriptionID: string | undefined;

/** Each BMC's system UUID, chassis UUID and drive serial numbers, from the control API. */
async function bmcIdentity(controlUrl: string): Promise<string[][]> {
  const { bmcs } = (await fetch(`${controlUrl}/bmcs`).then((r) => r.json())) as {
    bmcs: { systemUUID: string; chassisUUID: string; drives: { serialNumber: string }[] }[];
  };
  return bmcs.map((b) => [b.systemUUID, b.chassisUUID, ...b.drives.map((d) => d.serialNumber)]);
}

/**
 * `npm run soak -- [--rounds N] [--hosts N] [--seed N]`: the crash-safety
 * soak. Over a small fleet of emulated BMCs, each round makes random changes
 * (create or delete a BMCEventSubscription, change its headers Secret,
 * create or delete a BareMetalHostServiceIndicator, switch its `spec.on`)
 * and then SIGKILLs the operator process at a random instant: after a random
 * delay, or the moment it sends a randomly chosen write (held by the fault
 * proxy, so the API never sees it). A new process is started for the next
 * round. After the last round the operator gets time to converge, and the
 * soak checks the BMCs' own state against the resources: duplicate and
 * orphan subscriptions, subscriptions with stale headers, wrong lights and
 * stuck finalizers, printing each. It exits 1 when it found any.
 *
 * It lives in bench/ rather than test/: like the benchmarks it runs the
 * operator as its own process against the emulators for minutes, and is run
 * on purpose, not by `npm test` (which runs only `*.test.ts` files). The
 * deterministic crash windows are tests (test/operator/crash-*.test.ts);
 * this looks for the windows nobody thought of.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { BareMetalHostServiceIndicator } from "../src/api/baremetalhost-service-indicator.ts";
import type { BMCEventSubscription } from "../src/api/bmc-event-subscription.ts";
import type { Condition } from "../src/api/meta.ts";
import { BMC_EVENT_SUBSCRIPTIONS, SERVICE_INDICATORS } from "../src/controllers/resources.ts";
import { findStatusCondition, isNotFound, SECRETS } from "../src/runtime/index.ts";
import { startFaultProxy } from "../test/support/fault-proxy.ts";
import { indicatorObject, isReady, type OperatorStack, startOperatorStack, waitFor } from "../test/support/operator-stack.ts";
import { startOperatorProcess, type TestOperatorProcess } from "../test/support/operator-process.ts";

const USAGE = `Usage: npm run soak -- [options]

Random changes and SIGKILLs of the operator process over a fleet of emulated
BMCs, then convergence and checks of the BMCs' own state.

Options:
  --rounds <n>   rounds of changes followed by a kill (default 200)
  --hosts <n>    BareMetalHosts, each with its own emulated BMC (default 3)
  --seed <n>     seed of the random choices, to replay a run (default: random)
  --help         this text`;

/** A small seeded generator (mulberry32), so a run can be replayed with its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function positive(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a whole number of at least 1, got ${JSON.stringify(text)}`);
  return value;
}

const NAMESPACE = "soak";
const MAX_SUBSCRIPTIONS_PER_HOST = 3;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string" },
      hosts: { type: "string" },
      seed: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const rounds = positive("--rounds", values.rounds, 200);
  const hosts = positive("--hosts", values.hosts, 3);
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : positive("--seed", values.seed, 1);
  const rand = random(seed);
  const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(rand() * items.length)];
  console.log(`soak: ${rounds} rounds over ${hosts} hosts, seed ${seed}`);

  const stack = await startOperatorStack({ bmcs: hosts, policies: true });
  const proxy = await startFaultProxy(stack.api.url);
  let operator: TestOperatorProcess | undefined;
  const start = async () => {
    await operator?.dispose();
    operator = await startOperatorProcess(stack, { apiUrl: proxy.url, logLevel: "info" });
  };
  try {
    await stack.namespace(NAMESPACE);
    for (let i = 0; i < hosts; i++) await stack.createHost(NAMESPACE, `host-${i}`, i);
    await start();

    const lightsOf = (i: number) => {
      const bmc = stack.fleet.bmcs[i]!;
      return [`${bmc.systemUUID}@system`, `${bmc.chassisUUID}@chassis`, ...bmc.drives.map((d) => `${d.storageId}:${d.driveId}@disk`)];
    };
    let serial = 0;
    let kills = 0;
    let held = 0;

    const mutations: Record<string, () => Promise<void>> = {
      createSubscription: async () => {
        const host = Math.floor(rand() * hosts);
        const existing = (await stack.client.list(BMC_EVENT_SUBSCRIPTIONS, { namespace: NAMESPACE })).items.filter(
          (s) => s.spec.hostName === `host-${host}`,
        );
        if (existing.length >= MAX_SUBSCRIPTIONS_PER_HOST) return;
        const name = `sub-${serial++}`;
        await stack.client.create(SECRETS, {
          metadata: { name: `${name}-headers`, namespace: NAMESPACE },
          stringData: { Authorization: `Bearer ${name}-token-0` },
        });
        const subscription: BMCEventSubscription = {
          apiVersion: "metal3.io/v1alpha1",
          kind: "BMCEventSubscription",
          metadata: { name, namespace: NAMESPACE },
          spec: {
            hostName: `host-${host}`,
            destination: `${stack.sink.url}/${NAMESPACE}/${name}`,
            context: `ctx-${name}`,
            httpHeadersRef: { name: `${name}-headers` },
          },
        };
        await stack.client.create(BMC_EVENT_SUBSCRIPTIONS, subscription);
      },
      deleteSubscription: async () => {
        const live = (await stack.client.list(BMC_EVENT_SUBSCRIPTIONS, { namespace: NAMESPACE })).items.filter((s) => !s.metadata.deletionTimestamp);
        const victim = pick(live);
        if (!victim) return;
        await stack.client.delete(BMC_EVENT_SUBSCRIPTIONS, { namespace: NAMESPACE, name: victim.metadata.name! }).catch(ignoreNotFound);
      },
      changeHeaders: async () => {
        const live = (await stack.client.list(BMC_EVENT_SUBSCRIPTIONS, { namespace: NAMESPACE })).items.filter((s) => !s.metadata.deletionTimestamp);
        const target = pick(live);
        if (!target?.spec.httpHeadersRef) return;
        await stack.client
          .patch(
            SECRETS,
            { namespace: NAMESPACE, name: target.spec.httpHeadersRef.name },
            { stringData: { Authorization: `Bearer ${target.metadata.name}-token-${serial++}` } },
            { type: "merge" },
          )
          .catch(ignoreNotFound);
      },
      createIndicator: async () => {
        const host = Math.floor(rand() * hosts);
        const taken = new Set(
          (await stack.client.list(SERVICE_INDICATORS, { namespace: NAMESPACE })).items
            .filter((i) => i.spec.hostRef.name === `host-${host}`)
            .map((i) => i.spec.id),
        );
        const id = pick(lightsOf(host).filter((l) => !taken.has(l)));
        if (!id) return;
        await stack.client.create(SERVICE_INDICATORS, indicatorObject(NAMESPACE, `light-${serial++}`, `host-${host}`, id, rand() < 0.5));
      },
      deleteIndicator: async () => {
        const live = (await stack.client.list(SERVICE_INDICATORS, { namespace: NAMESPACE })).items.filter((i) => !i.metadata.deletionTimestamp);
        const victim = pick(live);
        if (!victim) return;
        await stack.client.delete(SERVICE_INDICATORS, { namespace: NAMESPACE, name: victim.metadata.name! }).catch(ignoreNotFound);
      },
      switchIndicator: async () => {
        const live = (await stack.client.list(SERVICE_INDICATORS, { namespace: NAMESPACE })).items.filter((i) => !i.metadata.deletionTimestamp);
        const target = pick(live);
        if (!target) return;
        await stack.client
          .patch(SERVICE_INDICATORS, { namespace: NAMESPACE, name: target.metadata.name! }, { spec: { on: !target.spec.on } }, { type: "merge" })
          .catch(ignoreNotFound);
      },
    };
    const names = Object.keys(mutations);
    const tried: Record<string, number> = {};

    for (let round = 1; round <= rounds; round++) {
      // Half the kills come the instant the operator sends a write to one of the resources (held, never seen by the API).
      const hold =
        rand() < 0.5
          ? proxy.hold({ method: "PATCH", path: /\/namespaces\/soak\/(bmceventsubscriptions|baremetalhostserviceindicators)\// })
          : undefined;
      const changes = 1 + Math.floor(rand() * 3);
      for (let c = 0; c < changes; c++) {
        const name = pick(names)!;
        tried[name] = (tried[name] ?? 0) + 1;
        await mutations[name]!();
      }
      const delayMs = Math.floor(rand() * 400);
      await Promise.race([hold?.held ?? new Promise(() => {}), sleep(hold ? 1_000 : delayMs)]);
      if (hold?.isHeld) held++;
      await operator?.kill();
      kills++;
      await start();
      if (round % 20 === 0 || round === rounds) console.log(`round ${round}/${rounds}: ${kills} kills, ${held} at a held write`);
    }
    // A hold that never matched must not catch the converging operator's writes.
    await proxy.close();
    await operator?.dispose();
    operator = await startOperatorProcess(stack, { logLevel: "info" });

    const problems = await converge(stack);
    problems.push(...(await checkBmcs(stack, hosts, lightsOf)));
    const [subscriptions, indicators] = await Promise.all([
      stack.client.list(BMC_EVENT_SUBSCRIPTIONS, { namespace: NAMESPACE }),
      stack.client.list(SERVICE_INDICATORS, { namespace: NAMESPACE }),
    ]);
    let onBmcs = 0;
    for (let i = 0; i < hosts; i++) onBmcs += stack.fleet.bmc(i).subscriptionRecords().length;
    console.log(
      `at the end: ${subscriptions.items.length} BMCEventSubscriptions (${onBmcs} subscriptions on the BMCs), ` +
        `${indicators.items.length} indicators (${indicators.items.filter((i) => i.spec.on).length} on); changes tried: ` +
        Object.entries(tried)
          .map(([name, count]) => `${name} ${count}`)
          .join(", "),
    );
    if (problems.length === 0) {
      console.log("soak: converged; no duplicate, orphan, stale headers, wrong light or stuck finalizer");
      return 0;
    }
    console.log(`soak: ${problems.length} problems (seed ${seed}):`);
    for (const problem of problems) console.log(`  ${problem}`);
    return 1;
  } finally {
    await operator?.dispose();
    await proxy.close().catch(() => {});
    await stack.close();
  }
}

function ignoreNotFound(error: unknown): void {
  if (!isNotFound(error)) throw error;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether the Secret-derived version a subscription records is the Secret's current one. */
async function secretVersion(stack: OperatorStack, name: string): Promise<string | undefined> {
  const secret = await stack.client.get(SECRETS, { namespace: NAMESPACE, name }).catch(() => undefined);
  return secret ? `${secret.metadata?.uid ?? ""}/${secret.metadata?.resourceVersion ?? ""}` : undefined;
}

function subscriptionConverged(s: BMCEventSubscription, version: string | undefined): boolean {
  return isReady(s) && !!s.status?.subscriptionID && !s.status.staleSubscriptionIDs?.length && s.status.httpHeadersVersion === version;
}

function indicatorConverged(i: BareMetalHostServiceIndicator): boolean {
  return isReady(i) && i.status?.on === i.spec.on;
}

/** Waits up to 90 s for every resource to be Ready as its spec says and every deleted one to be gone; lists what is not. */
async function converge(stack: OperatorStack): Promise<string[]> {
  const unsettled = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const s of (await stack.client.list(BMC_EVENT_SUBSCRIPTIONS, { namespace: NAMESPACE })).items) {
      const name = s.metadata.name!;
      if (s.metadata.deletionTimestamp) out.push(`stuck finalizer: BMCEventSubscription ${name} (${conditionOf(s)})`);
      else if (!subscriptionConverged(s, await secretVersion(stack, s.spec.httpHeadersRef?.name ?? ""))) {
        out.push(`not converged: BMCEventSubscription ${name} (${conditionOf(s)}, headers version ${s.status?.httpHeadersVersion ?? "none"})`);
      }
    }
    for (const i of (await stack.client.list(SERVICE_INDICATORS, { namespace: NAMESPACE })).items) {
      const name = i.metadata.name!;
      if (i.metadata.deletionTimestamp) out.push(`stuck finalizer: BareMetalHostServiceIndicator ${name} (${conditionOf(i)})`);
      else if (!indicatorConverged(i)) out.push(`not converged: BareMetalHostServiceIndicator ${name} (${conditionOf(i)}, spec.on ${i.spec.on}, status.on ${i.status?.on})`);
    }
    return out;
  };
  try {
    await waitFor("every resource to converge", unsettled, (list) => list.length === 0, 90_000);
    return [];
  } catch {
    return unsettled();
  }
}

function conditionOf(object: { status?: { conditions?: Condition[] } }): string {
  const ready = findStatusCondition(object.status?.conditions, "Ready");
  return ready ? `Ready=${ready.status} ${ready.reason}: ${ready.message}` : "no Ready condition";
}

/** Compares each BMC's subscriptions and lights with the resources. */
async function checkBmcs(stack: OperatorStack, hosts: number, lightsOf: (i: number) => string[]): Promise<string[]> {
  const problems: string[] = [];
  const subscriptions = (await stack.client.list(BMC_EVENT_SUBSCRIPTIONS, { namespace: NAMESPACE })).items.filter(
    (s) => !s.metadata.deletionTimestamp,
  );
  const indicators = (await stack.client.list(SERVICE_INDICATORS, { namespace: NAMESPACE })).items.filter(
    (i) => !i.metadata.deletionTimestamp,
  );
  for (let host = 0; host < hosts; host++) {
    const bmc = stack.fleet.bmc(host);
    const onBmc = bmc.subscriptionRecords();
    const mine = subscriptions.filter((s) => s.spec.hostName === `host-${host}`);
    for (const s of mine) {
      const matching = onBmc.filter((r) => r.destination === s.spec.destination && r.context === (s.spec.context ?? ""));
      if (matching.length === 0) problems.push(`missing: host-${host} has no subscription for ${s.metadata.name}`);
      if (matching.length > 1) problems.push(`duplicate: host-${host} holds ${matching.length} subscriptions for ${s.metadata.name} (IDs ${matching.map((r) => r.id).join(", ")})`);
      const recorded = matching.find((r) => r.id === s.status?.subscriptionID);
      if (matching.length > 0 && !recorded) problems.push(`unrecorded: ${s.metadata.name} records ID ${s.status?.subscriptionID}, the BMC holds ${matching.map((r) => r.id).join(", ")}`);
      const secret = await stack.client.get(SECRETS, { namespace: NAMESPACE, name: s.spec.httpHeadersRef?.name ?? "" }).catch(() => undefined);
      const want = secret?.data?.Authorization ? Buffer.from(secret.data.Authorization, "base64").toString() : undefined;
      for (const r of matching) {
        const have = r.httpHeaders.find(([name]) => name === "Authorization")?.[1];
        if (have !== want) problems.push(`stale headers: host-${host} subscription ${r.id} of ${s.metadata.name} does not carry the Secret's current Authorization`);
      }
    }
    for (const r of onBmc) {
      if (!mine.some((s) => s.spec.destination === r.destination && (s.spec.context ?? "") === r.context)) {
        problems.push(`orphan: host-${host} holds subscription ${r.id} for ${r.destination} that no resource wants`);
      }
    }
    const lights = bmc.lights();
    const stateOf = (id: string): string => {
      if (id.endsWith("@system")) return lights.system;
      if (id.endsWith("@chassis")) return lights.chassis;
      return lights.drives[id.slice(0, -"@disk".length)] ?? "unknown";
    };
    for (const id of lightsOf(host)) {
      const wanted = indicators.filter((i) => i.spec.hostRef.name === `host-${host}` && i.spec.id === id);
      const on = wanted.some((i) => i.spec.on);
      const state = stateOf(id);
      const lit = state === "Lit" || state === "Blinking";
      if (lit !== on) {
        problems.push(`wrong light: host-${host} ${id} is ${state}, ${wanted.length ? `its indicator ${wanted.map((i) => i.metadata.name).join(", ")} wants it ${on ? "on" : "off"}` : "no indicator wants it on"}`);
      }
    }
  }
  return problems;
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(`soak: ${error instanceof Error ? error.message : String(error)}`);
  return 2;
});

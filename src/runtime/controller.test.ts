import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { FakeClock, settle } from "./clock.ts";
import { Controller, type ControllerOptions } from "./controller.ts";
import { createLogger } from "./logger.ts";
import { generationChanged } from "./predicates.ts";
import { ItemExponentialFailureRateLimiter } from "./rate-limiter.ts";
import { type ReconcileContext, type Reconciler, type Request, TerminalError } from "./reconcile.ts";
import type { KubeObject } from "./resource.ts";
import { ManualSource } from "./testing/manual-source.ts";

const obj = (name: string, generation = 1, extra: Partial<KubeObject> = {}): KubeObject => ({
  metadata: { namespace: "ns", name, generation, resourceVersion: String(generation) },
  ...extra,
});

function setup(reconcile: Reconciler, options: Partial<ControllerOptions> = {}) {
  const clock = new FakeClock();
  const registry = new Registry();
  const source = new ManualSource<KubeObject>();
  const controller = new Controller({
    name: "test",
    reconcile,
    clock,
    registry,
    rateLimiter: new ItemExponentialFailureRateLimiter(5, 1000),
    ...options,
  });
  controller.watch(source);
  const abort = new AbortController();
  const running = controller.start(abort.signal);
  const stop = async () => {
    abort.abort();
    await running;
  };
  return { clock, registry, source, controller, abort, running, stop };
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value ?? NaN;
}

describe("Controller", () => {
  it("reconciles the object's key and forgets it on success", async () => {
    const calls: Request[] = [];
    const { source, registry, controller, stop } = setup((req) => {
      calls.push(req);
    });
    await settle();
    source.add(obj("a"));
    await settle();
    assert.deepEqual(calls, [{ namespace: "ns", name: "a" }]);
    assert.equal(controller.queue.numRequeues("ns/a"), 0);
    assert.equal(await metric(registry, "controller_runtime_reconcile_total", { result: "success" }), 1);
    assert.equal(await metric(registry, "controller_runtime_max_concurrent_reconciles"), 1);
    await stop();
  });

  it("retries a failing key with per-key exponential backoff and resets it after a success", async () => {
    const times: number[] = [];
    let failures = 3;
    const { source, clock, registry, controller, stop } = setup(() => {
      times.push(clock.now());
      if (failures-- > 0) throw new Error("BMC unreachable");
    });
    await settle();
    source.add(obj("a"));
    await clock.advance(1000);
    assert.deepEqual(times.map((t) => t - times[0]!), [0, 5, 15, 35]);
    assert.equal(controller.queue.numRequeues("ns/a"), 0);
    assert.equal(await metric(registry, "controller_runtime_reconcile_errors_total"), 3);
    assert.equal(await metric(registry, "controller_runtime_reconcile_total", { result: "error" }), 3);
    assert.equal(await metric(registry, "workqueue_retries_total"), 3);
    await stop();
  });

  it("requeues after requeueAfter and counts requeue_after", async () => {
    const times: number[] = [];
    const { source, clock, registry, stop } = setup(() => {
      times.push(clock.now());
      return times.length < 3 ? { requeueAfter: 60_000 } : {};
    });
    await settle();
    source.add(obj("a"));
    await clock.advance(200_000);
    assert.deepEqual(times.map((t) => t - times[0]!), [0, 60_000, 120_000]);
    assert.equal(await metric(registry, "controller_runtime_reconcile_total", { result: "requeue_after" }), 2);
    await stop();
  });

  it("does not requeue a TerminalError, and counts it", async () => {
    let calls = 0;
    const { source, clock, registry, stop } = setup(() => {
      calls++;
      throw new TerminalError('spec.id "x@disk" is not an indicator of host "h"');
    });
    await settle();
    source.add(obj("a"));
    await clock.advance(10_000);
    assert.equal(calls, 1);
    assert.equal(await metric(registry, "controller_runtime_terminal_reconcile_errors_total"), 1);
    assert.equal(await metric(registry, "controller_runtime_reconcile_errors_total"), 1);
    await stop();
  });

  it("aborts a reconcile that outlives reconcileTimeoutMs, counts the timeout, and retries", async () => {
    const reasons: string[] = [];
    let calls = 0;
    const { source, clock, registry, stop } = setup(
      async (_req, ctx) => {
        if (++calls > 1) return;
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
        reasons.push((ctx.signal.reason as Error).message);
        throw ctx.signal.reason;
      },
      { reconcileTimeoutMs: 1_000 },
    );
    await settle();
    source.add(obj("a"));
    await clock.advance(999);
    assert.deepEqual(reasons, [], "not aborted before the timeout");
    await clock.advance(1);
    assert.deepEqual(reasons, ["Reconcile of ns/a timed out after 1000 ms"]);
    assert.equal(await metric(registry, "controller_runtime_reconcile_timeouts_total"), 1);
    await clock.advance(100);
    assert.equal(calls, 2, "retried after the timeout");
    await stop();
  });

  it("gives each reconcile a signal of its own, so the shutdown signal carries one listener however many run", async () => {
    const signals: AbortSignal[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { source, abort, running } = setup(
      async (_req, ctx) => {
        signals.push(ctx.signal);
        await held;
      },
      { maxConcurrentReconciles: 10 },
    );
    await settle();
    for (let i = 0; i < 10; i++) source.add(obj(`o${i}`));
    await settle();
    assert.equal(signals.length, 10);
    assert.equal(new Set(signals).size, 10, "one signal per reconcile");
    assert.ok(!signals.includes(abort.signal));
    assert.equal(getEventListeners(abort.signal, "abort").length, 2, "the controller's own and ChildSignals', not one per reconcile");
    abort.abort(new Error("stop"));
    assert.ok(signals.every((s) => s.aborted && (s.reason as Error).message === "stop"), "every reconcile is told of the shutdown");
    release();
    await running;
  });

  it("recovers from a panic (a TypeError), counts it, and retries", async () => {
    let calls = 0;
    const { source, clock, registry, stop } = setup(() => {
      if (++calls === 1) (undefined as unknown as { x: number }).x.toFixed();
    });
    await settle();
    source.add(obj("a"));
    await clock.advance(100);
    assert.equal(calls, 2);
    assert.equal(await metric(registry, "controller_runtime_reconcile_panics_total"), 1);
    await stop();
  });

  it("never reconciles one key twice at once, runs different keys in parallel, and redelivers a key added meanwhile once", async () => {
    const running = new Map<string, number>();
    let maxSameKey = 0;
    let maxActive = 0;
    const release: (() => void)[] = [];
    const calls: string[] = [];
    const { source, controller, registry, stop } = setup(async (req) => {
      calls.push(req.name);
      running.set(req.name, (running.get(req.name) ?? 0) + 1);
      maxSameKey = Math.max(maxSameKey, running.get(req.name)!);
      maxActive = Math.max(maxActive, controller.activeWorkers);
      await new Promise<void>((resolve) => release.push(resolve));
      running.set(req.name, running.get(req.name)! - 1);
    }, { maxConcurrentReconciles: 3 });
    await settle();
    source.add(obj("a"));
    source.add(obj("b"));
    await settle();
    assert.equal(await metric(registry, "controller_runtime_active_workers"), 2);
    source.update(obj("a"), obj("a", 2));
    source.update(obj("a", 2), obj("a", 3));
    await settle();
    assert.deepEqual(calls, ["a", "b"], "a is busy: its new adds wait");
    while (release.length > 0) {
      release.shift()!();
      await settle();
    }
    assert.deepEqual(calls, ["a", "b", "a"], "the two adds during processing became one reconcile");
    assert.equal(maxSameKey, 1);
    assert.equal(maxActive, 2);
    await stop();
  });

  it("filters with predicates: generationChanged skips status-only updates", async () => {
    const calls: string[] = [];
    const clock = new FakeClock();
    const source = new ManualSource<KubeObject>();
    const controller = new Controller({ name: "pred", clock, registry: new Registry(), reconcile: (r) => void calls.push(r.name) });
    controller.watch(source, { predicates: [generationChanged] });
    const abort = new AbortController();
    const running = controller.start(abort.signal);
    await settle();
    source.update(obj("a", 1), { ...obj("a", 1), status: { x: 1 } } as KubeObject);
    await settle();
    assert.deepEqual(calls, []);
    source.update(obj("a", 1), obj("a", 2));
    await settle();
    assert.deepEqual(calls, ["a"]);
    abort.abort();
    await running;
  });

  /** A controller whose watch maps a host to requests for the names in its `spec.subs`; `calls` lists the reconciles. */
  async function mappingController() {
    const calls: string[] = [];
    const hosts = new ManualSource<KubeObject & { spec?: { subs: string[] } }>();
    const controller = new Controller({ name: "map", clock: new FakeClock(), registry: new Registry(), reconcile: (r) => void calls.push(`${r.namespace}/${r.name}`) });
    controller.watch(hosts, { map: (h) => (h.spec?.subs ?? []).map((name) => ({ namespace: h.metadata?.namespace, name })) });
    const abort = new AbortController();
    const running = controller.start(abort.signal);
    await settle(); // the workers wait for keys
    const update = async (from: string[], to: string[]) => {
      hosts.update({ ...obj("h"), spec: { subs: from } }, { ...obj("h", 2), spec: { subs: to } });
      await settle();
    };
    const stop = async () => {
      abort.abort();
      await running;
    };
    return { calls, update, stop };
  }

  it("maps secondary objects to requests, old and new on update", async () => {
    const { calls, update, stop } = await mappingController();
    await update(["s1"], ["s2", "s3"]);
    assert.deepEqual(calls.sort(), ["ns/s1", "ns/s2", "ns/s3"]);
    await stop();
  });

  it("reconciles once for an update whose old and new objects map to the same key, with a worker idle", async () => {
    const { calls, update, stop } = await mappingController();
    await update(["s1"], ["s1"]);
    assert.deepEqual(calls, ["ns/s1"]);
    await stop();
  });

  it("reconciles once for an event two watches of one source both name, with a worker idle", async () => {
    // The controller's own objects, and a map over the same source to the others of a group (as the
    // indicators of one light): an add names the new object through both.
    const calls: string[] = [];
    const source = new ManualSource<KubeObject & { spec?: { group: string } }>();
    const controller = new Controller({ name: "two", clock: new FakeClock(), registry: new Registry(), reconcile: (r) => void calls.push(r.name) });
    const groupOf = (o: KubeObject & { spec?: { group: string } }) => o.spec?.group;
    const known: (KubeObject & { spec?: { group: string } })[] = [];
    controller.watch(source);
    controller.watch(source, { map: (o) => known.filter((k) => groupOf(k) === groupOf(o)).map((k) => ({ namespace: "ns", name: k.metadata!.name! })), predicates: [{ update: () => false }] });
    const abort = new AbortController();
    const running = controller.start(abort.signal);
    await settle(); // the workers wait for keys
    const a = { ...obj("a"), spec: { group: "g" } };
    known.push(a);
    source.add(a);
    await settle();
    assert.deepEqual(calls, ["a"]);
    const b = { ...obj("b"), spec: { group: "g" } };
    known.push(b);
    source.add(b);
    await settle();
    assert.deepEqual(calls.sort(), ["a", "a", "b"]);
    abort.abort();
    await running;
  });

  it("waits for the caches before reconciling, and fails start when they do not sync in time", async () => {
    const clock = new FakeClock();
    const source = new ManualSource<KubeObject>(false);
    const calls: string[] = [];
    const controller = new Controller({ name: "sync", clock, registry: new Registry(), cacheSyncTimeoutMs: 5000, reconcile: (r) => void calls.push(r.name) });
    controller.watch(source);
    const started = controller.start(new AbortController().signal).catch((e: unknown) => e);
    await settle();
    source.add(obj("a"));
    await clock.advance(4000);
    assert.deepEqual(calls, [], "nothing reconciles before the caches sync");
    await clock.advance(1000);
    const error = await started;
    assert.match(String(error), /Controller "sync" timed out after 5000 ms waiting for its caches to sync/);
    assert.equal(source.handlers, 0, "handlers are detached when start fails");
  });

  it("on shutdown aborts the reconciles in flight, waits for them, and reconciles nothing new", async () => {
    let seenSignal: AbortSignal | undefined;
    let finish!: () => void;
    const calls: string[] = [];
    const { source, abort, running } = setup(async (req, ctx) => {
      calls.push(req.name);
      seenSignal = ctx.signal;
      await new Promise<void>((resolve) => (finish = resolve));
    });
    await settle();
    source.add(obj("a"));
    source.add(obj("b"));
    await settle();
    let done = false;
    void running.then(() => (done = true));
    abort.abort();
    await settle();
    assert.equal(seenSignal?.aborted, true);
    assert.equal(done, false, "start waits for the reconcile in flight");
    finish();
    await settle();
    assert.equal(done, true);
    assert.deepEqual(calls, ["a"]);
  });

  it("logs with controller, object and a reconcileID per reconcile", async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        cb();
      },
    });
    const ids: string[] = [];
    const { source, stop } = setup((_req, ctx: ReconcileContext) => {
      ids.push(ctx.reconcileID);
      ctx.logger.info({ headers: { Authorization: "Bearer x" } }, "hello");
    }, { logger: createLogger({ destination }) });
    await settle();
    source.add(obj("a"));
    await settle();
    source.add(obj("a"));
    await settle();
    const hellos = lines.filter((l) => l.msg === "hello");
    assert.equal(hellos.length, 2);
    assert.equal(hellos[0]!.controller, "test");
    assert.equal(hellos[0]!.object, "ns/a");
    assert.match(String(hellos[0]!.reconcileID), /^[0-9a-f-]{36}$/);
    assert.notEqual(hellos[0]!.reconcileID, hellos[1]!.reconcileID);
    assert.deepEqual(ids, hellos.map((h) => h.reconcileID));
    assert.equal(hellos[0]!.headers, "[REDACTED]");
    await stop();
  });
});

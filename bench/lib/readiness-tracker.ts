/**
 * Watches a namespace's BareMetalHosts, BareMetalHostServiceIndicators and
 * BMCEventSubscriptions from the benchmark's side and records when each first
 * became Ready, by the performance clock, as a user watching
 * `kubectl get -w` would see it.
 *
 * - A host is Ready when its `Ready` condition is True.
 * - An indicator is Ready when `status.on` equals `spec.on` for its current
 *   generation and its `Ready` condition is True.
 * - A subscription is Ready when it has a `subscriptionID` and its `Ready`
 *   condition is True.
 *
 * @module
 */
import type { BareMetalHost } from "../../src/api/baremetalhost.ts";
import type { BareMetalHostServiceIndicator } from "../../src/api/baremetalhost-service-indicator.ts";
import type { BMCEventSubscription } from "../../src/api/bmc-event-subscription.ts";
import { BARE_METAL_HOSTS, BMC_EVENT_SUBSCRIPTIONS, SERVICE_INDICATORS } from "../../src/controllers/resources.ts";
import { Informer, isStatusConditionTrue, type KubeClient, type KubeObject } from "../../src/runtime/index.ts";
import { Registry } from "prom-client";

/** The kinds tracked. */
export type TrackedKind = "host" | "indicator" | "subscription";

function hostReady(host: BareMetalHost): boolean {
  return isStatusConditionTrue(host.status?.conditions, "Ready");
}

function indicatorReady(indicator: BareMetalHostServiceIndicator): boolean {
  const status = indicator.status;
  return (
    status?.on === indicator.spec.on &&
    status.observedGeneration === indicator.metadata.generation &&
    isStatusConditionTrue(status.conditions, "Ready")
  );
}

function subscriptionReady(subscription: BMCEventSubscription): boolean {
  return !!subscription.status?.subscriptionID && isStatusConditionTrue(subscription.status.conditions, "Ready");
}

/** Records when each object of a namespace first became Ready. */
export class ReadinessTracker {
  readonly #informers: Informer<KubeObject>[] = [];
  readonly #readyAt: Record<TrackedKind, Map<string, number>> = { host: new Map(), indicator: new Map(), subscription: new Map() };
  #waiters: (() => void)[] = [];

  constructor(client: KubeClient, namespace: string) {
    // Its own metrics registry, so it does not count in anything else's.
    const registry = new Registry();
    const track = <T extends KubeObject>(informer: Informer<T>, kind: TrackedKind, ready: (o: T) => boolean) => {
      const seen = (object: T) => {
        const name = object.metadata?.name ?? "";
        if (!this.#readyAt[kind].has(name) && ready(object)) {
          this.#readyAt[kind].set(name, performance.now());
          for (const wake of this.#waiters.splice(0)) wake();
        }
      };
      informer.addEventHandler({ add: seen, update: (_old, object) => seen(object) });
      this.#informers.push(informer as unknown as Informer<KubeObject>);
    };
    const options = { namespaces: [namespace], registry };
    track(new Informer(client, BARE_METAL_HOSTS, options), "host", hostReady);
    track(new Informer(client, SERVICE_INDICATORS, options), "indicator", indicatorReady);
    track(new Informer(client, BMC_EVENT_SUBSCRIPTIONS, options), "subscription", subscriptionReady);
  }

  /** Starts watching; resolves once the initial lists are in. */
  async start(): Promise<void> {
    for (const informer of this.#informers) informer.start();
    await Promise.all(this.#informers.map((i) => i.waitForSync()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.#informers.map((i) => i.stop()));
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** When object `name` of `kind` first became Ready, or undefined. */
  readyAt(kind: TrackedKind, name: string): number | undefined {
    return this.#readyAt[kind].get(name);
  }

  /** How many objects of `kind` have become Ready. */
  count(kind: TrackedKind): number {
    return this.#readyAt[kind].size;
  }

  /** The latest time any object of `kind` became Ready. */
  lastReadyAt(kind: TrackedKind): number {
    return Math.max(...this.#readyAt[kind].values());
  }

  /** Forgets what it recorded (objects still Ready are not recorded again). */
  forget(kind: TrackedKind, name: string): void {
    this.#readyAt[kind].delete(name);
  }

  /**
   * Resolves once `counts` objects of each kind are Ready; rejects after
   * `timeoutMs`, saying how many were.
   */
  async waitFor(counts: Partial<Record<TrackedKind, number>>, timeoutMs: number): Promise<void> {
    const done = () => Object.entries(counts).every(([kind, n]) => this.count(kind as TrackedKind) >= n);
    const deadline = performance.now() + timeoutMs;
    while (!done()) {
      const left = deadline - performance.now();
      if (left <= 0) {
        const seen = Object.keys(counts).map((k) => `${this.count(k as TrackedKind)}/${counts[k as TrackedKind]} ${k}s`);
        throw new Error(`not everything was Ready within ${Math.round(timeoutMs / 1000)} s: ${seen.join(", ")}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1_000));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

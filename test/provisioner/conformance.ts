/**
 * The provisioner conformance suite: one table of cases that every
 * {@link Provisioner} implementation must pass, run against each of them by a
 * small `*.test.ts` file:
 *
 * ```ts
 * describeConformance("fixture", async () => ({ provisioner, host, missingHost, close }));
 * ```
 *
 * Setup runs once per suite; the cases read state before they change it and
 * put it back, so they pass in any order and against a shared, slow-to-start
 * backend (a real Ironic).
 *
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { HostIndicator } from "../../src/api/baremetalhost.ts";
import type { IndicatorComponent } from "../../src/api/baremetalhost-service-indicator.ts";
import { parseIndicatorId } from "../../src/provisioner/indicator-id.ts";
import {
  type HostAccess,
  type IndicatorState,
  type Provisioner,
  ProvisionerError,
  type ProvisionerErrorKind,
} from "../../src/provisioner/provisioner.ts";

/** What the BMC should report, when the target knows it; checked exactly. */
export interface ExpectedInventory {
  provisioningID?: string;
  /** Every indicator ID, in any order. */
  indicatorIds?: string[];
  /** The drive info of each disk light, by indicator ID. */
  drives?: Record<string, NonNullable<HostIndicator["drive"]>>;
}

/** A direct view of the BMC behind the provisioner, to check that changes really reached it. */
export interface BmcView {
  /** The light's state as the BMC holds it. */
  light?(id: string): Promise<IndicatorState> | IndicatorState;
  /** The most requests the BMC had in flight at once since {@link BmcView.resetPeak}. */
  peakInFlight?(): number;
  /** Restarts the in-flight peak from now. */
  resetPeak?(): void;
  /** The BMC's subscriptions, with their header values or at least their header names, when the BMC shows them. */
  subscriptions?(): Promise<BmcSubscription[]> | BmcSubscription[];
}

/** A subscription as a {@link BmcView} shows it. */
export interface BmcSubscription {
  id: string;
  destination: string;
  context: string;
  httpHeaders?: Record<string, string>;
  httpHeaderNames?: string[];
}

/** What a suite's setup returns. */
export interface ConformanceTarget {
  provisioner: Provisioner;
  /** A host with at least one system, one chassis and one disk light that can be switched. */
  host: HostAccess;
  /** A host the provisioner cannot find (no such system or node), with valid credentials. */
  missingHost: HostAccess;
  /** The host with a wrong password. Default: `host` with a changed password. */
  wrongCredentials?: HostAccess;
  expected?: ExpectedInventory;
  bmc?: BmcView;
  /**
   * True when `registerHost` enrolls a host it cannot find (Ironic with
   * registration on): the missing-host case then checks the other operations only.
   */
  registerHostEnrolls?: boolean;
  /**
   * The light components the BMC has that the provisioner can switch. Default
   * all three; a BMC whose drive lights are OEM-only (Supermicro) has no disk
   * light, and the disk cases are skipped with that reason.
   */
  components?: readonly IndicatorComponent[];
  /** The BMC takes HTTPS event destinations only (Dell iDRAC, OpenBMC): the cases subscribe https URLs. */
  httpsDestinationsOnly?: boolean;
  /** The BMC holds one subscription per destination (Dell iDRAC): the cases give each its own. */
  oneSubscriptionPerDestination?: boolean;
  /**
   * The most subscriptions the BMC holds, small enough for the full-BMC case
   * to fill it (and at least 2, for the cases that hold two at once); without
   * it that case is skipped with the reason.
   */
  subscriptionLimit?: number;
  /** Stops whatever setup started. */
  close(): Promise<void>;
}

/** Creates the target of a suite. */
export type ConformanceSetup = () => Promise<ConformanceTarget>;

/** One conformance case. */
export interface ConformanceCase {
  name: string;
  /** Runs the case; `skip` marks it skipped, with the reason, when the target cannot show what it checks. */
  run(target: ConformanceTarget, skip: (reason: string) => void): Promise<void>;
}

/** A header value used as a secret by the cases; it must never appear in an error message. */
const HEADER_SECRET = "Bearer conformance-header-secret-4f1c";

/** Runs `call` and checks that it fails with a {@link ProvisionerError} of `kind`; returns the error. */
async function expectKind(kind: ProvisionerErrorKind, call: () => Promise<unknown>): Promise<ProvisionerError> {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof ProvisionerError, `expected a ProvisionerError of kind ${kind}, got ${String(error)}`);
    assert.equal(error.kind, kind, `expected kind ${kind}, got ${error.kind}: ${error.message}`);
    return error;
  }
  assert.fail(`expected a ProvisionerError of kind ${kind}, but the call succeeded`);
}

/** Checks that no secret of `host` (or the cases' header secret) is in `error`'s message. */
function assertNoSecrets(error: Error, host: HostAccess): void {
  const basic = Buffer.from(`${host.username}:${host.password}`).toString("base64");
  for (const secret of [host.password, basic, HEADER_SECRET]) {
    assert.ok(!error.message.includes(secret), `error message leaks a secret: ${error.message}`);
  }
}

/** The host's first switchable light of `component`. */
async function lightOf(target: ConformanceTarget, component: string): Promise<HostIndicator> {
  const { indicators } = await target.provisioner.registerHost(target.host);
  const light = indicators.find((i) => i.component === component && !i.readonly);
  assert.ok(light, `the host has no switchable ${component} light; it lists ${indicators.map((i) => i.id).join(", ")}`);
  return light;
}

/** An event destination the cases subscribe (nothing listens there): https where the BMC takes nothing else. */
function destinationFor(target: ConformanceTarget, path: string): string {
  return `${target.httpsDestinationsOnly ? "https" : "http"}://127.0.0.1:9/conformance/${path}`;
}

function wrongCredentials(target: ConformanceTarget): HostAccess {
  return target.wrongCredentials ?? { ...target.host, password: `${target.host.password}-wrong` };
}

/** The light components the target's BMC has. */
function componentsOf(target: ConformanceTarget): readonly IndicatorComponent[] {
  return target.components ?? ["system", "chassis", "disk"];
}

/** Switches a light to each state it offers and back, checking the provisioner and the BMC. */
async function roundTrip(target: ConformanceTarget, component: IndicatorComponent, skip: (reason: string) => void): Promise<void> {
  if (!componentsOf(target).includes(component)) {
    skip(`the BMC has no ${component} light the provisioner can switch`);
    return;
  }
  const { provisioner, host } = target;
  const light = await lightOf(target, component);
  const before = await provisioner.getIndicator(host, light.id);
  for (const state of ["on", "off", "on", "off"] as const) {
    await provisioner.setIndicator(host, light.id, state);
    assert.equal(await provisioner.getIndicator(host, light.id), state, `${light.id} after setting ${state}`);
    if (target.bmc?.light) assert.equal(await target.bmc.light(light.id), state, `${light.id} on the BMC`);
  }
  if (light.states.includes("blinking")) {
    await provisioner.setIndicator(host, light.id, "blinking");
    assert.equal(await provisioner.getIndicator(host, light.id), "blinking");
  }
  if (before !== "unknown") await provisioner.setIndicator(host, light.id, before);
}

/** The cases every provisioner must pass. */
export const conformanceCases: ConformanceCase[] = [
  {
    name: "registerHost returns the provisioning ID and Ironic-style indicator IDs",
    async run(target) {
      const registration = await target.provisioner.registerHost(target.host);
      assert.ok(registration.provisioningID.length > 0, "empty provisioning ID");
      const components = new Set(registration.indicators.map((i) => i.component));
      for (const c of componentsOf(target)) assert.ok(components.has(c), `no ${c} light`);
      for (const indicator of registration.indicators) {
        const parsed = parseIndicatorId(indicator.id);
        assert.ok(parsed, `indicator ID ${indicator.id} is not <name>@<component>`);
        assert.equal(parsed.component, indicator.component, indicator.id);
        assert.ok(indicator.states.length > 0, `${indicator.id} lists no states`);
        if (indicator.component === "disk") {
          assert.ok(indicator.drive, `${indicator.id} has no drive info`);
          assert.equal(indicator.id, `${indicator.drive.storage}:${indicator.drive.id}@disk`);
        } else {
          assert.equal(indicator.drive, undefined, `${indicator.id} is not a disk light but has drive info`);
        }
      }
      assert.equal(new Set(registration.indicators.map((i) => i.id)).size, registration.indicators.length, "duplicate IDs");
      const expected = target.expected;
      if (expected?.provisioningID !== undefined) assert.equal(registration.provisioningID, expected.provisioningID);
      if (expected?.indicatorIds !== undefined) {
        assert.deepEqual(registration.indicators.map((i) => i.id).sort(), [...expected.indicatorIds].sort());
      }
      for (const [id, drive] of Object.entries(expected?.drives ?? {})) {
        const indicator = registration.indicators.find((i) => i.id === id);
        assert.deepEqual(indicator?.drive, drive, `drive info of ${id}`);
      }
    },
  },
  {
    name: "registerHost twice gives the same registration, and listIndicators the same lights",
    async run({ provisioner, host }) {
      const first = await provisioner.registerHost(host);
      const second = await provisioner.registerHost(host);
      assert.deepEqual(second, first);
      const listed = await provisioner.listIndicators(host);
      assert.deepEqual(listed, first.indicators);
    },
  },
  {
    name: "a system light round-trips on and off",
    run: (target, skip) => roundTrip(target, "system", skip),
  },
  {
    name: "a chassis light round-trips on and off",
    run: (target, skip) => roundTrip(target, "chassis", skip),
  },
  {
    name: "a disk light round-trips on and off",
    run: (target, skip) => roundTrip(target, "disk", skip),
  },
  {
    name: "switching one light leaves the others alone",
    async run(target) {
      const { provisioner, host } = target;
      const { indicators } = await provisioner.registerHost(host);
      const disk = await lightOf(target, componentsOf(target).includes("disk") ? "disk" : "chassis");
      const others = indicators.filter((i) => i.id !== disk.id);
      const before = await Promise.all(others.map((i) => provisioner.getIndicator(host, i.id)));
      const was = await provisioner.getIndicator(host, disk.id);
      await provisioner.setIndicator(host, disk.id, was === "on" ? "off" : "on");
      const after = await Promise.all(others.map((i) => provisioner.getIndicator(host, i.id)));
      assert.deepEqual(after, before);
      if (was !== "unknown") await provisioner.setIndicator(host, disk.id, was);
    },
  },
  {
    name: "an unknown or malformed indicator ID is IndicatorNotFound, naming the ID",
    async run({ provisioner, host }) {
      for (const id of [
        "00000000-0000-0000-0000-0000000000ff@system",
        "00000000-0000-0000-0000-0000000000ff@chassis",
        "NoSuchStorage:NoSuchDrive@disk",
        "no-component-here",
        "x@SYSTEM",
      ]) {
        const got = await expectKind("IndicatorNotFound", () => provisioner.getIndicator(host, id));
        assert.ok(got.message.includes(id), `message does not name ${id}: ${got.message}`);
        await expectKind("IndicatorNotFound", () => provisioner.setIndicator(host, id, "on"));
      }
    },
  },
  {
    name: "setting a light to unknown is Rejected",
    async run(target) {
      const light = await lightOf(target, "system");
      const before = await target.provisioner.getIndicator(target.host, light.id);
      await expectKind("Rejected", () => target.provisioner.setIndicator(target.host, light.id, "unknown"));
      assert.equal(await target.provisioner.getIndicator(target.host, light.id), before);
    },
  },
  {
    name: "a subscription is created, listed with its destination and context, deleted, then gone",
    async run(target) {
      const { provisioner, host } = target;
      const destination = destinationFor(target, "events");
      const created = await provisioner.createSubscription(host, {
        destination,
        context: "conformance-ctx-1",
        httpHeaders: { Authorization: HEADER_SECRET },
      });
      assert.ok(created.id.length > 0, "empty subscription ID");
      assert.equal(created.destination, destination);
      assert.equal(created.context, "conformance-ctx-1");
      const listed = await provisioner.listSubscriptions(host);
      assert.deepEqual(
        listed.find((s) => s.id === created.id),
        { id: created.id, destination, context: "conformance-ctx-1" },
      );
      if (target.bmc?.subscriptions) {
        const onBmc = (await target.bmc.subscriptions()).find((s) => s.id === created.id);
        assert.ok(onBmc, "the BMC does not hold the subscription");
        assert.equal(onBmc.destination, destination);
        assert.equal(onBmc.context, "conformance-ctx-1");
        if (onBmc.httpHeaders !== undefined) assert.deepEqual(onBmc.httpHeaders, { Authorization: HEADER_SECRET });
        if (onBmc.httpHeaderNames !== undefined) assert.deepEqual(onBmc.httpHeaderNames, ["Authorization"]);
      }
      assert.equal(await provisioner.deleteSubscription(host, created.id), "deleted");
      assert.equal((await provisioner.listSubscriptions(host)).find((s) => s.id === created.id), undefined);
      assert.equal(await provisioner.deleteSubscription(host, created.id), "gone");
    },
  },
  {
    name: "a subscription with no context lists an empty context; two creates give two subscriptions",
    async run(target) {
      const { provisioner, host } = target;
      const request = { destination: "https://127.0.0.1:9/conformance/empty", context: "", httpHeaders: {} };
      const a = await provisioner.createSubscription(host, request);
      // A BMC that holds one subscription per destination refuses the same one twice: give the second its own.
      const second = target.oneSubscriptionPerDestination ? { ...request, destination: `${request.destination}-2` } : request;
      const b = await provisioner.createSubscription(host, second);
      assert.notEqual(a.id, b.id);
      const listed = await provisioner.listSubscriptions(host);
      assert.equal(listed.find((s) => s.id === a.id)?.context, "");
      assert.ok(listed.some((s) => s.id === b.id));
      assert.equal(await provisioner.deleteSubscription(host, a.id), "deleted");
      assert.equal(await provisioner.deleteSubscription(host, b.id), "deleted");
    },
  },
  {
    name: "a create on a full BMC is SubscriptionLimit, naming the limit, without the header values, and creates nothing",
    async run(target, skip) {
      const limit = target.subscriptionLimit;
      if (limit === undefined) {
        skip("the target gives no subscription limit small enough to fill");
        return;
      }
      const { provisioner, host } = target;
      // Registered first, so the case passes run alone (Ironic has no node for a host until then).
      await provisioner.registerHost(host);
      const held = (await provisioner.listSubscriptions(host)).length;
      assert.ok(held < limit, `the BMC already holds ${held} subscriptions before the case, at most ${limit}`);
      const filled: string[] = [];
      try {
        for (let i = held; i < limit; i++) {
          const request = { destination: destinationFor(target, `full-${i}`), context: `full-${i}`, httpHeaders: {} };
          filled.push((await provisioner.createSubscription(host, request)).id);
        }
        const error = await expectKind("SubscriptionLimit", () =>
          provisioner.createSubscription(host, {
            destination: destinationFor(target, "one-too-many"),
            context: "one-too-many",
            httpHeaders: { Authorization: HEADER_SECRET },
          }),
        );
        assert.ok(error.message.includes(`its limit of ${limit} subscriptions`), `the message does not name the limit ${limit}: ${error.message}`);
        assertNoSecrets(error, host);
        const listed = await provisioner.listSubscriptions(host);
        assert.equal(listed.length, limit);
        assert.ok(!listed.some((s) => s.context === "one-too-many"), "the refused subscription is listed");
        if (target.bmc?.subscriptions) {
          const onBmc = await target.bmc.subscriptions();
          assert.equal(onBmc.length, limit, "the BMC does not hold exactly its limit");
          assert.ok(!onBmc.some((s) => s.context === "one-too-many"), "the BMC holds the refused subscription");
        }
      } finally {
        for (const id of filled) await provisioner.deleteSubscription(host, id);
      }
    },
  },
  {
    name: "deleting a subscription that never existed is gone",
    async run({ provisioner, host }) {
      assert.equal(await provisioner.deleteSubscription(host, "no-such-subscription-42"), "gone");
    },
  },
  {
    name: "a call with an already aborted signal fails and changes nothing",
    async run(target) {
      const { provisioner, host } = target;
      const before = await provisioner.listSubscriptions(host);
      const request = { destination: destinationFor(target, "aborted"), context: "aborted", httpHeaders: {} };
      await assert.rejects(provisioner.createSubscription(host, request, AbortSignal.abort()));
      const after = await provisioner.listSubscriptions(host);
      assert.deepEqual(after.map((s) => s.id).sort(), before.map((s) => s.id).sort());
    },
  },
  {
    name: "wrong credentials are Unauthorized, and the message holds no password",
    async run(target) {
      const { provisioner } = target;
      const wrong = wrongCredentials(target);
      const light = await lightOf(target, "system");
      const errors = [
        await expectKind("Unauthorized", () => provisioner.registerHost(wrong)),
        await expectKind("Unauthorized", () => provisioner.getIndicator(wrong, light.id)),
        await expectKind("Unauthorized", () => provisioner.setIndicator(wrong, light.id, "on")),
        await expectKind("Unauthorized", () => provisioner.listSubscriptions(wrong)),
        await expectKind("Unauthorized", () =>
          provisioner.createSubscription(wrong, {
            destination: destinationFor(target, "unauthorized"),
            context: "",
            httpHeaders: { "X-Token": HEADER_SECRET },
          }),
        ),
      ];
      for (const error of errors) {
        assertNoSecrets(error, wrong);
        assertNoSecrets(error, target.host);
      }
    },
  },
  {
    name: "a host the provisioner cannot find is HostNotFound",
    async run(target) {
      const { provisioner, missingHost } = target;
      const system = (await lightOf(target, "system")).id;
      const errors = [
        ...(target.registerHostEnrolls ? [] : [await expectKind("HostNotFound", () => provisioner.registerHost(missingHost))]),
        await expectKind("HostNotFound", () => provisioner.listIndicators(missingHost)),
        await expectKind("HostNotFound", () => provisioner.getIndicator(missingHost, system)),
        await expectKind("HostNotFound", () => provisioner.setIndicator(missingHost, system, "on")),
      ];
      for (const error of errors) assertNoSecrets(error, missingHost);
    },
  },
  {
    name: "a destination that cannot receive Redfish events is Rejected, without the header values in the message",
    async run({ provisioner, host }) {
      const error = await expectKind("Rejected", () =>
        provisioner.createSubscription(host, {
          destination: `ftp://127.0.0.1/${HEADER_SECRET}`,
          context: HEADER_SECRET,
          httpHeaders: { Authorization: HEADER_SECRET },
        }),
      );
      assertNoSecrets(error, host);
    },
  },
  {
    name: "a burst of 50 concurrent calls keeps one request in flight at the BMC",
    async run(target, skip) {
      const { provisioner, host, bmc } = target;
      if (bmc?.peakInFlight === undefined || bmc.resetPeak === undefined) {
        skip("the target gives no view of the BMC's requests in flight");
        return;
      }
      const { indicators } = await provisioner.registerHost(host);
      bmc.resetPeak();
      const states = await Promise.all(
        Array.from({ length: 50 }, (_, i) => provisioner.getIndicator(host, indicators[i % indicators.length]!.id)),
      );
      assert.equal(states.length, 50);
      assert.equal(bmc.peakInFlight(), 1);
    },
  },
];

/** Defines a `describe` block that runs every conformance case against the target `setup` returns. */
export function describeConformance(name: string, setup: ConformanceSetup): void {
  describe(`provisioner conformance: ${name}`, () => {
    let target: ConformanceTarget | undefined;
    before(async () => {
      target = await setup();
    });
    after(async () => {
      await target?.close();
    });
    for (const c of conformanceCases) {
      it(c.name, async (t) => {
        assert.ok(target, "setup failed");
        await c.run(target, (reason) => t.skip(reason));
      });
    }
  });
}

/**
 * The Ironic client against a real Ironic: `fake-hardware` nodes, and
 * `redfish` nodes backed by the Redfish BMC emulator, so every request and
 * answer is Ironic's own, down to what it sends the BMC.
 *
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RunningBmcFleet, startBmcFleet } from "../../emulators/redfish-bmc/index.ts";
import { IronicClient, type IronicNode } from "../../src/provisioner/ironic/client.ts";
import { IronicError } from "../../src/provisioner/ironic/errors.ts";
import { type IronicServer, ironicReleases, ironicSkipReason, startIronic } from "../support/ironic.ts";

const HEADER_SECRET = "Bearer client-test-secret-8c1d";

for (const release of ironicReleases()) {
  describe(`IronicClient against real Ironic (${release.label})`, { skip: ironicSkipReason(release) }, () => {
    let ironic: IronicServer;
    let fleet: RunningBmcFleet;
    let client: IronicClient;
    let fake: IronicNode;
    let redfish: IronicNode;

    before(async () => {
      [ironic, fleet] = await Promise.all([
        // One lock attempt: a busy node answers 409 after ~1 s instead of ~3 s.
        startIronic({ release, config: { conductor: { node_locked_retry_attempts: 1, node_locked_retry_interval: 1 } } }),
        startBmcFleet({ count: 1 }),
      ]);
      client = new IronicClient({ endpoint: ironic.url, retry: { initialDelayMs: 200, maxDelayMs: 1000 } });
      fake = await client.createNode({ name: "test~fake-0", driver: "fake-hardware", driver_info: {} });
      const bmc = fleet.bmcs[0]!;
      redfish = await client.createNode({
        name: "test~redfish-0",
        driver: "redfish",
        driver_info: {
          redfish_address: bmc.url,
          redfish_system_id: bmc.systemPath,
          redfish_username: bmc.username,
          redfish_password: bmc.password,
        },
      });
    });
    after(async () => {
      client?.close();
      await Promise.all([fleet?.close(), ironic?.close()]);
    });

    it("negotiates the version from the server's headers and finds nodes by name", async () => {
      const response = await fetch(`${ironic.url}/v1`);
      const max = response.headers.get("x-openstack-ironic-api-maximum-version")!;
      const version = await client.apiVersion();
      assert.ok(Number(version.split(".")[1]) >= 63 && Number(version.split(".")[1]) <= Number(max.split(".")[1]), version);
      // Both tested releases offer no more than the newest version the client knows: it speaks their maximum.
      const knownMaximum: Record<string, string> = { "21.4.4": "1.82", "29.0.5": "1.96" };
      if (release.version !== undefined && release.version in knownMaximum) assert.equal(max, knownMaximum[release.version]);
      assert.equal(version, max);
      // Without a version header Ironic speaks 1.1, where names are not looked up: the header is always sent.
      assert.equal((await fetch(`${ironic.url}/v1/nodes/test~fake-0`)).status, 404);
      assert.equal((await client.getNode("test~fake-0")).uuid, fake.uuid);
      assert.equal(await client.findNode("test~no-such-node"), undefined);
    });

    it("lists fake-hardware lights with lowercase states, and reads them", async () => {
      const indicators = await client.listIndicators(fake.uuid);
      assert.deepEqual(
        indicators.sort((a, b) => a.name.localeCompare(b.name)),
        [
          { name: "led-0@chassis", component: "chassis", readonly: true, states: ["off", "on"] },
          { name: "led@system", component: "system", readonly: false, states: ["blinking", "off", "on"] },
        ],
      );
      assert.equal(await client.getIndicatorState(fake.name!, "led@system"), "on");
    });

    it("decodes Ironic's nested error messages", async () => {
      const cases: [() => Promise<unknown>, number, RegExp][] = [
        [() => client.getNode("test~no-such-node"), 404, /^Ironic GET \/v1\/nodes\/test~no-such-node failed \(404\): Node test~no-such-node could not be found\.$/],
        [() => client.getIndicatorState(fake.uuid, "led-9@system"), 400, /failed \(400\): Invalid indicator led-9 specified\.$/],
        [() => client.getIndicatorState(fake.uuid, "no-component"), 400, /Malformed indicator name "no-component"/],
        [() => client.setIndicatorState(fake.uuid, "led@system", "on"), 400, /Driver fake-hardware does not support set_indicator_state/],
        [() => client.createNode({ name: "test~fake-0", driver: "fake-hardware", driver_info: {} }), 409, /A node with name test~fake-0 already exists/],
      ];
      for (const [call, status, message] of cases) {
        await assert.rejects(call(), (error: unknown) => {
          assert.ok(error instanceof IronicError, String(error));
          assert.equal(error.status, status);
          assert.match(error.message, message);
          assert.ok(!error.message.includes("error_message"), `not decoded: ${error.message}`);
          return true;
        });
      }
    });

    it("switches a Redfish BMC's system and chassis lights through Ironic", async () => {
      const bmc = fleet.bmcs[0]!;
      const system = `${bmc.systemUUID}@system`;
      const chassis = `${bmc.chassisUUID}@chassis`;
      const names = (await client.listIndicators(redfish.uuid)).map((i) => i.name).sort();
      // Ironic ≥ 23.1 lists each drive's light too, as `<storage ID>:<drive ID>@disk`.
      const disks = release.listsDiskLights ? bmc.drives.map((d) => `${d.storageId}:${d.driveId}@disk`) : [];
      assert.deepEqual(names, [chassis, system, ...disks].sort());
      for (const [state, led] of [["on", "Lit"], ["blinking", "Blinking"], ["off", "Off"]] as const) {
        await client.setIndicatorState(redfish.uuid, system, state);
        await client.setIndicatorState(redfish.uuid, chassis, state);
        assert.equal(fleet.bmc(0).lights().system, led);
        assert.equal(fleet.bmc(0).lights().chassis, led);
        assert.equal(await client.getIndicatorState(redfish.uuid, system), state);
      }
    });

    it("keeps driver_info in step with a JSON patch, masking the password", async () => {
      const patched = await client.patchNode(redfish.uuid, [
        { op: "add", path: "/driver_info/redfish_verify_ca", value: false },
      ]);
      assert.equal(patched.driver_info.redfish_verify_ca, false);
      assert.equal(patched.driver_info.redfish_password, "******");
      const back = await client.patchNode(redfish.uuid, [{ op: "remove", path: "/driver_info/redfish_verify_ca" }]);
      assert.equal(back.driver_info.redfish_verify_ca, undefined);
    });

    it("creates, reads (GET with a body), lists and deletes a subscription; a second delete is gone", async () => {
      const created = await client.createSubscription(redfish.uuid, {
        destination: "http://127.0.0.1:9/client-test",
        context: "client-ctx",
        httpHeaders: { Authorization: HEADER_SECRET },
      });
      assert.equal(created.destination, "http://127.0.0.1:9/client-test");
      assert.equal(created.context, "client-ctx");
      // No EventTypes sent, so Ironic's own default reached the BMC (any value sent would be refused).
      const onBmc = fleet.bmc(0).subscriptions().find((s) => s.id === created.id);
      assert.ok(onBmc, "the BMC holds the subscription");
      assert.deepEqual(onBmc.eventTypes, ["Alert"]);
      assert.deepEqual(onBmc.httpHeaderNames, ["Authorization"]);

      assert.ok((await client.listSubscriptionIds(redfish.uuid)).includes(created.id));
      const got = await client.getSubscription(redfish.uuid, created.id);
      assert.deepEqual({ id: got.id, destination: got.destination, context: got.context }, {
        id: created.id,
        destination: "http://127.0.0.1:9/client-test",
        context: "client-ctx",
      });

      assert.equal(await client.deleteSubscription(redfish.uuid, created.id), "deleted");
      assert.equal(fleet.bmc(0).subscriptions().some((s) => s.id === created.id), false);
      assert.equal(await client.deleteSubscription(redfish.uuid, created.id), "gone");
    });

    it("does not call a failed delete gone while the BMC still lists the subscription", async () => {
      const created = await client.createSubscription(redfish.uuid, {
        destination: "http://127.0.0.1:9/client-test-2",
        context: "",
        httpHeaders: {},
      });
      fleet.bmc(0).setErrorRate(1, 500, "DELETE");
      try {
        // Ironic turns every failure of the BMC's DELETE into a 404.
        await assert.rejects(client.deleteSubscription(redfish.uuid, created.id), (error: unknown) => {
          assert.ok(error instanceof IronicError);
          assert.equal(error.status, 404);
          return true;
        });
      } finally {
        fleet.bmc(0).setErrorRate(0);
      }
      assert.ok(fleet.bmc(0).subscriptions().some((s) => s.id === created.id));
      assert.equal(await client.deleteSubscription(redfish.uuid, created.id), "deleted");
    });

    it("keeps header values out of the error when the BMC refuses a subscription", async () => {
      await assert.rejects(
        client.createSubscription(redfish.uuid, {
          destination: "ftp://127.0.0.1/refused",
          context: "refused",
          httpHeaders: { Authorization: HEADER_SECRET, "X-Other": "other-secret-5e" },
        }),
        (error: unknown) => {
          assert.ok(error instanceof IronicError);
          assert.equal(error.status, 500);
          // Ironic echoes the payload, headers included; the client removed them.
          assert.match(error.message, /Subscription payload: .*'HttpHeaders': \[/);
          assert.ok(!error.message.includes("client-test-secret"), error.message);
          assert.ok(!error.message.includes("other-secret-5e"), error.message);
          return true;
        },
      );
    });

    it("retries a node Ironic reports locked, and reports the lock when retries run out", async () => {
      const system = `${fleet.bmcs[0]!.systemUUID}@system`;
      const impatient = new IronicClient({ endpoint: ironic.url, retry: { attempts: 1 } });
      fleet.bmc(0).setLatency(700);
      try {
        // The first call holds the node's exclusive lock for several slow BMC requests.
        const bmcRequests = fleet.bmc(0).stats().total;
        const holder = client.setIndicatorState(redfish.uuid, system, "on");
        // Ironic holds the lock once it talks to the BMC for the holder.
        const deadline = Date.now() + 15_000;
        while (fleet.bmc(0).stats().total === bmcRequests) {
          if (Date.now() > deadline) throw new Error("Ironic did not reach the BMC within 15 s");
          await new Promise((resolve) => setTimeout(resolve, 10)); // a poll of observable state
        }
        const locked = await impatient.getIndicatorState(redfish.uuid, system).then(
          () => undefined,
          (error: unknown) => error,
        );
        const patient = client.getIndicatorState(redfish.uuid, system);
        await holder;
        assert.ok(locked instanceof IronicError, `expected 409 NodeLocked, got ${String(locked)}`);
        assert.equal(locked.status, 409);
        assert.equal(locked.nodeLocked, true, locked.message);
        assert.equal(await patient, "on");
      } finally {
        fleet.bmc(0).setLatency(0);
        impatient.close();
      }
    });
  });
}

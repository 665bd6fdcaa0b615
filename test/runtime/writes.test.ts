/**
 * Writes against the Kubernetes API emulator: status updates racing and
 * retried on conflict, patch content types, finalizers with optimistic
 * locking, and Events created and aggregated.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isConflict, isNotFound } from "../../src/runtime/api-error.ts";
import { EventRecorder } from "../../src/runtime/event-recorder.ts";
import { addFinalizer, removeFinalizer } from "../../src/runtime/finalizers.ts";
import { defineResource, EVENTS, type KubeObject } from "../../src/runtime/resource.ts";
import { retryOnConflict } from "../../src/runtime/retry.ts";
import { createNamespace, eventually, installCrd, startCluster, type TestCluster } from "./helpers.ts";

type Host = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };
const HOSTS = defineResource<Host>({ group: "metal3.io", version: "v1alpha1", plural: "baremetalhosts", kind: "BareMetalHost", namespaced: true });

describe("Writes against the API emulator", () => {
  let cluster: TestCluster;
  const ref = { namespace: "metal3", name: "node-0" };

  before(async () => {
    cluster = await startCluster();
    await createNamespace(cluster.client, "metal3");
    await installCrd(cluster.client, "metal3.io_baremetalhosts.yaml");
    await cluster.client.create(HOSTS, {
      metadata: { ...ref },
      spec: { online: true, bmc: { address: "redfish://10.0.0.1/redfish/v1/Systems/1", credentialsName: "node-0-bmc" } },
    });
  });

  after(async () => {
    await cluster.close();
  });

  it("retries racing status updates on conflict until every writer's change is in", async () => {
    const writers = ["a", "b", "c", "d"];
    // Every writer's first attempt starts from the same read, so all but one conflict.
    const shared = await cluster.client.get(HOSTS, ref);
    let conflicts = 0;
    await Promise.all(
      writers.map((w) => {
        let attempt = 0;
        return retryOnConflict(async () => {
          const host = attempt++ === 0 ? structuredClone(shared) : await cluster.client.get(HOSTS, ref);
          host.status = { ...host.status, operationalStatus: "OK", [`writer-${w}`]: true };
          try {
            return await cluster.client.updateStatus(HOSTS, host);
          } catch (error) {
            if (isConflict(error)) conflicts++;
            throw error;
          }
        }, { backoff: { steps: 20, duration: 5, factor: 1, jitter: 1 } });
      }),
    );
    const host = await cluster.client.get(HOSTS, ref);
    assert.equal(host.status?.operationalStatus, "OK");
    for (const w of writers) assert.equal(host.status?.[`writer-${w}`], true, `writer ${w}'s change is kept`);
    assert.ok(conflicts >= writers.length - 1, `at least ${writers.length - 1} conflicts were retried, saw ${conflicts}`);
    assert.equal(host.metadata?.generation, 1, "status writes do not bump the generation");
  });

  it("rejects a stale update with 409 Conflict", async () => {
    const stale = await cluster.client.get(HOSTS, ref);
    await cluster.client.patchStatus(HOSTS, ref, { status: { operationalStatus: "discovered" } }, { type: "merge" });
    const error = await cluster.client.updateStatus(HOSTS, stale).catch((e: unknown) => e);
    assert.ok(isConflict(error), `expected a conflict, got ${String(error)}`);
  });

  it("patches with merge, JSON and server-side apply content types", async () => {
    const merged = await cluster.client.patch(HOSTS, ref, { metadata: { labels: { rack: "r1" } } }, { type: "merge" });
    assert.equal(merged.metadata?.labels?.rack, "r1");
    const jsonPatched = await cluster.client.patch(
      HOSTS,
      ref,
      [
        { op: "test", path: "/metadata/resourceVersion", value: merged.metadata?.resourceVersion },
        { op: "replace", path: "/spec/online", value: false },
      ],
      { type: "json" },
    );
    assert.equal(jsonPatched.spec?.online, false);
    assert.equal(jsonPatched.metadata?.generation, 2, "a spec change bumps the generation");
    const applied = await cluster.client.patch(
      HOSTS,
      ref,
      { apiVersion: "metal3.io/v1alpha1", kind: "BareMetalHost", metadata: { ...ref, annotations: { "example.com/owner": "test" } } },
      { type: "apply", fieldManager: "runtime-test", force: true },
    );
    assert.equal(applied.metadata?.annotations?.["example.com/owner"], "test");
    const status = await cluster.client.patchStatus(HOSTS, ref, { status: { errorMessage: "boom" } }, { type: "merge" });
    assert.equal(status.status?.errorMessage, "boom");
    assert.equal(status.spec?.online, false);
  });

  it("adds and removes a finalizer with optimistic locking, and deletes with preconditions", async () => {
    const host = await cluster.client.get(HOSTS, ref);
    const withFinalizer = await addFinalizer(cluster.client, HOSTS, host, "metal3.io/test");
    assert.deepEqual(withFinalizer.metadata?.finalizers, ["metal3.io/test"]);
    const stale = await addFinalizer(cluster.client, HOSTS, host, "metal3.io/other").catch((e: unknown) => e);
    assert.ok(isConflict(stale), `a write from a stale read is refused, got ${String(stale)}`);
    const wrongUid = await cluster.client.delete(HOSTS, ref, { preconditions: { uid: "not-the-uid" } }).catch((e: unknown) => e);
    assert.ok(isConflict(wrongUid), `a delete with a wrong UID precondition is refused, got ${String(wrongUid)}`);
    const deleting = (await cluster.client.delete(HOSTS, ref, { preconditions: { uid: host.metadata?.uid } })) as Host;
    assert.ok(deleting.metadata?.deletionTimestamp, "the finalizer keeps the object, marked for deletion");
    await removeFinalizer(cluster.client, HOSTS, await cluster.client.get(HOSTS, ref), "metal3.io/test");
    await eventually(async () => isNotFound(await cluster.client.get(HOSTS, ref).catch((e: unknown) => e)), "the host to be gone");
  });

  it("creates events.k8s.io/v1 Events and aggregates repeats into a series", async () => {
    const recorder = new EventRecorder({ sink: cluster.client, reportingController: "metal3.io/runtime-test", reportingInstance: "test-0" });
    const host: Host = { apiVersion: "metal3.io/v1alpha1", kind: "BareMetalHost", metadata: { namespace: "metal3", name: "node-1", uid: "u-1" } };
    const failed = { type: "Warning", reason: "RegistrationFailed", action: "Register", note: "BMC answered 401 for user admin, password s3cret" } as const;
    const redacting = new EventRecorder({
      sink: cluster.client,
      reportingController: "metal3.io/runtime-test",
      reportingInstance: "test-0",
      redact: (note) => note.replace(/password \S+/, "password [REDACTED]"),
    });
    redacting.event(host, failed);
    redacting.event(host, failed);
    redacting.event(host, failed);
    recorder.event(host, { type: "Normal", reason: "Registered", action: "Register", note: "host registered" });
    await Promise.all([redacting.flush(), recorder.flush()]);
    const { items } = await cluster.client.list(EVENTS, { namespace: "metal3" });
    const warnings = items.filter((e) => e.reason === "RegistrationFailed");
    assert.equal(warnings.length, 1, "three repeats are one Event");
    const warning = warnings[0]!;
    assert.equal(warning.note, "BMC answered 401 for user admin, password [REDACTED]");
    assert.ok((warning.series?.count ?? 1) >= 2, "repeats are counted in the series");
    await eventually(async () => {
      const e = await cluster.client.get(EVENTS, { namespace: "metal3", name: warning.metadata!.name! });
      return e.series?.count === 3;
    }, "the series to count 3");
    assert.equal(warning.regarding.name, "node-1");
    assert.equal(warning.reportingController, "metal3.io/runtime-test");
    assert.equal(warning.reportingInstance, "test-0");
    assert.equal(warning.type, "Warning");
    assert.equal(items.filter((e) => e.reason === "Registered").length, 1);
  });
});

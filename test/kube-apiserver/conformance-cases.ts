/**
 * The API behaviours the project relies on, as one case table run by
 * `conformance.test.ts` against the emulator and, with
 * `KUBE_CONFORMANCE_KUBECONFIG`, against a real cluster. Cases talk raw HTTP
 * (through {@link RestClient}) so that status codes, reasons, headers and
 * watch streams are checked exactly.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { RunningKubeApiServer } from "../../emulators/kube-apiserver/index.ts";
import type { RestClient, RestResponse, WatchEvent, WatchStream } from "./rest-client.ts";

/** The group of the test-only CRD. */
export const GROUP = "conformance.bmc-operator.test";

/** A CRD exercising defaults, pruning, list types, CEL (transition rules included), printer columns and /status. */
export const WIDGET_CRD = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `widgets.${GROUP}` },
  spec: {
    group: GROUP,
    names: { kind: "Widget", listKind: "WidgetList", plural: "widgets", singular: "widget", shortNames: ["wdg"] },
    scope: "Namespaced",
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: "Size", type: "integer", jsonPath: ".spec.size" },
          { name: "Phase", type: "string", jsonPath: ".status.phase" },
        ],
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              spec: {
                type: "object",
                required: ["size"],
                "x-kubernetes-validations": [{ rule: "self.size <= 50 || self.color != 'red'", message: "a red widget has a size of at most 50" }],
                properties: {
                  size: { type: "integer", minimum: 0, maximum: 100 },
                  color: { type: "string", enum: ["red", "green", "blue"], default: "red" },
                  serial: {
                    type: "string",
                    "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "serial is immutable" }],
                  },
                  tags: { type: "array", items: { type: "string" }, "x-kubernetes-list-type": "set" },
                  ports: {
                    type: "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    items: { type: "object", required: ["name"], properties: { name: { type: "string" }, port: { type: "integer" } } },
                  },
                  free: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
                },
              },
              status: {
                type: "object",
                properties: { phase: { type: "string" }, observedGeneration: { type: "integer" } },
              },
            },
          },
        },
      },
    ],
  },
};

/** {@link WIDGET_CRD} under a kind of its own (`<kind><unique suffix>`), for a case that creates or breaks a CRD. */
function widgetCrdCopy(context: CaseContext, kind: string): any {
  const suffix = context.name("").replace(/[^a-z0-9]/g, "");
  const singular = `${kind.toLowerCase()}${suffix}`;
  const crd = structuredClone(WIDGET_CRD) as any;
  crd.metadata.name = `${singular}s.${GROUP}`;
  crd.spec.names = { kind: `${kind}${suffix}`, plural: `${singular}s`, singular };
  return crd;
}

/** What a case runs with. */
export interface CaseContext {
  client: RestClient;
  /** A namespace created for the suite. */
  namespace: string;
  /** A name unique to this case and call. */
  name(prefix?: string): string;
  /** The emulator, when the target is the emulator. */
  emulator: RunningKubeApiServer | undefined;
}

/** One conformance case. */
export interface ConformanceCase {
  name: string;
  /** Set when the case needs a hook only the emulator has; the reason is shown when skipped. */
  emulatorOnly?: string;
  run(context: CaseContext): Promise<void>;
}

/** Widgets of a namespace. */
export const widgets = (namespace: string) => `/apis/${GROUP}/v1/namespaces/${namespace}/widgets`;
const configMaps = (namespace: string) => `/api/v1/namespaces/${namespace}/configmaps`;

const MERGE = "application/merge-patch+json";
const JSON_PATCH = "application/json-patch+json";
const APPLY = "application/apply-patch+yaml";
const STRATEGIC = "application/strategic-merge-patch+json";

function widget(name: string, spec: Record<string, unknown> = { size: 1 }, metadata: Record<string, unknown> = {}) {
  return { apiVersion: `${GROUP}/v1`, kind: "Widget", metadata: { name, ...metadata }, spec };
}

/** Asserts a `metav1.Status` error response. */
export function assertStatus(response: RestResponse, code: number, reason: string): any {
  assert.equal(response.status, code, `expected HTTP ${code} ${reason}, got ${response.status}: ${response.text}`);
  assert.equal(response.body?.kind, "Status", `expected a Status body, got ${response.text}`);
  assert.equal(response.body.apiVersion, "v1");
  assert.equal(response.body.status, "Failure");
  assert.equal(response.body.code, code);
  assert.equal(response.body.reason, reason);
  assert.equal(typeof response.body.message, "string");
  return response.body;
}

function assertOk(response: RestResponse, code = 200): any {
  assert.equal(response.status, code, `expected HTTP ${code}, got ${response.status}: ${response.text}`);
  return response.body;
}

/** Calls `check` until it stops throwing, for up to `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}

/** Reads watch events until one satisfies `predicate`, failing after `timeoutMs`. */
async function nextMatching(stream: WatchStream, predicate: (event: WatchEvent) => boolean, timeoutMs = 5000): Promise<WatchEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const event = await stream.next(Math.max(1, deadline - Date.now()));
    if (!event) throw new Error("The watch ended before the expected event");
    if (predicate(event)) return event;
  }
}

async function create(context: CaseContext, body: object): Promise<any> {
  return assertOk(await context.client.post(widgets(context.namespace), body), 201);
}

/** The case table. */
export const CASES: ConformanceCase[] = [
  // ---- discovery ----------------------------------------------------------------------------
  {
    name: "/version reports a Kubernetes version",
    async run({ client }) {
      const version = assertOk(await client.get("/version"));
      assert.match(version.major, /^\d+$/);
      assert.match(version.gitVersion, /^v\d+\.\d+\.\d+/);
    },
  },
  {
    name: "discovery lists a new CRD's resource with its scope, verbs, short names and status subresource",
    async run({ client }) {
      const groups = assertOk(await client.get("/apis"));
      const group = groups.groups.find((g: any) => g.name === GROUP);
      assert.ok(group, "the CRD's group is in /apis");
      assert.equal(group.preferredVersion.version, "v1");
      const list = assertOk(await client.get(`/apis/${GROUP}/v1`));
      const resource = list.resources.find((r: any) => r.name === "widgets");
      assert.equal(resource.kind, "Widget");
      assert.equal(resource.namespaced, true);
      assert.deepEqual(resource.shortNames, ["wdg"]);
      for (const verb of ["create", "delete", "get", "list", "patch", "update", "watch"]) assert.ok(resource.verbs.includes(verb), verb);
      assert.ok(list.resources.some((r: any) => r.name === "widgets/status"));
      const core = assertOk(await client.get("/api/v1"));
      for (const name of ["namespaces", "secrets", "configmaps", "events"]) assert.ok(core.resources.some((r: any) => r.name === name), name);
      const coordination = assertOk(await client.get("/apis/coordination.k8s.io/v1"));
      assert.ok(coordination.resources.some((r: any) => r.name === "leases"));
      const events = assertOk(await client.get("/apis/events.k8s.io/v1"));
      assert.ok(events.resources.some((r: any) => r.name === "events"));
    },
  },
  {
    name: "aggregated discovery (apidiscovery.k8s.io/v2) describes the CRD's resource",
    async run({ client }) {
      const accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
      const response = await client.get("/apis", { accept });
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /as=APIGroupDiscoveryList/);
      const group = response.body.items.find((item: any) => item.metadata.name === GROUP);
      const resource = group.versions[0].resources.find((r: any) => r.resource === "widgets");
      assert.equal(resource.scope, "Namespaced");
      assert.deepEqual(resource.responseKind, { group: GROUP, version: "v1", kind: "Widget" });
      assert.equal(resource.subresources[0].subresource, "status");
    },
  },
  {
    name: "a created CRD reports Established and NamesAccepted",
    async run({ client }) {
      const crd = assertOk(await client.get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.${GROUP}`));
      const condition = (type: string) => crd.status.conditions.find((c: any) => c.type === type)?.status;
      assert.equal(condition("Established"), "True");
      assert.equal(condition("NamesAccepted"), "True");
      assert.equal(crd.status.acceptedNames.kind, "Widget");
    },
  },
  {
    name: "OpenAPI v3 describes the CRD for kubectl: GVK-tagged schema and a PATCH with fieldValidation",
    async run({ client }) {
      const root = assertOk(await client.get("/openapi/v3"));
      const entry = root.paths[`apis/${GROUP}/v1`];
      assert.ok(entry?.serverRelativeURL, "the group version is listed in /openapi/v3");
      const document = assertOk(await client.get(entry.serverRelativeURL));
      const schemas = Object.values<any>(document.components.schemas);
      const schema = schemas.find((s) => s["x-kubernetes-group-version-kind"]?.some((g: any) => g.kind === "Widget" && g.group === GROUP));
      assert.ok(schema?.properties?.spec?.properties?.size, "the Widget schema has spec.size");
      const patch = Object.values(document.paths as Record<string, any>).map((p) => p.patch).find((op) => op?.["x-kubernetes-group-version-kind"]?.kind === "Widget");
      assert.ok(patch?.parameters.some((p: any) => p.name === "fieldValidation" && p.in === "query"));
    },
  },
  // ---- create and read ----------------------------------------------------------------------
  {
    name: "create sets uid, creationTimestamp, generation 1, a resourceVersion and schema defaults",
    async run(context) {
      const name = context.name();
      const object = await create(context, widget(name, { size: 3 }));
      assert.match(object.metadata.uid, /^[0-9a-f-]{36}$/);
      assert.match(object.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(object.metadata.generation, 1);
      assert.match(object.metadata.resourceVersion, /^\d+$/);
      assert.equal(object.spec.color, "red");
      const read = assertOk(await context.client.get(`${widgets(context.namespace)}/${name}`));
      assert.deepEqual(read, object);
    },
  },
  {
    name: "POST of an existing name is 409 AlreadyExists",
    async run(context) {
      const name = context.name();
      await create(context, widget(name));
      const status = assertStatus(await context.client.post(widgets(context.namespace), widget(name)), 409, "AlreadyExists");
      assert.equal(status.details.name, name);
      assert.equal(status.details.group, GROUP);
      assert.equal(status.details.kind, "widgets");
      assert.equal(status.message, `widgets.${GROUP} "${name}" already exists`);
    },
  },
  {
    name: "GET of a missing object is 404 NotFound naming it",
    async run(context) {
      const status = assertStatus(await context.client.get(`${widgets(context.namespace)}/missing`), 404, "NotFound");
      assert.equal(status.message, `widgets.${GROUP} "missing" not found`);
      assert.equal(status.details.name, "missing");
    },
  },
  {
    name: "creating in a namespace that does not exist is 404",
    async run(context) {
      assertStatus(await context.client.post(widgets(`${context.name("nowhere")}`), widget("a")), 404, "NotFound");
    },
  },
  {
    name: "generateName makes a unique name; dryRun=All persists nothing",
    async run(context) {
      const body = { ...widget(""), metadata: { generateName: "gen-" } };
      const a = await create(context, body);
      assert.match(a.metadata.name, /^gen-[a-z0-9]{5}$/);
      const dry = assertOk(await context.client.post(widgets(context.namespace), widget(context.name("dry")), { query: { dryRun: "All" } }), 201);
      assertStatus(await context.client.get(`${widgets(context.namespace)}/${dry.metadata.name}`), 404, "NotFound");
    },
  },
  // ---- updates ------------------------------------------------------------------------------
  {
    name: "resourceVersions grow across resources, and PUT with a stale one is 409 Conflict",
    async run(context) {
      const name = context.name();
      const first = await create(context, widget(name));
      const cm = assertOk(await context.client.post(configMaps(context.namespace), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: context.name("cm") }, data: { a: "b" } }), 201);
      assert.ok(BigInt(cm.metadata.resourceVersion) > BigInt(first.metadata.resourceVersion));
      const updated = assertOk(await context.client.put(`${widgets(context.namespace)}/${name}`, { ...first, spec: { size: 2 } }));
      assert.ok(BigInt(updated.metadata.resourceVersion) > BigInt(cm.metadata.resourceVersion));
      const status = assertStatus(await context.client.put(`${widgets(context.namespace)}/${name}`, { ...first, spec: { size: 4 } }), 409, "Conflict");
      assert.match(status.message, /the object has been modified; please apply your changes to the latest version and try again/);
    },
  },
  {
    name: "PUT of a custom resource without a resourceVersion is 422 naming metadata.resourceVersion",
    async run(context) {
      const name = context.name();
      const object = await create(context, widget(name));
      delete object.metadata.resourceVersion;
      const status = assertStatus(await context.client.put(`${widgets(context.namespace)}/${name}`, object), 422, "Invalid");
      assert.ok(status.details.causes.some((cause: any) => cause.field === "metadata.resourceVersion"));
    },
  },
  {
    name: "generation counts spec changes only; metadata and status changes leave it",
    async run(context) {
      const name = context.name();
      const path = `${widgets(context.namespace)}/${name}`;
      await create(context, widget(name));
      const labelled = assertOk(await context.client.patch(path, { metadata: { labels: { a: "b" } } }, MERGE));
      assert.equal(labelled.metadata.generation, 1);
      const status = assertOk(await context.client.patch(`${path}/status`, { status: { phase: "Ready" } }, MERGE));
      assert.equal(status.metadata.generation, 1);
      const spec = assertOk(await context.client.patch(path, { spec: { size: 7 } }, MERGE));
      assert.equal(spec.metadata.generation, 2);
    },
  },
  {
    name: "the main resource ignores status and /status ignores everything else",
    async run(context) {
      const name = context.name();
      const path = `${widgets(context.namespace)}/${name}`;
      const created = await create(context, { ...widget(name), status: { phase: "Sneaky" } });
      assert.equal(created.status, undefined);
      const viaStatus = assertOk(await context.client.patch(`${path}/status`, { spec: { size: 99 }, metadata: { labels: { x: "y" } }, status: { phase: "Ready" } }, MERGE));
      assert.equal(viaStatus.spec.size, 1);
      assert.equal(viaStatus.metadata.labels, undefined);
      assert.equal(viaStatus.status.phase, "Ready");
      const viaMain = assertOk(await context.client.patch(path, { spec: { size: 5 }, status: { phase: "Other" } }, MERGE));
      assert.equal(viaMain.spec.size, 5);
      assert.equal(viaMain.status.phase, "Ready");
    },
  },
  {
    name: "JSON patch applies operations and a failed test is 422 without a change",
    async run(context) {
      const name = context.name();
      const path = `${widgets(context.namespace)}/${name}`;
      const created = await create(context, widget(name, { size: 1, tags: ["a"] }));
      const patched = assertOk(
        await context.client.patch(path, [
          { op: "test", path: "/metadata/resourceVersion", value: created.metadata.resourceVersion },
          { op: "add", path: "/spec/tags/-", value: "b" },
        ], JSON_PATCH),
      );
      assert.deepEqual(patched.spec.tags, ["a", "b"]);
      const failed = await context.client.patch(path, [{ op: "test", path: "/metadata/resourceVersion", value: created.metadata.resourceVersion }, { op: "replace", path: "/spec/size", value: 9 }], JSON_PATCH);
      assertStatus(failed, 422, "Invalid");
      assert.equal(assertOk(await context.client.get(path)).spec.size, 1);
    },
  },
  {
    name: "a merge patch carrying a stale resourceVersion is 409 Conflict",
    async run(context) {
      const name = context.name();
      const path = `${widgets(context.namespace)}/${name}`;
      const created = await create(context, widget(name));
      assertOk(await context.client.patch(path, { spec: { size: 2 } }, MERGE));
      assertStatus(await context.client.patch(path, { metadata: { resourceVersion: created.metadata.resourceVersion }, spec: { size: 3 } }, MERGE), 409, "Conflict");
    },
  },
  {
    name: "strategic merge patch of a custom resource is 415, as is an unknown patch type",
    async run(context) {
      const name = context.name();
      const path = `${widgets(context.namespace)}/${name}`;
      await create(context, widget(name));
      assertStatus(await context.client.patch(path, { spec: { size: 2 } }, STRATEGIC), 415, "UnsupportedMediaType");
      assertStatus(await context.client.patch(path, { spec: { size: 2 } }, "application/x-unknown-patch"), 415, "UnsupportedMediaType");
      const cm = context.name("cm");
      assertOk(await context.client.post(configMaps(context.namespace), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: cm }, data: { a: "1" } }), 201);
      const merged = assertOk(await context.client.patch(`${configMaps(context.namespace)}/${cm}`, { data: { b: "2" } }, STRATEGIC));
      assert.deepEqual(merged.data, { a: "1", b: "2" });
    },
  },
  // ---- server-side apply --------------------------------------------------------------------
  {
    name: "server-side apply creates, requires a fieldManager, and records Apply ownership",
    async run(context) {
      const name = context.name();
      const path = `${widgets(context.namespace)}/${name}`;
      const config = widget(name, { size: 2, tags: ["x"] });
      const missing = assertStatus(await context.client.patch(path, config, APPLY), 422, "Invalid");
      assert.ok(missing.details.causes.some((c: any) => c.field === "fieldManager"), JSON.stringify(missing));
      const created = assertOk(await context.client.patch(path, config, APPLY, { query: { fieldManager: "alice" } }), 201);
      const entry = created.metadata.managedFields.find((m: any) => m.manager === "alice");
      assert.equal(entry.operation, "Apply");
      assert.deepEqual(entry.fieldsV1["f:spec"]["f:size"], {});
      assert.deepEqual(entry.fieldsV1["f:spec"]["f:tags"], { 'v:"x"': {} });
    },
  },
  {
    name: "server-side apply conflicts name the other manager and field; force takes the field",
    async run(context) {
      const name = context.name();
      const path = `${widgets(context.namespace)}/${name}`;
      assertOk(await context.client.patch(path, widget(name, { size: 2 }), APPLY, { query: { fieldManager: "alice" } }), 201);
      const status = assertStatus(await context.client.patch(path, widget(name, { size: 3 }), APPLY, { query: { fieldManager: "bob" } }), 409, "Conflict");
      assert.match(status.message, /^Apply failed with 1 conflict: conflict with "alice"/);
      assert.deepEqual(status.details.causes, [{ reason: "FieldManagerConflict", message: 'conflict with "alice"', field: ".spec.size" }]);
      const sameValue = assertOk(await context.client.patch(path, widget(name, { size: 2 }), APPLY, { query: { fieldManager: "bob" } }));
      assert.equal(sameValue.spec.size, 2, "applying the same value shares ownership without conflict");
      const forced = assertOk(await context.client.patch(path, widget(name, { size: 3 }), APPLY, { query: { fieldManager: "bob", force: true } }));
      assert.equal(forced.spec.size, 3);
      const alice = forced.metadata.managedFields.find((m: any) => m.manager === "alice");
      assert.equal(alice?.fieldsV1?.["f:spec"]?.["f:size"], undefined, "alice lost spec.size");
    },
  },
  {
    name: "server-side apply removes a field its manager stops applying, keeps list-map items of others",
    async run(context) {
      const name = context.name();
      const path = `${widgets(context.namespace)}/${name}`;
      assertOk(await context.client.patch(path, widget(name, { size: 1, serial: "s1", ports: [{ name: "a", port: 1 }] }), APPLY, { query: { fieldManager: "alice" } }), 201);
      assertOk(await context.client.patch(path, widget(name, { size: 1, ports: [{ name: "b", port: 2 }] }), APPLY, { query: { fieldManager: "bob" } }));
      const next = assertOk(await context.client.patch(path, widget(name, { size: 1 }), APPLY, { query: { fieldManager: "alice" } }));
      assert.deepEqual(next.spec.ports, [{ name: "b", port: 2 }]);
      assert.equal(next.spec.serial, undefined);
    },
  },
  {
    name: "an update takes the fields it changes from the managers that applied them",
    async run(context) {
      const name = context.name();
      const path = `${widgets(context.namespace)}/${name}`;
      assertOk(await context.client.patch(path, widget(name, { size: 1 }), APPLY, { query: { fieldManager: "alice" } }), 201);
      assertOk(await context.client.patch(path, { spec: { size: 4 } }, MERGE, { query: { fieldManager: "editor" } }));
      const status = assertStatus(await context.client.patch(path, widget(name, { size: 5 }), APPLY, { query: { fieldManager: "alice" } }), 409, "Conflict");
      assert.match(status.message, /conflict with "editor" using conformance\.bmc-operator\.test\/v1/);
    },
  },
  // ---- schemas ------------------------------------------------------------------------------
  {
    name: "fieldValidation=Strict rejects unknown fields with 400; Warn prunes them and warns",
    async run(context) {
      const strict = await context.client.post(widgets(context.namespace), widget(context.name(), { size: 1, bogus: true }), { query: { fieldValidation: "Strict" } });
      const status = assertStatus(strict, 400, "BadRequest");
      assert.match(status.message, /unknown field "spec\.bogus"/);
      const name = context.name();
      const warned = await context.client.post(widgets(context.namespace), widget(name, { size: 1, bogus: true, free: { anything: 1 } }), { query: { fieldValidation: "Warn" } });
      assert.equal(warned.status, 201);
      assert.match(warned.headers.get("warning") ?? "", /unknown field \\?"spec\.bogus\\?"/);
      assert.equal(warned.body.spec.bogus, undefined);
      assert.deepEqual(warned.body.spec.free, { anything: 1 }, "x-kubernetes-preserve-unknown-fields keeps unknown fields");
    },
  },
  {
    name: "OpenAPI validation is 422 Invalid with a cause per field",
    async run(context) {
      const name = context.name();
      const status = assertStatus(await context.client.post(widgets(context.namespace), widget(name, { size: 101, color: "pink" })), 422, "Invalid");
      assert.match(status.message, new RegExp(`^Widget\\.${GROUP.replace(/\./g, "\\.")} "${name}" is invalid: `));
      const fields = status.details.causes.map((cause: any) => cause.field).sort();
      assert.deepEqual(fields, ["<nil>", "spec.color", "spec.size"]);
      const color = status.details.causes.find((cause: any) => cause.field === "spec.color");
      assert.equal(color.reason, "FieldValueNotSupported");
      assert.match(color.message, /^Unsupported value: "pink": supported values: "red", "green", "blue"$/);
      assert.equal(status.details.kind, "Widget");
      const missing = assertStatus(await context.client.post(widgets(context.namespace), widget(context.name(), {})), 422, "Invalid");
      // A missing required field keeps the CEL rules from running, and kube-apiserver says so.
      assert.deepEqual(missing.details.causes.map((c: any) => [c.reason, c.field]), [["FieldValueRequired", "spec.size"], ["FieldValueInvalid", "<nil>"]]);
      assert.match(missing.details.causes[1].message, /some validation rules were not checked because the object was invalid/);
    },
  },
  {
    name: "CEL rules and transition rules (oldSelf) reject with their messages",
    async run(context) {
      const status = assertStatus(await context.client.post(widgets(context.namespace), widget(context.name(), { size: 60, color: "red" })), 422, "Invalid");
      assert.ok(status.details.causes.some((c: any) => c.field === "spec" && c.message.includes("a red widget has a size of at most 50")), JSON.stringify(status.details.causes));
      const name = context.name();
      await create(context, widget(name, { size: 60, color: "blue", serial: "A" }));
      const immutable = assertStatus(await context.client.patch(`${widgets(context.namespace)}/${name}`, { spec: { serial: "B" } }, MERGE), 422, "Invalid");
      assert.ok(immutable.details.causes.some((c: any) => c.field === "spec.serial" && c.message.includes("serial is immutable")));
    },
  },
  // ---- deletion -----------------------------------------------------------------------------
  {
    name: "DELETE with a finalizer keeps the object with a deletionTimestamp until the finalizer goes",
    async run(context) {
      const name = context.name();
      const path = `${widgets(context.namespace)}/${name}`;
      const created = await create(context, widget(name, { size: 1 }, { finalizers: ["conformance.bmc-operator.test/hold"] }));
      const watch = await context.client.watch(widgets(context.namespace), { resourceVersion: created.metadata.resourceVersion, fieldSelector: `metadata.name=${name}` });
      try {
        const deleting = assertOk(await context.client.delete(path));
        assert.ok(deleting.metadata.deletionTimestamp);
        const modified = await nextMatching(watch, (e) => e.type === "MODIFIED");
        assert.ok(modified.object.metadata.deletionTimestamp);
        const still = assertOk(await context.client.get(path));
        assert.ok(still.metadata.deletionTimestamp);
        const added = await context.client.patch(path, { metadata: { finalizers: ["conformance.bmc-operator.test/hold", "conformance.bmc-operator.test/new"] } }, MERGE);
        assertStatus(added, 422, "Invalid");
        assertOk(await context.client.patch(path, { metadata: { finalizers: null } }, MERGE));
        const deleted = await nextMatching(watch, (e) => e.type === "DELETED");
        assert.equal(deleted.object.metadata.name, name);
        assertStatus(await context.client.get(path), 404, "NotFound");
      } finally {
        watch.close();
      }
    },
  },
  {
    name: "deleting a namespace deletes what it contains",
    async run(context) {
      const namespace = context.name("ns");
      assertOk(await context.client.post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }), 201);
      assertOk(await context.client.post(widgets(namespace), widget("w")), 201);
      assertOk(await context.client.post(configMaps(namespace), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } }), 201);
      const deleting = assertOk(await context.client.delete(`/api/v1/namespaces/${namespace}`));
      assert.equal(deleting.status?.phase, "Terminating");
      await eventually(async () => assertStatus(await context.client.get(`/api/v1/namespaces/${namespace}`), 404, "NotFound"), 20_000, 100);
      assertStatus(await context.client.get(`${widgets(namespace)}/w`), 404, "NotFound");
      assertStatus(await context.client.get(`${configMaps(namespace)}/c`), 404, "NotFound");
    },
  },
  // ---- lists --------------------------------------------------------------------------------
  {
    name: "lists filter by label selector and by metadata.name; an unsupported field selector is 400",
    async run(context) {
      const tag = context.name("tag");
      const names = [context.name(), context.name(), context.name()];
      await create(context, widget(names[0]!, { size: 1 }, { labels: { set: tag, tier: "a" } }));
      await create(context, widget(names[1]!, { size: 1 }, { labels: { set: tag, tier: "b" } }));
      await create(context, widget(names[2]!, { size: 1 }, { labels: { set: tag } }));
      const list = async (query: Record<string, string>) =>
        (assertOk(await context.client.get(widgets(context.namespace), { query })).items as any[]).map((item) => item.metadata.name).sort();
      assert.deepEqual(await list({ labelSelector: `set=${tag},tier=a` }), [names[0]]);
      assert.deepEqual(await list({ labelSelector: `set=${tag},tier!=a` }), [names[1], names[2]].sort());
      assert.deepEqual(await list({ labelSelector: `set=${tag},tier in (a,b)` }), [names[0], names[1]].sort());
      assert.deepEqual(await list({ labelSelector: `set=${tag},!tier` }), [names[2]]);
      assert.deepEqual(await list({ fieldSelector: `metadata.name=${names[1]}` }), [names[1]]);
      assertStatus(await context.client.get(widgets(context.namespace), { query: { fieldSelector: "spec.size=1" } }), 400, "BadRequest");
    },
  },
  {
    name: "limit and continue page through a list in order",
    async run(context) {
      const tag = context.name("page");
      const names = Array.from({ length: 5 }, (_, i) => `${tag}-${i}`);
      for (const name of names) await create(context, widget(name, { size: 1 }, { labels: { page: tag } }));
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = assertOk(await context.client.get(widgets(context.namespace), { query: { labelSelector: `page=${tag}`, limit: 2, continue: token } }));
        seen.push(...page.items.map((item: any) => item.metadata.name));
        token = page.metadata.continue || undefined;
        pages++;
      } while (token && pages < 10);
      assert.deepEqual(seen, names);
      assert.equal(pages, 3);
    },
  },
  {
    name: "a continue token older than the retained history is 410 Expired",
    emulatorOnly: "forgetting history on demand needs the emulator's compact()",
    async run(context) {
      for (let i = 0; i < 3; i++) await create(context, widget(context.name("exp")));
      const first = assertOk(await context.client.get(widgets(context.namespace), { query: { limit: 1 } }));
      assert.ok(first.metadata.continue);
      await create(context, widget(context.name("later")));
      context.emulator!.compact();
      assertStatus(await context.client.get(widgets(context.namespace), { query: { limit: 1, continue: first.metadata.continue } }), 410, "Expired");
    },
  },
  {
    name: "Table output has the CRD's printer columns",
    async run(context) {
      const name = context.name();
      await create(context, widget(name, { size: 42, color: "green" }));
      const table = assertOk(await context.client.get(`${widgets(context.namespace)}/${name}`, { accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" }));
      assert.equal(table.kind, "Table");
      // Age is only a default for CRDs without printer columns.
      assert.deepEqual(table.columnDefinitions.map((c: any) => c.name), ["Name", "Size", "Phase"]);
      assert.equal(table.rows[0].cells[0], name);
      assert.equal(table.rows[0].cells[1], 42);
      assert.equal(table.rows[0].object.metadata.name, name);
    },
  },
  {
    name: "metadata-only lists (PartialObjectMetadataList) carry metadata and no spec",
    async run(context) {
      const name = context.name();
      await create(context, widget(name, { size: 3 }));
      const accept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
      const list = assertOk(await context.client.get(widgets(context.namespace), { accept, query: { fieldSelector: `metadata.name=${name}` } }));
      assert.equal(list.kind, "PartialObjectMetadataList");
      assert.equal(list.items[0].kind, "PartialObjectMetadata");
      assert.equal(list.items[0].metadata.name, name);
      assert.equal(list.items[0].spec, undefined);
    },
  },
  // ---- watches ------------------------------------------------------------------------------
  {
    name: "a watch from a resourceVersion replays later changes; without one it starts with ADDED events",
    async run(context) {
      const name = context.name();
      const path = `${widgets(context.namespace)}/${name}`;
      const created = await create(context, widget(name));
      assertOk(await context.client.patch(path, { spec: { size: 2 } }, MERGE));
      const resumed = await context.client.watch(widgets(context.namespace), { resourceVersion: created.metadata.resourceVersion, fieldSelector: `metadata.name=${name}` });
      try {
        assert.equal(resumed.status, 200);
        const event = await nextMatching(resumed, () => true);
        assert.equal(event.type, "MODIFIED");
        assert.equal(event.object.spec.size, 2);
      } finally {
        resumed.close();
      }
      const fresh = await context.client.watch(widgets(context.namespace), { fieldSelector: `metadata.name=${name}` });
      try {
        const event = await nextMatching(fresh, () => true);
        assert.equal(event.type, "ADDED");
        assert.equal(event.object.spec.size, 2);
      } finally {
        fresh.close();
      }
    },
  },
  {
    name: "WatchList (sendInitialEvents) ends the initial events with the initial-events-end bookmark",
    async run(context) {
      const tag = context.name("wl");
      const names = [`${tag}-a`, `${tag}-b`];
      for (const name of names) await create(context, widget(name, { size: 1 }, { labels: { wl: tag } }));
      const stream = await context.client.watch(widgets(context.namespace), {
        labelSelector: `wl=${tag}`,
        sendInitialEvents: true,
        resourceVersionMatch: "NotOlderThan",
        allowWatchBookmarks: true,
      });
      try {
        const added: string[] = [];
        const bookmark = await nextMatching(stream, (event) => {
          if (event.type === "ADDED") added.push(event.object.metadata.name);
          return event.type === "BOOKMARK";
        });
        assert.deepEqual(added.sort(), names);
        assert.equal(bookmark.object.metadata.annotations["k8s.io/initial-events-end"], "true");
        assert.match(bookmark.object.metadata.resourceVersion, /^\d+$/);
      } finally {
        stream.close();
      }
      const invalid = await context.client.get(widgets(context.namespace), { query: { watch: true, sendInitialEvents: true } });
      assertStatus(invalid, 422, "Invalid");
    },
  },
  {
    name: "a watch of a label selector reports an object that stops matching as DELETED",
    async run(context) {
      const tag = context.name("sel");
      const name = context.name();
      const created = await create(context, widget(name, { size: 1 }, { labels: { sel: tag } }));
      const stream = await context.client.watch(widgets(context.namespace), { labelSelector: `sel=${tag}`, resourceVersion: created.metadata.resourceVersion });
      try {
        assertOk(await context.client.patch(`${widgets(context.namespace)}/${name}`, { metadata: { labels: { sel: null } } }, MERGE));
        const event = await nextMatching(stream, () => true);
        assert.equal(event.type, "DELETED");
        assert.equal(event.object.metadata.name, name);
      } finally {
        stream.close();
      }
    },
  },
  {
    name: "a watch ends after timeoutSeconds",
    async run(context) {
      const stream = await context.client.watch(widgets(context.namespace), { timeoutSeconds: 1, resourceVersion: "0", fieldSelector: "metadata.name=none" });
      try {
        assert.equal(await stream.next(10_000), undefined);
        assert.ok(stream.ended);
      } finally {
        stream.close();
      }
    },
  },
  {
    name: "a watch from a resourceVersion older than the retained history gets 410 Expired",
    emulatorOnly: "forgetting history on demand needs the emulator's compact()",
    async run(context) {
      const name = context.name();
      const created = await create(context, widget(name));
      assertOk(await context.client.patch(`${widgets(context.namespace)}/${name}`, { spec: { size: 2 } }, MERGE));
      context.emulator!.compact();
      const stream = await context.client.watch(widgets(context.namespace), { resourceVersion: created.metadata.resourceVersion });
      try {
        const event = await stream.next();
        assert.equal(event?.type, "ERROR");
        assert.equal(event.object.code, 410);
        assert.equal(event.object.reason, "Expired");
      } finally {
        stream.close();
      }
    },
  },
  // ---- query parameters, decoded and validated as kube-apiserver does ------------------------
  {
    name: "watch: True, yes and an empty value open a watch; only 0 and false (any case) list",
    async run(context) {
      const name = context.name();
      await create(context, widget(name));
      for (const value of ["True", "yes", ""]) {
        const stream = await context.client.watch(widgets(context.namespace), { watch: value, fieldSelector: `metadata.name=${name}` });
        try {
          assert.equal(stream.status, 200, `watch=${value}`);
          const event = await nextMatching(stream, () => true);
          assert.equal(event.type, "ADDED", `watch=${value}`);
          assert.equal(event.object.metadata.name, name);
        } finally {
          stream.close();
        }
      }
      for (const value of ["FALSE", "False", "0"]) {
        const list = assertOk(await context.client.get(widgets(context.namespace), { query: { watch: value, fieldSelector: `metadata.name=${name}` } }));
        assert.equal(list.kind, "WidgetList", `watch=${value}`);
        assert.equal(list.items.length, 1);
      }
    },
  },
  {
    name: "allowWatchBookmarks and sendInitialEvents read True as true (WatchList ends with its bookmark)",
    async run(context) {
      const name = context.name();
      await create(context, widget(name));
      const stream = await context.client.watch(widgets(context.namespace), {
        fieldSelector: `metadata.name=${name}`,
        sendInitialEvents: "True",
        resourceVersionMatch: "NotOlderThan",
        allowWatchBookmarks: "TRUE",
      });
      try {
        const added = await nextMatching(stream, () => true);
        assert.equal(added.type, "ADDED");
        const bookmark = await nextMatching(stream, () => true);
        assert.equal(bookmark.type, "BOOKMARK");
        assert.equal(bookmark.object.metadata.annotations["k8s.io/initial-events-end"], "true");
      } finally {
        stream.close();
      }
    },
  },
  {
    name: "sendInitialEvents=false watches from the resourceVersion without initial events; on a list it is 422",
    async run(context) {
      const name = context.name();
      const created = await create(context, widget(name));
      const stream = await context.client.watch(widgets(context.namespace), {
        fieldSelector: `metadata.name=${name}`,
        sendInitialEvents: false,
        resourceVersionMatch: "NotOlderThan",
        resourceVersion: created.metadata.resourceVersion,
      });
      try {
        assertOk(await context.client.patch(`${widgets(context.namespace)}/${name}`, { spec: { size: 2 } }, MERGE));
        const event = await nextMatching(stream, (e) => e.type !== "BOOKMARK");
        assert.equal(event.type, "MODIFIED");
      } finally {
        stream.close();
      }
      const list = assertStatus(await context.client.get(widgets(context.namespace), { query: { sendInitialEvents: false } }), 422, "Invalid");
      assert.ok(list.details.causes.some((c: any) => c.field === "sendInitialEvents"), JSON.stringify(list));
      const watch = assertStatus(await context.client.get(widgets(context.namespace), { query: { watch: true, sendInitialEvents: false } }), 422, "Invalid");
      assert.ok(watch.details.causes.some((c: any) => c.field === "resourceVersionMatch"), JSON.stringify(watch));
    },
  },
  {
    name: "limit is a Go int64: not a number is 400, +1 pages, 0 or negative lists everything; continue with a resourceVersion is 400",
    async run(context) {
      const tag = context.name("lim");
      for (const suffix of ["a", "b"]) await create(context, widget(`${tag}-${suffix}`, { size: 1 }, { labels: { lim: tag } }));
      assertStatus(await context.client.get(widgets(context.namespace), { query: { labelSelector: `lim=${tag}`, limit: "two" } }), 400, "BadRequest");
      assertStatus(await context.client.get(widgets(context.namespace), { query: { labelSelector: `lim=${tag}`, limit: "1.5" } }), 400, "BadRequest");
      const first = assertOk(await context.client.get(widgets(context.namespace), { query: { labelSelector: `lim=${tag}`, limit: "+1" } }));
      assert.equal(first.items.length, 1);
      assert.ok(first.metadata.continue);
      for (const limit of ["0", "-1"]) {
        const all = assertOk(await context.client.get(widgets(context.namespace), { query: { labelSelector: `lim=${tag}`, limit } }));
        assert.equal(all.items.length, 2, `limit=${limit}`);
        assert.equal(all.metadata.continue, undefined);
      }
      const rv = first.metadata.resourceVersion;
      assertStatus(await context.client.get(widgets(context.namespace), { query: { labelSelector: `lim=${tag}`, limit: 1, continue: first.metadata.continue, resourceVersion: rv } }), 400, "BadRequest");
    },
  },
  {
    name: "timeoutSeconds is a Go int64: a watch with 1.5 or soon is 400",
    async run(context) {
      for (const timeoutSeconds of ["1.5", "soon"]) {
        assertStatus(await context.client.get(widgets(context.namespace), { query: { watch: true, timeoutSeconds } }), 400, "BadRequest");
      }
    },
  },
  {
    name: "resourceVersionMatch on a list: needs a resourceVersion, Exact or NotOlderThan only, and Exact reads that version",
    async run(context) {
      const tag = context.name("rvm");
      const name = `${tag}-a`;
      await create(context, widget(name, { size: 1 }, { labels: { rvm: tag } }));
      const before = assertOk(await context.client.get(widgets(context.namespace), { query: { labelSelector: `rvm=${tag}` } }));
      assertOk(await context.client.patch(`${widgets(context.namespace)}/${name}`, { spec: { size: 7 } }, MERGE));
      const exact = assertOk(
        await context.client.get(widgets(context.namespace), { query: { labelSelector: `rvm=${tag}`, resourceVersion: before.metadata.resourceVersion, resourceVersionMatch: "Exact" } }),
      );
      assert.equal(exact.metadata.resourceVersion, before.metadata.resourceVersion);
      assert.equal(exact.items[0].spec.size, 1);
      const notOlder = assertOk(
        await context.client.get(widgets(context.namespace), { query: { labelSelector: `rvm=${tag}`, resourceVersion: before.metadata.resourceVersion, resourceVersionMatch: "NotOlderThan" } }),
      );
      assert.equal(notOlder.items[0].spec.size, 7);
      const noVersion = assertStatus(await context.client.get(widgets(context.namespace), { query: { resourceVersionMatch: "Exact" } }), 422, "Invalid");
      assert.ok(noVersion.details.causes.some((c: any) => c.field === "resourceVersionMatch"));
      const unknown = assertStatus(await context.client.get(widgets(context.namespace), { query: { resourceVersion: "0", resourceVersionMatch: "exact" } }), 422, "Invalid");
      assert.ok(unknown.details.causes.some((c: any) => c.field === "resourceVersionMatch" && c.reason === "FieldValueNotSupported"), JSON.stringify(unknown));
    },
  },
  {
    name: "a list at a resourceVersion the server has not reached is 504 Timeout (ResourceVersionTooLarge)",
    async run(context) {
      const list = assertOk(await context.client.get(widgets(context.namespace), { query: { limit: 1 } }));
      const ahead = String(Number(list.metadata.resourceVersion) + 1_000_000_000);
      const status = assertStatus(await context.client.get(widgets(context.namespace), { query: { resourceVersion: ahead } }), 504, "Timeout");
      assert.ok(status.details.causes.some((c: any) => c.reason === "ResourceVersionTooLarge"), JSON.stringify(status));
    },
  },
  {
    name: "fieldValidation: a value other than Strict, Warn or Ignore is 422 naming it; empty is the default (Warn)",
    async run(context) {
      const bad = assertStatus(await context.client.post(widgets(context.namespace), widget(context.name()), { query: { fieldValidation: "strict" } }), 422, "Invalid");
      assert.equal(bad.details.kind, "CreateOptions");
      assert.ok(bad.details.causes.some((c: any) => c.field === "fieldValidation"), JSON.stringify(bad));
      const warned = await context.client.post(widgets(context.namespace), widget(context.name(), { size: 1, bogus: true }), { query: { fieldValidation: "" } });
      assertOk(warned, 201);
      assert.match(warned.headers.get("warning") ?? "", /unknown field .*spec\.bogus/);
      const patch = assertStatus(await context.client.patch(`${widgets(context.namespace)}/x`, { spec: { size: 1 } }, MERGE, { query: { fieldValidation: "Loud" } }), 422, "Invalid");
      assert.equal(patch.details.kind, "PatchOptions");
    },
  },
  {
    name: "dryRun: only All is accepted (422 otherwise); dryRun=All on a PUT or DELETE changes nothing",
    async run(context) {
      const name = context.name();
      const created = await create(context, widget(name));
      const path = `${widgets(context.namespace)}/${name}`;
      const bad = assertStatus(await context.client.post(widgets(context.namespace), widget(context.name()), { query: { dryRun: "true" } }), 422, "Invalid");
      assert.ok(bad.details.causes.some((c: any) => c.field === "dryRun"), JSON.stringify(bad));
      const put = assertOk(await context.client.put(path, { ...created, spec: { size: 9 } }, { query: { dryRun: "All" } }));
      assert.equal(put.spec.size, 9);
      assertOk(await context.client.delete(path, undefined, { query: { dryRun: "All" } }));
      const after = assertOk(await context.client.get(path));
      assert.equal(after.spec.size, 1);
      assert.equal(after.metadata.resourceVersion, created.metadata.resourceVersion);
    },
  },
  {
    name: "propagationPolicy and gracePeriodSeconds of a DELETE without a body: an unknown policy is 422, a non-integer grace period 400",
    async run(context) {
      const name = context.name();
      await create(context, widget(name));
      const path = `${widgets(context.namespace)}/${name}`;
      const bad = assertStatus(await context.client.delete(path, undefined, { query: { propagationPolicy: "Sideways" } }), 422, "Invalid");
      assert.equal(bad.details.kind, "DeleteOptions");
      assert.ok(bad.details.causes.some((c: any) => c.field === "propagationPolicy"), JSON.stringify(bad));
      assertStatus(await context.client.delete(path, undefined, { query: { gracePeriodSeconds: "soon" } }), 400, "BadRequest");
      assertOk(await context.client.get(path));
      assertOk(await context.client.delete(path, undefined, { query: { propagationPolicy: "Foreground", gracePeriodSeconds: 0 } }));
      await eventually(async () => assertStatus(await context.client.get(path), 404, "NotFound"));
    },
  },
  {
    name: "force: only for apply patches (422 on a merge patch); force=True takes a field from another manager",
    async run(context) {
      const name = context.name();
      const path = `${widgets(context.namespace)}/${name}`;
      assertOk(await context.client.patch(path, widget(name, { size: 1 }), APPLY, { query: { fieldManager: "alice" } }), 201);
      const merge = assertStatus(await context.client.patch(path, { spec: { size: 2 } }, MERGE, { query: { force: true } }), 422, "Invalid");
      assert.ok(merge.details.causes.some((c: any) => c.field === "force"), JSON.stringify(merge));
      assertStatus(await context.client.patch(path, widget(name, { size: 3 }), APPLY, { query: { fieldManager: "bob", force: "false" } }), 409, "Conflict");
      const forced = assertOk(await context.client.patch(path, widget(name, { size: 3 }), APPLY, { query: { fieldManager: "bob", force: "True" } }));
      assert.equal(forced.spec.size, 3);
    },
  },
  // ---- authentication and authorization ----------------------------------------------------
  {
    name: "a ServiceAccount token from the TokenRequest API authenticates; RBAC forbids what no binding grants, with kube-apiserver's message",
    async run(context) {
      const { namespace } = context;
      const account = context.name("sa");
      const user = `system:serviceaccount:${namespace}:${account}`;
      assertOk(await context.client.post(`/api/v1/namespaces/${namespace}/serviceaccounts`, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: account } }), 201);
      const review = assertOk(
        await context.client.post(`/api/v1/namespaces/${namespace}/serviceaccounts/${account}/token`, { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 600 } }),
        201,
      );
      assert.equal(review.kind, "TokenRequest");
      const client = context.client.withToken(review.status.token);
      const whoami = assertOk(await client.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }), 201);
      assert.equal(whoami.status.userInfo.username, user);
      assert.ok(whoami.status.userInfo.groups.includes(`system:serviceaccounts:${namespace}`));
      assertOk(await client.get("/apis"));
      const denied = assertStatus(await client.get(configMaps(namespace)), 403, "Forbidden");
      assert.equal(denied.message, `configmaps is forbidden: User "${user}" cannot list resource "configmaps" in API group "" in the namespace "${namespace}"`);
      assert.equal(denied.details.kind, "configmaps");
      const named = assertStatus(await client.get(`${widgets(namespace)}/nothing`), 403, "Forbidden");
      assert.equal(named.message, `widgets.${GROUP} "nothing" is forbidden: User "${user}" cannot get resource "widgets" in API group "${GROUP}" in the namespace "${namespace}"`);
      const rbac = "rbac.authorization.k8s.io";
      assertOk(
        await context.client.post(`/apis/${rbac}/v1/namespaces/${namespace}/roles`, {
          apiVersion: `${rbac}/v1`,
          kind: "Role",
          metadata: { name: account },
          rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["list"] }],
        }),
        201,
      );
      assertOk(
        await context.client.post(`/apis/${rbac}/v1/namespaces/${namespace}/rolebindings`, {
          apiVersion: `${rbac}/v1`,
          kind: "RoleBinding",
          metadata: { name: account },
          roleRef: { apiGroup: rbac, kind: "Role", name: account },
          subjects: [{ kind: "ServiceAccount", name: account, namespace }],
        }),
        201,
      );
      await eventually(async () => assertOk(await client.get(configMaps(namespace))));
      const canI = async (verb: string) =>
        assertOk(
          await client.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
            apiVersion: "authorization.k8s.io/v1",
            kind: "SelfSubjectAccessReview",
            spec: { resourceAttributes: { namespace, verb, resource: "configmaps" } },
          }),
          201,
        ).status.allowed;
      assert.equal(await canI("list"), true);
      assert.equal(await canI("delete"), false);
      assertStatus(await client.delete(`${configMaps(namespace)}/anything`), 403, "Forbidden");
    },
  },
  // ---- built-in kinds -----------------------------------------------------------------------
  {
    name: "a Secret's stringData is merged into data as base64, and must hold strings",
    async run(context) {
      const name = context.name();
      const secret = assertOk(
        await context.client.post(`/api/v1/namespaces/${context.namespace}/secrets`, { apiVersion: "v1", kind: "Secret", metadata: { name }, stringData: { token: "s3cret" } }),
        201,
      );
      assert.equal(secret.data.token, Buffer.from("s3cret").toString("base64"));
      assert.equal(secret.stringData, undefined);
      assert.equal(secret.type, "Opaque");
      // Built-in kinds are decoded into typed fields first: a wrong JSON type is a 400, not a 422.
      const typed = await context.client.post(`/api/v1/namespaces/${context.namespace}/secrets`, { apiVersion: "v1", kind: "Secret", metadata: { name: context.name() }, stringData: { flag: true } });
      assert.match(assertStatus(typed, 400, "BadRequest").message, /cannot unmarshal bool into Go struct field Secret\.stringData/);
    },
  },
  {
    name: "an events.k8s.io/v1 Event is also a core v1 Event",
    async run(context) {
      const name = context.name();
      const event = {
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        metadata: { name },
        eventTime: "2026-01-01T00:00:00.000000Z",
        reportingController: "bmc-operator.metal3.io/controller",
        reportingInstance: "bmc-operator-0",
        action: "Subscribe",
        reason: "Subscribed",
        type: "Normal",
        note: "subscribed to events",
        regarding: { kind: "Widget", name: "w", namespace: context.namespace, apiVersion: `${GROUP}/v1` },
      };
      assertOk(await context.client.post(`/apis/events.k8s.io/v1/namespaces/${context.namespace}/events`, event), 201);
      const core = assertOk(await context.client.get(`/api/v1/namespaces/${context.namespace}/events/${name}`));
      assert.equal(core.message, "subscribed to events");
      assert.equal(core.involvedObject.name, "w");
      assert.equal(core.reason, "Subscribed");
      const invalid = await context.client.post(`/apis/events.k8s.io/v1/namespaces/${context.namespace}/events`, { ...event, metadata: { name: context.name() }, reportingController: undefined });
      assertStatus(invalid, 422, "Invalid");
    },
  },
  {
    name: "a Lease is updated with optimistic concurrency",
    async run(context) {
      const name = context.name();
      const path = `/apis/coordination.k8s.io/v1/namespaces/${context.namespace}/leases`;
      const lease = assertOk(await context.client.post(path, { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name }, spec: { holderIdentity: "a", leaseDurationSeconds: 15 } }), 201);
      const renewed = assertOk(await context.client.put(`${path}/${name}`, { ...lease, spec: { ...lease.spec, holderIdentity: "b" } }));
      assert.equal(renewed.spec.holderIdentity, "b");
      assertStatus(await context.client.put(`${path}/${name}`, { ...lease, spec: { ...lease.spec, holderIdentity: "c" } }), 409, "Conflict");
    },
  },
  {
    name: "deleting a CRD deletes its custom resources and removes it from discovery",
    async run(context) {
      const crd = widgetCrdCopy(context, "Gadget");
      const plural = crd.spec.names.plural;
      const crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
      assertOk(await context.client.post(crds, crd), 201);
      const path = `/apis/${GROUP}/v1/namespaces/${context.namespace}/${plural}`;
      await eventually(async () => assertOk(await context.client.post(path, { ...widget("g"), kind: crd.spec.names.kind }), 201), 30_000, 100);
      assertOk(await context.client.delete(`${crds}/${crd.metadata.name}`));
      await eventually(async () => assertStatus(await context.client.get(`${crds}/${crd.metadata.name}`), 404, "NotFound"), 30_000, 100);
      await eventually(async () => {
        const list = assertOk(await context.client.get(`/apis/${GROUP}/v1`));
        assert.ok(!list.resources.some((r: any) => r.name === plural), `${plural} is still in discovery`);
      }, 30_000, 100);
      assert.equal((await context.client.get(`${path}/g`)).status, 404);
    },
  },
  {
    name: "a CRD whose schema holds a value of the wrong JSON type is a 400 decoding error, and is not created",
    async run(context) {
      const crd = widgetCrdCopy(context, "Gizmo");
      // What `kubectl apply -f` makes of `required: [size, on]`: YAML 1.1 reads a bare `on` as true.
      crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.required = ["size", true];
      const crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
      const refused = assertStatus(await context.client.post(crds, crd), 400, "BadRequest");
      assert.match(refused.message, /cannot unmarshal bool into Go struct field \S*required\S* of type string/);
      assertStatus(await context.client.get(`${crds}/${crd.metadata.name}`), 404, "NotFound");
    },
  },
  // ---- admission ----------------------------------------------------------------------------
  {
    name: "a ValidatingAdmissionPolicy with a Deny binding rejects what its expression forbids",
    async run(context) {
      const policyName = context.name("vap");
      const policy = {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicy",
        metadata: { name: policyName },
        spec: {
          failurePolicy: "Fail",
          matchConstraints: { resourceRules: [{ apiGroups: [GROUP], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["widgets"] }] },
          validations: [{ expression: "object.spec.size != 13", message: "13 is unlucky", reason: "Invalid" }],
        },
      };
      const binding = {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: { name: policyName },
        spec: { policyName, validationActions: ["Deny"] },
      };
      const policies = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies";
      const bindings = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings";
      assertOk(await context.client.post(policies, policy), 201);
      assertOk(await context.client.post(bindings, binding), 201);
      try {
        const status = await eventually(async () => assertStatus(await context.client.post(widgets(context.namespace), widget(context.name(), { size: 13 })), 422, "Invalid"), 15_000, 200);
        assert.match(status.message, new RegExp(`ValidatingAdmissionPolicy '${policyName}' with binding '${policyName}' denied request: 13 is unlucky`));
        await create(context, widget(context.name(), { size: 12 }));
      } finally {
        await context.client.delete(`${bindings}/${policyName}`);
        await context.client.delete(`${policies}/${policyName}`);
      }
    },
  },
];

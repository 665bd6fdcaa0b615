/**
 * Tests of the metal3.io/v1alpha1 API: the checked-in manifests are what the
 * source generates, the samples are valid, and invalid objects are rejected
 * with messages that name the field and the value. Validation runs the real
 * schema (Ajv) and CEL (cel-js) engines over the checked-in CRDs and policies.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { evaluatePolicy, type PolicyValidation } from "../../emulators/kube-apiserver/schema/admission-policy.ts";
import { formatFieldError } from "../../emulators/kube-apiserver/schema/field-error.ts";
import type { Schema } from "../../emulators/kube-apiserver/schema/openapi-validator.ts";
import { validateCustomResource } from "../../emulators/kube-apiserver/schema/validate.ts";
import { renderManifests } from "./manifests.ts";

const root = join(import.meta.dirname, "..", "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

type Obj = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string } };

const crds = new Map<string, Schema>();
for (const file of ["baremetalhosts", "bmceventsubscriptions", "baremetalhostserviceindicators"]) {
  const crd = parse(read(`config/crd/metal3.io_${file}.yaml`));
  crds.set(crd.spec.names.kind, crd.spec.versions[0].schema.openAPIV3Schema);
}
const policies = new Map<string, PolicyValidation[]>();
for (const doc of parseAllDocuments(read("config/policy/same-namespace-references.yaml"))) {
  const policy = doc.toJS();
  if (policy.kind !== "ValidatingAdmissionPolicy") continue;
  const plural = policy.spec.matchConstraints.resourceRules[0].resources[0] as string;
  const kind = [...crds.keys()].find((k) => `${k.toLowerCase()}s` === plural) ?? plural;
  policies.set(kind, policy.spec.validations);
}

/** Every message the API server would give for `object`, CRD schema and admission policy together. */
function reject(object: Obj, old?: Obj): string[] {
  const schema = crds.get(object.kind);
  assert.ok(schema, `no CRD for kind ${object.kind}`);
  const errors = validateCustomResource(schema, object, old).map(formatFieldError);
  const policy = policies.get(object.kind);
  return policy ? [...errors, ...evaluatePolicy(policy, object, old ?? null)] : errors;
}

const clone = <T>(value: T): T => structuredClone(value);

const subscription: Obj = parse(read("config/samples/metal3.io_v1alpha1_bmceventsubscription.yaml"));
const indicator: Obj = parse(read("config/samples/metal3.io_v1alpha1_baremetalhostserviceindicator.yaml"));
const host: Obj = parse(read("config/samples/metal3.io_v1alpha1_baremetalhost.yaml"));

/** Returns a copy of `base` with `edit` applied. */
function variant(base: Obj, edit: (o: Record<string, any>) => void): Obj {
  const copy = clone(base);
  edit(copy);
  return copy;
}

describe("generated manifests", () => {
  it("are checked in exactly as src/api generates them (run `npm run generate`)", () => {
    for (const [path, content] of renderManifests()) {
      assert.equal(read(path), content, `${path} differs from what src/api generates`);
    }
  });

  it("are structural: every schema node has a type, and no anyOf/const", () => {
    const visit = (node: Schema, path: string) => {
      assert.ok(node.type || node["x-kubernetes-int-or-string"], `${path} has no type`);
      assert.equal(node.anyOf, undefined, `${path} uses anyOf`);
      assert.equal(node.const, undefined, `${path} uses const`);
      for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, Schema>)) {
        visit(child, `${path}.${name}`);
      }
      if (node.items) visit(node.items as Schema, `${path}[]`);
    };
    for (const [kind, schema] of crds) visit(schema, kind);
  });
});

describe("manifests under config/", () => {
  const files = readdirSync(join(root, "config"), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".yaml"))
    .map((file) => relative(root, join(root, "config", file)));

  it("are found", () => assert.ok(files.length >= 10, `only ${files.length} YAML files under config/`));

  // `kubectl apply -f` reads YAML 1.1 (a bare `on` is the boolean true) and
  // kustomize reads YAML 1.2, so a manifest must mean the same in both.
  for (const file of files) {
    it(`${file} reads the same in YAML 1.1 (kubectl -f) and YAML 1.2 (kustomize)`, () => {
      const text = read(file);
      const as11 = parseAllDocuments(text, { version: "1.1" }).map((doc) => doc.toJS());
      const as12 = parseAllDocuments(text, { version: "1.2" }).map((doc) => doc.toJS());
      assert.deepEqual(as11, as12);
    });
  }
});

describe("samples", () => {
  for (const [name, sample] of [
    ["BMCEventSubscription", subscription],
    ["BareMetalHostServiceIndicator", indicator],
    ["BareMetalHost", host],
  ] as const) {
    it(`${name} sample is valid`, () => assert.deepEqual(reject(sample), []));
  }

  it("a BareMetalHost keeps fields bmc-operator does not know (preserve-unknown-fields)", () => {
    const properties = crds.get("BareMetalHost")?.properties as Record<string, Schema> | undefined;
    const spec = properties?.spec;
    assert.equal(spec?.["x-kubernetes-preserve-unknown-fields"], true);
    assert.deepEqual(reject(variant(host, (o) => (o.spec.image = { url: "http://x/img" }))), []);
  });
});

interface Case {
  name: string;
  object: Obj;
  old?: Obj;
  expect: string;
}

const long = (n: number) => "a".repeat(n);

const invalid: Case[] = [
  // BMCEventSubscription, on create.
  { name: "no spec", object: variant(subscription, (o) => delete o.spec), expect: "spec: Required value" },
  { name: "no hostName", object: variant(subscription, (o) => delete o.spec.hostName), expect: "spec.hostName: Required value" },
  { name: "no destination", object: variant(subscription, (o) => delete o.spec.destination), expect: "spec.destination: Required value" },
  { name: "hostName not DNS-1123", object: variant(subscription, (o) => (o.spec.hostName = "Worker_1")), expect: "hostName must be the name of a BareMetalHost: a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit), got 'Worker_1'" },
  { name: "hostName too long", object: variant(subscription, (o) => (o.spec.hostName = long(254))), expect: "spec.hostName: Too long: may not be more than 253 bytes" },
  { name: "hostName of the wrong type", object: variant(subscription, (o) => (o.spec.hostName = 7)), expect: "spec.hostName in body must be of type string" },
  { name: "destination without a path", object: variant(subscription, (o) => (o.spec.destination = "https://host")), expect: "destination must be an absolute http or https URL with a host and a path (a bare host needs a trailing slash, as in https://host/), got 'https://host'" },
  { name: "destination with an ftp scheme", object: variant(subscription, (o) => (o.spec.destination = "ftp://host/x")), expect: "got 'ftp://host/x'" },
  { name: "destination not a URL", object: variant(subscription, (o) => (o.spec.destination = "not a url")), expect: 'spec.destination: Invalid value: "string": destination must be an absolute http or https URL' },
  { name: "destination a relative path", object: variant(subscription, (o) => (o.spec.destination = "/events")), expect: "got '/events'" },
  { name: "destination empty", object: variant(subscription, (o) => (o.spec.destination = "")), expect: "destination must be an absolute http or https URL" },
  { name: "destination without a host", object: variant(subscription, (o) => (o.spec.destination = "https:///events")), expect: "got 'https:///events'" },
  { name: "destination too long", object: variant(subscription, (o) => (o.spec.destination = `https://host/${long(2040)}`)), expect: "spec.destination: Too long: may not be more than 2048 bytes" },
  { name: "context too long", object: variant(subscription, (o) => (o.spec.context = long(257))), expect: "spec.context: Too long: may not be more than 256 bytes" },
  { name: "context not a string", object: variant(subscription, (o) => (o.spec.context = 5)), expect: "spec.context in body must be of type string" },
  { name: "httpHeadersRef without a name", object: variant(subscription, (o) => delete o.spec.httpHeadersRef.name), expect: "spec.httpHeadersRef.name: Required value" },
  { name: "httpHeadersRef name not DNS-1123", object: variant(subscription, (o) => (o.spec.httpHeadersRef.name = "Headers!")), expect: "httpHeadersRef.name must be the name of a Secret" },
  { name: "httpHeadersRef in another namespace (CVE-2025-29781)", object: variant(subscription, (o) => (o.spec.httpHeadersRef.namespace = "other-tenant")), expect: "spec.httpHeadersRef.namespace must be empty or the BMCEventSubscription's own namespace 'some-namespace', got 'other-tenant'" },
  { name: "httpHeadersRef namespace not a namespace name", object: variant(subscription, (o) => (o.spec.httpHeadersRef.namespace = "Not A Namespace")), expect: "httpHeadersRef.namespace must be empty or a namespace name, got 'Not A Namespace'" },
  { name: "destination with user information (refused without echoing the password)", object: variant(subscription, (o) => (o.spec.destination = "https://hook-user:Pa55-w0rd@events.example.com/x?y=1")), expect: 'spec.destination: Invalid value: "string": destination must not contain user information (user:password@ before the host)' },
  { name: "destination with user information names the URL with it elided", object: variant(subscription, (o) => (o.spec.destination = "https://hook-user:Pa55-w0rd@events.example.com/x")), expect: "got https://[redacted]@events.example.com/x" },
  { name: "destination with a user name only", object: variant(subscription, (o) => (o.spec.destination = "http://token@10.0.0.1:8080/hook")), expect: "got http://[redacted]@10.0.0.1:8080/hook" },
  { name: "destination invalid and with user information: not echoed", object: variant(subscription, (o) => (o.spec.destination = "ftp://hook-user:Pa55-w0rd@events.example.com/x")), expect: "destination must be an absolute http or https URL with a host and a path (a bare host needs a trailing slash, as in https://host/), got (a URL with user information, not shown)" },
  { name: "context of 257 bytes in 129 characters", object: variant(subscription, (o) => (o.spec.context = `${"é".repeat(128)}a`)), expect: 'spec.context: Invalid value: "string": context must be at most 256 bytes of UTF-8, got 257 bytes (129 characters)' },
  { name: "context of 258 bytes in 86 characters", object: variant(subscription, (o) => (o.spec.context = `${"€".repeat(86)}`)), expect: "got 258 bytes (86 characters)" },
  // BMCEventSubscription, on update: the spec is immutable, field by field.
  { name: "destination changed", old: subscription, object: variant(subscription, (o) => (o.spec.destination = "https://elsewhere.example.com/hook")), expect: "spec.destination: Invalid value: \"object\": destination is immutable (was 'https://events.apps.corp.example.com/webhook', " + "now 'https://elsewhere.example.com/hook'): a BMC cannot update a subscription, so delete this BMCEventSubscription and create it again" },
  { name: "hostName changed", old: subscription, object: variant(subscription, (o) => (o.spec.hostName = "ostest-worker-2")), expect: "spec.hostName: Invalid value: \"object\": hostName is immutable (was 'ostest-worker-1', now 'ostest-worker-2')" },
  { name: "context changed", old: subscription, object: variant(subscription, (o) => (o.spec.context = "other")), expect: "spec.context: Invalid value: \"object\": context is immutable (was 'SomeUserContext', now 'other')" },
  { name: "context removed", old: subscription, object: variant(subscription, (o) => delete o.spec.context), expect: "context is immutable (was 'SomeUserContext', now unset)" },
  { name: "httpHeadersRef removed", old: subscription, object: variant(subscription, (o) => delete o.spec.httpHeadersRef), expect: "spec.httpHeadersRef: Invalid value: \"object\": httpHeadersRef is immutable (was Secret 'some-secret-name', now unset)" },
  { name: "httpHeadersRef added", old: variant(subscription, (o) => delete o.spec.httpHeadersRef), object: subscription, expect: "httpHeadersRef is immutable (was unset, now Secret 'some-secret-name')" },
  { name: "destination changed to one with user information: not echoed", old: subscription, object: variant(subscription, (o) => (o.spec.destination = "https://u:Pa55-w0rd@events.apps.corp.example.com/webhook")), expect: "destination is immutable (was 'https://events.apps.corp.example.com/webhook', now (a URL with user information, not shown))" },
  // BareMetalHostServiceIndicator.
  { name: "no hostRef", object: variant(indicator, (o) => delete o.spec.hostRef), expect: "spec.hostRef: Required value" },
  { name: "no id", object: variant(indicator, (o) => delete o.spec.id), expect: "spec.id: Required value" },
  { name: "no on", object: variant(indicator, (o) => delete o.spec.on), expect: "spec.on: Required value" },
  { name: "on not a boolean", object: variant(indicator, (o) => (o.spec.on = "yes")), expect: "spec.on in body must be of type boolean" },
  { name: "id without a component", object: variant(indicator, (o) => (o.spec.id = "chassis-1")), expect: "id must have the form <name>@<component> with component system, chassis or disk (see the BareMetalHost's status.hardware.indicators), got 'chassis-1'" },
  { name: "id with an unknown component", object: variant(indicator, (o) => (o.spec.id = "Disk0@drive")), expect: "got 'Disk0@drive'" },
  { name: "hostRef without a name", object: variant(indicator, (o) => delete o.spec.hostRef.name), expect: "spec.hostRef.name: Required value" },
  { name: "hostRef name not DNS-1123", object: variant(indicator, (o) => (o.spec.hostRef.name = "Worker 1")), expect: "hostRef.name must be the name of a BareMetalHost" },
  { name: "hostRef in another namespace", object: variant(indicator, (o) => (o.spec.hostRef.namespace = "elsewhere")), expect: "spec.hostRef.namespace must be empty or the BareMetalHostServiceIndicator's own namespace 'some-namespace', got 'elsewhere'" },
  { name: "id changed", old: indicator, object: variant(indicator, (o) => (o.spec.id = "other@system")), expect: "spec.id: Invalid value: \"string\": id is immutable (was '6e3c1b2a-4f5d-4c1e-9a7b-0c2d3e4f5a6b@chassis', now 'other@system')" },
  { name: "hostRef changed", old: indicator, object: variant(indicator, (o) => (o.spec.hostRef.name = "ostest-worker-2")), expect: "spec.hostRef: Invalid value: \"object\": hostRef is immutable (was BareMetalHost 'ostest-worker-1', now BareMetalHost 'ostest-worker-2')" },
  { name: "condition status not True/False/Unknown", object: variant(indicator, (o) => { o.status = { conditions: [ { type: "Ready", status: "Maybe", reason: "Lit", message: "", lastTransitionTime: "2026-01-01T00:00:00Z", }, ], }; }), expect: 'status.conditions[0].status: Unsupported value: "Maybe": supported values: "True", "False", "Unknown"' },
  { name: "condition reason not CamelCase", object: variant(indicator, (o) => { o.status = { conditions: [ { type: "Ready", status: "True", reason: "lit up", message: "", lastTransitionTime: "2026-01-01T00:00:00Z", }, ], }; }), expect: 'status.conditions[0].reason: Invalid value: "lit up"' },
  { name: "lastUpdated not a timestamp", object: variant(indicator, (o) => (o.status = { lastUpdated: "yesterday" })), expect: "status.lastUpdated in body must be of type date-time" },
  // BareMetalHost.
  { name: "bmc without an address", object: variant(host, (o) => delete o.spec.bmc.address), expect: "spec.bmc.address: Required value" },
  { name: "bmc without credentials", object: variant(host, (o) => delete o.spec.bmc.credentialsName), expect: "spec.bmc.credentialsName: Required value" },
  { name: "bootMACAddress not a MAC", object: variant(host, (o) => (o.spec.bootMACAddress = "52:54:00:zz")), expect: "bootMACAddress must be a MAC address like 52:54:00:12:34:56, got '52:54:00:zz'" },
  { name: "online not a boolean", object: variant(host, (o) => (o.spec.online = "true")), expect: "spec.online in body must be of type boolean" },
  { name: "indicator with an unknown component", object: variant(host, (o) => { o.status = { hardware: { indicators: [{ id: "x@drive", component: "drive", readonly: false, states: [] }] }, }; }), expect: 'status.hardware.indicators[0].component: Unsupported value: "drive"' },
  { name: "indicator without readonly", object: variant(host, (o) => { o.status = { hardware: { indicators: [{ id: "x@system", component: "system", states: [] }] } }; }), expect: "status.hardware.indicators[0].readonly: Required value" },
  { name: "unknown operationalStatus", object: variant(host, (o) => (o.status = { operationalStatus: "broken" })), expect: 'status.operationalStatus: Unsupported value: "broken"' },
];

describe("invalid objects are rejected with a message naming the field and the value", () => {
  it("has at least 30 cases", () => assert.ok(invalid.length >= 30, `only ${invalid.length} cases`));
  for (const c of invalid) {
    it(`${c.object.kind}: ${c.name}`, () => {
      const messages = reject(c.object, c.old);
      assert.ok(
        messages.some((m) => m.includes(c.expect)),
        `expected a message containing ${JSON.stringify(c.expect)}, got ${JSON.stringify(messages)}`,
      );
    });
  }
});

describe("allowed updates", () => {
  it("an indicator can be switched on and off", () => {
    assert.deepEqual(
      reject(
        variant(indicator, (o) => (o.spec.on = false)),
        indicator,
      ),
      [],
    );
  });

  it("a subscription's status, labels and finalizers can change while its spec stays", () => {
    const updated = variant(subscription, (o) => {
      o.metadata.labels = { team: "infra" };
      o.metadata.finalizers = ["bmceventsubscription.metal3.io"];
      o.status = { subscriptionID: "1", errorMessage: "", observedGeneration: 1 };
    });
    assert.deepEqual(reject(updated, subscription), []);
  });

  it("a context of 256 bytes passes, in multi-byte characters too", () => {
    for (const context of ["a".repeat(256), "é".repeat(128), `${"€".repeat(85)}a`]) {
      assert.equal(Buffer.byteLength(context), 256);
      assert.deepEqual(reject(variant(subscription, (o) => (o.spec.context = context))), [], context);
    }
  });

  it("a message refusing a destination with user information never holds the password", () => {
    for (const destination of [
      "https://hook-user:Pa55-w0rd@events.example.com/x",
      "ftp://hook-user:Pa55-w0rd@events.example.com/x",
      "https://hook-user:Pa55-w0rd@/x",
    ]) {
      const messages = reject(variant(subscription, (o) => (o.spec.destination = destination)));
      assert.ok(messages.length > 0, destination);
      for (const message of messages) assert.doesNotMatch(message, /Pa55-w0rd/, message);
      const changed = reject(variant(subscription, (o) => (o.spec.destination = destination)), subscription);
      for (const message of changed) assert.doesNotMatch(message, /Pa55-w0rd/, message);
    }
  });

  it("destinations with a host and a path pass, including a bare host with a trailing slash", () => {
    for (const destination of ["https://host/", "http://10.0.0.1:8080/hook", "https://[::1]:443/e?x=1", "https://host/a@b?c=d@e"]) {
      assert.deepEqual(
        reject(variant(subscription, (o) => (o.spec.destination = destination))),
        [],
        destination,
      );
    }
  });
});

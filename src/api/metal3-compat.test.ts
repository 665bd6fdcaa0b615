/**
 * Where our standalone BareMetalHost and BMCEventSubscription CRDs declare a
 * field that the Metal3 baremetal-operator's (BMO's) CRDs also declare, the
 * two agree on its type and accepted values, so objects written for one are
 * valid for the other and tools written for BMO read ours. BMO's real CRDs are
 * read at run time from `../shared/metal3-baremetal-operator/crds/` (relative
 * to the repository root); the test is skipped, saying so, when they are absent.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { customResourceDefinition, objectSchema, type OpenAPISchema } from "./crd.ts";
import { bareMetalHostKind } from "./baremetalhost.ts";
import { bmcEventSubscriptionKind } from "./bmc-event-subscription.ts";
import { validateCustomResource } from "../../emulators/kube-apiserver/schema/validate.ts";


const root = join(import.meta.dirname, "..", "..");
const BMO_CRDS = join(root, "..", "shared", "metal3-baremetal-operator", "crds");
const skip = existsSync(BMO_CRDS) ? false : `BMO's CRDs are not at ../shared/metal3-baremetal-operator/crds/ (relative to the repository root)`;

function bmoSchema(file: string): OpenAPISchema {
  const crd = parse(readFileSync(join(BMO_CRDS, file), "utf8"));
  return crd.spec.versions[0].schema.openAPIV3Schema as OpenAPISchema;
}

type S = OpenAPISchema & { properties?: Record<string, OpenAPISchema>; items?: OpenAPISchema; enum?: unknown[] };

/** Every disagreement between two schemas at the fields both declare, as `path: what`. */
export function disagreements(ours: S, theirs: S, path = ""): string[] {
  const found: string[] = [];
  const here = path || "<root>";
  if (ours.type !== theirs.type) found.push(`${here}: type ${String(ours.type)} here, ${String(theirs.type)} in BMO's`);
  for (const key of ["format", "pattern"] as const) {
    if (ours[key] !== undefined && theirs[key] !== undefined && ours[key] !== theirs[key]) {
      found.push(`${here}: ${key} ${JSON.stringify(ours[key])} here, ${JSON.stringify(theirs[key])} in BMO's`);
    }
  }
  if (theirs.enum !== undefined || ours.enum !== undefined) {
    const a = [...(ours.enum ?? ["<any>"])].map(String).sort();
    const b = [...(theirs.enum ?? ["<any>"])].map(String).sort();
    if (JSON.stringify(a) !== JSON.stringify(b)) found.push(`${here}: accepts ${JSON.stringify(a)} here, ${JSON.stringify(b)} in BMO's`);
  }
  for (const [name, child] of Object.entries(ours.properties ?? {})) {
    const other = theirs.properties?.[name];
    if (other !== undefined && name !== "metadata") found.push(...disagreements(child, other, path ? `${path}.${name}` : name));
  }
  if (ours.items && theirs.items) found.push(...disagreements(ours.items, theirs.items, `${here}[]`));
  return found;
}

describe("standalone CRDs agree with the Metal3 baremetal-operator's where both declare a field", { skip }, () => {
  it("BareMetalHost: same types, formats, patterns and accepted values", () => {
    assert.deepEqual(disagreements(objectSchema(bareMetalHostKind) as S, bmoSchema("metal3.io_baremetalhosts.yaml") as S), []);
  });

  it("BMCEventSubscription: same types, formats, patterns and accepted values", () => {
    assert.deepEqual(
      disagreements(objectSchema(bmcEventSubscriptionKind) as S, bmoSchema("metal3.io_bmceventsubscriptions.yaml") as S),
      [],
    );
  });

  it("a host status as BMO writes it (operationalStatus \"\", errorMessage \"\") is valid in our CRD", () => {
    const ours = customResourceDefinition(bareMetalHostKind).spec.versions[0]!.schema.openAPIV3Schema;
    const host = {
      apiVersion: "metal3.io/v1alpha1",
      kind: "BareMetalHost",
      metadata: { name: "worker-0", namespace: "metal3" },
      spec: { online: true, bmc: { address: "redfish://192.0.2.1/redfish/v1/Systems/1", credentialsName: "worker-0-bmc" } },
      status: { operationalStatus: "", errorMessage: "", errorCount: 0, poweredOn: false, provisioning: { ID: "", state: "" } },
    };
    assert.deepEqual(validateCustomResource(ours, host, undefined), []);
  });

  it("finds a disagreement when there is one (the check can fail)", () => {
    const theirs = bmoSchema("metal3.io_baremetalhosts.yaml") as S;
    const narrowed = structuredClone(objectSchema(bareMetalHostKind)) as S;
    const status = narrowed.properties!.status as S;
    (status.properties!.operationalStatus as S).enum = ["OK"];
    status.properties!.errorMessage = { type: "integer" };
    assert.deepEqual(disagreements(narrowed, theirs), [
      `status.operationalStatus: accepts ["OK"] here, ["","OK","delayed","detached","discovered","error","servicing"] in BMO's`,
      "status.errorMessage: type integer here, string in BMO's",
    ]);
  });
});

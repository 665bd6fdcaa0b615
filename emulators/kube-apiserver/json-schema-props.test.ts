import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { jsonSchemaPropsTypeErrors } from "./json-schema-props.ts";

const root = join(import.meta.dirname, "..", "..");

describe("jsonSchemaPropsTypeErrors", () => {
  it("finds nothing in the project's CRDs", () => {
    for (const plural of ["baremetalhosts", "bmceventsubscriptions", "baremetalhostserviceindicators"]) {
      const crd = parse(readFileSync(join(root, "config", "crd", `metal3.io_${plural}.yaml`), "utf8"));
      assert.deepEqual(jsonSchemaPropsTypeErrors(crd.spec.versions[0].schema.openAPIV3Schema, "s"), [], plural);
    }
  });

  it("names each wrong value, however deep, with the type it should have", () => {
    const schema = {
      type: "object",
      required: ["on", true],
      properties: {
        list: { type: "array", maxItems: "3", items: { type: "object", properties: { x: { type: 1 } } } },
        map: { type: "object", additionalProperties: { type: "string", nullable: "yes" } },
        either: { anyOf: [{ type: "string" }, { pattern: 5 }] },
        ruled: { type: "string", "x-kubernetes-validations": [{ rule: "self != ''", optionalOldSelf: "true" }, "rule"] },
      },
    };
    const errors = jsonSchemaPropsTypeErrors(schema, "root");
    assert.deepEqual(
      errors.map((e) => [e.field, e.value, e.detail.replace(/.* must be of type /, "")]),
      [
        ["root.required[1]", "boolean", "string"],
        ["root.properties.list.maxItems", "string", "integer"],
        ["root.properties.list.items.properties.x.type", "integer", "string"],
        ["root.properties.map.additionalProperties.nullable", "string", "boolean"],
        ["root.properties.either.anyOf[1].pattern", "integer", "string"],
        ["root.properties.ruled.x-kubernetes-validations[0].optionalOldSelf", "string", "boolean"],
        ["root.properties.ruled.x-kubernetes-validations[1]", "string", "object"],
      ],
    );
    assert.ok(errors.every((e) => e.type === "FieldValueTypeInvalid"));
  });

  it("takes null as unset, a boolean additionalProperties as allowed, and a number where an integer fits", () => {
    const schema = { type: "object", description: null, additionalProperties: false, properties: { n: { type: "number", minimum: 1, maximum: 2.5 } } };
    assert.deepEqual(jsonSchemaPropsTypeErrors(schema, "root"), []);
    assert.equal(jsonSchemaPropsTypeErrors("object", "root")[0]?.field, "root");
  });
});

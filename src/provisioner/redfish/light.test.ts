import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lightPatch, lightProperties, readLight, switchableStates } from "./light.ts";

describe("Redfish lights", () => {
  it("reads IndicatorLED in Ironic's lowercase words", () => {
    assert.equal(readLight({ IndicatorLED: "Lit" }), "on");
    assert.equal(readLight({ IndicatorLED: "Off" }), "off");
    assert.equal(readLight({ IndicatorLED: "Blinking" }), "blinking");
    assert.equal(readLight({ IndicatorLED: "Unknown" }), "unknown");
    assert.equal(readLight({ IndicatorLED: "Sparkly" }), "unknown");
    assert.equal(readLight({}), "unknown");
  });

  it("prefers LocationIndicatorActive, telling blinking from on through IndicatorLED", () => {
    assert.equal(readLight({ LocationIndicatorActive: true }), "on");
    assert.equal(readLight({ LocationIndicatorActive: false, IndicatorLED: "Lit" }), "off");
    assert.equal(readLight({ LocationIndicatorActive: true, IndicatorLED: "Blinking" }), "blinking");
    assert.equal(readLight({ LocationIndicatorActive: null, IndicatorLED: "Lit" }), "on");
    assert.equal(readLight({ LocationIndicatorActive: null }), "unknown");
  });

  it("knows which resources have a light and which states it offers", () => {
    assert.equal(lightProperties({ Id: "1" }), undefined);
    assert.equal(lightProperties({ IndicatorLED: "Sparkly" }), undefined);
    assert.deepEqual(switchableStates(lightProperties({ LocationIndicatorActive: false })!), ["off", "on"]);
    assert.deepEqual(switchableStates(lightProperties({ IndicatorLED: "Off" })!), ["blinking", "off", "on"]);
    assert.deepEqual(lightProperties({ LocationIndicatorActive: null, IndicatorLED: "Off" }), {
      locationIndicatorActive: true,
      indicatorLED: true,
      identifyBlinks: false,
    });
  });

  it("on a Dell chassis, where Lit is the normal state, identifies by blinking", () => {
    const chassis = (led: string): Record<string, unknown> => ({
      "@odata.type": "#Chassis.v1_6_0.Chassis",
      Manufacturer: "Dell Inc.",
      IndicatorLED: led,
    });
    assert.deepEqual(switchableStates(lightProperties(chassis("Lit"))!), ["off", "on"]);
    assert.equal(readLight(chassis("Lit")), "off");
    assert.equal(readLight(chassis("Off")), "off");
    assert.equal(readLight(chassis("Blinking")), "on");
    assert.deepEqual(lightPatch(chassis("Lit"), "on"), { body: { IndicatorLED: "Blinking" } });
    assert.deepEqual(lightPatch(chassis("Blinking"), "off"), { body: { IndicatorLED: "Lit" } });
    // Another maker's chassis, and a Dell system, light up with Lit as everywhere else.
    assert.deepEqual(lightPatch({ ...chassis("Off"), Manufacturer: "HPE" }, "on"), { body: { IndicatorLED: "Lit" } });
    assert.deepEqual(lightPatch({ ...chassis("Off"), "@odata.type": "#ComputerSystem.v1_5_0.ComputerSystem" }, "on"), {
      body: { IndicatorLED: "Lit" },
    });
    // Where the chassis has LocationIndicatorActive, that is preferred, and true identifies (showing Blinking).
    const both = { ...chassis("Lit"), LocationIndicatorActive: false };
    assert.deepEqual(switchableStates(lightProperties(both)!), ["off", "on"]);
    assert.deepEqual(lightPatch(both, "on"), { body: { LocationIndicatorActive: true } });
    assert.equal(readLight({ ...chassis("Blinking"), LocationIndicatorActive: true }), "on");
    assert.equal(readLight(both), "off");
  });

  it("patches LocationIndicatorActive where the resource has it, IndicatorLED otherwise", () => {
    assert.deepEqual(lightPatch({ LocationIndicatorActive: false, IndicatorLED: "Off" }, "on"), {
      body: { LocationIndicatorActive: true },
    });
    assert.deepEqual(lightPatch({ LocationIndicatorActive: true }, "off"), { body: { LocationIndicatorActive: false } });
    assert.deepEqual(lightPatch({ IndicatorLED: "Off" }, "on"), { body: { IndicatorLED: "Lit" } });
    assert.deepEqual(lightPatch({ IndicatorLED: "Lit" }, "off"), { body: { IndicatorLED: "Off" } });
  });

  it("blinks through IndicatorLED, and turns a blinking light steady through it too", () => {
    assert.deepEqual(lightPatch({ LocationIndicatorActive: false, IndicatorLED: "Off" }, "blinking"), {
      body: { IndicatorLED: "Blinking" },
    });
    assert.deepEqual(lightPatch({ LocationIndicatorActive: true, IndicatorLED: "Blinking" }, "on"), {
      body: { IndicatorLED: "Lit" },
    });
  });

  it("refuses what cannot be done, saying why", () => {
    assert.deepEqual(lightPatch({ LocationIndicatorActive: false }, "blinking"), {
      refused: "the light offers only LocationIndicatorActive, which cannot blink",
    });
    assert.deepEqual(lightPatch({ IndicatorLED: "Off" }, "unknown"), { refused: 'a light cannot be set to "unknown"' });
    assert.deepEqual(lightPatch({ Id: "x" }, "on"), { refused: "the resource has no indicator light" });
  });
});

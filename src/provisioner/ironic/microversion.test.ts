import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  compareMicroversions,
  formatMicroversion,
  negotiateMicroversion,
  parseMicroversion,
  PREFERRED_VERSION,
  REQUIRED_VERSION,
} from "./microversion.ts";

const v = parseMicroversion;

describe("Ironic microversions", () => {
  it("parses, formats and compares numerically", () => {
    assert.deepEqual(v("1.63"), { major: 1, minor: 63 });
    assert.equal(formatMicroversion(v(" 1.9 ")), "1.9");
    assert.ok(compareMicroversions(v("1.9"), v("1.63")) < 0, "1.9 is older than 1.63");
    assert.ok(compareMicroversions(v("2.0"), v("1.99")) > 0);
    assert.equal(compareMicroversions(v("1.82"), v("1.82")), 0);
    assert.throws(() => v("latest"), /not an Ironic API microversion.*"latest"/);
  });

  it("speaks the preferred version to a newer server, and the server's maximum to an older one", () => {
    assert.deepEqual(negotiateMicroversion(v("1.1"), v("1.115")), PREFERRED_VERSION);
    // Ironic 29.0.5 (its maximum is the newest version the client knows) and 21.4.4.
    assert.deepEqual(negotiateMicroversion(v("1.1"), v("1.96")), v("1.96"));
    assert.deepEqual(PREFERRED_VERSION, v("1.96"));
    assert.deepEqual(negotiateMicroversion(v("1.1"), v("1.82")), v("1.82"));
    assert.deepEqual(negotiateMicroversion(v("1.1"), v("1.70")), v("1.70"));
    assert.deepEqual(negotiateMicroversion(v("1.1"), v("1.63")), REQUIRED_VERSION);
  });

  it("moves up to the server's minimum when that is newer than the preferred version", () => {
    assert.deepEqual(negotiateMicroversion(v("1.100"), v("1.115")), v("1.100"));
  });

  it("refuses a server older than indicators (1.63), naming its range", () => {
    assert.throws(() => negotiateMicroversion(v("1.1"), v("1.62")), /1\.63 or newer is required.*1\.1 to 1\.62/);
  });

  it("refuses another major version", () => {
    assert.throws(() => negotiateMicroversion(v("2.0"), v("2.5")), /major version 2 is not supported/);
  });
});

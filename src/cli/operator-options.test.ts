import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { parseOperatorArgs } from "./operator-options.ts";

const saved = { ...process.env };
afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
});

describe("parseOperatorArgs", () => {
  it("has controller-runtime's and Metal3's defaults", () => {
    delete process.env.WATCH_NAMESPACE;
    delete process.env.LEADER_ELECT;
    const settings = parseOperatorArgs([]);
    assert.equal(settings.provisioner, "redfish");
    assert.deepEqual(settings.namespaces, []);
    assert.equal(settings.bmcMaxInFlight, 1);
    assert.equal(settings.metricsBindAddress, ":8080");
    assert.equal(settings.healthProbeBindAddress, ":8081");
    assert.equal(settings.leaderElect, false);
    assert.deepEqual([settings.leaseDurationMs, settings.renewDeadlineMs, settings.retryPeriodMs], [15_000, 10_000, 2_000]);
    // On by default: BMCs delete or suspend subscriptions after failed deliveries (docs/operator.md).
    assert.equal(settings.subscriptionCheckIntervalMs, 3_600_000);
  });

  it("reads flags, and environment variables where no flag is given", () => {
    process.env.WATCH_NAMESPACE = "metal3, tenant-a";
    process.env.LEADER_ELECT = "true";
    process.env.BMC_MAX_IN_FLIGHT = "2";
    const settings = parseOperatorArgs(["--bmc-max-in-flight", "3", "--subscription-check-interval", "15m", "--ironic-endpoint", "http://ironic:6385"]);
    assert.deepEqual(settings.namespaces, ["metal3", "tenant-a"]);
    assert.equal(settings.leaderElect, true);
    assert.equal(settings.bmcMaxInFlight, 3);
    assert.equal(settings.subscriptionCheckIntervalMs, 900_000);
    assert.equal(settings.ironic.endpoint, "http://ironic:6385");
  });

  it("names the flag and the value when one is wrong", () => {
    assert.throws(() => parseOperatorArgs(["--bmc-max-in-flight", "0"]), /--bmc-max-in-flight must be a whole number of at least 1, got "0"/);
    assert.throws(() => parseOperatorArgs(["--provisioner", "ipmi"]), /Allowed choices are redfish, ironic/);
    assert.throws(() => parseOperatorArgs(["--lease-duration", "soon"]), /--lease-duration must be a duration such as 30s, 2m or 1h30m, got "soon"/);
    assert.throws(() => parseOperatorArgs(["--leader-elect", "maybe"]), /--leader-elect must be true or false, got "maybe"/);
    assert.throws(() => parseOperatorArgs(["--renew-deadline", "20s"]), /--renew-deadline \(20000 ms\) must be shorter than --lease-duration \(15000 ms\)/);
  });
});

describe("event receiver flags", () => {
  it("is off by default, and on with its address, URL and certificate folder (flags or environment)", () => {
    delete process.env.EVENT_RECEIVER_BIND_ADDRESS;
    assert.equal(parseOperatorArgs([]).eventReceiverBindAddress, "0");
    process.env.EVENT_RECEIVER_URL = "https://bmc-events.example.com/events";
    process.env.EVENT_RECEIVER_CERT_DIR = "/etc/tls";
    const settings = parseOperatorArgs(["--event-receiver-bind-address", ":9443"]);
    assert.equal(settings.eventReceiverBindAddress, ":9443");
    assert.equal(settings.eventReceiverUrl, "https://bmc-events.example.com/events");
    assert.equal(settings.eventReceiverCertDir, "/etc/tls");
  });

  it("refuses a receiver without the URL BMCs deliver to, or without a certificate", () => {
    delete process.env.EVENT_RECEIVER_URL;
    delete process.env.EVENT_RECEIVER_CERT_DIR;
    assert.throws(() => parseOperatorArgs(["--event-receiver-bind-address", ":9443", "--event-receiver-cert-dir", "/tls"]), /needs --event-receiver-url/);
    assert.throws(() => parseOperatorArgs(["--event-receiver-bind-address", ":9443", "--event-receiver-url", "https://x/events"]), /needs --event-receiver-cert-dir: the receiver serves HTTPS only/);
  });
});

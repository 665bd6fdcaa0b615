// Runs the provisioner conformance suite against the in-memory fixture provisioner.
import { FixtureProvisioner } from "../../src/provisioner/fixture/fixture-provisioner.ts";
import { BmcCallLimiter } from "../../src/provisioner/limiter.ts";
import { describeConformance } from "./conformance.ts";

describeConformance("fixture", () => {
  const provisioner = new FixtureProvisioner({ limiter: new BmcCallLimiter() });
  const bmc = provisioner.addHost({ password: "fixture-pass-9d2e" });
  const missing = provisioner.addHost({ password: "fixture-pass-9d2e" });
  provisioner.removeHost(missing.address);
  return Promise.resolve({
    provisioner,
    host: provisioner.accessFor(bmc),
    missingHost: provisioner.accessFor(missing, "default", "missing"),
    expected: {
      provisioningID: bmc.systemUUID,
      indicatorIds: [...bmc.lights.keys()],
      drives: Object.fromEntries([...bmc.lights.values()].filter((l) => l.indicator.drive).map((l) => [l.indicator.id, l.indicator.drive!])),
    },
    bmc: {
      peakInFlight: () => bmc.peakInFlight,
      resetPeak: () => {
        bmc.peakInFlight = bmc.inFlight;
      },
      light: (id: string) => bmc.lights.get(id)?.state ?? "unknown",
      subscriptions: () => [...bmc.subscriptions.values()],
    },
    close: () => Promise.resolve(),
  });
});

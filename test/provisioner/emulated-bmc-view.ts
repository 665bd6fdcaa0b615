/**
 * The conformance suite's view of an emulated BMC: its lights in Ironic's
 * words ("on" is what identifies on the BMC's vendor), its subscriptions, and its peak requests in flight. Shared by the
 * runners whose provisioner drives the Redfish BMC emulator (directly or
 * through Ironic).
 *
 * @module
 */
import type { EmulatedBmc } from "../../emulators/redfish-bmc/index.ts";
import { parseIndicatorId } from "../../src/provisioner/indicator-id.ts";
import type { IndicatorState } from "../../src/provisioner/provisioner.ts";
import type { BmcView } from "./conformance.ts";

const LED_TO_STATE: Record<string, IndicatorState> = { Lit: "on", Off: "off", Blinking: "blinking" };

/** A {@link BmcView} of `bmc`. */
export function emulatedBmcView(bmc: EmulatedBmc): BmcView & { light(id: string): IndicatorState } {
  return {
    peakInFlight: () => bmc.stats().peakInFlight,
    resetPeak: () => bmc.resetStats(),
    light(id) {
      const parsed = parseIndicatorId(id);
      if (!parsed) throw new Error(`Not an indicator ID: ${JSON.stringify(id)}`);
      const lights = bmc.lights();
      const led = parsed.component === "disk" ? lights.drives[parsed.name] : lights[parsed.component];
      // What the vendor shows when nobody asked the light to identify, and when someone did (Dell's chassis: Lit, Blinking).
      const model = bmc.settings.profile.lights[parsed.component === "disk" ? "drive" : parsed.component];
      if (led !== undefined && led === model.normal) return "off";
      if (led !== undefined && led === model.identify) return "on";
      return (led && LED_TO_STATE[led]) ?? "unknown";
    },
    subscriptions: () =>
      bmc.subscriptions().map((s) => ({
        id: s.id,
        destination: s.destination,
        context: s.context ?? "",
        httpHeaderNames: s.httpHeaderNames,
      })),
  };
}

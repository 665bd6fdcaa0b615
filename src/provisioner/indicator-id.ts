/**
 * Indicator IDs as Ironic spells them, `<name>@<component>`: the system light
 * is `<system UUID>@system`, a chassis light `<chassis UUID>@chassis` and a
 * disk light `<storage ID>:<drive ID>@disk`. Every provisioner builds and
 * reads IDs through this file, so a resource means the same light whichever
 * provisioner runs.
 *
 * A System or Chassis without a `UUID` (OpenBMC's system, the chassis of many
 * Dell and HPE BMCs) has no Ironic ID: Ironic's listing fails on it. Its light
 * is named by the resource's `Id` instead ({@link resourceIndicatorName}):
 * `system@system`, `1@chassis`. That is stable (the `Id` is the last segment
 * of the resource's URI, which Redfish fixes), cannot be taken for a UUID-named
 * light of the same host, and becomes the UUID, as in Ironic, if a firmware
 * update adds one.
 *
 * @module
 */
import { INDICATOR_COMPONENTS, type IndicatorComponent } from "../api/names.ts";
import type { HostIndicator } from "../api/baremetalhost.ts";

/** The drive behind a disk light, as listed on the BareMetalHost. */
export type IndicatorDrive = NonNullable<HostIndicator["drive"]>;

/** An indicator ID split into its parts. */
export interface ParsedIndicatorId {
  /** The part before the first `@`. */
  name: string;
  component: IndicatorComponent;
}

/**
 * Splits an ID at its first `@`, as Ironic does. Returns `undefined` for an ID
 * with no `@`, an empty name, or a component other than `system`, `chassis`
 * or `disk` (case-sensitive, as in Ironic).
 */
export function parseIndicatorId(id: string): ParsedIndicatorId | undefined {
  const at = id.indexOf("@");
  if (at <= 0) return undefined;
  const component = id.slice(at + 1);
  if (!(INDICATOR_COMPONENTS as readonly string[]).includes(component)) return undefined;
  return { name: id.slice(0, at), component: component as IndicatorComponent };
}

/**
 * The name part of a System's or Chassis's light ID: its `UUID`, else its
 * `Id` (with any `@` escaped as `%40`, since the ID splits at its first `@`).
 * `undefined` when the resource has neither.
 */
export function resourceIndicatorName(uuid: string | undefined, resourceId: string | undefined): string | undefined {
  if (uuid !== undefined && uuid !== "") return uuid;
  if (resourceId === undefined || resourceId === "") return undefined;
  return resourceId.replaceAll("%", "%25").replaceAll("@", "%40");
}

/** The ID of a system's light. */
export function systemIndicatorId(systemUUID: string): string {
  return `${systemUUID}@system`;
}

/** The ID of a chassis light. */
export function chassisIndicatorId(chassisUUID: string): string {
  return `${chassisUUID}@chassis`;
}

/** The ID of a drive's light. */
export function diskIndicatorId(storageId: string, driveId: string): string {
  return `${storageId}:${driveId}@disk`;
}

/** The states Ironic lists for every light it can switch. */
export const SWITCHABLE_STATES: readonly string[] = ["blinking", "off", "on"];

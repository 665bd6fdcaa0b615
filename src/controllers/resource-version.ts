/**
 * Comparing resourceVersions. They are opaque in Kubernetes, but every API
 * server in use (etcd's revision, and the emulator's counter) issues
 * increasing integers; where a version is not an integer, nothing is compared.
 *
 * @module
 */
import type { KubeObject } from "../runtime/index.ts";

/** A resourceVersion as a number, or undefined when it is missing or not an integer. */
export function resourceVersionNumber(version: string | undefined): number | undefined {
  if (!version || !/^\d+$/.test(version)) return undefined;
  return Number(version);
}

/** Whether `a` has a later resourceVersion than `b`; false when either cannot be compared. */
export function isNewer(a: KubeObject, b: KubeObject): boolean {
  const x = resourceVersionNumber(a.metadata?.resourceVersion);
  const y = resourceVersionNumber(b.metadata?.resourceVersion);
  return x !== undefined && y !== undefined && x > y;
}

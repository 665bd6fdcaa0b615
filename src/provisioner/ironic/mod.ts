/**
 * The Ironic provisioner, for the operator's command line:
 *
 * ```ts
 * import { createIronicProvisioner, ironicProvisionerOptionsFromEnv } from "./provisioner/ironic/mod.ts";
 * const provisioner = createIronicProvisioner({
 *   ...ironicProvisionerOptionsFromEnv(process.env, { endpoint: flags.ironicEndpoint }),
 *   limiter, // the process's shared BmcCallLimiter
 * });
 * ```
 *
 * See docs/ironic.md for the settings and the Ironic versions tested.
 *
 * @module
 */
export { IronicClient, type IronicClientOptions, type IronicRetry } from "./client.ts";
export { IronicError } from "./errors.ts";
export {
  ironicClientOptions,
  ironicProvisionerOptionsFromEnv,
  type IronicSettings,
  ironicSettingsFromEnv,
  METAL3_DEFAULTS,
} from "./options.ts";
export {
  createIronicProvisioner,
  ironicNodeName,
  IronicProvisioner,
  type IronicProvisionerOptions,
} from "./provisioner.ts";

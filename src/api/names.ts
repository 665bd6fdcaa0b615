/**
 * The names of the API that the operator uses at run time: group, version,
 * finalizers, labels and annotations, the components of an indicator ID.
 * They live apart from the schemas (built with TypeBox, for the CRDs that
 * `npm run generate` writes): the operator imports the kinds' types only, so
 * it never loads TypeBox (about 15 MiB of resident memory).
 *
 * @module
 */

/** The API group of every kind served by bmc-operator. */
export const GROUP = "metal3.io";
/** The one served and stored version. */
export const VERSION = "v1alpha1";
/** `apiVersion` of every object of this API. */
export const API_VERSION = `${GROUP}/${VERSION}`;

/** The finalizer that keeps an indicator resource until its light is off. */
export const SERVICE_INDICATOR_FINALIZER = "baremetalhostserviceindicator.metal3.io";

/** The finalizer that keeps a subscription until its BMC subscription is gone. */
export const BMC_EVENT_SUBSCRIPTION_FINALIZER = "bmceventsubscription.metal3.io";

/** The components an indicator ID can name (`<name>@<component>`), as Ironic names them. */
export const INDICATOR_COMPONENTS = ["system", "chassis", "disk"] as const;
export type IndicatorComponent = (typeof INDICATOR_COMPONENTS)[number];

/** Set (to any new value) on a HostIndicators object to have its host's lights read again. */
export const REFRESH_INDICATORS_ANNOTATION = "bmc-operator.metal3.io/refresh-inventory";

/**
 * The label every CRD of bmc-operator carries, so the operator (`--mode auto`)
 * can tell a BareMetalHost CRD it installed from the Metal3
 * baremetal-operator's, which has the same group, version and names.
 */
export const OWN_CRD_LABEL = "bmc-operator.metal3.io/crd";
/** Annotation every generated CRD carries, naming its source (older installs carry only this). */
export const GENERATED_FROM_ANNOTATION = "bmc-operator.metal3.io/generated-from";

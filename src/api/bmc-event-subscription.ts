/**
 * `BMCEventSubscription`: a subscription to the hardware events of one host's
 * BMC, delivered to a webhook destination.
 *
 * @module
 */
import { type Static, Type } from "@sinclair/typebox";
import {
  AGE_COLUMN, ERROR_COLUMN, column,
  ConvergenceStatus,
  dns1123SubdomainRule,
  ReferenceNamespace,
  ErrorMessage,
  defineKind, type KindDefinition,
  type KubernetesObject,
  quoted,
  quotedUnlessUserinfo,
  READY_COLUMN,
  URL_USERINFO,
  type ValidationRule,
  withRules,
} from "./meta.ts";

export { BMC_EVENT_SUBSCRIPTION_FINALIZER } from "./names.ts";

/** Longest `spec.context` accepted, in bytes of UTF-8; Redfish BMCs store it verbatim. */
export const MAX_CONTEXT_LENGTH = 256;

const RECREATE = "a BMC cannot update a subscription, so delete this BMCEventSubscription and create it again with the new value";

/**
 * A rule on the spec that keeps one of its fields as it was, with a message
 * naming the field, its old and its new value (`show` quotes a value in CEL).
 */
function immutableField(field: string, show: (value: string) => string, optional = false): ValidationRule {
  const same = `self.${field} == oldSelf.${field}`;
  const shown = (side: string) =>
    optional ? `(has(${side}.${field}) ? ${show(`${side}.${field}`)} : 'unset')` : show(`${side}.${field}`);
  return {
    rule: optional ? `has(self.${field}) == has(oldSelf.${field}) && (!has(self.${field}) || ${same})` : same,
    message: `${field} is immutable: ${RECREATE}`,
    messageExpression: `'${field} is immutable (was ' + ${shown("oldSelf")} + ', now ' + ${shown("self")} + '): ${RECREATE}'`,
    fieldPath: `.${field}`,
  };
}

/** A reference to the Secret whose data become HTTP headers of every event delivery. */
export const SecretReferenceSchema = withRules(
  Type.Object(
    {
      name: withRules(
        Type.String({ maxLength: 253, description: "Name of the Secret." }),
        dns1123SubdomainRule("httpHeadersRef.name", "the name of a Secret"),
      ),
      namespace: ReferenceNamespace("httpHeadersRef", "Secret", "subscription"),
    },
    {
      "x-kubernetes-map-type": "atomic",
      description:
        "A Secret in the subscription's namespace whose data become HTTP headers of each event " +
        "delivery (for example Authorization). Header values are never logged or shown.",
    },
  ),
);

/** Desired state of a {@link BMCEventSubscription}. Immutable once created. */
export const BMCEventSubscriptionSpecSchema = withRules(
  Type.Object(
    {
      hostName: withRules(
        Type.String({
          maxLength: 253,
          description: "Name of the BareMetalHost, in the same namespace, whose BMC sends the events.",
        }),
        dns1123SubdomainRule("hostName", "the name of a BareMetalHost"),
      ),
      destination: withRules(
        Type.String({
          maxLength: 2048,
          description:
            "The http or https URL that receives the events, with a host and a path " +
            "(https://events.example.com/webhook; a bare host needs a trailing slash).",
        }),
        {
          rule:
            "isURL(self) && url(self).getScheme() in ['http', 'https'] && " +
            "url(self).getHostname() != '' && url(self).getEscapedPath() != ''",
          message:
            "destination must be an absolute http or https URL with a host and a path " +
            "(a bare host needs a trailing slash, as in https://host/)",
          messageExpression:
            "'destination must be an absolute http or https URL with a host and a path " +
            `(a bare host needs a trailing slash, as in https://host/), got ' + ${quotedUnlessUserinfo("self")}`,
        },
        {
          // A BMC shows every subscription's destination to whoever can read its event service.
          rule: `!self.matches('${URL_USERINFO}')`,
          message:
            "destination must not contain user information (user:password@ before the host): " +
            "the BMC would show the password to anyone who can read its subscriptions; " +
            "send credentials as a header from the httpHeadersRef Secret instead",
          messageExpression:
            "'destination must not contain user information (user:password@ before the host): " +
            "the BMC would show the password to anyone who can read its subscriptions; " +
            "send credentials as a header from the httpHeadersRef Secret instead; got ' + " +
            "url(self).getScheme() + '://[redacted]@' + url(self).getHost() + url(self).getEscapedPath()",
        },
      ),
      context: Type.Optional(
        withRules(
          Type.String({
            // In characters, as every maxLength: a bound for the rule's cost; the rule counts bytes.
            maxLength: MAX_CONTEXT_LENGTH,
            description: `An arbitrary string the BMC sends back with every event of this subscription; at most ${MAX_CONTEXT_LENGTH} bytes of UTF-8.`,
          }),
          {
            rule: `bytes(self).size() <= ${MAX_CONTEXT_LENGTH}`,
            messageExpression: `'context must be at most ${MAX_CONTEXT_LENGTH} bytes of UTF-8, got ' + string(bytes(self).size()) + ' bytes (' + string(self.size()) + ' characters)'`,
          },
        ),
      ),
      httpHeadersRef: Type.Optional(SecretReferenceSchema),
    },
    { description: "BMCEventSubscriptionSpec is the desired subscription. It cannot be changed." },
  ),
  // One rule per field, so that a refused change names the field and both values.
  immutableField("hostName", quoted),
  immutableField("destination", quotedUnlessUserinfo),
  immutableField("context", quoted, true),
  immutableField("httpHeadersRef", (ref) => `'Secret \\'' + ${ref}.name + '\\''`, true),
);
export type BMCEventSubscriptionSpec = Static<typeof BMCEventSubscriptionSpecSchema>;

/** Observed state of a {@link BMCEventSubscription}. */
export const BMCEventSubscriptionStatusSchema = ConvergenceStatus("BMCEventSubscriptionStatus is the observed state of the subscription.", {
  subscriptionID: Type.Optional(
    Type.String({ maxLength: 1024, description: "The ID the BMC gave the subscription." }),
  ),
  httpHeadersVersion: Type.Optional(
    Type.String({
      maxLength: 512,
      description:
        "The uid and resourceVersion of the httpHeadersRef Secret the subscription was created with; " +
        "when the Secret changes, the subscription is created again with the new headers.",
    }),
  ),
  staleSubscriptionIDs: Type.Optional(
    Type.Array(Type.String({ maxLength: 1024 }), {
      maxItems: 16,
      description: "IDs of earlier BMC subscriptions of this resource that are still to be deleted.",
    }),
  ),
  errorMessage: Type.Optional(ErrorMessage("creating or deleting the subscription")),
  error: Type.Optional(
    Type.String({
      maxLength: 4096,
      description:
        "The same text as errorMessage, set and cleared with it: the Go baremetal-operator's name for it, " +
        "so tools written for Metal3 read it.",
    }),
  ),
});
export type BMCEventSubscriptionStatus = Static<typeof BMCEventSubscriptionStatusSchema>;

/** The CRD definition of {@link BMCEventSubscription}. */
export const bmcEventSubscriptionKind: KindDefinition = defineKind({
  kind: "BMCEventSubscription", plural: "bmceventsubscriptions", shortNames: ["bes", "bmcevent"],
  description:
    "BMCEventSubscription subscribes a webhook destination to the hardware events of a BareMetalHost's BMC.",
  spec: BMCEventSubscriptionSpecSchema,
  status: BMCEventSubscriptionStatusSchema,
  admissionRules: [
    {
      field: "spec.httpHeadersRef.namespace",
      expression:
        "!has(object.spec.httpHeadersRef) || !has(object.spec.httpHeadersRef.namespace) || " +
        "object.spec.httpHeadersRef.namespace == '' || object.spec.httpHeadersRef.namespace == object.metadata.namespace",
      message:
        "spec.httpHeadersRef.namespace must be empty or the BMCEventSubscription's own namespace: " +
        "a subscription may only read a Secret of its own namespace",
      messageExpression:
        "'spec.httpHeadersRef.namespace must be empty or the BMCEventSubscription\\'s own namespace \\'' + " +
        "object.metadata.namespace + '\\', got \\'' + object.spec.httpHeadersRef.namespace + " +
        "'\\': a subscription may only read a Secret of its own namespace'",
    },
  ],
  printerColumns: [
    column("Host", "string", ".spec.hostName", "The BareMetalHost"), column("Destination", "string", ".spec.destination", "Where events go"),
    column("Subscription ID", "string", ".status.subscriptionID", "The ID the BMC gave the subscription"), READY_COLUMN, ERROR_COLUMN, AGE_COLUMN,
  ],
});

/** A subscription to a host's BMC events. */
export type BMCEventSubscription = KubernetesObject<"BMCEventSubscription", BMCEventSubscriptionSpec, BMCEventSubscriptionStatus>;

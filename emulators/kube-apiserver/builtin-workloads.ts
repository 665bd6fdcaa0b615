/**
 * Built-in kinds an install contains that the emulator stores and serves
 * but does not run: core `v1` Services and `apps/v1` Deployments. Their specs
 * are kept as given (with kube-apiserver's defaults for the fields an
 * install leaves out); no endpoints, ReplicaSets or pods come of them.
 *
 * @module
 */
import type { FieldError } from "./schema/field-error.ts";
import { ageColumn, builtin, objectSchema, preserved } from "./builtin-schema.ts";
import type { ResourceType } from "./resource-type.ts";

/** core/v1 Service (stored; no cluster IP is allocated). */
export const services: ResourceType = builtin({
  group: "",
  version: "v1",
  resource: "services",
  kind: "Service",
  namespaced: true,
  shortNames: ["svc"],
  categories: ["all"],
  statusSubresource: true,
  schema: objectSchema("Service is a named abstraction of software service (for example, mysql) consisting of local port (for example 3306) that the proxy listens on, and the selector that determines which pods will answer requests sent through the proxy.", {
    spec: preserved("Spec defines the behavior of a service."),
    status: preserved("Most recently observed status of the service."),
  }),
  printerColumns: [
    { name: "Type", type: "string", description: "The type of the service", jsonPath: ".spec.type" },
    { name: "Cluster-IP", type: "string", description: "The cluster IP of the service", cell: (o) => (o.spec as { clusterIP?: string } | undefined)?.clusterIP ?? "<none>" },
    ageColumn,
  ],
  hooks: {
    prepare(object) {
      const spec = (object.spec ??= {}) as Record<string, unknown>;
      spec.type ??= "ClusterIP";
      spec.sessionAffinity ??= "None";
      object.status ??= { loadBalancer: {} };
    },
    validate(object) {
      const errors: FieldError[] = [];
      const ports = (object.spec as { ports?: unknown[]; type?: string } | undefined)?.ports;
      if ((object.spec as { type?: string }).type !== "ExternalName" && !ports?.length) {
        errors.push({ type: "FieldValueRequired", field: "spec.ports", detail: "" });
      }
      return errors;
    },
  },
});

/** apps/v1 Deployment (stored; nothing is rolled out). */
export const deployments: ResourceType = builtin({
  group: "apps",
  version: "v1",
  resource: "deployments",
  kind: "Deployment",
  namespaced: true,
  shortNames: ["deploy"],
  categories: ["all"],
  statusSubresource: true,
  generation: true,
  schema: objectSchema("Deployment enables declarative updates for Pods and ReplicaSets.", {
    spec: preserved("Specification of the desired behavior of the Deployment."),
    status: preserved("Most recently observed status of the Deployment."),
  }),
  printerColumns: [
    { name: "Ready", type: "string", description: "Number of the pod with ready state", cell: (o) => `${(o.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0}/${(o.spec as { replicas?: number } | undefined)?.replicas ?? 1}` },
    { name: "Up-to-date", type: "integer", description: "Total number of non-terminated pods targeted by this deployment that have the desired template spec", cell: (o) => (o.status as { updatedReplicas?: number } | undefined)?.updatedReplicas ?? 0 },
    { name: "Available", type: "integer", description: "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment", cell: (o) => (o.status as { availableReplicas?: number } | undefined)?.availableReplicas ?? 0 },
    ageColumn,
  ],
  hooks: {
    prepare(object) {
      const spec = (object.spec ??= {}) as Record<string, unknown>;
      spec.replicas ??= 1;
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      spec.strategy ??= { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } };
    },
    validate(object) {
      const errors: FieldError[] = [];
      const spec = (object.spec ?? {}) as { selector?: { matchLabels?: Record<string, string> }; template?: { metadata?: { labels?: Record<string, string> } } };
      if (!spec.selector) errors.push({ type: "FieldValueRequired", field: "spec.selector", detail: "" });
      if (!spec.template) errors.push({ type: "FieldValueRequired", field: "spec.template", detail: "" });
      const labels = spec.template?.metadata?.labels ?? {};
      for (const [key, value] of Object.entries(spec.selector?.matchLabels ?? {})) {
        if (labels[key] !== value) {
          errors.push({ type: "FieldValueInvalid", field: "spec.template.metadata.labels", value: labels, detail: "`selector` does not match template `labels`" });
          break;
        }
      }
      return errors;
    },
  },
});

/** The kinds of this module, for the registry. */
export const WORKLOAD_RESOURCES: readonly ResourceType[] = [services, deployments];

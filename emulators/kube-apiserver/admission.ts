/**
 * ValidatingAdmissionPolicy enforcement (`admissionregistration.k8s.io/v1`),
 * the subset the project's policies need: `matchConstraints.resourceRules`
 * (API groups, versions, resources and operations, `*` allowed), an optional
 * `objectSelector`, `validations` (expression, message, messageExpression,
 * reason) evaluated with `schema/admission-policy.ts`, `failurePolicy`,
 * and bindings with `validationActions` Deny and Warn (Audit is accepted and
 * ignored). Parameters (`paramKind`), `matchConditions`, `variables` and
 * namespace selectors are not supported: a policy or binding using them is
 * skipped, and the emulator says so in a warning.
 *
 * @module
 */
import { evaluatePolicy, type PolicyValidation } from "./schema/admission-policy.ts";
import type { KubeObject } from "./object-meta.ts";
import type { ResourceType } from "./resource-type.ts";
import { labelSelectorFromObject, type LabelSelectorObject, matchesLabels } from "./selectors.ts";
import { qualifiedResource, StatusError } from "./status.ts";

/** An admission operation. */
export type Operation = "CREATE" | "UPDATE" | "DELETE";

/** One resource rule of `matchConstraints` or `matchResources`. */
interface ResourceRule {
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  operations?: string[];
  scope?: string;
}

interface MatchResources {
  resourceRules?: ResourceRule[];
  excludeResourceRules?: ResourceRule[];
  objectSelector?: LabelSelectorObject;
  namespaceSelector?: LabelSelectorObject;
}

interface Policy extends KubeObject {
  spec?: {
    failurePolicy?: "Fail" | "Ignore";
    matchConstraints?: MatchResources;
    validations?: PolicyValidation[];
    paramKind?: unknown;
    matchConditions?: unknown[];
    variables?: unknown[];
  };
}

interface Binding extends KubeObject {
  spec?: {
    policyName?: string;
    validationActions?: string[];
    matchResources?: MatchResources;
    paramRef?: unknown;
  };
}

/** What is being admitted. */
export interface AdmissionRequest {
  type: ResourceType;
  subresource: string;
  operation: Operation;
  name: string;
  namespace: string | undefined;
  object: KubeObject | null;
  oldObject: KubeObject | null;
}

const matches = (list: string[] | undefined, value: string): boolean =>
  !list || list.length === 0 ? false : list.includes("*") || list.includes(value);

function ruleMatches(rule: ResourceRule, request: AdmissionRequest): boolean {
  const { type, subresource, operation } = request;
  if (!matches(rule.apiGroups, type.group)) return false;
  if (!matches(rule.apiVersions, type.version)) return false;
  if (!matches(rule.operations, operation)) return false;
  const resource = subresource ? `${type.resource}/${subresource}` : type.resource;
  const resources = rule.resources ?? [];
  const resourceMatches = resources.some(
    (r) => r === "*/*" || r === resource || (r === "*" && !subresource) || (subresource && r === `*/${subresource}`) || (r === `${type.resource}/*` && !!subresource),
  );
  if (!resourceMatches) return false;
  if (rule.scope === "Namespaced" && !type.namespaced) return false;
  if (rule.scope === "Cluster" && type.namespaced) return false;
  return true;
}

function resourcesMatch(match: MatchResources | undefined, request: AdmissionRequest, requireRules: boolean): boolean {
  if (!match) return !requireRules;
  const rules = match.resourceRules ?? [];
  if (requireRules || rules.length > 0) {
    if (!rules.some((rule) => ruleMatches(rule, request))) return false;
  }
  if ((match.excludeResourceRules ?? []).some((rule) => ruleMatches(rule, request))) return false;
  if (match.objectSelector) {
    const selector = labelSelectorFromObject(match.objectSelector);
    const labels = (request.object ?? request.oldObject)?.metadata.labels;
    if (!matchesLabels(selector, labels)) return false;
  }
  return true;
}

const REASON_CODES: Record<string, number> = {
  Unauthorized: 401,
  Forbidden: 403,
  Invalid: 422,
  RequestEntityTooLarge: 413,
};

/** The outcome of admission: warnings to return; denial is thrown. */
export interface AdmissionResult {
  warnings: string[];
}

/**
 * Runs every bound ValidatingAdmissionPolicy that matches `request`. Throws
 * the first denial as kube-apiserver words it:
 * `<resource> "<name>" is forbidden: ValidatingAdmissionPolicy '<policy>' with binding '<binding>' denied request: <message>`.
 */
export function admit(
  policies: Iterable<KubeObject>,
  bindings: Iterable<KubeObject>,
  request: AdmissionRequest,
): AdmissionResult {
  const warnings: string[] = [];
  const byName = new Map<string, Policy>();
  for (const policy of policies) byName.set(policy.metadata.name ?? "", policy);
  for (const binding of bindings as Iterable<Binding>) {
    const policy = byName.get(binding.spec?.policyName ?? "");
    if (!policy?.spec) continue;
    if (!resourcesMatch(policy.spec.matchConstraints, request, true)) continue;
    if (!resourcesMatch(binding.spec?.matchResources, request, false)) continue;
    const policyName = policy.metadata.name ?? "";
    const bindingName = binding.metadata.name ?? "";
    if (policy.spec.paramKind || binding.spec?.paramRef || policy.spec.matchConditions?.length || policy.spec.variables?.length) {
      warnings.push(`ValidatingAdmissionPolicy '${policyName}' uses params, matchConditions or variables, which this API server emulator does not support; it was not evaluated`);
      continue;
    }
    const actions = binding.spec?.validationActions ?? [];
    for (const validation of policy.spec.validations ?? []) {
      const failures = evaluatePolicy([validation], request.object, request.oldObject);
      if (failures.length === 0) continue;
      const failedToEvaluate = failures[0]!.startsWith(`expression ${JSON.stringify(validation.expression)} failed: `);
      if (failedToEvaluate && policy.spec.failurePolicy === "Ignore") continue;
      const message = `ValidatingAdmissionPolicy '${policyName}' with binding '${bindingName}' denied request: ${failures[0]}`;
      if (actions.includes("Warn")) warnings.push(`Validation failed for ValidatingAdmissionPolicy '${policyName}' with binding '${bindingName}': ${failures[0]}`);
      if (!actions.includes("Deny")) continue;
      const reason = validation.reason ?? "Invalid";
      const gr = { group: request.type.group, resource: request.type.resource };
      throw new StatusError(REASON_CODES[reason] ?? 403, reason, `${qualifiedResource(gr)} "${request.name}" is forbidden: ${message}`, {
        name: request.name,
        ...(gr.group ? { group: gr.group } : {}),
        kind: gr.resource,
        causes: [{ message }],
      });
    }
  }
  return { warnings };
}

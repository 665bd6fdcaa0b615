/**
 * Who makes a request and what it asks, as authentication, authorization and
 * the review kinds share them (kube-apiserver's `user.Info`,
 * `authorizer.Attributes`, `rbacv1.PolicyRule`). Types only, so that the
 * modules using them do not import one another.
 *
 * @module
 */

/** Who made a request (`user.Info`). */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** What a request asks to do (`authorizer.Attributes`). */
export interface RequestAttributes {
  verb: string;
  resourceRequest: boolean;
  /** The URL path, for non-resource requests. */
  path: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

/** An RBAC PolicyRule, as stored. */
export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** A decision and, when something could not be resolved, why (as RBAC reports missing roles). */
export interface Decision {
  allowed: boolean;
  reason: string;
}

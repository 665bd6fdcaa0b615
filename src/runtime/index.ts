/**
 * The controller runtime of bmc-operator: a Kubernetes client, informers with
 * indexed caches, a rate-limited work queue, controllers, a manager with
 * leader election, probes and metrics, an Event recorder and structured logs,
 * with controller-runtime's semantics and metric names. See `docs/runtime.md`.
 *
 * @module
 */
export { ApiError, isAlreadyExists, isConflict, isForbidden, isGone, isInvalid, isNotFound, type Status } from "./api-error.ts";
export { Backoff, type BackoffOptions } from "./backoff.ts";
export {
  collectionPath,
  type DeleteOptions,
  type JsonPatchOperation,
  KubeClient,
  type KubeClientOptions,
  type ListOptions,
  objectPath,
  type ObjectList,
  PATCH_CONTENT_TYPES,
  type PatchOptions,
  type PatchType,
  type WatchEvent,
  type WatchOptions,
  type WriteOptions,
} from "./client.ts";
export { type Clock, FakeClock, realClock, sleep, type Timer } from "./clock.ts";
export {
  type Condition,
  findStatusCondition,
  isStatusConditionTrue,
  type NewCondition,
  removeStatusCondition,
  rfc3339,
  setStatusCondition,
} from "./conditions.ts";
export { Controller, type ControllerOptions, type WatchOptions as ControllerWatchOptions } from "./controller.ts";
export { EVENT_RECORDER_PERMISSIONS, type EventInfo, EventRecorder, type EventRecorderOptions, type EventSink, referenceTo } from "./event-recorder.ts";
export { addFinalizer, hasFinalizer, isDeleting, removeFinalizer } from "./finalizers.ts";
export type { BindAddress, Check } from "./http-endpoint.ts";
export { type EventHandler, type EventSource, Informer, type InformerOptions } from "./informer.ts";
export { type CacheTransform, LAST_APPLIED_ANNOTATION, stripManagedFieldsAndLastApplied } from "./cache-transform.ts";
export { KubeConfig, kubeConfigFromString, type KubeConfigLike, type KubeConfigOptions, loadKubeConfig } from "./kube-config.ts";
export { type LeaderCallbacks, type LeaderElectionOptions, LeaderElector } from "./leader-election.ts";
export { KubeLeaseLock, LEASE_LOCK_PERMISSIONS, type LeaderElectionRecord, type LeaseLock, microTime, type VersionedRecord } from "./lease-lock.ts";
export { createLogger, DEFAULT_REDACT_PATHS, type Logger, type LoggerOptions, silentLogger } from "./logger.ts";
export { redactUrlUserinfo, USERINFO_REDACTED } from "./url-userinfo.ts";
export {
  LeaderElectionLostError,
  type ManagedControllerOptions,
  Manager,
  type ManagerLeaderElection,
  type ManagerOptions,
} from "./manager.ts";
export { defaultRegistry } from "./metrics.ts";
export { type ApiVerb, type Permission, permissionOn, permittedCalls, ruleResource } from "./permissions.ts";
export {
  and,
  annotationsChanged,
  deletionChanged,
  deletionStarted,
  finalizerRemoved,
  generationChanged,
  labelsChanged,
  or,
  type Predicate,
  contentChanged,
  resourceVersionChanged,
} from "./predicates.ts";
export {
  BucketRateLimiter,
  type ControllerRateLimiterOptions,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  type RateLimiter,
} from "./rate-limiter.ts";
export { asTerminal, type ReconcileContext, type Reconciler, type Request, type Result, TerminalError } from "./reconcile.ts";
export {
  apiVersionOf,
  defineResource,
  EVENTS,
  type KubeEvent,
  type KubeObject,
  keyOf,
  type Lease,
  LEASES,
  NAMESPACES,
  type ObjectRef,
  type ObjectReference,
  objectKey,
  parseKey,
  refOf,
  type Resource,
  resourceName,
  type Secret,
  SECRETS,
} from "./resource.ts";
export { setupSignalHandler, type SignalHandlerOptions } from "./signals.ts";
export { DEFAULT_BACKOFF, DEFAULT_RETRY, type RetryBackoff, type RetryOptions, retryOnConflict, retryOnError } from "./retry.ts";
export { type IndexFunc, NAMESPACE_INDEX, Store } from "./store.ts";
export { Transport, type TransportOptions } from "./transport.ts";
export { WorkQueue, type WorkQueueOptions } from "./work-queue.ts";

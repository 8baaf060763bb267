import type {
  CoreV1Event,
  V1DaemonSet,
  V1Deployment,
  V1Job,
  V1Namespace,
  V1Node,
  V1Pod,
  V1ReplicaSet,
  V1StatefulSet,
} from '@kubernetes/client-node';

/** The Kubernetes identity a request acts as (impersonated). */
export interface KubeIdentity {
  user: string;
  groups: string[];
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'ReplicaSet' | 'Job' | 'Pod';

/** A named object such as `deploy/checkout` in namespace `shop`. */
export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

export type Workload =
  | { kind: 'Deployment'; object: V1Deployment }
  | { kind: 'StatefulSet'; object: V1StatefulSet }
  | { kind: 'DaemonSet'; object: V1DaemonSet }
  | { kind: 'ReplicaSet'; object: V1ReplicaSet }
  | { kind: 'Job'; object: V1Job }
  | { kind: 'Pod'; object: V1Pod };

export interface PodQuery {
  /** Undefined means all namespaces. */
  namespace?: string | undefined;
  /** Kubernetes label selector, e.g. "app=checkout,tier!=web". */
  selector?: string | undefined;
}

export interface EventQuery {
  namespace?: string | undefined;
  /** Only events about this object. */
  involved?: { kind: string; name: string } | undefined;
}

export interface LogQuery {
  namespace: string;
  pod: string;
  container?: string | undefined;
  sinceSeconds?: number | undefined;
  tailLines?: number | undefined;
  previous?: boolean | undefined;
  /** Cap on bytes read from the API server. */
  limitBytes?: number | undefined;
}

/**
 * What skills may read from Kubernetes, always on behalf of one identity.
 * Every method throws a WheelhouseError: NOT_FOUND (unknown namespace or object, with a hint),
 * FORBIDDEN (naming the verb and resource the API server refused) or KUBE_UNREACHABLE.
 * Objects come compacted (no managedFields; pod specs and templates keep only container names,
 * images, resources and restart policies: see `compact` in resources.ts) and may be the cache's own
 * instances: treat them as read-only (copy before changing).
 */
export interface KubeReader {
  listPods(query: PodQuery): Promise<V1Pod[]>;
  getWorkload(ref: WorkloadRef): Promise<Workload>;
  /** Pods that a workload selects (for a Pod ref, the pod itself). */
  podsOf(ref: WorkloadRef): Promise<V1Pod[]>;
  listReplicaSets(namespace: string, selector?: string): Promise<V1ReplicaSet[]>;
  listEvents(query: EventQuery): Promise<CoreV1Event[]>;
  listNodes(): Promise<V1Node[]>;
  getNamespace(name: string): Promise<V1Namespace>;
  /** Container log text with RFC3339 timestamps at the start of each line. */
  readLog(query: LogQuery): Promise<string>;
  /**
   * One namespaced custom resource (e.g. an Argo Rollout) as plain JSON without managedFields,
   * read directly (not cached). Optional: a reader without it cannot read custom resources.
   */
  getCustomObject?(ref: CustomObjectRef): Promise<Record<string, unknown>>;
}

/** A namespaced custom resource, named the way the API server names it. */
export interface CustomObjectRef {
  /** e.g. "argoproj.io" */
  group: string;
  /** e.g. "v1alpha1" */
  version: string;
  /** Plural resource, e.g. "rollouts". */
  resource: string;
  /** Short name for messages, e.g. "rollout". */
  short: string;
  namespace: string;
  name: string;
}

/** Per-request context a reader passes on to the API server. */
export interface KubeReaderOptions {
  /** Sent as the `Audit-ID` header so the API server's audit log joins Wheelhouse's. */
  requestId?: string | undefined;
  /** Cancels in-flight requests (the runner's request timeout). */
  signal?: AbortSignal | undefined;
}

/** The narrow Kubernetes client the runtime uses. `as(undefined)` acts as Wheelhouse's own identity. */
export interface KubeClient {
  as(identity: KubeIdentity | undefined, options?: KubeReaderOptions): KubeReader;
  /** True once the watch-fed caches have synced (for /readyz). */
  ready(): boolean;
  /** The API server URL and context name, for display. */
  describeTarget(): { server: string; context: string };
  close(): Promise<void>;
}

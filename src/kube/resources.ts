import type {
  CoreV1Event,
  V1Container,
  V1ContainerStatus,
  V1DaemonSet,
  V1Deployment,
  V1Job,
  V1Namespace,
  V1Node,
  V1Pod,
  V1PodSpec,
  V1PodStatus,
  V1ReplicaSet,
  V1StatefulSet,
} from '@kubernetes/client-node';
// The serializer that turns API JSON into typed objects (Date fields as Date) is not re-exported from the
// package root; this is the module client-node's own KubernetesObjectApi uses.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import type { WorkloadKind } from './types.ts';

/** The object type of each resource Wheelhouse reads. */
export interface ResourceTypes {
  pods: V1Pod;
  events: CoreV1Event;
  deployments: V1Deployment;
  replicasets: V1ReplicaSet;
  statefulsets: V1StatefulSet;
  daemonsets: V1DaemonSet;
  jobs: V1Job;
  namespaces: V1Namespace;
  nodes: V1Node;
}

export type ResourceName = keyof ResourceTypes;

/** Where a resource lives in the API and how its JSON is typed. */
export interface ResourceInfo {
  resource: ResourceName;
  /** API group, "" for the core group. */
  group: string;
  version: string;
  namespaced: boolean;
  /** client-node model name for deserialization, e.g. "V1Pod". */
  model: string;
  /** Short name for chat, e.g. "pod" or "deploy". */
  short: string;
}

export const RESOURCES: { readonly [K in ResourceName]: ResourceInfo & { resource: K } } = {
  pods: { resource: 'pods', group: '', version: 'v1', namespaced: true, model: 'V1Pod', short: 'pod' },
  events: {
    resource: 'events',
    group: '',
    version: 'v1',
    namespaced: true,
    model: 'CoreV1Event',
    short: 'event',
  },
  deployments: {
    resource: 'deployments',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    model: 'V1Deployment',
    short: 'deploy',
  },
  replicasets: {
    resource: 'replicasets',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    model: 'V1ReplicaSet',
    short: 'rs',
  },
  statefulsets: {
    resource: 'statefulsets',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    model: 'V1StatefulSet',
    short: 'sts',
  },
  daemonsets: {
    resource: 'daemonsets',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    model: 'V1DaemonSet',
    short: 'ds',
  },
  jobs: { resource: 'jobs', group: 'batch', version: 'v1', namespaced: true, model: 'V1Job', short: 'job' },
  namespaces: {
    resource: 'namespaces',
    group: '',
    version: 'v1',
    namespaced: false,
    model: 'V1Namespace',
    short: 'namespace',
  },
  nodes: { resource: 'nodes', group: '', version: 'v1', namespaced: false, model: 'V1Node', short: 'node' },
};

export const RESOURCE_NAMES = Object.keys(RESOURCES).filter(
  (name): name is ResourceName => name in RESOURCES,
);

export const WORKLOAD_RESOURCE: Record<WorkloadKind, ResourceName> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  ReplicaSet: 'replicasets',
  Job: 'jobs',
  Pod: 'pods',
};

function prefix(info: ResourceInfo): string {
  return info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
}

/** `/api/v1/namespaces/shop/pods`, or `/api/v1/pods` across all namespaces. */
export function collectionPath(info: ResourceInfo, namespace?: string): string {
  const scope = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${prefix(info)}${scope}/${info.resource}`;
}

/** `/apis/apps/v1/namespaces/shop/deployments/checkout`, optionally with a subresource such as `log`. */
export function objectPath(
  info: ResourceInfo,
  namespace: string | undefined,
  name: string,
  subresource?: string,
): string {
  const tail = subresource ? `/${subresource}` : '';
  return `${collectionPath(info, namespace)}/${encodeURIComponent(name)}${tail}`;
}

/**
 * Turns API JSON into client-node's typed model (timestamps become Date) and drops what Wheelhouse
 * never reads (see `compact`), so cached and directly read objects look the same.
 */
export function deserialize<K extends ResourceName>(resource: K, raw: unknown): ResourceTypes[K] {
  const object: ResourceTypes[K] = ObjectSerializer.deserialize(raw, RESOURCES[resource].model);
  compact(object);
  return object;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Drops what Wheelhouse never reads but the API sends with every object, so that 20,000 cached pods
 * stay affordable: `managedFields` (often half an object), kubectl's last-applied annotation, and in
 * pod specs and pod templates everything but container names, images, resources and restart
 * policies (no env, volumes or probes; env may hold secrets anyway). Scheduling constraints
 * (nodeSelector, tolerations, node affinity) stay only where a placement is still to come: specs
 * without a nodeName, i.e. unscheduled pods and most templates (why-pending reasons with them).
 */
export function compact(object: ResourceTypes[ResourceName]): void {
  const metadata = object.metadata;
  if (metadata) {
    delete metadata.managedFields;
    if (metadata.annotations && LAST_APPLIED in metadata.annotations)
      delete metadata.annotations[LAST_APPLIED];
  }
  if (isEvent(object)) {
    fixEventTimes(object);
    return;
  }
  if (isPod(object)) {
    if (object.spec) object.spec = compactPodSpec(object.spec, object.spec.nodeName === undefined);
    if (object.status) object.status = compactPodStatus(object.status);
    return;
  }
  const template =
    'spec' in object && object.spec && 'template' in object.spec ? object.spec.template : undefined;
  if (template?.spec) template.spec = compactPodSpec(template.spec, template.spec.nodeName === undefined);
  if (template?.metadata?.annotations && LAST_APPLIED in template.metadata.annotations) {
    delete template.metadata.annotations[LAST_APPLIED];
  }
}

function isEvent(object: ResourceTypes[ResourceName]): object is CoreV1Event {
  return 'involvedObject' in object;
}

/**
 * client-node types every event timestamp as Date but leaves MicroTime fields (`eventTime`,
 * `series.lastObservedTime`) as strings and unset ones as null; make them what the types say.
 */
function fixEventTimes(event: CoreV1Event): void {
  const set = <K extends 'eventTime' | 'lastTimestamp' | 'firstTimestamp'>(key: K): void => {
    const date = asDate(event[key]);
    if (date) event[key] = date;
    else delete event[key];
  };
  set('eventTime');
  set('lastTimestamp');
  set('firstTimestamp');
  if (event.series) {
    const last = asDate(event.series.lastObservedTime);
    if (last) event.series.lastObservedTime = last;
    else delete event.series.lastObservedTime;
  }
}

function asDate(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Only pods have `spec.containers` among the resources Wheelhouse reads (list items carry no `kind`). */
function isPod(object: ResourceTypes[ResourceName]): object is V1Pod {
  return 'spec' in object && object.spec !== undefined && 'containers' in object.spec;
}

function compactContainer(c: V1Container): V1Container {
  return {
    name: c.name,
    ...(c.image !== undefined ? { image: c.image } : {}),
    ...(c.resources !== undefined ? { resources: c.resources } : {}),
    ...(c.restartPolicy !== undefined ? { restartPolicy: c.restartPolicy } : {}),
  };
}

function compactPodSpec(spec: V1PodSpec, keepScheduling: boolean): V1PodSpec {
  return {
    ...(keepScheduling ? schedulingOf(spec) : {}),
    containers: spec.containers.map(compactContainer),
    ...(spec.initContainers?.length ? { initContainers: spec.initContainers.map(compactContainer) } : {}),
    ...(spec.nodeName !== undefined ? { nodeName: spec.nodeName } : {}),
    ...(spec.restartPolicy !== undefined ? { restartPolicy: spec.restartPolicy } : {}),
    ...(spec.serviceAccountName !== undefined ? { serviceAccountName: spec.serviceAccountName } : {}),
    ...(spec.priorityClassName !== undefined ? { priorityClassName: spec.priorityClassName } : {}),
    ...(spec.readinessGates?.length ? { readinessGates: spec.readinessGates } : {}),
  };
}

function schedulingOf(spec: V1PodSpec): Partial<V1PodSpec> {
  return {
    ...(spec.nodeSelector && Object.keys(spec.nodeSelector).length
      ? { nodeSelector: spec.nodeSelector }
      : {}),
    ...(spec.tolerations?.length ? { tolerations: spec.tolerations } : {}),
    ...(spec.affinity?.nodeAffinity ? { affinity: { nodeAffinity: spec.affinity.nodeAffinity } } : {}),
  };
}

function compactContainerStatus(s: V1ContainerStatus): V1ContainerStatus {
  return {
    name: s.name,
    image: s.image,
    imageID: s.imageID,
    ready: s.ready,
    restartCount: s.restartCount,
    ...(s.started !== undefined ? { started: s.started } : {}),
    ...(s.state !== undefined ? { state: s.state } : {}),
    ...(s.lastState?.running || s.lastState?.waiting || s.lastState?.terminated
      ? { lastState: s.lastState }
      : {}),
  };
}

function compactPodStatus(status: V1PodStatus): V1PodStatus {
  const {
    containerStatuses,
    initContainerStatuses,
    ephemeralContainerStatuses: _e,
    hostIPs: _h,
    podIPs,
    conditions,
    ...rest
  } = status;
  return {
    ...rest,
    ...(conditions ? { conditions: conditions.map(({ lastProbeTime: _p, ...c }) => c) } : {}),
    ...(podIPs && podIPs.length > 1 ? { podIPs } : {}),
    ...(containerStatuses ? { containerStatuses: containerStatuses.map(compactContainerStatus) } : {}),
    ...(initContainerStatuses
      ? { initContainerStatuses: initContainerStatuses.map(compactContainerStatus) }
      : {}),
  };
}

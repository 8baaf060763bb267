import type {
  CoreV1Event,
  V1Container,
  V1ContainerState,
  V1ContainerStatus,
  V1DaemonSet,
  V1Deployment,
  V1DeploymentCondition,
  V1Job,
  V1JobCondition,
  V1Namespace,
  V1Node,
  V1OwnerReference,
  V1Pod,
  V1PodCondition,
  V1ReplicaSet,
  V1StatefulSet,
} from '@kubernetes/client-node';

/** The clock every builder default is relative to; pass it as `now` to the code under test. */
export const TEST_NOW = new Date('2026-11-25T08:00:00Z');

const minutesAgo = (minutes: number): Date => new Date(TEST_NOW.getTime() - minutes * 60_000);

/** A container of a built pod. Everything has a healthy default: running, ready, never restarted. */
export interface ContainerOptions {
  /** @default "app" for the first container, "app-2"… for the next */
  name?: string;
  /** @default "registry.local/shop/<pod app label>:1.0" */
  image?: string;
  /** @default true when running */
  ready?: boolean;
  restartCount?: number;
  started?: boolean;
  /**
   * @default "running". "none" leaves the container without a status (not yet created).
   * `{ terminated: "" }` is a termination without reason (kubectl then shows ExitCode:N / Signal:N).
   */
  state?:
    | 'running'
    | 'none'
    | { waiting: string; message?: string }
    | { terminated: string; exitCode?: number; signal?: number; message?: string; finishedAt?: Date };
  lastTerminated?: { reason?: string; exitCode: number; finishedAt?: Date; message?: string };
  memoryLimit?: string;
  restartPolicy?: 'Always';
}

export interface PodOptions {
  /** @default "checkout-7d9f8c6b5-x2x9q" */
  name?: string;
  /** @default "shop" */
  namespace?: string;
  /** @default { app: "checkout" } */
  labels?: Record<string, string>;
  /** @default "kwok-node-0"; "" for an unscheduled pod */
  node?: string;
  /** @default "Running" */
  phase?: string;
  reason?: string;
  message?: string;
  /** @default one hour before TEST_NOW */
  created?: Date;
  deletionTimestamp?: Date;
  finalizers?: string[];
  /** @default one healthy container named "app" */
  containers?: ContainerOptions[];
  init?: ContainerOptions[];
  /** Marks the pod Unschedulable with this scheduler message. */
  unschedulable?: string;
  owner?: { kind: string; name: string };
}

/** A pod as the API server returns it (typed like client-node's deserialized objects). */
export function buildPod(options: PodOptions = {}): V1Pod {
  const labels = options.labels ?? { app: 'checkout' };
  const app = labels['app'] ?? 'app';
  const namespace = options.namespace ?? 'shop';
  const containers = (options.containers ?? [{}]).map((c, i) => ({
    ...c,
    name: c.name ?? (i ? `app-${i + 1}` : 'app'),
  }));
  const init = (options.init ?? []).map((c, i) => ({ ...c, name: c.name ?? `init-${i + 1}` }));
  const image = (c: ContainerOptions): string => c.image ?? `registry.local/${namespace}/${app}:1.0`;
  const toSpec = (c: ContainerOptions & { name: string }): V1Container => ({
    name: c.name,
    image: image(c),
    ...(c.memoryLimit ? { resources: { limits: { memory: c.memoryLimit } } } : {}),
    ...(c.restartPolicy ? { restartPolicy: c.restartPolicy } : {}),
  });
  const toStatus = (c: ContainerOptions & { name: string }): V1ContainerStatus[] => {
    if (c.state === 'none') return [];
    const state = containerState(c);
    return [
      {
        name: c.name,
        image: image(c),
        imageID: '',
        ready: c.ready ?? state.running !== undefined,
        restartCount: c.restartCount ?? 0,
        state,
        ...(c.started !== undefined ? { started: c.started } : {}),
        ...(c.lastTerminated
          ? {
              lastState: {
                terminated: {
                  exitCode: c.lastTerminated.exitCode,
                  ...(c.lastTerminated.reason ? { reason: c.lastTerminated.reason } : {}),
                  ...(c.lastTerminated.message ? { message: c.lastTerminated.message } : {}),
                  finishedAt: c.lastTerminated.finishedAt ?? minutesAgo(5),
                  startedAt: minutesAgo(30),
                },
              },
            }
          : {}),
      },
    ];
  };
  const statuses = containers.flatMap(toStatus);
  const allReady = statuses.length === containers.length && statuses.every((s) => s.ready);
  const conditions: V1PodCondition[] = [
    options.unschedulable !== undefined
      ? { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: options.unschedulable }
      : { type: 'PodScheduled', status: 'True' },
  ];
  const initDone = init.every((c) => {
    const state = c.state ?? 'running';
    if (c.restartPolicy === 'Always') return c.started !== false;
    return typeof state === 'object' && 'terminated' in state && (state.exitCode ?? 0) === 0;
  });
  if (options.unschedulable === undefined) {
    conditions.push(
      { type: 'Initialized', status: initDone ? 'True' : 'False' },
      { type: 'Ready', status: allReady && initDone ? 'True' : 'False' },
    );
  }
  const owner = options.owner;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: options.name ?? 'checkout-7d9f8c6b5-x2x9q',
      namespace,
      labels,
      uid: `uid-${options.name ?? 'checkout-7d9f8c6b5-x2x9q'}`,
      creationTimestamp: options.created ?? minutesAgo(60),
      ...(options.deletionTimestamp ? { deletionTimestamp: options.deletionTimestamp } : {}),
      ...(options.finalizers ? { finalizers: options.finalizers } : {}),
      ...(owner ? { ownerReferences: [ownerRef(owner.kind, owner.name)] } : {}),
    },
    spec: {
      containers: containers.map(toSpec),
      ...(init.length ? { initContainers: init.map(toSpec) } : {}),
      ...(options.node === '' ? {} : { nodeName: options.node ?? 'kwok-node-0' }),
    },
    status: {
      phase: options.phase ?? 'Running',
      ...(options.reason ? { reason: options.reason } : {}),
      ...(options.message ? { message: options.message } : {}),
      conditions,
      ...(statuses.length ? { containerStatuses: statuses } : {}),
      ...(init.length ? { initContainerStatuses: init.flatMap(toStatus) } : {}),
    },
  };
}

function containerState(c: ContainerOptions): V1ContainerState {
  const state = c.state ?? 'running';
  if (state === 'running' || state === 'none') return { running: { startedAt: minutesAgo(30) } };
  if ('waiting' in state)
    return { waiting: { reason: state.waiting, ...(state.message ? { message: state.message } : {}) } };
  return {
    terminated: {
      exitCode: state.exitCode ?? 0,
      ...(state.terminated ? { reason: state.terminated } : {}),
      ...(state.signal ? { signal: state.signal } : {}),
      ...(state.message ? { message: state.message } : {}),
      finishedAt: state.finishedAt ?? minutesAgo(1),
    },
  };
}

function ownerRef(kind: string, name: string): V1OwnerReference {
  const apiVersion = kind === 'Job' ? 'batch/v1' : 'apps/v1';
  return { apiVersion, kind, name, uid: `uid-${name}`, controller: true };
}

export interface DeploymentOptions {
  /** @default "checkout" */
  name?: string;
  /** @default "shop" */
  namespace?: string;
  /** @default 3 */
  replicas?: number;
  /** Pod labels and selector. @default { app: <name> } */
  labels?: Record<string, string>;
  /** @default 1 */
  generation?: number;
  /** @default generation */
  observedGeneration?: number;
  /** Status counts; each defaults to `replicas` (a finished, healthy rollout). */
  updated?: number;
  ready?: number;
  available?: number;
  /** Total replicas in status (old + new). @default updated */
  current?: number;
  /** @default Available=True, Progressing=True (NewReplicaSetAvailable) */
  conditions?: V1DeploymentCondition[];
  image?: string;
  created?: Date;
}

export function buildDeployment(options: DeploymentOptions = {}): V1Deployment {
  const name = options.name ?? 'checkout';
  const namespace = options.namespace ?? 'shop';
  const replicas = options.replicas ?? 3;
  const labels = options.labels ?? { app: name };
  const generation = options.generation ?? 1;
  const updated = options.updated ?? replicas;
  const available = options.available ?? replicas;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace,
      uid: `uid-${name}`,
      generation,
      labels,
      creationTimestamp: options.created ?? minutesAgo(3 * 24 * 60),
    },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels },
        spec: {
          containers: [{ name: 'app', image: options.image ?? `registry.local/${namespace}/${name}:1.0` }],
        },
      },
    },
    status: {
      observedGeneration: options.observedGeneration ?? generation,
      replicas: options.current ?? updated,
      updatedReplicas: updated,
      readyReplicas: options.ready ?? replicas,
      availableReplicas: available,
      ...(replicas - available > 0 ? { unavailableReplicas: replicas - available } : {}),
      conditions: options.conditions ?? [
        {
          type: 'Available',
          status: available >= replicas ? 'True' : 'False',
          reason: available >= replicas ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          message:
            available >= replicas
              ? 'Deployment has minimum availability.'
              : 'Deployment does not have minimum availability.',
        },
        {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
          message: `ReplicaSet "${name}-7d9f8c6b5" has successfully progressed.`,
        },
      ],
    },
  };
}

export interface ReplicaSetOptions {
  /** @default "checkout-7d9f8c6b5" */
  name?: string;
  namespace?: string;
  /** Owning deployment. @default "checkout" */
  deployment?: string | null;
  replicas?: number;
  ready?: number;
  available?: number;
  labels?: Record<string, string>;
  /** deployment.kubernetes.io/revision @default "1" */
  revision?: string;
}

export function buildReplicaSet(options: ReplicaSetOptions = {}): V1ReplicaSet {
  const deployment = options.deployment === undefined ? 'checkout' : options.deployment;
  const name = options.name ?? `${deployment ?? 'checkout'}-7d9f8c6b5`;
  const labels = options.labels ?? { app: deployment ?? 'checkout' };
  const replicas = options.replicas ?? 3;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: options.namespace ?? 'shop',
      uid: `uid-${name}`,
      labels,
      annotations: { 'deployment.kubernetes.io/revision': options.revision ?? '1' },
      creationTimestamp: minutesAgo(60),
      ...(deployment ? { ownerReferences: [ownerRef('Deployment', deployment)] } : {}),
    },
    spec: { replicas, selector: { matchLabels: labels } },
    status: {
      replicas,
      readyReplicas: options.ready ?? replicas,
      availableReplicas: options.available ?? replicas,
      observedGeneration: 1,
    },
  };
}

export interface StatefulSetOptions {
  name?: string;
  namespace?: string;
  replicas?: number;
  ready?: number;
  current?: number;
  updated?: number;
  currentRevision?: string;
  updateRevision?: string;
  labels?: Record<string, string>;
}

export function buildStatefulSet(options: StatefulSetOptions = {}): V1StatefulSet {
  const name = options.name ?? 'db';
  const replicas = options.replicas ?? 3;
  const labels = options.labels ?? { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {
      name,
      namespace: options.namespace ?? 'shop',
      uid: `uid-${name}`,
      generation: 1,
      labels,
      creationTimestamp: minutesAgo(600),
    },
    spec: {
      replicas,
      serviceName: name,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'db', image: 'registry.local/db:16' }] },
      },
    },
    status: {
      observedGeneration: 1,
      replicas,
      readyReplicas: options.ready ?? replicas,
      availableReplicas: options.ready ?? replicas,
      currentReplicas: options.current ?? replicas,
      updatedReplicas: options.updated ?? replicas,
      currentRevision: options.currentRevision ?? `${name}-5c6b7d`,
      updateRevision: options.updateRevision ?? options.currentRevision ?? `${name}-5c6b7d`,
    },
  };
}

export interface DaemonSetOptions {
  name?: string;
  namespace?: string;
  desired?: number;
  current?: number;
  ready?: number;
  updated?: number;
  available?: number;
  misscheduled?: number;
  labels?: Record<string, string>;
}

export function buildDaemonSet(options: DaemonSetOptions = {}): V1DaemonSet {
  const name = options.name ?? 'log-agent';
  const desired = options.desired ?? 4;
  const labels = options.labels ?? { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name,
      namespace: options.namespace ?? 'shop',
      uid: `uid-${name}`,
      generation: 1,
      labels,
      creationTimestamp: minutesAgo(600),
    },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'agent', image: 'registry.local/agent:2' }] },
      },
    },
    status: {
      observedGeneration: 1,
      desiredNumberScheduled: desired,
      currentNumberScheduled: options.current ?? desired,
      numberReady: options.ready ?? desired,
      updatedNumberScheduled: options.updated ?? desired,
      numberAvailable: options.available ?? options.ready ?? desired,
      numberMisscheduled: options.misscheduled ?? 0,
    },
  };
}

export interface JobOptions {
  name?: string;
  namespace?: string;
  completions?: number;
  succeeded?: number;
  failed?: number;
  active?: number;
  backoffLimit?: number;
  conditions?: V1JobCondition[];
  labels?: Record<string, string>;
}

export function buildJob(options: JobOptions = {}): V1Job {
  const name = options.name ?? 'migrate';
  const labels = options.labels ?? { 'batch.kubernetes.io/job-name': name };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: options.namespace ?? 'shop',
      uid: `uid-${name}`,
      labels,
      creationTimestamp: minutesAgo(30),
    },
    spec: {
      completions: options.completions ?? 1,
      backoffLimit: options.backoffLimit ?? 6,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'migrate', image: 'registry.local/migrate:1' }] },
      },
    },
    status: {
      ...(options.succeeded !== undefined ? { succeeded: options.succeeded } : {}),
      ...(options.failed !== undefined ? { failed: options.failed } : {}),
      ...(options.active !== undefined ? { active: options.active } : {}),
      ...(options.conditions ? { conditions: options.conditions } : {}),
    },
  };
}

export interface EventOptions {
  /** @default "shop" */
  namespace?: string;
  /** @default { kind: "Pod", name: "checkout-7d9f8c6b5-x2x9q" } */
  involved?: { kind: string; name: string };
  /** @default "Warning" */
  type?: string;
  /** @default "BackOff" */
  reason?: string;
  /** @default "Back-off restarting failed container app in pod …" */
  message?: string;
  count?: number;
  /** @default 2 minutes before TEST_NOW */
  lastTimestamp?: Date;
  firstTimestamp?: Date;
  eventTime?: Date;
  series?: { count: number; lastObservedTime: Date };
  name?: string;
}

let eventSequence = 0;

export function buildEvent(options: EventOptions = {}): CoreV1Event {
  const involved = options.involved ?? { kind: 'Pod', name: 'checkout-7d9f8c6b5-x2x9q' };
  const namespace = options.namespace ?? 'shop';
  eventSequence += 1;
  const useEventTime = options.eventTime !== undefined && options.lastTimestamp === undefined;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      name: options.name ?? `${involved.name}.${eventSequence.toString(16).padStart(8, '0')}`,
      namespace,
      creationTimestamp: options.firstTimestamp ?? options.eventTime ?? minutesAgo(10),
    },
    involvedObject: { kind: involved.kind, name: involved.name, namespace, uid: `uid-${involved.name}` },
    type: options.type ?? 'Warning',
    reason: options.reason ?? 'BackOff',
    message: options.message ?? `Back-off restarting failed container app in pod ${involved.name}`,
    ...(options.count !== undefined ? { count: options.count } : useEventTime ? {} : { count: 1 }),
    ...(useEventTime
      ? { eventTime: options.eventTime }
      : { lastTimestamp: options.lastTimestamp ?? minutesAgo(2) }),
    ...(useEventTime
      ? {}
      : { firstTimestamp: options.firstTimestamp ?? options.lastTimestamp ?? minutesAgo(2) }),
    ...(options.series ? { series: options.series } : {}),
    source: { component: 'kubelet' },
  };
}

export function buildNamespace(name: string): V1Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, uid: `uid-ns-${name}`, creationTimestamp: minutesAgo(60 * 24 * 30) },
    status: { phase: 'Active' },
  };
}

export function buildNode(name: string, ready = true): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `uid-node-${name}`, labels: { 'kubernetes.io/hostname': name } },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: ready ? 'True' : 'Unknown',
          reason: ready ? 'KubeletReady' : 'NodeStatusUnknown',
        },
      ],
    },
  };
}

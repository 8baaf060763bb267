import type {
  CoreV1Event,
  V1DaemonSet,
  V1Deployment,
  V1Job,
  V1LabelSelector,
  V1Namespace,
  V1Node,
  V1Pod,
  V1ReplicaSet,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { WheelhouseError } from '../../src/errors.ts';
import {
  forbiddenError,
  type KubeOperation,
  namespaceNotFoundError,
  objectNotFoundError,
  unreachableError,
} from '../../src/kube/kube-errors.ts';
import {
  matcherFromLabelSelector,
  matchesLabels,
  parseLabelSelector,
} from '../../src/kube/label-selector.ts';
import type {
  EventQuery,
  KubeIdentity,
  KubeReader,
  LogQuery,
  PodQuery,
  Workload,
  WorkloadRef,
} from '../../src/kube/types.ts';
import { createRedactor } from '../../src/redact/redactor.ts';
import { DEFAULT_LIMITS, type Limits, type SkillContext } from '../../src/skills/context.ts';
import { buildNamespace, TEST_NOW } from './builders.ts';

/** A container log the fake serves; `text` has one RFC3339 timestamp at the start of each line. */
export interface FakeLog {
  /** @default "shop" */
  namespace?: string;
  pod: string;
  /** Undefined matches any container of the pod. */
  container?: string;
  /** The log of the previous (terminated) container. */
  previous?: boolean;
  text: string;
}

/** A read the fake refuses, like RBAC would: e.g. `{ verb: 'list', resource: 'pods', namespace: 'payments' }`. */
export interface FakeDenial {
  verb: string;
  resource: string;
  /** Undefined denies it in every namespace and cluster-wide. */
  namespace?: string;
}

export interface FakeKubeOptions {
  pods?: V1Pod[];
  deployments?: V1Deployment[];
  replicaSets?: V1ReplicaSet[];
  statefulSets?: V1StatefulSet[];
  daemonSets?: V1DaemonSet[];
  jobs?: V1Job[];
  events?: CoreV1Event[];
  nodes?: V1Node[];
  /** Namespaces that exist besides those of the objects above. @default ["shop"] */
  namespaces?: string[];
  logs?: FakeLog[];
  /** Who is asking, for FORBIDDEN messages. Undefined acts as Wheelhouse itself. */
  identity?: KubeIdentity;
  deny?: FakeDenial[];
  /** Every call fails with KUBE_UNREACHABLE. */
  unreachable?: boolean;
  /** Clock for `sinceSeconds`. @default TEST_NOW */
  now?: Date;
}

/** A call the fake received, for assertions on what a skill asked for. */
export type FakeCall =
  | { method: 'listPods'; args: PodQuery }
  | { method: 'getWorkload'; args: WorkloadRef }
  | { method: 'podsOf'; args: WorkloadRef }
  | { method: 'listReplicaSets'; args: { namespace: string; selector: string | undefined } }
  | { method: 'listEvents'; args: EventQuery }
  | { method: 'listNodes'; args: Record<string, never> }
  | { method: 'getNamespace'; args: string }
  | { method: 'readLog'; args: LogQuery };

export const FAKE_SERVER = 'https://kube.fake.test:6443';

/**
 * A KubeReader over plain object lists with the real reader's error behaviour: NOT_FOUND for unknown
 * namespaces and objects, FORBIDDEN (same messages as the real client) for denied reads, and
 * KUBE_UNREACHABLE on demand. Label selectors are matched with the same code as the real cache.
 */
export class FakeKubeReader implements KubeReader {
  readonly calls: FakeCall[] = [];
  readonly #o: FakeKubeOptions;
  readonly #namespaces: Set<string>;

  constructor(options: FakeKubeOptions = {}) {
    this.#o = options;
    const all = [
      ...(options.pods ?? []),
      ...(options.deployments ?? []),
      ...(options.replicaSets ?? []),
      ...(options.statefulSets ?? []),
      ...(options.daemonSets ?? []),
      ...(options.jobs ?? []),
      ...(options.events ?? []),
    ];
    this.#namespaces = new Set([
      ...(options.namespaces ?? ['shop']),
      ...all.map((o) => o.metadata?.namespace ?? '').filter(Boolean),
    ]);
  }

  async listPods(query: PodQuery): Promise<V1Pod[]> {
    this.#record({ method: 'listPods', args: query });
    this.#check('list', 'pods', query.namespace);
    const matcher = parseLabelSelector(query.selector);
    return this.#inNamespace(this.#o.pods ?? [], query.namespace).filter((p) =>
      matchesLabels(p.metadata?.labels, matcher),
    );
  }

  async getWorkload(ref: WorkloadRef): Promise<Workload> {
    this.#record({ method: 'getWorkload', args: ref });
    switch (ref.kind) {
      case 'Deployment':
        return { kind: ref.kind, object: this.#find(this.#o.deployments, ref, 'deployments', 'deploy') };
      case 'StatefulSet':
        return { kind: ref.kind, object: this.#find(this.#o.statefulSets, ref, 'statefulsets', 'sts') };
      case 'DaemonSet':
        return { kind: ref.kind, object: this.#find(this.#o.daemonSets, ref, 'daemonsets', 'ds') };
      case 'ReplicaSet':
        return { kind: ref.kind, object: this.#find(this.#o.replicaSets, ref, 'replicasets', 'rs') };
      case 'Job':
        return { kind: ref.kind, object: this.#find(this.#o.jobs, ref, 'jobs', 'job') };
      case 'Pod':
        return { kind: ref.kind, object: this.#find(this.#o.pods, ref, 'pods', 'pod') };
    }
  }

  async podsOf(ref: WorkloadRef): Promise<V1Pod[]> {
    this.#record({ method: 'podsOf', args: ref });
    const workload = await this.getWorkload(ref);
    if (workload.kind === 'Pod') return [workload.object];
    const selector: V1LabelSelector | undefined = workload.object.spec?.selector;
    const matcher = matcherFromLabelSelector(selector);
    if (matcher.length === 0) return [];
    this.#check('list', 'pods', ref.namespace);
    return this.#inNamespace(this.#o.pods ?? [], ref.namespace).filter((p) =>
      matchesLabels(p.metadata?.labels, matcher),
    );
  }

  async listReplicaSets(namespace: string, selector?: string): Promise<V1ReplicaSet[]> {
    this.#record({ method: 'listReplicaSets', args: { namespace, selector } });
    this.#check('list', 'replicasets', namespace);
    const matcher = parseLabelSelector(selector);
    return this.#inNamespace(this.#o.replicaSets ?? [], namespace).filter((r) =>
      matchesLabels(r.metadata?.labels, matcher),
    );
  }

  async listEvents(query: EventQuery): Promise<CoreV1Event[]> {
    this.#record({ method: 'listEvents', args: query });
    this.#check('list', 'events', query.namespace);
    const involved = query.involved;
    return this.#inNamespace(this.#o.events ?? [], query.namespace).filter(
      (e) =>
        !involved || (e.involvedObject.kind === involved.kind && e.involvedObject.name === involved.name),
    );
  }

  async listNodes(): Promise<V1Node[]> {
    this.#record({ method: 'listNodes', args: {} });
    this.#check('list', 'nodes', undefined);
    return [...(this.#o.nodes ?? [])];
  }

  async getNamespace(name: string): Promise<V1Namespace> {
    this.#record({ method: 'getNamespace', args: name });
    this.#check('get', 'namespaces', name);
    if (!this.#namespaces.has(name)) throw namespaceNotFoundError(name);
    return buildNamespace(name);
  }

  async readLog(query: LogQuery): Promise<string> {
    this.#record({ method: 'readLog', args: query });
    this.#check('get', 'pods/log', query.namespace);
    this.#requireNamespace(query.namespace);
    const pod = (this.#o.pods ?? []).find(
      (p) => p.metadata?.namespace === query.namespace && p.metadata?.name === query.pod,
    );
    if (!pod) throw objectNotFoundError('pod', query.pod, query.namespace);
    const log = (this.#o.logs ?? []).find(
      (l) =>
        (l.namespace ?? 'shop') === query.namespace &&
        l.pod === query.pod &&
        (l.container === undefined || l.container === query.container) &&
        (l.previous ?? false) === (query.previous ?? false),
    );
    if (!log) {
      if (query.previous) {
        throw new WheelhouseError('NOT_FOUND', `pod/${query.pod} has no previous (terminated) container.`);
      }
      return '';
    }
    let lines = log.text.split('\n').filter((l) => l !== '');
    if (query.sinceSeconds !== undefined) {
      const from = (this.#o.now ?? TEST_NOW).getTime() - query.sinceSeconds * 1000;
      lines = lines.filter((l) => Date.parse(l.slice(0, l.indexOf(' '))) >= from);
    }
    if (query.tailLines !== undefined) lines = lines.slice(-query.tailLines);
    const text = lines.map((l) => `${l}\n`).join('');
    return query.limitBytes !== undefined ? text.slice(0, query.limitBytes) : text;
  }

  #record(call: FakeCall): void {
    this.calls.push(call);
  }

  /** Unreachable, denied or unknown namespace, in the order the real client finds them. */
  #check(verb: string, resource: string, namespace: string | undefined): void {
    if (this.#o.unreachable) throw unreachableError(FAKE_SERVER, 'ECONNREFUSED');
    const denied = (this.#o.deny ?? []).some(
      (d) =>
        d.verb === verb &&
        d.resource === resource &&
        (d.namespace === undefined || d.namespace === namespace),
    );
    if (denied) {
      const [base = resource, subresource] = resource.split('/');
      const op: KubeOperation = { verb, group: '', resource: base, subresource, namespace };
      throw forbiddenError(this.#o.identity, op);
    }
    if (namespace && resource !== 'namespaces') this.#requireNamespace(namespace);
  }

  #requireNamespace(namespace: string): void {
    if (!this.#namespaces.has(namespace)) throw namespaceNotFoundError(namespace);
  }

  #inNamespace<T extends { metadata?: { namespace?: string } }>(
    items: T[],
    namespace: string | undefined,
  ): T[] {
    return items.filter((i) => namespace === undefined || i.metadata?.namespace === namespace);
  }

  #find<T extends { metadata?: { name?: string; namespace?: string } }>(
    items: T[] | undefined,
    ref: WorkloadRef,
    resource: string,
    short: string,
  ): T {
    this.#check('get', resource, ref.namespace);
    const found = (items ?? []).find(
      (i) => i.metadata?.namespace === ref.namespace && i.metadata?.name === ref.name,
    );
    if (!found) throw objectNotFoundError(short, ref.name, ref.namespace);
    return found;
  }
}

export function fakeKube(options: FakeKubeOptions = {}): FakeKubeReader {
  return new FakeKubeReader(options);
}

/** A SkillContext for skill tests: the given reader, the real redactor, TEST_NOW, default limits. */
export function skillContext(
  kube: KubeReader,
  overrides: Partial<Omit<SkillContext, 'limits'>> & { limits?: Partial<Limits> } = {},
): SkillContext {
  const { limits, ...rest } = overrides;
  return {
    kube,
    metrics: undefined,
    logSearch: undefined,
    charts: {
      renderLineChart: async () => {
        throw new Error('this test does not expect charts');
      },
    },
    redact: createRedactor(),
    actor: { surface: 'console', id: 'tester', kube: undefined },
    requestId: 'req-test',
    signal: new AbortController().signal,
    now: () => TEST_NOW,
    ...rest,
    limits: { ...DEFAULT_LIMITS, ...limits },
  };
}

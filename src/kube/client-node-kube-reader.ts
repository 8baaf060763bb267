import type {
  CoreV1Event,
  V1LabelSelector,
  V1Namespace,
  V1Node,
  V1Pod,
  V1ReplicaSet,
} from '@kubernetes/client-node';
import { z } from 'zod';
import { WheelhouseError } from '../errors.ts';
import type { AccessReviewer } from './access-review.ts';
import {
  errorFromResponse,
  type KubeOperation,
  namespaceNotFoundError,
  objectNotFoundError,
  statusMessage,
} from './kube-errors.ts';
import type { KubeHttp, KubeHttpRequest, KubeHttpResponse } from './kube-http.ts';
import {
  formatMatcher,
  type LabelMatcher,
  matcherFromLabelSelector,
  matchesLabels,
  parseLabelSelector,
} from './label-selector.ts';
import {
  collectionPath,
  deserialize,
  objectPath,
  RESOURCES,
  type ResourceName,
  type ResourceTypes,
} from './resources.ts';
import type {
  CustomObjectRef,
  EventQuery,
  KubeIdentity,
  KubeReader,
  KubeReaderOptions,
  LogQuery,
  PodQuery,
  Workload,
  WorkloadRef,
} from './types.ts';
import type { WatchCache } from './watch-cache.ts';

/** One watch-fed cache per resource. */
export type KubeCaches = { readonly [K in ResourceName]: WatchCache<ResourceTypes[K]> };

export interface KubeReaderDeps {
  http: KubeHttp;
  reviewer: AccessReviewer;
  /** Undefined when caching is off; a cache that has not synced yet is bypassed. */
  caches: KubeCaches | undefined;
}

const PAGE_SIZE = 500;
/** A direct LIST stops after this many pages (50,000 objects) rather than exhausting memory. */
const MAX_PAGES = 100;

const ListPage = z.looseObject({
  metadata: z.looseObject({ continue: z.string().optional() }).optional(),
  items: z.array(z.unknown()).nullable().optional(),
});

/** A custom resource: any object with metadata; its schema is its controller's business. */
const CustomObject = z.looseObject({ metadata: z.looseObject({}).optional() });

type Selected = 'pods' | 'replicasets';

/**
 * Reads Kubernetes on behalf of one identity. Served from the watch-fed caches when they have
 * synced (after asking the API server, via a cached SelfSubjectAccessReview, whether the identity
 * may make that read), otherwise by a direct request with impersonation headers, so RBAC decides
 * either way. Logs are always read directly. Acting as Wheelhouse itself (`identity` undefined)
 * skips the access review: the caches were filled with Wheelhouse's own rights.
 */
export class ClientNodeKubeReader implements KubeReader {
  readonly #deps: KubeReaderDeps;
  readonly #identity: KubeIdentity | undefined;
  readonly #options: KubeReaderOptions;

  constructor(deps: KubeReaderDeps, identity: KubeIdentity | undefined, options: KubeReaderOptions = {}) {
    this.#deps = deps;
    this.#identity = identity;
    this.#options = options;
  }

  async listPods(query: PodQuery): Promise<V1Pod[]> {
    return this.#listSelected('pods', query.namespace, parseLabelSelector(query.selector));
  }

  async listReplicaSets(namespace: string, selector?: string): Promise<V1ReplicaSet[]> {
    return this.#listSelected('replicasets', namespace, parseLabelSelector(selector));
  }

  async getWorkload(ref: WorkloadRef): Promise<Workload> {
    const { namespace, name } = ref;
    switch (ref.kind) {
      case 'Deployment':
        return { kind: ref.kind, object: await this.#get('deployments', namespace, name) };
      case 'StatefulSet':
        return { kind: ref.kind, object: await this.#get('statefulsets', namespace, name) };
      case 'DaemonSet':
        return { kind: ref.kind, object: await this.#get('daemonsets', namespace, name) };
      case 'ReplicaSet':
        return { kind: ref.kind, object: await this.#get('replicasets', namespace, name) };
      case 'Job':
        return { kind: ref.kind, object: await this.#get('jobs', namespace, name) };
      case 'Pod':
        return { kind: ref.kind, object: await this.#get('pods', namespace, name) };
    }
  }

  async getCustomObject(ref: CustomObjectRef): Promise<Record<string, unknown>> {
    const { group, version, resource, short, namespace, name } = ref;
    const op: KubeOperation = { verb: 'get', group, resource, namespace, name, short };
    const response = await this.#request({
      method: 'GET',
      path: `/apis/${group}/${version}/namespaces/${encodeURIComponent(namespace)}/${resource}/${encodeURIComponent(name)}`,
    });
    if (response.status === 404) {
      await this.#requireNamespace(namespace);
      throw objectNotFoundError(short, name, namespace);
    }
    const body = CustomObject.parse(this.#json(response, op));
    const { managedFields: _managed, ...metadata } = body.metadata ?? {};
    return { ...body, metadata };
  }

  async podsOf(ref: WorkloadRef): Promise<V1Pod[]> {
    const workload = await this.getWorkload(ref);
    if (workload.kind === 'Pod') return [workload.object];
    const matcher = matcherFromLabelSelector(selectorOf(workload));
    // An empty selector would select every pod in the namespace; no controller has one.
    if (matcher.length === 0) return [];
    return this.#listSelected('pods', ref.namespace, matcher);
  }

  async listEvents(query: EventQuery): Promise<CoreV1Event[]> {
    const op = this.#op('list', 'events', query.namespace);
    const involved = query.involved;
    const cache = this.#cache('events');
    if (cache) {
      await this.#authorize(op);
      if (query.namespace) await this.#requireNamespace(query.namespace);
      const events = cache.list(query.namespace);
      return involved
        ? events.filter(
            (e) => e.involvedObject.kind === involved.kind && e.involvedObject.name === involved.name,
          )
        : [...events];
    }
    const fieldSelector = involved
      ? `involvedObject.kind=${involved.kind},involvedObject.name=${involved.name}`
      : undefined;
    const events = await this.#listDirect('events', query.namespace, { fieldSelector }, op);
    if (query.namespace && events.length === 0) await this.#requireNamespace(query.namespace);
    return events;
  }

  async listNodes(): Promise<V1Node[]> {
    const op = this.#op('list', 'nodes', undefined);
    const cache = this.#cache('nodes');
    if (cache) {
      await this.#authorize(op);
      return [...cache.list()];
    }
    return this.#listDirect('nodes', undefined, {}, op);
  }

  async getNamespace(name: string): Promise<V1Namespace> {
    // RBAC sees a namespace GET as happening inside that namespace, so a RoleBinding there grants it.
    const op: KubeOperation = { verb: 'get', group: '', resource: 'namespaces', namespace: name, name };
    const cache = this.#cache('namespaces');
    if (cache) {
      await this.#authorize(op);
      const found = cache.get(name);
      if (found) return found;
    }
    const response = await this.#request({
      method: 'GET',
      path: objectPath(RESOURCES.namespaces, undefined, name),
    });
    if (response.status === 404) throw namespaceNotFoundError(name);
    return deserialize('namespaces', this.#json(response, op));
  }

  async readLog(query: LogQuery): Promise<string> {
    const op: KubeOperation = {
      verb: 'get',
      group: '',
      resource: 'pods',
      subresource: 'log',
      namespace: query.namespace,
      name: query.pod,
      short: 'pod',
    };
    const response = await this.#request({
      method: 'GET',
      path: objectPath(RESOURCES.pods, query.namespace, query.pod, 'log'),
      query: {
        timestamps: true,
        container: query.container,
        sinceSeconds: query.sinceSeconds,
        tailLines: query.tailLines,
        previous: query.previous ? true : undefined,
        limitBytes: query.limitBytes,
      },
      maxBytes: query.limitBytes,
    });
    if (response.status === 200) return response.body;
    if (response.status === 404) {
      await this.#requireNamespace(query.namespace);
      throw objectNotFoundError('pod', query.pod, query.namespace);
    }
    if (response.status === 400)
      throw logRequestError(query, statusMessage(response.body) ?? '', response.status);
    throw errorFromResponse(response.status, response.body, op, this.#identity, this.#deps.http.server);
  }

  // ---------------------------------------------------------------------------------------------

  async #listSelected<K extends Selected>(
    resource: K,
    namespace: string | undefined,
    matcher: LabelMatcher,
  ): Promise<Array<ResourceTypes[K]>> {
    const op = this.#op('list', resource, namespace);
    const cache = this.#cache(resource);
    if (cache) {
      await this.#authorize(op);
      if (namespace) await this.#requireNamespace(namespace);
      return cache.list(namespace).filter((o) => matchesLabels(o.metadata?.labels, matcher));
    }
    const labelSelector = matcher.length ? formatMatcher(matcher) : undefined;
    const items = await this.#listDirect(resource, namespace, { labelSelector }, op);
    // The API answers an empty list for a namespace that does not exist; say what is wrong instead.
    if (namespace && items.length === 0) await this.#requireNamespace(namespace);
    return items;
  }

  async #get<K extends ResourceName>(
    resource: K,
    namespace: string | undefined,
    name: string,
  ): Promise<ResourceTypes[K]> {
    const info = RESOURCES[resource];
    const op: KubeOperation = { ...this.#op('get', resource, namespace), name, short: info.short };
    const cache = this.#cache(resource);
    if (cache) {
      await this.#authorize(op);
      const found = cache.get(name, info.namespaced ? namespace : undefined);
      if (found) return found;
      // Not cached: it may be seconds old; the API server has the last word.
    }
    const response = await this.#request({ method: 'GET', path: objectPath(info, namespace, name) });
    if (response.status === 404) {
      if (namespace) await this.#requireNamespace(namespace);
      throw objectNotFoundError(info.short, name, namespace);
    }
    return deserialize(resource, this.#json(response, op));
  }

  async #listDirect<K extends ResourceName>(
    resource: K,
    namespace: string | undefined,
    query: Record<string, string | undefined>,
    op: KubeOperation,
  ): Promise<Array<ResourceTypes[K]>> {
    const items: Array<ResourceTypes[K]> = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const response = await this.#request({
        method: 'GET',
        path: collectionPath(RESOURCES[resource], namespace),
        query: { ...query, limit: PAGE_SIZE, continue: token },
      });
      const page = ListPage.parse(this.#json(response, op));
      for (const raw of page.items ?? []) {
        items.push(deserialize(resource, raw));
      }
      token = page.metadata?.continue || undefined;
      pages++;
    } while (token && pages < MAX_PAGES);
    if (token) {
      throw new WheelhouseError(
        'INTERNAL',
        `There are more than ${PAGE_SIZE * MAX_PAGES} ${resource} to read at once.`,
        {
          hint: 'Name a namespace or a label selector to narrow the question.',
          detail: { operation: op },
        },
      );
    }
    return items;
  }

  /** Throws NOT_FOUND when the namespace does not exist. Asks as Wheelhouse: the caller was already allowed. */
  async #requireNamespace(namespace: string): Promise<void> {
    if (this.#cache('namespaces')?.get(namespace)) return;
    const response = await this.#deps.http.request({
      method: 'GET',
      path: objectPath(RESOURCES.namespaces, undefined, namespace),
      auditId: this.#options.requestId,
      signal: this.#options.signal,
    });
    if (response.status === 404) throw namespaceNotFoundError(namespace);
    // 200: it exists. 403: Wheelhouse may not read namespaces, so it cannot tell; say nothing.
  }

  async #authorize(op: KubeOperation): Promise<void> {
    const identity = this.#identity;
    if (!identity) return;
    const context = { signal: this.#options.signal, auditId: this.#options.requestId };
    const { name, ...broad } = op;
    if (await this.#deps.reviewer.allowed(identity, broad, context)) return;
    // RBAC may grant single objects by name (resourceNames); ask about the object itself.
    if (name !== undefined && (await this.#deps.reviewer.allowed(identity, op, context))) return;
    await this.#deps.reviewer.check(identity, broad, context);
  }

  #cache<K extends ResourceName>(resource: K): WatchCache<ResourceTypes[K]> | undefined {
    const cache: WatchCache<ResourceTypes[K]> | undefined = this.#deps.caches?.[resource];
    return cache?.synced() ? cache : undefined;
  }

  #op(verb: string, resource: ResourceName, namespace: string | undefined): KubeOperation {
    const info = RESOURCES[resource];
    return { verb, group: info.group, resource, namespace: info.namespaced ? namespace : undefined };
  }

  #request(req: Omit<KubeHttpRequest, 'identity' | 'auditId' | 'signal'>): Promise<KubeHttpResponse> {
    return this.#deps.http.request({
      ...req,
      identity: this.#identity,
      auditId: this.#options.requestId,
      signal: this.#options.signal,
    });
  }

  /** The parsed body of a successful response; a failed one becomes the matching WheelhouseError. */
  #json(response: KubeHttpResponse, op: KubeOperation): unknown {
    if (response.status < 200 || response.status >= 300) {
      throw errorFromResponse(response.status, response.body, op, this.#identity, this.#deps.http.server);
    }
    try {
      return JSON.parse(response.body);
    } catch (error) {
      throw new WheelhouseError(
        'KUBE_UNREACHABLE',
        `The Kubernetes API server at ${this.#deps.http.server} sent an unreadable answer.`,
        {
          hint: 'A proxy in front of the API server may have answered instead; check the server URL.',
          detail: { operation: op, status: response.status, body: response.body.slice(0, 500) },
          cause: error,
        },
      );
    }
  }
}

function selectorOf(workload: Exclude<Workload, { kind: 'Pod' }>): V1LabelSelector | undefined {
  switch (workload.kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
      return workload.object.spec?.selector;
    case 'Job':
      return workload.object.spec?.selector;
  }
}

/** The kubelet's 400 answers for logs, turned into messages that say what to do. */
function logRequestError(query: LogQuery, message: string, status: number): WheelhouseError {
  const target = `pod/${query.pod}`;
  const container = query.container ?? /container "?([^"\s]+)"?/.exec(message)?.[1] ?? 'its container';
  const detail = { status, message, query };
  if (/previous terminated container/i.test(message)) {
    return new WheelhouseError(
      'NOT_FOUND',
      `${target} has no previous (terminated) container ${container} to read logs from.`,
      {
        hint: 'It has not restarted since it was created; leave out --previous to read its current logs.',
        detail,
      },
    );
  }
  if (/is not valid for pod/i.test(message)) {
    return new WheelhouseError('NOT_FOUND', `${target} has no container named ${container}.`, {
      hint: `\`/wh describe ${target} -n ${query.namespace}\` lists its containers.`,
      detail,
    });
  }
  if (/waiting to start|ContainerCreating|PodInitializing/i.test(message)) {
    return new WheelhouseError('NOT_FOUND', `${target} container ${container} has no logs yet: ${message}`, {
      hint: `\`/wh describe ${target} -n ${query.namespace}\` shows why it has not started.`,
      detail,
    });
  }
  return new WheelhouseError(
    'INVALID_INPUT',
    `Kubernetes could not read the logs of ${target}: ${message || `HTTP ${status}`}`,
    {
      hint: 'Check the pod and container names with `/wh describe`.',
      detail,
    },
  );
}

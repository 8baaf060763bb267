import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { matchesLabels, parseLabelSelector } from '../../../src/kube/label-selector.ts';

/** A JSON object as the API server stores it (timestamps as strings). */
export type RawObject = {
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    resourceVersion?: string;
  } & Record<string, unknown>;
} & Record<string, unknown>;

/** What the fake saw of one request. */
export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  user: string | undefined;
  groups: string[];
  auditId: string | undefined;
  body: unknown;
}

export interface AccessAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** RBAC of the fake: may `user` do this? Impersonation itself is refused for users in `cannotImpersonate`. */
export type Policy = (user: string | undefined, attributes: AccessAttributes) => boolean;

const ROUTES: Record<string, { group: string; resource: string }> = {
  '/api/v1/pods': { group: '', resource: 'pods' },
  '/api/v1/events': { group: '', resource: 'events' },
  '/api/v1/namespaces': { group: '', resource: 'namespaces' },
  '/api/v1/nodes': { group: '', resource: 'nodes' },
  '/apis/apps/v1/deployments': { group: 'apps', resource: 'deployments' },
  '/apis/apps/v1/replicasets': { group: 'apps', resource: 'replicasets' },
  '/apis/apps/v1/statefulsets': { group: 'apps', resource: 'statefulsets' },
  '/apis/apps/v1/daemonsets': { group: 'apps', resource: 'daemonsets' },
  '/apis/batch/v1/jobs': { group: 'batch', resource: 'jobs' },
};

/**
 * Just enough of the Kubernetes API, on 127.0.0.1, to test ClientNodeKubeClient without a cluster:
 * paginated LIST, WATCH streams the test can push to, GET, pod logs, SelfSubjectAccessReview,
 * impersonation headers checked against a policy, and Status bodies for 403/404/400.
 */
export class FakeApiServer {
  readonly seen: SeenRequest[] = [];
  readonly objects = new Map<string, RawObject[]>();
  /** Log text by "namespace/pod/container[/previous]". */
  readonly logs = new Map<string, string>();
  policy: Policy = () => true;
  cannotImpersonate = new Set<string>();
  /** Paths (prefix) that never answer, to test timeouts. */
  hang = new Set<string>();
  #server = http.createServer((req, res) => void this.#handle(req, res));
  #watchers = new Map<string, Set<ServerResponse>>();
  #revision = 100;

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    if (address === null || typeof address === 'string')
      throw new Error('the fake API server has no TCP address');
    return `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    for (const set of this.#watchers.values()) for (const res of set) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Puts objects in place without telling watchers (as if the watch had not delivered them yet). */
  put(resource: string, ...objects: RawObject[]): void {
    const list = this.objects.get(resource) ?? [];
    for (const object of objects) {
      object.metadata.resourceVersion = String(++this.#revision);
      const i = list.findIndex((o) => sameObject(o, object));
      if (i === -1) list.push(object);
      else list[i] = object;
    }
    this.objects.set(resource, list);
  }

  /** Changes an object and streams the change to watchers. */
  emit(resource: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', object: RawObject): void {
    if (type === 'DELETED') {
      this.objects.set(
        resource,
        (this.objects.get(resource) ?? []).filter((o) => !sameObject(o, object)),
      );
      object.metadata.resourceVersion = String(++this.#revision);
    } else {
      this.put(resource, object);
    }
    for (const res of this.#watchers.get(resource) ?? []) res.write(`${JSON.stringify({ type, object })}\n`);
  }

  watching(resource: string): number {
    return this.#watchers.get(resource)?.size ?? 0;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const body = await readJson(req);
    const groups = req.headersDistinct['impersonate-group'] ?? [];
    const user = req.headers['impersonate-user'];
    const seen: SeenRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      user: typeof user === 'string' ? user : undefined,
      groups,
      auditId: typeof req.headers['audit-id'] === 'string' ? req.headers['audit-id'] : undefined,
      body,
    };
    this.seen.push(seen);
    if ([...this.hang].some((p) => url.pathname.startsWith(p))) return;
    if (seen.user && this.cannotImpersonate.has(seen.user)) {
      return status(
        res,
        403,
        `users "${seen.user}" is forbidden: User "wheelhouse" cannot impersonate resource "users" in API group "" at the cluster scope`,
      );
    }
    if (req.method === 'POST' && url.pathname === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
      const attributes = reviewAttributes(body);
      const allowed = this.policy(seen.user, attributes);
      return json(res, 201, {
        kind: 'SelfSubjectAccessReview',
        apiVersion: 'authorization.k8s.io/v1',
        status: { allowed },
      });
    }
    const route = parsePath(url.pathname);
    if (!route) return status(res, 404, 'the server could not find the requested resource');
    const verb = url.searchParams.get('watch') === 'true' ? 'watch' : route.name ? 'get' : 'list';
    const attributes: AccessAttributes = {
      verb,
      group: route.group,
      resource: route.resource,
      ...(route.subresource ? { subresource: route.subresource } : {}),
      ...(route.namespace ? { namespace: route.namespace } : {}),
      ...(route.name ? { name: route.name } : {}),
    };
    if (!this.policy(seen.user, attributes)) {
      const who = seen.user ?? 'wheelhouse';
      return status(
        res,
        403,
        `${route.resource} is forbidden: User "${who}" cannot ${verb} resource "${route.resource}"`,
      );
    }
    const all = (this.objects.get(route.resource) ?? []).filter(
      (o) => !route.namespace || route.resource === 'namespaces' || o.metadata.namespace === route.namespace,
    );
    if (verb === 'watch') return this.#watch(route.resource, res);
    if (route.subresource === 'log')
      return this.#log(route.namespace ?? '', route.name ?? '', url.searchParams, res);
    if (route.name) {
      const found = all.find((o) => o.metadata.name === route.name);
      return found ? json(res, 200, found) : status(res, 404, `${route.resource} "${route.name}" not found`);
    }
    const matcher = parseLabelSelector(url.searchParams.get('labelSelector') ?? undefined);
    const fields = url.searchParams.get('fieldSelector');
    const items = all.filter(
      (o) => matchesLabels(o.metadata.labels, matcher) && (!fields || matchesFields(o, fields)),
    );
    const limit = Number(url.searchParams.get('limit') ?? items.length) || items.length;
    const start = Number(url.searchParams.get('continue') ?? 0);
    const page = items.slice(start, start + limit);
    const next = start + limit < items.length ? String(start + limit) : undefined;
    return json(res, 200, {
      kind: 'List',
      apiVersion: 'v1',
      metadata: { resourceVersion: String(this.#revision), ...(next ? { continue: next } : {}) },
      items: page,
    });
  }

  #watch(resource: string, res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const set = this.#watchers.get(resource) ?? new Set();
    set.add(res);
    this.#watchers.set(resource, set);
    res.on('close', () => set.delete(res));
  }

  #log(namespace: string, pod: string, query: URLSearchParams, res: ServerResponse): void {
    if (
      !(this.objects.get('pods') ?? []).some(
        (p) => p.metadata.namespace === namespace && p.metadata.name === pod,
      )
    ) {
      status(res, 404, `pods "${pod}" not found`);
      return;
    }
    const container = query.get('container') ?? '';
    const previous = query.get('previous') === 'true';
    const text = this.logs.get(`${namespace}/${pod}/${container}${previous ? '/previous' : ''}`);
    if (text === undefined) {
      status(
        res,
        400,
        previous
          ? `previous terminated container "${container}" in pod "${pod}" not found`
          : `container "${container}" in pod "${pod}" is waiting to start: ContainerCreating`,
      );
      return;
    }
    let lines = text.split('\n').filter(Boolean);
    const tail = query.get('tailLines');
    if (tail) lines = lines.slice(-Number(tail));
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(lines.map((l) => `${l}\n`).join(''));
  }
}

function sameObject(a: RawObject, b: RawObject): boolean {
  return a.metadata.name === b.metadata.name && a.metadata.namespace === b.metadata.namespace;
}

interface Route {
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

function parsePath(path: string): Route | undefined {
  const m =
    /^\/(?:api\/v1|apis\/([a-z.]+)\/v1)(?:\/namespaces\/([^/]+))?\/([a-z]+)(?:\/([^/]+))?(?:\/([a-z]+))?$/.exec(
      path,
    );
  const n = /^\/api\/v1\/namespaces(?:\/([^/]+))?$/.exec(path);
  if (n) return { group: '', resource: 'namespaces', ...(n[1] ? { name: n[1], namespace: n[1] } : {}) };
  if (!m) return undefined;
  const [, group = '', namespace, resource = '', name, subresource] = m;
  const known = Object.values(ROUTES).some((r) => r.resource === resource && r.group === group);
  if (!known) return undefined;
  return {
    group,
    resource,
    ...(namespace ? { namespace } : {}),
    ...(name ? { name } : {}),
    ...(subresource ? { subresource } : {}),
  };
}

function matchesFields(object: RawObject, selector: string): boolean {
  return selector.split(',').every((clause) => {
    const [path = '', value = ''] = clause.split('=');
    let current: unknown = object;
    for (const key of path.split('.')) {
      current = typeof current === 'object' && current !== null ? Reflect.get(current, key) : undefined;
    }
    return current === value;
  });
}

function reviewAttributes(body: unknown): AccessAttributes {
  const spec = typeof body === 'object' && body !== null ? Reflect.get(body, 'spec') : undefined;
  const attributes =
    typeof spec === 'object' && spec !== null ? Reflect.get(spec, 'resourceAttributes') : undefined;
  const read = (key: string): string | undefined => {
    const value =
      typeof attributes === 'object' && attributes !== null ? Reflect.get(attributes, key) : undefined;
    return typeof value === 'string' ? value : undefined;
  };
  return {
    verb: read('verb') ?? '',
    group: read('group') ?? '',
    resource: read('resource') ?? '',
    ...(read('subresource') ? { subresource: read('subresource') } : {}),
    ...(read('namespace') ? { namespace: read('namespace') } : {}),
    ...(read('name') ? { name: read('name') } : {}),
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.from(chunk));
  if (chunks.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function status(res: ServerResponse, code: number, message: string): void {
  const reason = code === 403 ? 'Forbidden' : code === 404 ? 'NotFound' : 'BadRequest';
  json(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code });
}

/** A kubeconfig for the fake (plain HTTP on loopback needs insecure-skip-tls-verify in client-node). */
export function fakeKubeconfig(server: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: fake',
    '  cluster:',
    `    server: ${server}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: wheelhouse',
    '  user:',
    '    token: fake-token',
    'contexts:',
    '- name: fake',
    '  context:',
    '    cluster: fake',
    '    user: wheelhouse',
    'current-context: fake',
    '',
  ].join('\n');
}

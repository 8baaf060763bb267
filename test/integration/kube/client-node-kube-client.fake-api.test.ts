import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AccessReviewer } from '../../../src/kube/access-review.ts';
import { ClientNodeKubeClient } from '../../../src/kube/client-node-kube-client.ts';
import { KubeHttp } from '../../../src/kube/kube-http.ts';
import type { KubeIdentity } from '../../../src/kube/types.ts';
import { FakeApiServer, fakeKubeconfig, type RawObject } from './fake-api-server.ts';

const CREATED = '2026-11-25T07:00:00Z';
const alice: KubeIdentity = { user: 'alice', groups: ['wheelhouse:chat', 'system:authenticated'] };
const SSAR = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';

function rawPod(name: string, namespace: string, labels: Record<string, string>): RawObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels,
      creationTimestamp: CREATED,
      managedFields: [
        { manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } },
      ],
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"json"}', team: 'shop' },
    },
    spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'registry.local/app:1' }] },
    status: {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'app',
          image: 'registry.local/app:1',
          imageID: '',
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: CREATED } },
        },
      ],
    },
  };
}

function rawNamespace(name: string): RawObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, creationTimestamp: CREATED } };
}

function rawDeployment(name: string, namespace = 'shop'): RawObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, generation: 1, creationTimestamp: CREATED },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [] } },
    },
    status: {
      observedGeneration: 1,
      replicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      updatedReplicas: 2,
    },
  };
}

let server: FakeApiServer;
let url: string;
let clients: ClientNodeKubeClient[];

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(fakeKubeconfig(server));
  return kc;
}

function client(options: ConstructorParameters<typeof ClientNodeKubeClient>[1] = {}): ClientNodeKubeClient {
  const c = new ClientNodeKubeClient(kubeConfig(url), options);
  clients.push(c);
  return c;
}

const requests = (path: string) => server.seen.filter((r) => r.path === path);

beforeEach(async () => {
  server = new FakeApiServer();
  url = await server.start();
  clients = [];
  server.put('namespaces', rawNamespace('shop'), rawNamespace('payments'));
  server.put(
    'pods',
    rawPod('checkout-1', 'shop', { app: 'checkout' }),
    rawPod('checkout-2', 'shop', { app: 'checkout' }),
    rawPod('cart-1', 'shop', { app: 'cart' }),
    rawPod('cart-2', 'shop', { app: 'cart' }),
    rawPod('db-0', 'shop', { app: 'db' }),
    rawPod('pay-1', 'payments', { app: 'pay' }),
  );
  server.put('deployments', rawDeployment('checkout'));
  // RBAC of the fake: Wheelhouse reads everything; alice reads shop only.
  server.policy = (user, a) => user === undefined || (user === 'alice' && a.namespace === 'shop');
});

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.stop();
});

describe('ClientNodeKubeClient caches', () => {
  it('fills watch-fed caches page by page and serves reads from them', async () => {
    const kube = client({ listPageSize: 2 });
    await kube.start();
    expect(kube.ready()).toBe(true);
    const podLists = requests('/api/v1/pods').filter((r) => r.query.get('watch') !== 'true');
    expect(podLists.map((r) => r.query.get('continue'))).toEqual([null, '2', '4']);

    const pods = await kube.as(undefined).listPods({ namespace: 'shop', selector: 'app=checkout' });
    expect(pods.map((p) => p.metadata?.name).sort()).toEqual(['checkout-1', 'checkout-2']);
    expect(requests('/api/v1/namespaces/shop/pods')).toEqual([]);
  });

  it('keeps cached objects small and typed like API responses', async () => {
    const kube = client();
    await kube.start();
    const [pod] = await kube.as(undefined).listPods({ namespace: 'payments' });
    expect(pod?.metadata?.managedFields).toBeUndefined();
    expect(pod?.metadata?.annotations).toEqual({ team: 'shop' });
    expect(pod?.metadata?.creationTimestamp).toEqual(new Date(CREATED));
    expect(pod?.status?.containerStatuses?.[0]?.state?.running?.startedAt).toBeInstanceOf(Date);
  });

  it('follows the watch: added, modified and deleted objects', async () => {
    const kube = client();
    await kube.start();
    const reader = kube.as(undefined);
    await vi.waitFor(() => expect(server.watching('pods')).toBe(1), { timeout: 5000 });

    server.emit('pods', 'ADDED', rawPod('checkout-3', 'shop', { app: 'checkout' }));
    await vi.waitFor(
      async () =>
        expect((await reader.listPods({ namespace: 'shop', selector: 'app=checkout' })).length).toBe(3),
      { timeout: 5000 },
    );
    const added = (await reader.listPods({ namespace: 'shop' })).find(
      (p) => p.metadata?.name === 'checkout-3',
    );
    expect(added?.metadata?.managedFields).toBeUndefined();
    expect(added?.metadata?.creationTimestamp).toBeInstanceOf(Date);

    const modified = rawPod('checkout-3', 'shop', { app: 'checkout', version: 'v2' });
    server.emit('pods', 'MODIFIED', modified);
    await vi.waitFor(
      async () =>
        expect((await reader.listPods({ namespace: 'shop', selector: 'version=v2' })).length).toBe(1),
      { timeout: 5000 },
    );

    server.emit('pods', 'DELETED', modified);
    await vi.waitFor(
      async () =>
        expect((await reader.listPods({ namespace: 'shop', selector: 'app=checkout' })).length).toBe(2),
      { timeout: 5000 },
    );
  });

  it('asks the API server, as the user, whether cached reads are allowed, and reuses the answer', async () => {
    const kube = client();
    await kube.start();
    const reader = kube.as(alice, { requestId: 'req-42' });
    expect((await reader.listPods({ namespace: 'shop' })).length).toBe(5);
    await reader.listPods({ namespace: 'shop', selector: 'app=cart' });

    const reviews = requests(SSAR);
    expect(reviews).toHaveLength(1);
    expect(reviews[0]).toMatchObject({
      user: 'alice',
      groups: ['wheelhouse:chat', 'system:authenticated'],
      auditId: 'req-42',
      body: {
        spec: { resourceAttributes: { verb: 'list', group: '', resource: 'pods', namespace: 'shop' } },
      },
    });

    await expect(reader.listPods({ namespace: 'payments' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'Kubernetes does not allow alice to list pods in namespace payments.',
    });
    await expect(reader.listPods({})).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'Kubernetes does not allow alice to list pods across all namespaces.',
    });
    expect(requests(SSAR)).toHaveLength(3);
  });

  it('acts as Wheelhouse itself without access reviews or impersonation', async () => {
    const kube = client();
    await kube.start();
    await kube.as(undefined).listPods({ namespace: 'payments' });
    await kube.as(undefined).getWorkload({ kind: 'Deployment', namespace: 'shop', name: 'checkout' });
    expect(requests(SSAR)).toEqual([]);
    expect(server.seen.every((r) => r.user === undefined)).toBe(true);
  });

  it('asks the API server for objects the cache has not seen yet', async () => {
    const kube = client();
    await kube.start();
    server.put('deployments', rawDeployment('brand-new'));
    const workload = await kube
      .as(alice)
      .getWorkload({ kind: 'Deployment', namespace: 'shop', name: 'brand-new' });
    expect(workload.kind === 'Deployment' && workload.object.spec?.replicas).toBe(2);
    expect(requests('/apis/apps/v1/namespaces/shop/deployments/brand-new')[0]?.user).toBe('alice');
  });

  it('reports unknown namespaces and objects', async () => {
    const kube = client();
    await kube.start();
    await expect(kube.as(undefined).listPods({ namespace: 'nope' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'Namespace nope does not exist.',
    });
    await expect(
      kube.as(alice).getWorkload({ kind: 'Deployment', namespace: 'shop', name: 'ghost' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'deploy/ghost was not found in namespace shop.' });
    expect(kube.describeTarget()).toEqual({ server: url, context: 'fake' });
  });
});

describe('ClientNodeKubeClient direct requests (caches off)', () => {
  it('impersonates with every group and names what RBAC refused', async () => {
    const reader = client({ caches: false }).as(alice, { requestId: 'req-7' });
    expect((await reader.listPods({ namespace: 'shop' })).map((p) => p.metadata?.name)).toHaveLength(5);
    const [list] = requests('/api/v1/namespaces/shop/pods');
    expect(list).toMatchObject({
      user: 'alice',
      groups: ['wheelhouse:chat', 'system:authenticated'],
      auditId: 'req-7',
    });

    await expect(reader.listEvents({ namespace: 'payments' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'Kubernetes does not allow alice to list events in namespace payments.',
      hint: 'Ask a cluster admin for a RoleBinding in payments that grants list on events (for example the "view" ClusterRole).',
    });
    await expect(
      reader.readLog({ namespace: 'payments', pod: 'pay-1', container: 'app' }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'Kubernetes does not allow alice to get pods/log in namespace payments.',
    });
  });

  it('says when Wheelhouse may not act as the user at all', async () => {
    server.cannotImpersonate.add('mallory');
    const reader = client({ caches: false }).as({ user: 'mallory', groups: ['wheelhouse:chat'] });
    await expect(reader.listPods({ namespace: 'shop' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'Kubernetes does not let Wheelhouse act as mallory (groups wheelhouse:chat).',
    });
  });

  it('says a namespace does not exist instead of returning an empty list', async () => {
    const reader = client({ caches: false }).as(undefined);
    await expect(reader.listPods({ namespace: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await reader.listPods({ namespace: 'shop', selector: 'app=nothing' })).toEqual([]);
  });

  it('finds the pods of a workload by its selector', async () => {
    const reader = client({ caches: false }).as(alice);
    const pods = await reader.podsOf({ kind: 'Deployment', namespace: 'shop', name: 'checkout' });
    expect(pods.map((p) => p.metadata?.name).sort()).toEqual(['checkout-1', 'checkout-2']);
    expect(requests('/api/v1/namespaces/shop/pods')[0]?.query.get('labelSelector')).toBe('app=checkout');
  });

  it('reads logs with timestamps, tail and previous, and explains the ones that do not exist', async () => {
    server.logs.set(
      'shop/db-0/app/previous',
      '2026-11-25T07:59:00Z a\n2026-11-25T07:59:01Z b\n2026-11-25T07:59:02Z c\n',
    );
    const reader = client({ caches: false }).as(alice);
    const text = await reader.readLog({
      namespace: 'shop',
      pod: 'db-0',
      container: 'app',
      previous: true,
      tailLines: 2,
    });
    expect(text).toBe('2026-11-25T07:59:01Z b\n2026-11-25T07:59:02Z c\n');
    const query = requests('/api/v1/namespaces/shop/pods/db-0/log')[0]?.query;
    expect(Object.fromEntries(query ?? [])).toEqual({
      timestamps: 'true',
      container: 'app',
      previous: 'true',
      tailLines: '2',
    });

    await expect(
      reader.readLog({ namespace: 'shop', pod: 'cart-1', container: 'app', previous: true }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'pod/cart-1 has no previous (terminated) container app to read logs from.',
    });
    await expect(
      reader.readLog({ namespace: 'shop', pod: 'cart-1', container: 'app' }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message:
        'pod/cart-1 container app has no logs yet: container "app" in pod "cart-1" is waiting to start: ContainerCreating',
    });
    await expect(reader.readLog({ namespace: 'shop', pod: 'ghost', container: 'app' })).rejects.toMatchObject(
      {
        code: 'NOT_FOUND',
        message: 'pod/ghost was not found in namespace shop.',
      },
    );
  });

  it('reports an API server that does not answer in time', async () => {
    server.hang.add('/api/v1/namespaces/shop/pods');
    const reader = client({ caches: false, requestTimeoutMs: 300 }).as(undefined);
    await expect(reader.listPods({ namespace: 'shop' })).rejects.toMatchObject({
      code: 'KUBE_UNREACHABLE',
      message: `Could not reach the Kubernetes API server at ${url} (no answer within 0.3 s).`,
    });
  });

  it('reports an API server that is not there, naming its URL', async () => {
    const gone = new FakeApiServer();
    const goneUrl = await gone.start();
    await gone.stop();
    const kube = new ClientNodeKubeClient(kubeConfig(goneUrl), { caches: false });
    clients.push(kube);
    const error = await kube
      .as(undefined)
      .listNodes()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KUBE_UNREACHABLE' });
    expect(error instanceof Error && error.message).toMatch(
      new RegExp(`^Could not reach the Kubernetes API server at ${goneUrl} \\(ECONNREFUSED`),
    );
  });
});

describe('AccessReviewer', () => {
  it('reuses a decision for its TTL, then asks again; identical questions in flight share a request', async () => {
    let now = 0;
    const reviewer = new AccessReviewer(new KubeHttp(kubeConfig(url)), { ttlMs: 30_000, now: () => now });
    const op = { verb: 'list', group: '', resource: 'pods', namespace: 'shop' };
    expect(await Promise.all([reviewer.allowed(alice, op), reviewer.allowed(alice, op)])).toEqual([
      true,
      true,
    ]);
    expect(reviewer.requests).toBe(1);
    now += 29_000;
    await reviewer.allowed(alice, op);
    expect(reviewer.requests).toBe(1);
    now += 2_000;
    await reviewer.allowed(alice, op);
    expect(reviewer.requests).toBe(2);
    // Another identity, verb or namespace is another question.
    await reviewer.allowed({ user: 'alice', groups: [] }, op);
    await reviewer.allowed(alice, { ...op, namespace: 'payments' });
    expect(reviewer.requests).toBe(4);
  });
});

describe('ClientNodeKubeClient.create', () => {
  it('loads a kubeconfig file and context, and says which contexts exist when one is wrong', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wh-kube-'));
    try {
      const path = join(dir, 'kubeconfig');
      await writeFile(path, fakeKubeconfig(url));
      const kube = ClientNodeKubeClient.create({ kubeconfigPath: path, context: 'fake', caches: false });
      expect(kube.describeTarget()).toEqual({ server: url, context: 'fake' });
      expect(() => ClientNodeKubeClient.create({ kubeconfigPath: path, context: 'prod' })).toThrowError(
        expect.objectContaining({ code: 'CONFIG', hint: 'Known contexts: fake.' }),
      );
      expect(() => ClientNodeKubeClient.create({ kubeconfigPath: join(dir, 'missing') })).toThrowError(
        expect.objectContaining({ code: 'CONFIG' }),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

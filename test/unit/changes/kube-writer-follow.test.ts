import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChangeTarget, RolloutProgress } from '../../../src/changes/types.ts';
import { ClientNodeKubeWriter } from '../../../src/kube/client-node-kube-writer.ts';
import { KubeHttp } from '../../../src/kube/kube-http.ts';

/**
 * followRollout's watch / re-read / poll logic against a scripted API server on loopback. Every
 * answer is scripted per request, so the outcomes do not depend on timing.
 */
type Handler = (req: IncomingMessage, url: URL, res: ServerResponse) => void;

const target: ChangeTarget = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'shop',
  name: 'checkout',
};
const bob = { user: 'bob', groups: ['system:authenticated'] };
const OBJECT_PATH = '/apis/apps/v1/namespaces/shop/deployments/checkout';
const COLLECTION_PATH = '/apis/apps/v1/namespaces/shop/deployments';

function deployment(rv: string, status: Record<string, unknown>, generation = 2): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'checkout',
      namespace: 'shop',
      uid: 'dep-uid',
      resourceVersion: rv,
      generation,
      annotations: { 'deployment.kubernetes.io/revision': '5' },
    },
    spec: {
      replicas: 2,
      progressDeadlineSeconds: 10,
      selector: { matchLabels: { app: 'checkout' } },
      template: {
        metadata: { labels: { app: 'checkout' } },
        spec: { containers: [{ name: 'app', image: 'x:2' }] },
      },
    },
    status: { observedGeneration: generation, replicas: 2, ...status },
  };
}
const waiting = (rv: string) =>
  deployment(rv, { observedGeneration: 1, updatedReplicas: 0, readyReplicas: 2, availableReplicas: 2 });
const halfway = (rv: string) =>
  deployment(rv, { replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2 });
const done = (rv: string) => deployment(rv, { updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });

describe('ClientNodeKubeWriter.followRollout (scripted API server)', () => {
  let server: http.Server;
  let kube: KubeHttp;
  let handlers: Handler[];
  let seen: Array<{
    method: string;
    path: string;
    query: URLSearchParams;
    headers: IncomingMessage['headers'];
  }>;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      seen.push({
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
      });
      const handler = handlers.shift();
      if (!handler) {
        res.writeHead(500).end('{"message":"unexpected request"}');
        return;
      }
      handler(req, url, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'bot' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'bot' }],
      currentContext: 'fake',
    });
    kube = new KubeHttp(config, { timeoutMs: 5_000 });
  });

  afterAll(async () => {
    kube.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    handlers = [];
    seen = [];
  });

  const json =
    (body: unknown, status = 200): Handler =>
    (_req, _url, res) => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
  const get =
    (body: unknown): Handler =>
    (req, url, res) => {
      expect([req.method, url.pathname]).toEqual(['GET', OBJECT_PATH]);
      json(body)(req, url, res);
    };
  /** A watch answering with these events, then ending the stream. */
  const watch =
    (...events: Array<{ type: string; object: unknown }>): Handler =>
    (req, url, res) => {
      expect([req.method, url.pathname, url.searchParams.get('watch')]).toEqual([
        'GET',
        COLLECTION_PATH,
        'true',
      ]);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      for (const event of events) res.write(`${JSON.stringify(event)}\n`);
      res.end();
    };
  const writer = () =>
    new ClientNodeKubeWriter(kube, bob, { requestId: 'req-7', pollIntervalMs: 1, watchSeconds: 30 });

  it('reads once, then watches that one object from its resourceVersion, reporting each change until done', async () => {
    handlers = [
      get(waiting('10')),
      watch({ type: 'MODIFIED', object: halfway('11') }, { type: 'MODIFIED', object: done('12') }),
    ];
    const progress: RolloutProgress[] = [];
    const result = await writer().followRollout(target, {
      timeoutSeconds: 60,
      onProgress: (p) => progress.push(p),
    });

    expect(result).toMatchObject({ phase: 'done', desired: 2, updated: 2, ready: 2, available: 2 });
    expect(progress.map((p) => p.phase)).toEqual(['progressing', 'progressing', 'done']);
    expect(progress[1]?.updated).toBe(1);
    const watchRequest = seen[1];
    expect(watchRequest?.query.get('fieldSelector')).toBe('metadata.name=checkout');
    expect(watchRequest?.query.get('resourceVersion')).toBe('10');
    expect(watchRequest?.query.get('timeoutSeconds')).toBe('30');
    expect(watchRequest?.headers['impersonate-user']).toBe('bob');
    expect(watchRequest?.headers['audit-id']).toBe('req-7');
    expect(seen).toHaveLength(2);
  });

  it('does not report the same progress twice', async () => {
    handlers = [
      get(halfway('10')),
      watch(
        { type: 'MODIFIED', object: halfway('11') }, // only the resourceVersion moved
        { type: 'MODIFIED', object: done('12') },
      ),
    ];
    const progress: RolloutProgress[] = [];
    await writer().followRollout(target, { timeoutSeconds: 60, onProgress: (p) => progress.push(p) });
    expect(progress.map((p) => p.phase)).toEqual(['progressing', 'done']);
  });

  it('re-reads the object when the watch ends or reports an error (410 Gone), then watches again', async () => {
    handlers = [
      get(waiting('10')),
      watch(), // the server ended the watch (its timeout)
      get(halfway('20')),
      watch({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } }),
      get(halfway('30')),
      watch({ type: 'MODIFIED', object: done('31') }),
    ];
    const result = await writer().followRollout(target, { timeoutSeconds: 60 });
    expect(result.phase).toBe('done');
    expect(
      seen.filter((r) => r.query.get('watch') === 'true').map((r) => r.query.get('resourceVersion')),
    ).toEqual(['10', '20', '30']);
  });

  it('falls back to reading the object every interval when the identity may not watch', async () => {
    handlers = [
      get(waiting('10')),
      json(
        {
          kind: 'Status',
          code: 403,
          message: 'deployments.apps is forbidden: User "bob" cannot watch resource "deployments"',
        },
        403,
      ),
      get(halfway('11')),
      get(done('12')),
    ];
    const progress: RolloutProgress[] = [];
    const result = await writer().followRollout(target, {
      timeoutSeconds: 60,
      onProgress: (p) => progress.push(p),
    });
    expect(result.phase).toBe('done');
    expect(progress.map((p) => p.updated)).toEqual([0, 1, 2]);
    expect(seen.map((r) => (r.query.get('watch') ? 'watch' : 'get'))).toEqual(['get', 'watch', 'get', 'get']);
  });

  it('fails when the object is deleted during the rollout', async () => {
    handlers = [get(halfway('10')), watch({ type: 'DELETED', object: halfway('11') })];
    const result = await writer().followRollout(target, { timeoutSeconds: 60 });
    expect(result.phase).toBe('failed');
    expect(result.message).toBe('deploy/checkout was deleted while its rollout was followed');
  });

  it('on ProgressDeadlineExceeded names the newest ReplicaSet’s pods that are not ready', async () => {
    const failed = deployment('40', {
      replicas: 3,
      updatedReplicas: 1,
      readyReplicas: 2,
      availableReplicas: 2,
      conditions: [
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: 'ReplicaSet "checkout-new" has timed out progressing.',
        },
      ],
    });
    const replicaSet = (name: string, revision: string, hash: string) => ({
      metadata: {
        name,
        uid: `${name}-uid`,
        annotations: { 'deployment.kubernetes.io/revision': revision },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout', uid: 'dep-uid', controller: true },
        ],
      },
      spec: { selector: { matchLabels: { app: 'checkout', 'pod-template-hash': hash } } },
    });
    const pod = (name: string, owner: string, ready: boolean) => ({
      metadata: {
        name,
        creationTimestamp: new Date().toISOString(),
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: `${owner}-uid`, controller: true },
        ],
      },
      spec: { containers: [{ name: 'app', image: 'x:never-ready' }] },
      status: {
        phase: 'Running',
        conditions: [
          ready
            ? { type: 'Ready', status: 'True' }
            : {
                type: 'Ready',
                status: 'False',
                reason: 'ContainersNotReady',
                message: 'containers with unready status: [app]',
              },
        ],
      },
    });
    handlers = [
      get(failed),
      (req, url, res) => {
        expect([url.pathname, url.searchParams.get('labelSelector')]).toEqual([
          '/apis/apps/v1/namespaces/shop/replicasets',
          'app=checkout',
        ]);
        json({ items: [replicaSet('checkout-old', '4', 'aaa'), replicaSet('checkout-new', '5', 'bbb')] })(
          req,
          url,
          res,
        );
      },
      (req, url, res) => {
        expect([url.pathname, url.searchParams.get('labelSelector')]).toEqual([
          '/api/v1/namespaces/shop/pods',
          'app=checkout,pod-template-hash=bbb',
        ]);
        json({
          items: [pod('checkout-new-1', 'checkout-new', false), pod('checkout-old-1', 'checkout-old', false)],
        })(req, url, res);
      },
    ];
    const result = await writer().followRollout(target, { timeoutSeconds: 60 });
    expect(result.phase).toBe('failed');
    expect(result.problems).toEqual([
      'pod checkout-new-1: Running, not ready (ContainersNotReady: containers with unready status: [app])',
    ]);
    expect(result.message).toBe(
      'deploy/checkout exceeded its progress deadline of 10s: ReplicaSet "checkout-new" has timed out progressing. (1/2 updated, 2 ready, 2 available). Not ready: pod checkout-new-1: Running, not ready (ContainersNotReady: containers with unready status: [app])',
    );
  });

  it('refuses kinds without a rollout', async () => {
    await expect(
      writer().followRollout({ ...target, resource: 'pods', group: '', kind: 'Pod' }, { timeoutSeconds: 5 }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', message: 'pod/checkout has no rollout to follow.' });
    expect(seen).toHaveLength(0);
  });

  it('rejects with the abort reason when the signal is already aborted', async () => {
    const reason = new Error('shutting down');
    await expect(
      writer().followRollout(target, { timeoutSeconds: 5, signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
  });
});

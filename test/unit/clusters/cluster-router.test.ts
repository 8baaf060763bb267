import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createClusterRouter, takeClusterFlag } from '../../../src/clusters/cluster-router.ts';
import { WheelhouseError } from '../../../src/errors.ts';
import type { ChatRequest, Reply, RequestHandler } from '../../../src/runner/types.ts';
import type { Actor } from '../../../src/skills/context.ts';
import { SqliteStore } from '../../../src/store/sqlite-store.ts';
import { approval } from '../../support/approval-spec.ts';

const ana: Actor = { surface: 'slack', id: 'U-ANA', channel: 'C0OTHER', kube: { user: 'ana', groups: [] } };

/** A cluster's chain that answers with what it was asked, and a Promote button; or fails with `error`. */
function echo(name: string, seen: string[], error?: WheelhouseError): RequestHandler {
  return {
    async handle(request: ChatRequest): Promise<Reply> {
      seen.push(`${name}: ${request.text}`);
      if (error) return { ok: false, requestId: 'r', skill: 'pods-list', durationMs: 1, error };
      return {
        ok: true,
        requestId: 'r',
        skill: 'pods-list',
        durationMs: 1,
        result: {
          summary: `${name} answered`,
          sections: [{ type: 'actions', actions: [{ label: 'Promote', command: 'canary promote c1' }] }],
        },
      };
    },
  };
}

function router(options: { only?: boolean; failProd?: WheelhouseError } = {}) {
  const store = new SqliteStore(':memory:');
  const seen: string[] = [];
  const status =
    (server: string, pending: Array<{ resource: string; error: string | undefined }> = []) =>
    () => ({ server, context: 'admin', pending });
  const clusters = [
    { name: 'mgmt', channels: ['C0MGMT'], handler: echo('mgmt', seen), status: status('https://mgmt:6443') },
    {
      name: 'prod',
      channels: ['C0PROD'],
      handler: echo('prod', seen, options.failProd),
      status: status('https://prod:6443', [{ resource: 'pods', error: 'connect ECONNREFUSED' }]),
    },
  ];
  const handler = createClusterRouter({
    clusters: options.only ? clusters.slice(0, 1) : clusters,
    defaultCluster: 'mgmt',
    home: 'mgmt',
    approvals: store.approvals,
    audit: store.audit,
    logger: pino({ level: 'silent' }),
  });
  const ask = (text: string, actor: Actor = ana) => handler.handle({ text, actor, requestId: 'req-1' });
  return { store, seen, ask };
}

describe('takeClusterFlag', () => {
  it('takes --cluster NAME or --cluster=NAME from anywhere in the text', () => {
    expect(takeClusterFlag('pods -n shop --cluster prod')).toEqual({
      kind: 'given',
      text: 'pods -n shop',
      cluster: 'prod',
    });
    expect(takeClusterFlag('/wh --cluster=Prod pods -n shop')).toEqual({
      kind: 'given',
      text: '/wh pods -n shop',
      cluster: 'prod',
    });
    expect(takeClusterFlag('pods -n shop')).toEqual({
      kind: 'given',
      text: 'pods -n shop',
      cluster: undefined,
    });
    expect(takeClusterFlag('pods --cluster')).toEqual({ kind: 'missing', text: 'pods --cluster' });
    expect(takeClusterFlag('pods --cluster -n shop').kind).toBe('missing');
  });
});

describe('the cluster router', () => {
  it('routes by --cluster first, then the channel, then the default', async () => {
    const { seen, ask } = router();
    await ask('pods -n shop --cluster prod', { ...ana, channel: 'C0MGMT' });
    await ask('pods -n shop', { ...ana, channel: 'C0PROD' });
    await ask('pods -n shop');
    expect(seen).toEqual(['prod: pods -n shop', 'prod: pods -n shop', 'mgmt: pods -n shop']);
  });

  it('marks answers with their cluster and makes every button name it', async () => {
    const { ask } = router();
    const reply = await ask('canary status --cluster prod');
    expect(reply.ok && reply.result.cluster).toBe('prod');
    expect(reply.ok && reply.result.sections[0]).toEqual({
      type: 'actions',
      actions: [{ label: 'Promote', command: 'canary promote c1 --cluster prod' }],
    });
  });

  it('leaves answers as they are when it serves one cluster', async () => {
    const { ask } = router({ only: true });
    const reply = await ask('canary status');
    expect(reply.ok && reply.result.cluster).toBeUndefined();
    expect(reply.ok && reply.result.sections[0]).toMatchObject({
      actions: [{ command: 'canary promote c1' }],
    });
  });

  it('sends a vote to the cluster of the change it is for, whatever the channel', async () => {
    const { store, seen, ask } = router();
    await store.approvals.create({ ...approval('a1'), where: { surface: 'slack', cluster: 'prod' } });
    await store.approvals.create(approval('a-old'));
    await ask('approve a1', { ...ana, channel: 'C0MGMT' });
    await ask('deny a-old not now', { ...ana, channel: 'C0PROD' });
    expect(seen).toEqual(['prod: approve a1', 'mgmt: deny a-old not now']);
  });

  it('answers an unknown cluster with the known ones, audited, and asks nobody', async () => {
    const { store, seen, ask } = router();
    const reply = await ask('pods -n shop --cluster prd');
    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    expect(reply.error.code).toBe('NOT_FOUND');
    expect(reply.error.message).toBe('There is no cluster "prd".');
    expect(reply.error.hint).toMatch(/Did you mean `prod`\?.*Known clusters: mgmt, prod/);
    expect(seen).toEqual([]);
    const [record] = await store.audit.tail(1);
    expect(record).toMatchObject({
      outcome: 'error',
      errorCode: 'NOT_FOUND',
      text: 'pods -n shop --cluster prd',
    });
  });

  it('says which cluster an error came from, and that the others still answer', async () => {
    const down = new WheelhouseError('KUBE_UNREACHABLE', 'I cannot reach the Kubernetes API server.');
    const { ask } = router({ failProd: down });
    const reply = await ask('pods -n shop --cluster prod');
    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    expect(reply.error.message).toBe('Cluster prod: I cannot reach the Kubernetes API server.');
    expect(reply.error.hint).toMatch(/Other clusters are not affected/);
    expect((await ask('pods -n shop --cluster mgmt')).ok).toBe(true);
  });

  it('lists the clusters with their state for `clusters`', async () => {
    const { ask } = router();
    const reply = await ask('/wh clusters');
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    expect(reply.result.summary).toBe('2 clusters, 1 not ready');
    expect(reply.result.sections[0]).toMatchObject({
      type: 'table',
      rows: [
        ['mgmt (default)', 'https://mgmt:6443', 'admin', 'C0MGMT', 'ready'],
        ['prod', 'https://prod:6443', 'admin', 'C0PROD', 'not synced: pods (connect ECONNREFUSED)'],
      ],
    });
  });

  it('refuses --cluster without a name', async () => {
    const { ask } = router();
    const reply = await ask('pods --cluster');
    expect(!reply.ok && reply.error.code).toBe('GRAMMAR');
  });

  it('adds the clusters to help', async () => {
    const { ask } = router();
    const reply = await ask('help');
    expect(reply.ok && JSON.stringify(reply.result.sections)).toMatch(
      /Clusters: mgmt, prod \(default mgmt\)/,
    );
  });
});

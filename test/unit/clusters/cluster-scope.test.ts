import { describe, expect, it } from 'vitest';
import { verifyChain } from '../../../src/audit/audit-record.ts';
import { scopeStore } from '../../../src/clusters/cluster-scope.ts';
import { SqliteStore } from '../../../src/store/sqlite-store.ts';
import { approval } from '../../support/approval-spec.ts';

const NOW = new Date('2026-11-25T09:00:00Z');

function stores() {
  const store = new SqliteStore(':memory:');
  const scope = (name: string, tag = true) => scopeStore(store, { name, home: 'mgmt', tag });
  return { store, mgmt: scope('mgmt'), prod: scope('prod') };
}

describe('a cluster scope of the store', () => {
  it("keeps each cluster's runs apart, with the own cluster's stored under the plain kind", async () => {
    const { store, mgmt, prod } = stores();
    await mgmt.runs.create(
      { id: 'm1', kind: 'canary', key: 'shop/checkout', status: 'active', state: {} },
      NOW,
    );
    const p1 = await prod.runs.create(
      { id: 'p1', kind: 'canary', key: 'shop/checkout', status: 'active', state: {} },
      NOW,
    );
    // The same natural key on two clusters is two runs.
    expect(p1?.kind).toBe('canary');
    expect((await store.runs.list('canary')).map((r) => r.id)).toEqual(['m1']);
    expect((await store.runs.list('canary@prod')).map((r) => r.id)).toEqual(['p1']);
    expect((await prod.runs.list('canary')).map((r) => r.id)).toEqual(['p1']);
    expect((await prod.runs.byKey('canary', 'shop/checkout'))?.id).toBe('p1');
    // By id, another cluster's run does not exist: a command routed to one cluster cannot step the other's.
    expect(await mgmt.runs.get('p1')).toBeUndefined();
    expect(await prod.runs.get('m1')).toBeUndefined();
    expect(await mgmt.runs.update('p1', 1, { status: 'done' }, NOW)).toBeUndefined();
    expect((await store.runs.get('p1'))?.status).toBe('active');
    expect((await prod.runs.update('p1', 1, { status: 'done' }, NOW))?.kind).toBe('canary');
  });

  it("tags approvals with their cluster and hides another cluster's from votes and transitions", async () => {
    const { store, mgmt, prod } = stores();
    await prod.approvals.create(approval('a-prod'));
    await mgmt.approvals.create(approval('a-mgmt'));
    // Stored before clusters had names: the bot's own cluster's.
    await store.approvals.create(approval('a-old'));
    expect((await store.approvals.get('a-prod'))?.where.cluster).toBe('prod');
    expect((await prod.approvals.pending()).map((a) => a.id)).toEqual(['a-prod']);
    expect((await mgmt.approvals.pending()).map((a) => a.id).sort()).toEqual(['a-mgmt', 'a-old']);
    expect(await mgmt.approvals.get('a-prod')).toBeUndefined();
    expect(await mgmt.approvals.vote('a-prod', 'U-ANA', NOW)).toEqual({
      kind: 'rejected',
      reason: 'unknown',
    });
    expect(await mgmt.approvals.deny('a-prod', 'U-ANA', 'no', NOW)).toBe(false);
    expect(await mgmt.approvals.transition('a-prod', 'pending', 'voided')).toBe(false);
    expect((await store.approvals.get('a-prod'))?.status).toBe('pending');
    expect(await prod.approvals.vote('a-prod', 'U-ANA', NOW)).toMatchObject({ kind: 'approved' });
    // The message's place is remembered without losing the cluster.
    await prod.approvals.setMessage('a-prod', { surface: 'slack', channel: 'C9', messageTs: '1.2' });
    expect((await store.approvals.get('a-prod'))?.where).toEqual({
      surface: 'slack',
      channel: 'C9',
      messageTs: '1.2',
      cluster: 'prod',
    });
  });

  it('names the cluster in every audit entry when tagging, and leaves a single cluster untouched', async () => {
    const store = new SqliteStore(':memory:');
    const entry = {
      type: 'request',
      requestId: 'r1',
      time: NOW.toISOString(),
      actor: { surface: 'console', id: 'ana' },
      text: 'pods -n shop',
      plan: null,
      skill: 'pods-list',
      input: null,
      outcome: 'ok' as const,
      errorCode: null,
      message: 'ok',
      durationMs: 1,
    };
    await scopeStore(store, { name: 'prod', home: 'mgmt', tag: true }).audit.append(entry);
    await scopeStore(store, { name: 'mgmt', home: 'mgmt', tag: false }).audit.append(entry);
    const records = await store.audit.tail(2);
    expect(records.map((r) => r.cluster)).toEqual(['prod', undefined]);
    // The cluster is part of the hashed record: the chain still verifies after reading it back.
    expect(await verifyChain(store.audit.all())).toMatchObject({ ok: true, checked: 2 });
  });
});

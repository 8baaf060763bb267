import { describe, expect, it } from 'vitest';
import type { ApprovalRecord } from '../../src/approvals/types.ts';
import type { Store } from '../../src/store/types.ts';

const T0 = new Date('2026-11-25T09:00:00Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

/** A pending approval requested by U-REQ, needing `quorum` votes, expiring after 30 minutes. */
export function approval(id: string, quorum = 1): ApprovalRecord {
  return {
    id,
    requestId: `req-${id}`,
    status: 'pending',
    requester: { id: 'U-REQ', kubeUser: 'bob', kubeGroups: ['wheelhouse:chat'] },
    skill: 'workload-deploy',
    input: { target: 'deploy/checkout', namespace: 'shop', image: 'registry/checkout:v2' },
    summary: 'set image of deploy/checkout to registry/checkout:v2 in shop',
    previewHash: 'a'.repeat(64),
    required: { group: 'wheelhouse:approvers', quorum },
    approvals: [],
    createdAt: T0.toISOString(),
    expiresAt: minutes(30).toISOString(),
    where: { surface: 'slack', channel: 'C1' },
  };
}

/** The same specification for every store: votes, quorum, expiry and exactly-once transitions. */
export function describeApprovals(name: string, open: () => Promise<Store>): void {
  describe(`${name} approvals`, () => {
    it('never lets the requester approve their own change', async () => {
      const store = await open();
      await store.approvals.create(approval('a1'));
      expect(await store.approvals.vote('a1', 'U-REQ', minutes(1))).toMatchObject({
        kind: 'rejected',
        reason: 'self-approval',
      });
      expect((await store.approvals.get('a1'))?.status).toBe('pending');
      await store.close();
    });

    it('needs N distinct approvers for an N-of-M quorum', async () => {
      const store = await open();
      await store.approvals.create(approval('a2', 2));
      expect(await store.approvals.vote('a2', 'U-ANA', minutes(1))).toMatchObject({
        kind: 'recorded',
        remaining: 1,
      });
      expect(await store.approvals.vote('a2', 'U-ANA', minutes(2))).toMatchObject({
        kind: 'rejected',
        reason: 'already-voted',
      });
      const second = await store.approvals.vote('a2', 'U-CY', minutes(3));
      expect(second).toMatchObject({ kind: 'approved' });
      const stored = await store.approvals.get('a2');
      expect(stored?.status).toBe('approved');
      expect(stored?.approvals.map((a) => a.id)).toEqual(['U-ANA', 'U-CY']);
      await store.close();
    });

    it('treats an expired approval as denied, never approved', async () => {
      const store = await open();
      await store.approvals.create(approval('a3'));
      expect(await store.approvals.vote('a3', 'U-ANA', minutes(31))).toMatchObject({
        kind: 'rejected',
        reason: 'expired',
      });
      expect((await store.approvals.get('a3'))?.status).toBe('expired');
      await store.close();
    });

    it('expires overdue pending approvals in one sweep', async () => {
      const store = await open();
      await store.approvals.create(approval('a4'));
      await store.approvals.create({ ...approval('a5'), expiresAt: minutes(60).toISOString() });
      const expired = await store.approvals.expire(minutes(45));
      expect(expired.map((r) => [r.id, r.status])).toEqual([['a4', 'expired']]);
      expect((await store.approvals.pending()).map((r) => r.id)).toEqual(['a5']);
      await store.close();
    });

    it('does not take votes after a denial', async () => {
      const store = await open();
      await store.approvals.create(approval('a6'));
      expect(await store.approvals.deny('a6', 'U-ANA', 'not during the sale', minutes(1))).toBe(true);
      expect(await store.approvals.deny('a6', 'U-CY', 'again', minutes(2))).toBe(false);
      expect(await store.approvals.vote('a6', 'U-CY', minutes(2))).toMatchObject({
        kind: 'rejected',
        reason: 'not-pending',
      });
      expect(await store.approvals.get('a6')).toMatchObject({ status: 'denied', decidedBy: 'U-ANA' });
      await store.close();
    });

    it('lets exactly one of many concurrent callers start the execution', async () => {
      const store = await open();
      await store.approvals.create(approval('a7'));
      await store.approvals.vote('a7', 'U-ANA', minutes(1));
      const wins = await Promise.all(
        Array.from({ length: 10 }, () => store.approvals.transition('a7', 'approved', 'executing')),
      );
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect((await store.approvals.get('a7'))?.status).toBe('executing');
      await store.close();
    });

    it('counts concurrent clicks of different approvers once each', async () => {
      const store = await open();
      await store.approvals.create(approval('a8', 3));
      const results = await Promise.all(
        ['U-1', 'U-2', 'U-3', 'U-1', 'U-2'].map((id) => store.approvals.vote('a8', id, minutes(1))),
      );
      expect(results.filter((r) => r.kind === 'approved')).toHaveLength(1);
      expect((await store.approvals.get('a8'))?.approvals).toHaveLength(3);
      await store.close();
    });

    it('remembers where the approval message is', async () => {
      const store = await open();
      await store.approvals.create(approval('a9'));
      await store.approvals.setMessage('a9', {
        surface: 'slack',
        channel: 'C1',
        messageTs: '1700000000.0001',
      });
      expect((await store.approvals.get('a9'))?.where.messageTs).toBe('1700000000.0001');
      expect(await store.approvals.vote('missing', 'U-1', minutes(1))).toEqual({
        kind: 'rejected',
        reason: 'unknown',
      });
      await store.close();
    });

    it('reminds once, and only while the approval is pending', async () => {
      const store = await open();
      await store.approvals.create(approval('r1'));
      await store.approvals.create(approval('r2'));
      const results = await Promise.all([
        store.approvals.markReminded('r1', minutes(26)),
        store.approvals.markReminded('r1', minutes(26)),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.approvals.get('r1'))?.remindedAt).toBe(minutes(26).toISOString());
      expect(await store.approvals.markReminded('r1', minutes(27))).toBe(false);
      await store.approvals.deny('r2', 'U-ANA', 'not now', minutes(1));
      expect(await store.approvals.markReminded('r2', minutes(26))).toBe(false);
      expect(await store.approvals.markReminded('missing', minutes(26))).toBe(false);
      await store.close();
    });
  });
}

import pino from 'pino';
import { expect, it } from 'vitest';
import { startApprovalSweeper } from '../../../src/approvals/expiry-sweeper.ts';
import { SqliteStore } from '../../../src/store/sqlite-store.ts';
import { approval } from '../../support/approval-spec.ts';

it('expires overdue approvals, audits each, and tells the surface', async () => {
  const store = new SqliteStore(':memory:');
  await store.approvals.create(approval('old'));
  await store.approvals.create({ ...approval('fresh'), expiresAt: '2026-11-25T12:00:00.000Z' });
  const told: string[] = [];
  const sweeper = startApprovalSweeper({
    approvals: store.approvals,
    audit: store.audit,
    logger: pino({ level: 'silent' }),
    intervalMs: 3_600_000,
    now: () => new Date('2026-11-25T10:00:00Z'),
    onExpired: async (r) => {
      told.push(r.id);
    },
  });
  expect(await sweeper.sweep()).toBe(1);
  expect(await sweeper.sweep()).toBe(0);
  sweeper.stop();
  expect(told).toEqual(['old']);
  expect((await store.approvals.get('old'))?.status).toBe('expired');
  expect((await store.approvals.get('fresh'))?.status).toBe('pending');
  const [record] = await store.audit.tail(1);
  expect(record).toMatchObject({ type: 'approval.expired', requestId: 'req-old', outcome: 'denied' });
  await store.close();
});

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

it('reminds approvers once shortly before expiry, and not the ones with time left', async () => {
  const store = new SqliteStore(':memory:');
  // approval() expires at 09:30.
  await store.approvals.create(approval('soon'));
  await store.approvals.create({ ...approval('later'), expiresAt: '2026-11-25T12:00:00.000Z' });
  let clock = new Date('2026-11-25T09:20:00Z');
  const reminded: string[] = [];
  const sweeper = startApprovalSweeper({
    approvals: store.approvals,
    audit: store.audit,
    logger: pino({ level: 'silent' }),
    intervalMs: 3_600_000,
    now: () => clock,
    remindBeforeMs: 5 * 60_000,
    onReminder: async (r) => {
      reminded.push(r.id);
    },
  });
  await sweeper.sweep();
  expect(reminded).toEqual([]);
  clock = new Date('2026-11-25T09:26:00Z');
  await sweeper.sweep();
  await sweeper.sweep();
  expect(reminded).toEqual(['soon']);
  expect((await store.approvals.get('soon'))?.status).toBe('pending');
  clock = new Date('2026-11-25T09:31:00Z');
  expect(await sweeper.sweep()).toBe(1);
  expect(reminded).toEqual(['soon']);
  sweeper.stop();
  await store.close();
});

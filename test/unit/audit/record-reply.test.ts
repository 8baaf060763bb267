import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../src/audit/audit-record.ts';
import { recordReply, replyOutcome } from '../../../src/audit/record-reply.ts';
import { WheelhouseError } from '../../../src/errors.ts';
import type { Reply } from '../../../src/runner/types.ts';
import { SqliteStore } from '../../../src/store/sqlite-store.ts';

const entry: AuditEntry = {
  type: 'canary.command.promote',
  requestId: 'r1',
  time: '2026-11-25T09:00:00.000Z',
  actor: { surface: 'slack', id: 'U-ANA' },
  text: 'canary promote c1',
  plan: null,
  skill: null,
  input: null,
  outcome: 'ok',
  errorCode: null,
  message: 'Promoting',
  durationMs: 3,
};
const answer: Reply = {
  ok: true,
  requestId: 'r1',
  skill: 'x',
  durationMs: 3,
  result: { summary: 'Promoting', sections: [] },
};
const silent = { error: () => undefined };

describe('recordReply', () => {
  it('gives the answer once its record is in the chain', async () => {
    const store = new SqliteStore(':memory:');
    expect(await recordReply(store.audit, entry, answer, silent)).toBe(answer);
    expect((await store.audit.tail(5)).map((r) => r.requestId)).toEqual(['r1']);
  });

  it('refuses to answer when the record cannot be written, saying what happened anyway', async () => {
    const logged: unknown[] = [];
    const broken = {
      append: async () => {
        throw new Error('disk full');
      },
      tail: async () => [],
      all: async function* () {},
    };
    const reply = await recordReply(
      broken,
      entry,
      answer,
      { error: (o: unknown) => logged.push(o) },
      {
        message: 'I could not write the audit record of this silence.',
        hint: 'The silence exists in Alertmanager.',
      },
    );
    expect(reply).toMatchObject({ ok: false, requestId: 'r1', skill: 'x', durationMs: 3 });
    expect(!reply.ok && [reply.error.code, reply.error.message, reply.error.hint]).toEqual([
      'AUDIT_UNAVAILABLE',
      'I could not write the audit record of this silence.',
      'The silence exists in Alertmanager.',
    ]);
    expect(logged).toHaveLength(1);
    const plain = await recordReply(broken, entry, answer, silent);
    expect(!plain.ok && plain.error.message).toBe(
      'I could not write the audit record, so I am not answering.',
    );
  });

  it('records refusals by policy or RBAC as denied, other errors as error', () => {
    const failed = (code: 'POLICY_DENIED' | 'FORBIDDEN' | 'NOT_FOUND') => ({
      ok: false as const,
      error: new WheelhouseError(code, 'x'),
    });
    expect([
      replyOutcome({ ok: true }),
      replyOutcome(failed('POLICY_DENIED')),
      replyOutcome(failed('FORBIDDEN')),
      replyOutcome(failed('NOT_FOUND')),
    ]).toEqual(['ok', 'denied', 'denied', 'error']);
  });
});

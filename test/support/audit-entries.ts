import type { AuditEntry } from '../../src/audit/audit-record.ts';

/** A plausible audit entry; `n` varies the request id and text. */
export function auditEntry(n: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    type: 'request',
    requestId: `req-${n}`,
    time: new Date(Date.UTC(2026, 10, 25, 8, 0, n)).toISOString(),
    actor: { surface: 'slack', id: 'U1', channel: 'C1', kubeUser: 'alice', kubeGroups: ['devs'] },
    text: `/wh pods shop ${n}`,
    plan: { steps: [{ skill: 'pods-list', input: { namespace: 'shop' } }] },
    skill: 'pods-list',
    input: { namespace: 'shop' },
    outcome: 'ok',
    errorCode: null,
    message: `${n} pods`,
    durationMs: n,
    ...overrides,
  };
}

import type { ApprovalRecord, VoteResult } from './types.ts';

/**
 * The rules of one vote, pure so both stores share them inside their own transaction:
 * only pending and unexpired approvals take votes, the requester never approves their own change,
 * nobody counts twice, and the quorum flips the record to approved.
 */
export function castVote(
  record: ApprovalRecord,
  approverId: string,
  now: Date,
): { next?: ApprovalRecord; result: VoteResult } {
  if (record.status !== 'pending') return { result: { kind: 'rejected', reason: 'not-pending', record } };
  if (now.getTime() >= Date.parse(record.expiresAt)) {
    return {
      next: { ...record, status: 'expired' },
      result: { kind: 'rejected', reason: 'expired', record },
    };
  }
  if (approverId === record.requester.id)
    return { result: { kind: 'rejected', reason: 'self-approval', record } };
  if (record.approvals.some((a) => a.id === approverId)) {
    return { result: { kind: 'rejected', reason: 'already-voted', record } };
  }
  const approvals = [...record.approvals, { id: approverId, at: now.toISOString() }];
  if (approvals.length >= record.required.quorum) {
    const next: ApprovalRecord = { ...record, approvals, status: 'approved', decidedBy: approverId };
    return { next, result: { kind: 'approved', record: next } };
  }
  const next: ApprovalRecord = { ...record, approvals };
  return {
    next,
    result: { kind: 'recorded', record: next, remaining: record.required.quorum - approvals.length },
  };
}

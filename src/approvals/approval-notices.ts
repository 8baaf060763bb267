import type { SkillResult } from '../skills/result.ts';
import type { ApprovalRecord } from './types.ts';

/** Who may approve, as people read it. */
export function approversText(required: ApprovalRecord['required']): string {
  const from = required.users?.length ? required.users.join(', ') : `group ${required.group ?? '(none)'}`;
  return `${required.quorum} from ${from}`;
}

/** The nudge shortly before expiry, with the buttons again so nobody has to scroll up. */
export function reminderNotice(record: ApprovalRecord, now: Date): SkillResult {
  const minutes = Math.max(0, Math.round((Date.parse(record.expiresAt) - now.getTime()) / 60_000));
  return {
    summary: `Waiting for approval: ${record.summary} — expires in ${minutes} min (expired means denied).`,
    tone: 'warning',
    sections: [
      {
        type: 'fields',
        fields: [
          { label: 'Requested by', value: record.requester.name ?? record.requester.id },
          { label: 'Approvers', value: approversText(record.required) },
          { label: 'Approved so far', value: String(record.approvals.length) },
          { label: 'Approval id', value: record.id },
        ],
      },
      {
        type: 'actions',
        actions: [
          { label: 'Approve', command: `approve ${record.id}`, style: 'primary' },
          { label: 'Deny', command: `deny ${record.id}`, style: 'danger' },
        ],
      },
    ],
  };
}

/** What the requester and approvers see when nobody decided in time. */
export function expiredNotice(record: ApprovalRecord): SkillResult {
  return {
    summary: `Expired without approval: ${record.summary}. Nothing was changed; ask again for a fresh preview.`,
    tone: 'info',
    sections: [
      {
        type: 'fields',
        fields: [
          { label: 'Requested by', value: record.requester.name ?? record.requester.id },
          { label: 'Approved', value: `${record.approvals.length} of ${record.required.quorum}` },
          { label: 'Approval id', value: record.id },
        ],
      },
    ],
  };
}

import type { Logger } from 'pino';
import type { AuditLog } from '../store/types.ts';
import type { ApprovalRecord, ApprovalStore } from './types.ts';

export interface ApprovalSweeperOptions {
  approvals: ApprovalStore;
  audit: AuditLog;
  logger: Logger;
  /** @default 15_000 */
  intervalMs?: number | undefined;
  now?: (() => Date) | undefined;
  /** Told about each approval that just expired, e.g. to update its chat message. */
  onExpired?: ((record: ApprovalRecord) => Promise<void>) | undefined;
  /** How long before expiry approvers are reminded, once; 0 turns reminders off. @default 5 minutes */
  remindBeforeMs?: number | undefined;
  /** Told about each approval about to expire, e.g. to nudge the approvers in chat. */
  onReminder?: ((record: ApprovalRecord) => Promise<void>) | undefined;
}

/**
 * Reminds approvers shortly before an approval expires, then expires overdue approvals (expired means denied, never approved) and records each expiry in
 * the audit chain. Runs in the background; `sweep()` is exposed for tests and for start-up.
 */
export function startApprovalSweeper(options: ApprovalSweeperOptions): {
  sweep(): Promise<number>;
  stop(): void;
} {
  const now = options.now ?? (() => new Date());
  const remindBeforeMs = options.remindBeforeMs ?? 5 * 60_000;
  const remind = async (): Promise<void> => {
    if (remindBeforeMs <= 0 || !options.onReminder) return;
    const soon = now().getTime() + remindBeforeMs;
    for (const record of await options.approvals.pending()) {
      if (record.remindedAt || Date.parse(record.expiresAt) > soon) continue;
      if (!(await options.approvals.markReminded(record.id, now()))) continue;
      await options
        .onReminder(record)
        .catch((err: unknown) => options.logger.warn({ err }, 'approval reminder failed'));
    }
  };
  const sweep = async (): Promise<number> => {
    await remind();
    const expired = await options.approvals.expire(now());
    for (const record of expired) {
      await options.audit.append({
        type: 'approval.expired',
        requestId: record.requestId,
        time: now().toISOString(),
        actor: { surface: 'system', id: 'wheelhouse' },
        cluster: record.where.cluster,
        text: '',
        plan: null,
        skill: record.skill,
        input: { approvalId: record.id },
        outcome: 'denied',
        errorCode: null,
        message: `expired without approval: ${record.summary}`,
        durationMs: 0,
      });
      await options
        .onExpired?.(record)
        .catch((err: unknown) => options.logger.warn({ err }, 'expiry notice failed'));
    }
    return expired.length;
  };
  const timer = setInterval(() => {
    sweep().catch((err: unknown) => options.logger.error({ err }, 'approval sweep failed'));
  }, options.intervalMs ?? 15_000);
  timer.unref();
  return { sweep, stop: () => clearInterval(timer) };
}

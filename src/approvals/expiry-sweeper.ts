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
}

/**
 * Expires overdue approvals (expired means denied, never approved) and records each expiry in
 * the audit chain. Runs in the background; `sweep()` is exposed for tests and for start-up.
 */
export function startApprovalSweeper(options: ApprovalSweeperOptions): {
  sweep(): Promise<number>;
  stop(): void;
} {
  const now = options.now ?? (() => new Date());
  const sweep = async (): Promise<number> => {
    const expired = await options.approvals.expire(now());
    for (const record of expired) {
      await options.audit.append({
        type: 'approval.expired',
        requestId: record.requestId,
        time: now().toISOString(),
        actor: { surface: 'system', id: 'wheelhouse' },
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

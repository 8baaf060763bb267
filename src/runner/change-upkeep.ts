import type { Logger } from 'pino';
import { expiredNotice, reminderNotice } from '../approvals/approval-notices.ts';
import { startApprovalSweeper } from '../approvals/expiry-sweeper.ts';
import type { RunnerDeps } from './run-request.ts';
import { type ChatNotifier, startVerificationKeeper } from './verification-keeper.ts';

export interface ChangeUpkeepOptions {
  runner: RunnerDeps;
  notifier: ChatNotifier;
  logger: Logger;
  /** @default 5 minutes */
  remindBeforeMs?: number | undefined;
  /** How often approvals and verifications are looked at. @default 15 s */
  intervalMs?: number | undefined;
}

/**
 * The background half of the change road: approvals are reminded and expired (expired means
 * denied), and verifications nobody follows are resumed. Each notice goes where the change was
 * asked for (and to the approvals channel when the notifier has one).
 */
export function startChangeUpkeep(options: ChangeUpkeepOptions): { stop(): Promise<void> } {
  const { runner, notifier, logger } = options;
  const changes = runner.changes;
  if (!changes) return { stop: async () => undefined };
  const now = runner.now ?? (() => new Date());
  const intervalMs = Math.max(500, options.intervalMs ?? 15_000);
  const sweeper = startApprovalSweeper({
    approvals: changes.approvals,
    audit: runner.audit,
    logger,
    now,
    intervalMs,
    remindBeforeMs: options.remindBeforeMs,
    onReminder: (record) => notifier.notify(record.where, reminderNotice(record, now())),
    onExpired: (record) => notifier.notify(record.where, expiredNotice(record)),
  });
  const keeper = startVerificationKeeper({
    runner,
    changes,
    notifier,
    logger,
    intervalMs,
  });
  // At start, whatever a previous process left behind is picked up at once.
  for (const sweep of [sweeper.sweep, keeper.sweep]) {
    sweep().catch((err: unknown) => logger.error({ err }, 'change upkeep failed at start'));
  }
  return {
    async stop() {
      sweeper.stop();
      await keeper.stop();
    },
  };
}

/** For a bot without chat (HTTP only): notices go to the log. */
export function logNotifier(logger: Logger): ChatNotifier {
  return {
    async notify(where, result) {
      logger.info({ where, summary: result.summary }, 'change notice');
    },
  };
}

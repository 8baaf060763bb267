import type { Logger } from 'pino';
import { expiredNotice, reminderNotice } from '../approvals/approval-notices.ts';
import { startApprovalSweeper } from '../approvals/expiry-sweeper.ts';
import type { ApprovalStore } from '../approvals/types.ts';
import type { RunnerDeps } from './run-request.ts';
import { type ChatNotifier, startVerificationKeeper } from './verification-keeper.ts';

export interface ChangeUpkeepOptions {
  /** The road of each cluster served; each resumes its own verifications and tells of them through its notifier. */
  roads: ReadonlyArray<{ road: RunnerDeps; notifier: ChatNotifier }>;
  /**
   * Every cluster's approvals, for the one sweeper that reminds and expires them all.
   * @default the first road's
   */
  approvals?: ApprovalStore | undefined;
  /** Where approval reminders and expiries are told (at the approval's `where`). */
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
  const { roads, notifier, logger } = options;
  const first = roads[0]?.road;
  if (!first?.changes) return { stop: async () => undefined };
  const now = first.now ?? (() => new Date());
  const intervalMs = Math.max(500, options.intervalMs ?? 15_000);
  const sweeper = startApprovalSweeper({
    approvals: options.approvals ?? first.changes.approvals,
    audit: first.audit,
    logger,
    now,
    intervalMs,
    remindBeforeMs: options.remindBeforeMs,
    onReminder: (record) => notifier.notify(record.where, reminderNotice(record, now())),
    onExpired: (record) => notifier.notify(record.where, expiredNotice(record)),
  });
  const keepers = roads.flatMap(({ road, notifier }) =>
    road.changes
      ? [startVerificationKeeper({ runner: road, changes: road.changes, notifier, logger, intervalMs })]
      : [],
  );
  // At start, whatever a previous process left behind is picked up at once.
  for (const sweep of [sweeper.sweep, ...keepers.map((k) => k.sweep)]) {
    sweep().catch((err: unknown) => logger.error({ err }, 'change upkeep failed at start'));
  }
  return {
    async stop() {
      sweeper.stop();
      await Promise.all(keepers.map((k) => k.stop()));
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

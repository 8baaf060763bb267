import type { Logger } from 'pino';
import type { SkillResult } from '../skills/result.ts';
import type { ChangeRoadDeps } from './change-road.ts';
import { auditStep, type RunnerDeps } from './run-request.ts';
import {
  claimVerification,
  followVerification,
  parseVerification,
  VERIFICATION,
  verificationActor,
} from './verifications.ts';

/** Tells people in chat what became of work they started, outside any request (e.g. after a restart). */
export interface ChatNotifier {
  notify(
    where: {
      surface: string;
      channel?: string | undefined;
      thread?: string | undefined;
      cluster?: string | undefined;
    },
    result: SkillResult,
  ): Promise<void>;
}

export interface VerificationKeeperOptions {
  runner: RunnerDeps;
  changes: ChangeRoadDeps;
  notifier: ChatNotifier;
  logger: Logger;
  /** @default 15 s */
  intervalMs?: number | undefined;
}

/**
 * Resumes verifications nobody follows: those of a process that stopped or crashed mid-rollout,
 * and those interrupted because the API server could not be reached. A verification is taken by
 * compare-and-set on its lease, so one process resumes it; the outcome (verified, or rolled back)
 * is audited under the original request id and posted where the change was asked for.
 */
export function startVerificationKeeper(options: VerificationKeeperOptions): {
  sweep(): Promise<number>;
  /** Resolves when the verifications resumed so far have ended (for tests and shutdown). */
  settled(): Promise<void>;
  stop(): Promise<void>;
} {
  const { runner, changes, notifier, logger } = options;
  const now = runner.now ?? (() => new Date());
  const stopping = new AbortController();
  const following = new Set<Promise<void>>();
  const deps = {
    runs: changes.runs,
    owner: changes.owner,
    leaseMs: changes.verificationLeaseMs,
    retryMs: changes.verificationRetryMs,
    autoRollback: changes.autoRollback,
    now,
    logger,
  };

  const resume = async (runId: string): Promise<void> => {
    const run = await changes.runs.get(runId);
    if (!run) return;
    const state = parseVerification(run);
    const actor = verificationActor(state);
    const skill = runner.registry.get(state.skill);
    const request = { text: `(verification of: ${state.summary})`, actor };
    const audit = auditStep(runner, request, state.requestId, now, { plan: null, skill });
    await audit('change.verify.resumed', state.summary, { target: state.target, deadline: state.deadline });
    const writer = changes.writers.writerAs(actor.kube, {
      requestId: state.requestId,
      signal: stopping.signal,
    });
    const { status, result } = await followVerification(deps, writer, run, {
      audit,
      signal: stopping.signal,
    }).catch((e: unknown) => ({
      status: 'failed',
      result: {
        summary: `I could not finish verifying ${state.summary}: ${e instanceof Error ? e.message : String(e)}`,
        tone: 'error' as const,
        sections: [],
      },
    }));
    // Still unreachable, or stopping: it stays active and is tried again; one notice at the end.
    if (status === 'interrupted' || stopping.signal.aborted) return;
    await notifier
      .notify(actor, { ...result, summary: `After a restart or an interruption — ${result.summary}` })
      .catch((err: unknown) => logger.warn({ err, run: runId }, 'could not post a resumed verification'));
  };

  const sweep = async (): Promise<number> => {
    let taken = 0;
    for (const run of await changes.runs.list(VERIFICATION, { status: ['active'] })) {
      if (stopping.signal.aborted) break;
      const state = parseVerification(run);
      if (Date.parse(state.lease.until) > now().getTime()) continue;
      const claimed = await claimVerification(deps, run);
      if (!claimed) continue;
      taken++;
      logger.info({ run: run.id, requestId: state.requestId }, 'resuming a verification');
      const work = resume(run.id)
        .catch((err: unknown) => logger.error({ err, run: run.id }, 'resumed verification failed'))
        .finally(() => following.delete(work));
      following.add(work);
    }
    return taken;
  };

  const timer = setInterval(() => {
    sweep().catch((err: unknown) => logger.error({ err }, 'verification sweep failed'));
  }, options.intervalMs ?? 15_000);
  timer.unref();
  return {
    sweep,
    async settled() {
      await Promise.allSettled([...following]);
    },
    async stop() {
      clearInterval(timer);
      // Releases the leases of what is followed now: the next process resumes it.
      stopping.abort(new Error('Wheelhouse is stopping'));
      await Promise.allSettled([...following]);
    },
  };
}

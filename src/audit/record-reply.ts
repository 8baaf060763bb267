import type { Logger } from 'pino';
import { WheelhouseError } from '../errors.ts';
import type { Reply } from '../runner/types.ts';
import type { AuditLog } from '../store/types.ts';
import type { AuditEntry, AuditOutcome } from './audit-record.ts';

/** How an answer is recorded: refused by policy or by RBAC is `denied`, any other error `error`. */
export function replyOutcome(outcome: { ok: true } | { ok: false; error: { code: string } }): AuditOutcome {
  if (outcome.ok) return 'ok';
  return outcome.error.code === 'POLICY_DENIED' || outcome.error.code === 'FORBIDDEN' ? 'denied' : 'error';
}

/**
 * Appends the record of an answer, then gives the answer. A record that cannot be written means the
 * answer is not given, since the log must be complete: the reply becomes AUDIT_UNAVAILABLE, with
 * `refusal` saying what happened anyway when something did (e.g. a silence that now exists).
 */
export async function recordReply(
  audit: AuditLog,
  entry: AuditEntry,
  reply: Reply,
  logger: Pick<Logger, 'error'>,
  refusal: { message?: string | undefined; hint?: string | undefined } = {},
): Promise<Reply> {
  try {
    await audit.append(entry);
    return reply;
  } catch (cause) {
    logger.error({ err: cause, requestId: reply.requestId }, 'audit append failed');
    const { requestId, skill, durationMs } = reply;
    return {
      ok: false,
      requestId,
      skill,
      durationMs,
      error: new WheelhouseError(
        'AUDIT_UNAVAILABLE',
        refusal.message ?? 'I could not write the audit record, so I am not answering.',
        {
          hint: refusal.hint ?? 'Check the store (`/readyz`, the Wheelhouse log); try again when it is back.',
          cause,
        },
      ),
    };
  }
}

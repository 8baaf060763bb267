import { z } from 'zod';
import { WheelhouseError } from '../errors.ts';
import { errorFromResponse, type KubeOperation } from '../kube/kube-errors.ts';
import type { KubeIdentity } from '../kube/types.ts';

/** The API server's `Status` body of a failed write. */
const StatusBody = z.looseObject({
  message: z.string().optional(),
  reason: z.string().optional(),
  code: z.number().optional(),
  details: z
    .looseObject({
      causes: z
        .array(
          z.looseObject({
            reason: z.string().optional(),
            message: z.string().optional(),
            field: z.string().optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});
type StatusBody = z.infer<typeof StatusBody>;

/** One field another field manager owns, from a server-side apply conflict. */
export interface FieldConflict {
  manager: string;
  field: string;
}

export interface WriteErrorContext {
  /** `deploy/checkout`, for messages. */
  ref: string;
  op: KubeOperation;
  identity: KubeIdentity | undefined;
  server: string;
  /** A dry-run (preview) or the real request (apply). */
  dryRun: boolean;
  /** The resourceVersion the request was guarded with, if any. */
  resourceVersion?: string | undefined;
}

/**
 * Maps a failed write (PATCH, server-side apply, DELETE; dry-run or real) to a WheelhouseError:
 *
 * - 409 from server-side apply with FieldManagerConflict causes → CONFLICT naming the other managers
 *   and their fields; 409 on a stale resourceVersion or uid precondition → CONFLICT ("changed since
 *   the preview", "was replaced");
 * - 400/422 (validation, bad patch), a 403 that is not RBAC (admission plugin or webhook denial,
 *   quota) and a 500 from a failing webhook → DRY_RUN_REJECTED with the API server's message
 *   verbatim; a webhook that does not support dry-run says so;
 * - everything else (RBAC 403, 401, 404, 429, 5xx) as for reads (errorFromResponse).
 */
export function writeErrorFromResponse(
  status: number,
  body: string,
  ctx: WriteErrorContext,
): WheelhouseError {
  const parsed = parseStatus(body);
  const message = parsed?.message ?? (body.trim() ? body.trim().slice(0, 2000) : `HTTP ${status}`);
  const detail = {
    status,
    reason: parsed?.reason,
    message,
    causes: parsed?.details?.causes,
    operation: ctx.op,
    dryRun: ctx.dryRun,
  };

  if (status === 409) {
    const conflicts = fieldConflicts(parsed);
    if (conflicts.length > 0) return fieldManagerConflict(ctx, conflicts, message, detail);
    if (/UID in the precondition|UID in precondition/i.test(message)) {
      return new WheelhouseError(
        'CONFLICT',
        `${ctx.ref} was deleted and re-created since the preview; Wheelhouse did not touch the new one.`,
        { hint: 'Look at the new object and propose the change again if it still applies.', detail },
      );
    }
    if (/has been modified|resourceVersion|precondition/i.test(message)) {
      const since = ctx.resourceVersion
        ? ` (resourceVersion ${ctx.resourceVersion} is no longer current)`
        : '';
      return new WheelhouseError('CONFLICT', `${ctx.ref} changed since the preview${since}.`, {
        hint: 'Someone or something changed it in the meantime: preview the change again and approve the fresh preview.',
        detail,
      });
    }
    return new WheelhouseError('CONFLICT', `Kubernetes reported a conflict on ${ctx.ref}: ${message}`, {
      hint: 'Preview the change again.',
      detail,
    });
  }

  if (
    status === 400 ||
    status === 422 ||
    (status === 403 && !isRbacDenial(message)) ||
    isWebhookFailure(status, message)
  ) {
    return rejected(ctx, message, detail);
  }

  return errorFromResponse(status, body, ctx.op, ctx.identity, ctx.server);
}

/** The fields and managers of a server-side apply conflict, in the order the API server lists them. */
export function fieldConflicts(status: StatusBody | undefined): FieldConflict[] {
  const causes = status?.details?.causes ?? [];
  return causes
    .filter((c) => c.reason === 'FieldManagerConflict')
    .map((c) => ({
      manager: /conflict with "([^"]*)"/.exec(c.message ?? '')?.[1] ?? c.message ?? 'another field manager',
      field: c.field ?? '?',
    }));
}

function fieldManagerConflict(
  ctx: WriteErrorContext,
  conflicts: FieldConflict[],
  message: string,
  detail: Record<string, unknown>,
): WheelhouseError {
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.field]);
  const owners = [...byManager].map(([manager, fields]) => `"${manager}" (${fields.join(', ')})`).join('; ');
  const managers = [...byManager.keys()].map((m) => `"${m}"`).join(', ');
  return new WheelhouseError(
    'CONFLICT',
    `${ctx.ref}: fields this change sets are owned by another field manager: ${owners}. Nothing was changed.`,
    {
      hint: `Another tool or person manages these fields (${managers}); changing them here would be undone or fought over. Change them where ${managers} does, or propose the change again with force to take the fields over.`,
      detail: { ...detail, conflicts, message },
    },
  );
}

function rejected(ctx: WriteErrorContext, message: string, detail: Record<string, unknown>): WheelhouseError {
  const noDryRun = /does not support dry run|sideEffects/i.test(message);
  const hint = noDryRun
    ? 'An admission webhook is not declared side-effect free (sideEffects: None or NoneOnDryRun), so the API server cannot dry-run changes through it; ask the webhook owner to declare it, or a cluster admin to exempt this namespace.'
    : ctx.dryRun
      ? 'Nothing was changed. Correct the request (the message above is the API server’s own) and try again.'
      : 'The API server refused the change, so nothing was changed. Correct the request and try again.';
  const when = ctx.dryRun ? 'in the dry-run of' : 'to';
  return new WheelhouseError(
    'DRY_RUN_REJECTED',
    `Kubernetes rejected the change ${when} ${ctx.ref}: ${message}`,
    {
      hint,
      detail,
    },
  );
}

/** An RBAC denial reads `User "alice" cannot patch resource "deployments" ...`; admission denials do not. */
function isRbacDenial(message: string): boolean {
  return /\bcannot [\w-]+ resource\b/.test(message) || /cannot impersonate/i.test(message);
}

/** A webhook that fails (down, times out) under failurePolicy Fail makes the API server answer 500. */
function isWebhookFailure(status: number, message: string): boolean {
  return status >= 500 && /webhook/i.test(message);
}

function parseStatus(body: string): StatusBody | undefined {
  try {
    const parsed = StatusBody.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

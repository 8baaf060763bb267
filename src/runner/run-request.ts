import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AuditEntry } from '../audit/audit-record.ts';
import { toWheelhouseError, WheelhouseError } from '../errors.ts';
import type { KubeClient } from '../kube/types.ts';
import { type Command, inputError, parseCommand } from '../planner/grammar.ts';
import { help } from '../planner/help.ts';
import { type Decision, evaluate, type Plan } from '../policy/evaluate.ts';
import { DEFAULT_POLICY, type Policy, rateLimitWindowMs } from '../policy/policy-schema.ts';
import type { Actor, Limits, SkillContext } from '../skills/context.ts';
import type { AnySkill, ReadSkill } from '../skills/define-skill.ts';
import type { SkillRegistry } from '../skills/registry.ts';
import type { SkillResult } from '../skills/result.ts';
import type { ChartRenderer, LogSearch, MetricsSource } from '../sources/types.ts';
import type { AuditLog } from '../store/types.ts';
import { type AuditStep, type ChangeRoadDeps, executeApproved, runChange } from './change-road.ts';
import type { ChatRequest, Reply, RequestHandler } from './types.ts';

/** Everything the road needs, passed in by the composition root. */
export interface RunnerDeps {
  registry: SkillRegistry;
  kube: KubeClient;
  metrics: MetricsSource | undefined;
  logSearch: LogSearch | undefined;
  charts: ChartRenderer;
  redact: (text: string) => string;
  audit: AuditLog;
  limits: Limits;
  requestTimeoutMs: number;
  logger: Logger;
  now?: () => Date;
  newRequestId?: () => string;
  /** Called with every reply, e.g. to count it in /metrics. */
  observe?: (reply: Reply) => void;
  /** The change road; without it every write is refused. */
  changes?: ChangeRoadDeps | undefined;
  /** The configured policy. @default DEFAULT_POLICY */
  policy?: Policy | undefined;
  /** Whether an identity rule maps this chat user; unmapped users get `policy.unmapped`. @default console users only */
  isMapped?: ((actor: Actor) => boolean) | undefined;
  /** Writes this user made since `since`, for the policy's rate limit. @default 0 */
  recentWrites?: ((actor: Actor, since: Date) => Promise<number>) | undefined;
}

/** Builds the one road every surface calls. */
export function createRunner(deps: RunnerDeps): RequestHandler {
  return { handle: (request) => runRequest(deps, request) };
}

/** What the road learned about a request, for the audit record whatever the outcome. */
interface Trace {
  plan: Plan | null;
  skill: AnySkill | undefined;
}

/**
 * The one road: parse → plan → authorize → execute → audit. Reads stop there; the change road
 * (dry-run, diff, approve, apply, verify) slots in after authorize. Never throws.
 */
export async function runRequest(deps: RunnerDeps, request: ChatRequest): Promise<Reply> {
  const now = deps.now ?? (() => new Date());
  const requestId = request.requestId ?? deps.newRequestId?.() ?? randomUUID();
  const startedAt = now();
  const started = performance.now();
  const trace: Trace = { plan: null, skill: undefined };

  let outcome: { ok: true; result: SkillResult } | { ok: false; error: WheelhouseError };
  try {
    const command = parseCommand(request.text, deps.registry);
    switch (command.kind) {
      case 'help':
        outcome = { ok: true, result: help(deps.registry, command.topic) };
        break;
      case 'approve':
      case 'deny':
        outcome = { ok: true, result: await decide(deps, command, request, requestId, now, trace) };
        break;
      case 'skill': {
        const { skill, input } = command;
        trace.skill = skill;
        trace.plan = planOf(command);
        const plan = trace.plan;
        await authorize(deps, plan, request.actor, now());
        if (skill.risk === 'read') {
          outcome = { ok: true, result: await execute(deps, skill, input, request, requestId, now) };
          break;
        }
        const changes = changeRoad(deps, skill.name);
        const ctx = contextFor(deps, request, requestId, request.signal ?? new AbortController().signal, now);
        const result = await runChange(changes, {
          skill,
          input,
          actor: request.actor,
          requestId,
          ctx,
          // Decided again with the proposal's namespace and blast radius (replica bounds).
          decide: (proposal) =>
            authorize(
              deps,
              {
                ...plan,
                steps: plan.steps.map((s) => ({
                  ...s,
                  namespace: proposal.blastRadius.namespace,
                  blastRadius: proposal.blastRadius,
                })),
              },
              request.actor,
              now(),
            ),
          audit: auditStep(deps, request, requestId, now, trace),
          onProgress: request.onProgress,
        });
        outcome = { ok: true, result };
        break;
      }
    }
  } catch (e) {
    outcome = { ok: false, error: explain(e, trace.skill) };
  }

  const durationMs = Math.round(performance.now() - started);
  const skill = trace.skill?.name;
  let reply: Reply = outcome.ok
    ? { ok: true, requestId, skill, durationMs, result: outcome.result }
    : { ok: false, requestId, skill, durationMs, error: outcome.error };

  try {
    await deps.audit.append(auditEntry(request, requestId, startedAt, trace, reply));
  } catch (e) {
    // A record that cannot be written means the answer is not given: the log must be complete.
    deps.logger.error({ err: e, requestId }, 'audit append failed');
    reply = {
      ok: false,
      requestId,
      skill,
      durationMs,
      error: new WheelhouseError(
        'AUDIT_UNAVAILABLE',
        'I could not write the audit record, so I am not answering.',
        {
          hint: 'Check the store (`/readyz`, the Wheelhouse log); try again when it is back.',
          cause: e,
        },
      ),
    };
  }
  if (!reply.ok && reply.error.code === 'INTERNAL') {
    deps.logger.error({ err: reply.error.cause ?? reply.error, requestId }, 'request failed');
  }
  deps.observe?.(reply);
  return reply;
}

function planOf(command: Extract<Command, { kind: 'skill' }>): Plan {
  const { skill, input } = command;
  return {
    source: 'grammar',
    rationale: 'typed command',
    steps: [{ skill: skill.name, risk: skill.risk, input, summary: skill.summarize(input) }],
  };
}

/**
 * The bot's own policy: deny stops here; allow and require_approval go on. Kubernetes RBAC then
 * decides again, since every call acts as the user.
 */
async function authorize(deps: RunnerDeps, plan: Plan, actor: Actor, at: Date): Promise<Decision> {
  const policy = deps.policy ?? DEFAULT_POLICY;
  const writes = plan.steps.some((s) => s.risk !== 'read');
  const recentWrites =
    writes && deps.recentWrites
      ? await deps.recentWrites(actor, new Date(at.getTime() - rateLimitWindowMs(policy)))
      : 0;
  const mapped = deps.isMapped ? deps.isMapped(actor) : actor.surface !== 'slack';
  const decision = evaluate({ plan, actor, mapped, now: at, recentWrites }, policy);
  if (decision.effect === 'deny') {
    throw new WheelhouseError('POLICY_DENIED', `Policy does not allow this: ${decision.reason}`, {
      hint: 'Ask a Wheelhouse admin which commands your channel and role may run.',
    });
  }
  return decision;
}

function changeRoad(deps: RunnerDeps, skill: string): ChangeRoadDeps {
  if (!deps.changes) {
    throw new WheelhouseError(
      'POLICY_DENIED',
      `${skill} changes the cluster, and changes are not enabled here.`,
      {
        hint: 'An admin can enable changes in the Wheelhouse configuration.',
      },
    );
  }
  return deps.changes;
}

/** Approve or deny a pending change; the approver is checked now, at click time. */
async function decide(
  deps: RunnerDeps,
  command: Extract<Command, { kind: 'approve' | 'deny' }>,
  request: ChatRequest,
  requestId: string,
  now: () => Date,
  trace: Trace,
): Promise<SkillResult> {
  const changes = changeRoad(deps, command.kind);
  const approval = await changes.approvals.get(command.approvalId);
  if (!approval) {
    throw new WheelhouseError('NOT_FOUND', `There is no change waiting with id ${command.approvalId}.`, {
      hint: 'Check the id in the approval request; decided or expired requests cannot be voted on.',
    });
  }
  const skill = deps.registry.get(approval.skill);
  if (!skill || skill.risk === 'read')
    throw new WheelhouseError('INTERNAL', `approval ${approval.id} names no write skill`);
  trace.skill = skill;
  const step = auditStep(deps, request, requestId, now, trace);
  if (request.actor.id === approval.requester.id) {
    throw new WheelhouseError('POLICY_DENIED', 'You cannot approve or deny your own change.', {
      hint: `It needs ${approval.required.quorum} approver(s) from ${approverText(approval.required)}.`,
    });
  }
  if (!isApprover(request.actor, approval.required)) {
    throw new WheelhouseError('POLICY_DENIED', `You are not an approver for this change.`, {
      hint: `It needs ${approval.required.quorum} approver(s) from ${approverText(approval.required)}.`,
    });
  }
  if (command.kind === 'deny') {
    if (!(await changes.approvals.deny(approval.id, request.actor.id, command.reason, now()))) {
      throw new WheelhouseError(
        'CONFLICT',
        `The change ${approval.id} is ${approval.status}, so it can no longer be denied.`,
      );
    }
    await step('approval.denied', command.reason, { approvalId: approval.id, requestOf: approval.requestId });
    return { summary: `Denied: ${approval.summary} (${command.reason}).`, tone: 'info', sections: [] };
  }
  const vote = await changes.approvals.vote(approval.id, request.actor.id, now());
  await step(`approval.vote.${vote.kind}`, approval.summary, {
    approvalId: approval.id,
    requestOf: approval.requestId,
    ...(vote.kind === 'rejected' ? { reason: vote.reason } : {}),
  });
  switch (vote.kind) {
    case 'rejected':
      throw new WheelhouseError('CONFLICT', rejection(vote.reason, approval.id));
    case 'recorded':
      return {
        // "Waiting for approval" keeps the buttons on the Slack message until the quorum is met.
        summary: `Waiting for approval: ${approval.summary}; approved by ${vote.record.approvals.length}, ${vote.remaining} more needed.`,
        tone: 'info',
        sections: [],
      };
    case 'approved': {
      const requester: Actor = {
        surface: approval.where.surface === 'slack' ? 'slack' : 'console',
        id: approval.requester.id,
        name: approval.requester.name,
        channel: approval.where.channel,
        thread: approval.where.thread,
        kube: approval.requester.kubeUser
          ? { user: approval.requester.kubeUser, groups: approval.requester.kubeGroups ?? [] }
          : undefined,
      };
      const signal = request.signal ?? new AbortController().signal;
      // The change is applied as the requester, under the request id of the original request.
      const ctx = contextFor(deps, { ...request, actor: requester }, approval.requestId, signal, now);
      return executeApproved(changes, vote.record, {
        skill,
        input: approval.input,
        actor: requester,
        requestId: approval.requestId,
        ctx,
        audit: auditStep(deps, { ...request, actor: requester }, approval.requestId, now, trace),
        onProgress: request.onProgress,
      });
    }
  }
}

function isApprover(
  actor: Actor,
  required: { group?: string | undefined; users?: string[] | undefined },
): boolean {
  if (required.users?.some((u) => u === actor.id || u === actor.kube?.user)) return true;
  return required.group !== undefined && (actor.kube?.groups ?? []).includes(required.group);
}

function approverText(required: { group?: string | undefined; users?: string[] | undefined }): string {
  return required.users?.length ? required.users.join(', ') : `group ${required.group ?? '(none)'}`;
}

function rejection(reason: string, id: string): string {
  switch (reason) {
    case 'expired':
      return `The change ${id} expired before it was approved; expired means denied. Ask again for a fresh preview.`;
    case 'already-voted':
      return 'You already approved this change; it needs another approver.';
    case 'self-approval':
      return 'You cannot approve your own change.';
    default:
      return `The change ${id} is no longer waiting for approval.`;
  }
}

/** Appends one step of a change to the audit chain under the request's id. */
function auditStep(
  deps: RunnerDeps,
  request: ChatRequest,
  requestId: string,
  now: () => Date,
  trace: Trace,
): AuditStep {
  return async (type, message, detail) => {
    await deps.audit.append({
      ...auditEntry(request, requestId, now(), trace, {
        ok: true,
        requestId,
        skill: trace.skill?.name,
        durationMs: 0,
        result: { summary: message, sections: [] },
      }),
      type,
      input: detail ?? trace.plan?.steps[0]?.input ?? null,
    });
  };
}

async function execute(
  deps: RunnerDeps,
  skill: ReadSkill,
  input: Record<string, unknown>,
  request: ChatRequest,
  requestId: string,
  now: () => Date,
): Promise<SkillResult> {
  const timeout = AbortSignal.timeout(deps.requestTimeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  const ctx = contextFor(deps, request, requestId, signal, now);
  // Skills should honour ctx.signal; the race makes sure a skill that does not still cannot hang chat.
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () =>
      reject(
        timeout.aborted
          ? new WheelhouseError(
              'TIMEOUT',
              `This took longer than ${Math.round(deps.requestTimeoutMs / 1000)} s, so I stopped.`,
              {
                hint: 'Narrow the question (one namespace, a shorter time range) and try again.',
              },
            )
          : new WheelhouseError('TIMEOUT', 'The request was cancelled.'),
      );
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([skill.run(input, ctx), aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function contextFor(
  deps: RunnerDeps,
  request: ChatRequest,
  requestId: string,
  signal: AbortSignal,
  now: () => Date,
): SkillContext {
  return {
    kube: deps.kube.as(request.actor.kube, { requestId, signal }),
    metrics: deps.metrics,
    logSearch: deps.logSearch,
    charts: deps.charts,
    redact: deps.redact,
    actor: request.actor,
    requestId,
    signal,
    now,
    limits: deps.limits,
  };
}

function explain(e: unknown, skill: AnySkill | undefined): WheelhouseError {
  if (e instanceof z.ZodError && skill) return inputError(skill, e);
  return toWheelhouseError(e);
}

function auditEntry(
  request: ChatRequest,
  requestId: string,
  startedAt: Date,
  trace: Trace,
  reply: Reply,
): AuditEntry {
  const { actor } = request;
  return {
    type: 'request',
    requestId,
    time: startedAt.toISOString(),
    actor: {
      surface: actor.surface,
      id: actor.id,
      name: actor.name,
      channel: actor.channel,
      thread: actor.thread,
      kubeUser: actor.kube?.user,
      kubeGroups: actor.kube?.groups,
    },
    text: request.text,
    plan: trace.plan,
    skill: trace.skill?.name ?? null,
    input: trace.plan?.steps[0]?.input ?? null,
    outcome: reply.ok
      ? 'ok'
      : reply.error.code === 'FORBIDDEN' || reply.error.code === 'POLICY_DENIED'
        ? 'denied'
        : 'error',
    errorCode: reply.ok ? null : reply.error.code,
    message: reply.ok ? reply.result.summary : reply.error.message,
    durationMs: reply.durationMs,
  };
}

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { approverText, isApprover } from '../approvals/approvers.ts';
import { type AuditEntry, auditActor } from '../audit/audit-record.ts';
import { recordReply, replyOutcome } from '../audit/record-reply.ts';
import type { ChangeProposal } from '../changes/types.ts';
import { toWheelhouseError, WheelhouseError } from '../errors.ts';
import type { KubeClient } from '../kube/types.ts';
import { type Command, inputError, parseCommand, stripPrefix } from '../planner/grammar.ts';
import { help } from '../planner/help.ts';
import type { LlmUsage, Planner, PlannerOutcome } from '../planner/llm-planner.ts';
import { answerReply, injectionWarning, proposalReply } from '../planner/llm-replies.ts';
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
  /** Member ids of a Slack user group, for approver groups given as one (S…). */
  groupMembers?: ((usergroup: string) => Promise<string[]>) | undefined;
  /** Writes this user made since `since`, for the policy's rate limit. @default 0 */
  recentWrites?: ((actor: Actor, since: Date) => Promise<number>) | undefined;
  /** Turns free text the grammar cannot read into plans; without it free text gets the grammar's answer and why. */
  planner?: Planner | undefined;
  /** Why there is no planner, told to users who write free text. @default no model is configured */
  plannerMissing?: string | undefined;
}

/** Builds the one road every surface calls. */
export function createRunner(deps: RunnerDeps): RequestHandler {
  return { handle: (request) => runRequest(deps, request) };
}

/** What the road learned about a request, for the audit record whatever the outcome. */
export interface Trace {
  plan: Plan | null;
  skill: AnySkill | undefined;
  /** What the model cost, when the planner was asked. */
  llm?: LlmUsage | undefined;
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
    const command = readCommand(request.text, deps.registry);
    switch (command.kind) {
      case 'free-text':
        outcome = {
          ok: true,
          result: await answerFreeText(deps, command.error, request, requestId, now, trace),
        };
        break;
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
          decide: (proposal) => authorize(deps, withBlastRadius(plan, proposal), request.actor, now()),
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
  const answer: Reply = outcome.ok
    ? { ok: true, requestId, skill, durationMs, result: outcome.result }
    : { ok: false, requestId, skill, durationMs, error: outcome.error };
  const entry = auditEntry(request, requestId, startedAt, trace, answer);
  const reply = await recordReply(deps.audit, entry, answer, deps.logger);
  if (!reply.ok && reply.error.code === 'INTERNAL') {
    deps.logger.error({ err: reply.error.cause ?? reply.error, requestId }, 'request failed');
  }
  deps.observe?.(reply);
  return reply;
}

/** Text the grammar cannot read and that reads like a sentence goes to the planner, if there is one. */
function readCommand(
  text: string,
  registry: SkillRegistry,
): Command | { kind: 'free-text'; error: WheelhouseError } {
  try {
    return parseCommand(text, registry);
  } catch (e) {
    const sentence = stripPrefix(text).split(/\s+/).length >= 2;
    if (e instanceof WheelhouseError && (e.code === 'UNKNOWN_SKILL' || e.code === 'GRAMMAR') && sentence) {
      return { kind: 'free-text', error: e };
    }
    throw e;
  }
}

/**
 * Free text: the model proposes, this road decides. Every read it asks for is authorized (source
 * llm) and run as the user; a write it proposes is authorized and then only offered (a Submit
 * button carrying the typed command), or, when it followed hostile text, sent for approval
 * whatever policy says. Nothing the model says approves anything.
 */
async function answerFreeText(
  deps: RunnerDeps,
  grammarError: WheelhouseError,
  request: ChatRequest,
  requestId: string,
  now: () => Date,
  trace: Trace,
): Promise<SkillResult> {
  const why = deps.planner
    ? deps.planner.unavailable()
    : (deps.plannerMissing ?? 'no language model is configured (WH_LLM_BASE_URL, WH_LLM_MODEL)');
  if (!deps.planner || why) throw cannotTakeFreeText(grammarError, why ?? 'no planner');
  const audit = auditStep(deps, request, requestId, now, trace);
  const outcome = await deps.planner.plan({
    text: request.text,
    actor: request.actor,
    signal: request.signal,
    read: async (skill, input) => {
      await authorize(
        deps,
        llmPlan([step(skill, input)], 'read asked for by the model'),
        request.actor,
        now(),
      );
      await audit('planner.read', skill.summarize(input), { skill: skill.name, input });
      return execute(deps, skill, input, request, requestId, now);
    },
  });
  trace.llm = outcome.usage;
  const reads =
    outcome.kind === 'unavailable' ? [] : outcome.steps.map((s) => ({ ...s, risk: 'read' as const }));
  trace.plan = llmPlan(reads, outcome.kind);
  switch (outcome.kind) {
    case 'unavailable':
      throw cannotTakeFreeText(grammarError, outcome.reason);
    case 'refusal':
      return { summary: outcome.reason, tone: 'info', sections: [] };
    case 'answer':
      return answerReply(outcome);
    case 'change':
      return proposeChange(deps, outcome, request, requestId, now, trace);
  }
}

async function proposeChange(
  deps: RunnerDeps,
  outcome: Extract<PlannerOutcome, { kind: 'change' }>,
  request: ChatRequest,
  requestId: string,
  now: () => Date,
  trace: Trace,
): Promise<SkillResult> {
  const { skill, input, tainted } = outcome;
  trace.skill = skill;
  const plan = llmPlan([step(skill, input)], outcome.rationale);
  trace.plan = plan;
  // Policy first: what it forbids is refused, whoever proposed it.
  await authorize(deps, plan, request.actor, now());
  if (tainted.length === 0) return proposalReply(outcome);
  const ctx = contextFor(deps, request, requestId, request.signal ?? new AbortController().signal, now);
  const policy = deps.policy ?? DEFAULT_POLICY;
  const result = await runChange(changeRoad(deps, skill.name), {
    skill,
    input,
    actor: request.actor,
    requestId,
    ctx,
    decide: async (proposal) => {
      const decision = await authorize(deps, withBlastRadius(plan, proposal), request.actor, now());
      if (decision.effect === 'require_approval') return decision;
      return {
        effect: 'require_approval',
        reason: 'proposed by the model after reading text that tries to instruct it',
        approvers: policy.approvers[skill.risk],
      };
    },
    audit: auditStep(deps, request, requestId, now, trace),
    onProgress: request.onProgress,
  });
  return { ...result, sections: [injectionWarning(tainted, true), ...result.sections] };
}

function step(skill: AnySkill, input: Record<string, unknown>): Plan['steps'][number] {
  return { skill: skill.name, risk: skill.risk, input, summary: skill.summarize(input) };
}

function llmPlan(steps: Plan['steps'], rationale: string): Plan {
  return { source: 'llm', rationale, steps };
}

/** The plan again with the proposal's namespace and blast radius, so replica bounds see real numbers. */
function withBlastRadius(plan: Plan, proposal: Pick<ChangeProposal, 'blastRadius'>): Plan {
  return {
    ...plan,
    steps: plan.steps.map((s) => ({
      ...s,
      namespace: proposal.blastRadius.namespace,
      blastRadius: proposal.blastRadius,
    })),
  };
}

/** The grammar's own error (with its did-you-mean), plus why free text is not possible now. */
function cannotTakeFreeText(grammarError: WheelhouseError, why: string): WheelhouseError {
  return new WheelhouseError(grammarError.code, grammarError.message, {
    hint: `${grammarError.hint ?? '`/wh help` lists every command.'} I cannot take free text right now: ${why}. Typed commands work as always.`,
    detail: grammarError.detail,
    cause: grammarError,
  });
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
  if (!(await isApprover(request.actor, approval.required, deps.groupMembers))) {
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
export function auditStep(
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
    actor: auditActor(actor),
    text: request.text,
    plan: trace.plan && trace.llm ? { ...trace.plan, llm: trace.llm } : trace.plan,
    skill: trace.skill?.name ?? null,
    input: trace.plan?.steps[0]?.input ?? null,
    outcome: replyOutcome(reply),
    errorCode: reply.ok ? null : reply.error.code,
    message: reply.ok ? reply.result.summary : reply.error.message,
    durationMs: reply.durationMs,
  };
}

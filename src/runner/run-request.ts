import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AuditEntry } from '../audit/audit-record.ts';
import { toWheelhouseError, WheelhouseError } from '../errors.ts';
import type { KubeClient } from '../kube/types.ts';
import { type Command, inputError, parseCommand } from '../planner/grammar.ts';
import { help } from '../planner/help.ts';
import { evaluate, type Plan } from '../policy/evaluate.ts';
import type { Actor, Limits, SkillContext } from '../skills/context.ts';
import type { AnySkill, ReadSkill } from '../skills/define-skill.ts';
import type { SkillRegistry } from '../skills/registry.ts';
import type { SkillResult } from '../skills/result.ts';
import type { ChartRenderer, LogSearch, MetricsSource } from '../sources/types.ts';
import type { AuditLog } from '../store/types.ts';
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
    if (command.kind === 'help') {
      outcome = { ok: true, result: help(deps.registry, command.topic) };
    } else {
      trace.skill = command.skill;
      trace.plan = planOf(command);
      authorize(trace.plan, request.actor);
      if (command.skill.risk !== 'read') {
        // Policy denies every write until the change road is wired; this keeps it so by construction.
        throw new WheelhouseError(
          'POLICY_DENIED',
          `${command.skill.name} changes the cluster, and changes are not enabled.`,
        );
      }
      outcome = {
        ok: true,
        result: await execute(deps, command.skill, command.input, request, requestId, now),
      };
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

/** The bot's own policy; Kubernetes RBAC then decides again, since every call acts as the user. */
function authorize(plan: Plan, actor: Actor): void {
  const decision = evaluate(plan, actor);
  if (decision.effect !== 'allow') {
    throw new WheelhouseError('POLICY_DENIED', `Policy does not allow this: ${decision.reason}`, {
      hint: 'Ask a Wheelhouse admin which commands your channel and role may run.',
    });
  }
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
  const ctx: SkillContext = {
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

import type { Logger } from 'pino';
import { type AuditEntry, auditActor } from '../audit/audit-record.ts';
import { recordReply, replyOutcome } from '../audit/record-reply.ts';
import { toWheelhouseError, WheelhouseError } from '../errors.ts';
import { evaluate, type Plan } from '../policy/evaluate.ts';
import type { Approvers, Policy } from '../policy/policy-schema.ts';
import type { ChatRequest, Reply, RequestHandler } from '../runner/types.ts';
import type { Actor } from '../skills/context.ts';
import type { SkillResult } from '../skills/result.ts';
import type { RunStore } from '../store/run-store.ts';
import type { AuditLog } from '../store/types.ts';
import { CANARY, type CanaryAction, type CanaryState, isFinal, parseCanary } from './canary-run.ts';

/**
 * `canary promote|pause|resume|abort <run>`: the buttons of a canary message. Like the alert
 * buttons, these are not Kubernetes changes of their own (the run was previewed and approved when
 * it started), so they take a short road here, top to bottom: parse → find the run → policy (a
 * write in the run's namespace, as the clicking user) → access review as the clicking user → approver check for Promote now / Resume →
 * queue the command on the run (compare-and-set) → audit → answer. The engine carries the command
 * out on its next tick (kicked at once). Any other text goes on to the one road unchanged.
 */
export interface CanaryCommandDeps {
  runs: RunStore;
  audit: AuditLog;
  policy: Policy;
  isMapped: (actor: Actor) => boolean;
  /** Who may promote early or resume (a gate included). @default policy.approvers.write */
  approvers: Approvers | undefined;
  /**
   * Asks Kubernetes whether the clicking user may change the run's Deployments (an access review
   * as them): the engine acts as the requester, so the clicker's own rights are checked here.
   * Throws FORBIDDEN.
   */
  authorizeAs?: ((actor: Actor, state: CanaryState, requestId: string) => Promise<void>) | undefined;
  kick: (runId: string) => void;
  logger: Logger;
  now?: (() => Date) | undefined;
  newId: () => string;
}

const COMMAND = /^canary\s+(promote|pause|resume|abort)\s+(\S+)\s*$/i;

export function withCanaryCommands(inner: RequestHandler, deps: CanaryCommandDeps): RequestHandler {
  return {
    handle(request) {
      const m = COMMAND.exec(request.text.trim().replace(/^\/wh\s+/, ''));
      if (!m) return inner.handle(request);
      return run(deps, request, (m[1] ?? '').toLowerCase() as CanaryAction, m[2] ?? '');
    },
  };
}

async function run(
  deps: CanaryCommandDeps,
  request: ChatRequest,
  action: CanaryAction,
  runId: string,
): Promise<Reply> {
  const now = deps.now ?? (() => new Date());
  const requestId = request.requestId ?? deps.newId();
  const startedAt = now();
  let outcome: { ok: true; result: SkillResult } | { ok: false; error: WheelhouseError };
  let namespace: string | undefined;
  try {
    const record = await deps.runs.get(runId);
    if (!record || record.kind !== CANARY) {
      throw new WheelhouseError('NOT_FOUND', `There is no canary run ${runId}.`, {
        hint: 'Use the buttons of the canary message; its run id is at the bottom.',
      });
    }
    const state = parseCanary(record);
    namespace = state.namespace;
    if (isFinal(state.phase)) {
      throw new WheelhouseError(
        'CONFLICT',
        `The canary of deploy/${state.stable} has ended (${state.phase}).`,
      );
    }
    const why = authorize(deps, request.actor, state, action, now());
    await deps.authorizeAs?.(request.actor, state, requestId);
    await queue(deps, runId, action, who(request.actor), now());
    deps.kick(runId);
    outcome = {
      ok: true,
      result: {
        summary: `${label(action)} the canary of deploy/${state.stable} in ${state.namespace} (${why}).`,
        tone: 'info',
        sections: [],
      },
    };
  } catch (e) {
    outcome = { ok: false, error: toWheelhouseError(e) };
  }
  const { actor } = request;
  const entry: AuditEntry = {
    type: `canary.command.${action}`,
    requestId,
    time: startedAt.toISOString(),
    actor: auditActor(actor),
    text: request.text,
    plan: null,
    skill: null,
    input: { run: runId, action, namespace },
    outcome: replyOutcome(outcome),
    errorCode: outcome.ok ? null : outcome.error.code,
    message: outcome.ok ? outcome.result.summary : outcome.error.message,
    durationMs: Math.round(now().getTime() - startedAt.getTime()),
  };
  const { durationMs } = entry;
  const reply: Reply = outcome.ok
    ? { ok: true, requestId, skill: undefined, durationMs, result: outcome.result }
    : { ok: false, requestId, skill: undefined, durationMs, error: outcome.error };
  return recordReply(deps.audit, entry, reply, deps.logger);
}

function label(action: CanaryAction): string {
  return { promote: 'Promoting', pause: 'Pausing', resume: 'Resuming', abort: 'Aborting' }[action];
}

function who(actor: Actor): string {
  return actor.name ?? actor.id;
}

/** Whether the actor is one of the approvers (by chat id, Kubernetes user or group). */
export function isApprover(actor: Actor, approvers: Approvers): boolean {
  return 'users' in approvers
    ? approvers.users.some((u) => u === actor.id || u === actor.kube?.user)
    : (actor.kube?.groups ?? []).includes(approvers.group);
}

/**
 * Policy first (a write in the run's namespace); stopping (Pause, Abort) is then open to anyone
 * policy lets write there. Going further (Promote now, Resume) needs an approver, never the
 * requester, when policy asks for approval or the run waits at a gate.
 */
function authorize(
  deps: CanaryCommandDeps,
  actor: Actor,
  state: CanaryState,
  action: CanaryAction,
  now: Date,
): string {
  const plan: Plan = {
    source: 'grammar',
    rationale: 'canary button',
    steps: [
      {
        skill: 'canary-start',
        risk: 'write',
        input: { action, namespace: state.namespace },
        summary: `${action} canary of deploy/${state.stable}`,
        namespace: state.namespace,
      },
    ],
  };
  const decision = evaluate({ plan, actor, mapped: deps.isMapped(actor), now, recentWrites: 0 }, deps.policy);
  if (decision.effect === 'deny') {
    throw new WheelhouseError('POLICY_DENIED', `Policy does not allow this: ${decision.reason}`, {
      hint: 'Ask a Wheelhouse admin who may control canaries in this namespace.',
    });
  }
  if (action === 'pause' || action === 'abort')
    return 'stopping is open to anyone who may change this namespace';
  const gated = state.pause?.kind === 'gate' || (action === 'promote' && state.gates.length > 0);
  if (decision.effect === 'allow' && !gated) return 'allowed by policy';
  const approvers =
    decision.effect === 'require_approval'
      ? decision.approvers
      : (deps.approvers ?? deps.policy.approvers.write);
  if (actor.id === state.actor.id) {
    throw new WheelhouseError(
      'POLICY_DENIED',
      'You started this canary, so someone else must approve going further.',
      {
        hint: `Ask someone from ${approverText(approvers)}.`,
      },
    );
  }
  if (!isApprover(actor, approvers)) {
    throw new WheelhouseError('POLICY_DENIED', 'You are not an approver for this canary.', {
      hint: `Ask someone from ${approverText(approvers)}.`,
    });
  }
  return 'approved by the approver who clicked';
}

function approverText(approvers: Approvers): string {
  return 'users' in approvers ? approvers.users.join(', ') : `group ${approvers.group}`;
}

/** Appends the command to the run by compare-and-set, retrying against concurrent writers. */
async function queue(
  deps: CanaryCommandDeps,
  runId: string,
  action: CanaryAction,
  by: string,
  now: Date,
): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const record = await deps.runs.get(runId);
    if (!record) throw new WheelhouseError('NOT_FOUND', `There is no canary run ${runId}.`);
    const state = parseCanary(record);
    const command = { id: deps.newId(), action, by, at: now.toISOString() };
    const next = { ...state, commands: [...state.commands, command] };
    if (await deps.runs.update(runId, record.version, { state: next }, now)) return;
  }
  throw new WheelhouseError('CONFLICT', 'The canary run is busy; try the button again.');
}

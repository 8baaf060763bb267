import type { Logger } from 'pino';
import { type AuditEntry, auditActor } from '../audit/audit-record.ts';
import { recordReply, replyOutcome } from '../audit/record-reply.ts';
import { toWheelhouseError, WheelhouseError } from '../errors.ts';
import { evaluate, type Plan } from '../policy/evaluate.ts';
import type { Policy } from '../policy/policy-schema.ts';
import type { ChatRequest, Reply, RequestHandler } from '../runner/types.ts';
import type { Actor } from '../skills/context.ts';
import type { SkillResult } from '../skills/result.ts';
import { parseDurationSeconds } from '../skills/schema.ts';
import type { RunStore } from '../store/run-store.ts';
import type { AuditLog } from '../store/types.ts';
import type { SilenceApi, SilenceMatcher } from './alertmanager-client.ts';
import { ALERT_THREAD_KIND, type IncidentState, parseIncidentState } from './incident-state.ts';

/**
 * `silence <incident> --for 2h` and `unsilence <incident> <silence-id>`: the Silence button of an
 * incident thread and its undo. A silence is not a Kubernetes change, and the change road carries
 * only those (propose → server-side dry-run → apply as the user), so these two commands take
 * their own short road here, top to bottom: parse → find the incident → policy (a `write` step in
 * the alert's namespace, as the clicking user) → Alertmanager → audit → answer. Where policy asks
 * for approval, an approver's own click is the approval (a silence is reversible and time-bound);
 * anyone else is told whom to ask. Every other text goes on to the one road unchanged.
 */

export interface AlertCommandDeps {
  runs: RunStore;
  silences: SilenceApi;
  audit: AuditLog;
  policy: Policy;
  /** Whether an identity rule maps this chat user. */
  isMapped: (actor: Actor) => boolean;
  /** Alertmanager base URL; else the incident's externalURL. */
  alertmanagerUrl: string | undefined;
  /** Longest silence allowed. @default 7 days */
  maxSilenceSeconds?: number | undefined;
  /** Shows the new silence on the root message. */
  kick: (incidentId: string) => void;
  logger: Logger;
  now?: (() => Date) | undefined;
  newRequestId: () => string;
}

const SILENCE = /^silence\s+(\S+)(?:\s+(?:--for|for)\s+(\S+))?\s*$/i;
const UNSILENCE = /^unsilence\s+(\S+)\s+(\S+)\s*$/i;

/** The handler with `silence` and `unsilence` in front of it. */
export function withAlertCommands(inner: RequestHandler, deps: AlertCommandDeps): RequestHandler {
  return {
    handle(request) {
      const text = request.text.trim();
      const silence = SILENCE.exec(text);
      if (silence)
        return run(deps, request, 'alert.silence', () =>
          createSilence(deps, request, silence[1] ?? '', silence[2] ?? '2h'),
        );
      const unsilence = UNSILENCE.exec(text);
      if (unsilence) {
        return run(deps, request, 'alert.unsilence', () =>
          expireSilence(deps, request, unsilence[1] ?? '', unsilence[2] ?? ''),
        );
      }
      return inner.handle(request);
    },
  };
}

interface Done {
  result: SkillResult;
  input: Record<string, unknown>;
}

/** Runs one command and audits it whatever the outcome; never throws (like the one road). */
async function run(
  deps: AlertCommandDeps,
  request: ChatRequest,
  type: string,
  work: () => Promise<Done>,
): Promise<Reply> {
  const now = deps.now ?? (() => new Date());
  const requestId = request.requestId ?? deps.newRequestId();
  const startedAt = now();
  const started = performance.now();
  let outcome: { ok: true; done: Done } | { ok: false; error: WheelhouseError; input: unknown };
  try {
    outcome = { ok: true, done: await work() };
  } catch (error) {
    const input = error instanceof CommandError ? error.input : null;
    outcome = {
      ok: false,
      error: toWheelhouseError(error instanceof CommandError ? error.cause : error),
      input,
    };
  }
  const durationMs = Math.round(performance.now() - started);
  const { actor } = request;
  const entry: AuditEntry = {
    type,
    requestId,
    time: startedAt.toISOString(),
    actor: auditActor(actor),
    text: request.text,
    plan: null,
    skill: null,
    input: outcome.ok ? outcome.done.input : outcome.input,
    outcome: replyOutcome(outcome),
    errorCode: outcome.ok ? null : outcome.error.code,
    message: outcome.ok ? outcome.done.result.summary : outcome.error.message,
    durationMs,
  };
  const reply: Reply = outcome.ok
    ? { ok: true, requestId, skill: undefined, durationMs, result: outcome.done.result }
    : { ok: false, requestId, skill: undefined, durationMs, error: outcome.error };
  return recordReply(deps.audit, entry, reply, deps.logger, {
    message: 'I could not write the audit record of this silence.',
    hint: outcome.ok ? 'The silence exists in Alertmanager; expire it there if it should not.' : undefined,
  });
}

/** Carries what was known about the command into its audit record when it fails. */
class CommandError extends Error {
  readonly input: Record<string, unknown>;
  constructor(cause: unknown, input: Record<string, unknown>) {
    super('alert command failed', { cause });
    this.input = input;
  }
}

async function incident(deps: AlertCommandDeps, id: string): Promise<IncidentState> {
  const run = await deps.runs.get(id);
  if (run === undefined || run.kind !== ALERT_THREAD_KIND) {
    throw new WheelhouseError('NOT_FOUND', `There is no incident ${id}.`, {
      hint: 'Use the buttons of the incident thread, or the id at the bottom of its first message.',
    });
  }
  return parseIncidentState(run.state);
}

/** The group's own labels select exactly its alerts; without group labels, the labels all alerts share. */
export function silenceMatchers(state: IncidentState): SilenceMatcher[] {
  const labels = Object.keys(state.groupLabels).length > 0 ? state.groupLabels : state.commonLabels;
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value, isRegex: false, isEqual: true }));
}

function namespaceOf(state: IncidentState): string | undefined {
  return state.groupLabels.namespace ?? state.commonLabels.namespace ?? state.workload?.namespace;
}

/** Policy on a silence: a `write` step in the alert's namespace; an approver's click approves it. */
function authorize(
  deps: AlertCommandDeps,
  actor: Actor,
  summary: string,
  input: Record<string, unknown>,
  now: Date,
): string {
  const plan: Plan = {
    source: 'grammar',
    rationale: 'incident button',
    steps: [
      {
        skill: 'alert-silence',
        risk: 'write',
        input,
        summary,
        namespace: typeof input.namespace === 'string' ? input.namespace : undefined,
      },
    ],
  };
  const decision = evaluate({ plan, actor, mapped: deps.isMapped(actor), now, recentWrites: 0 }, deps.policy);
  if (decision.effect === 'allow') return 'allowed by policy';
  if (decision.effect === 'deny') {
    throw new WheelhouseError('POLICY_DENIED', `Policy does not allow this: ${decision.reason}`, {
      hint: 'Ask a Wheelhouse admin which channels and roles may silence alerts.',
    });
  }
  const { approvers } = decision;
  const isApprover =
    'users' in approvers
      ? approvers.users.some((u) => u === actor.id || u === actor.kube?.user)
      : (actor.kube?.groups ?? []).includes(approvers.group);
  if (isApprover) return `approved by the approver who clicked (${decision.reason})`;
  const who = 'users' in approvers ? approvers.users.join(', ') : `group ${approvers.group}`;
  throw new WheelhouseError(
    'POLICY_DENIED',
    `Silencing needs approval here (${decision.reason}), and you are not an approver.`,
    {
      hint: `Ask someone from ${who} to click Silence; their click approves and creates it.`,
    },
  );
}

async function createSilence(
  deps: AlertCommandDeps,
  request: ChatRequest,
  id: string,
  durationText: string,
): Promise<Done> {
  const now = (deps.now ?? (() => new Date()))();
  const input: Record<string, unknown> = { incident: id, duration: durationText };
  try {
    const seconds = parseDurationSeconds(durationText);
    const max = deps.maxSilenceSeconds ?? 7 * 86400;
    if (seconds === undefined || seconds <= 0 || seconds > max) {
      throw new WheelhouseError('INVALID_INPUT', `"${durationText}" is not a silence length I take.`, {
        hint: `Use a duration like 30m, 2h or 1d, at most ${Math.round(max / 86400)}d.`,
      });
    }
    const state = await incident(deps, id);
    const matchers = silenceMatchers(state);
    input.namespace = namespaceOf(state);
    input.matchers = matchers;
    input.groupKey = state.groupKey;
    if (matchers.length === 0) {
      throw new WheelhouseError('INVALID_INPUT', 'This alert group has no labels to silence it by.');
    }
    const what = matchers.map((m) => `${m.name}="${m.value}"`).join(', ');
    input.decision = authorize(deps, request.actor, `silence {${what}} for ${durationText}`, input, now);
    const base = deps.alertmanagerUrl ?? state.externalURL;
    if (!base) {
      throw new WheelhouseError('SOURCE_NOT_CONFIGURED', 'I do not know where Alertmanager is.', {
        hint: 'Set alerts.alertmanagerUrl (WH_ALERTMANAGER_URL).',
      });
    }
    const endsAt = new Date(now.getTime() + seconds * 1000);
    const by = request.actor.name ?? request.actor.id;
    const silenceId = await deps.silences.create(base, {
      matchers,
      startsAt: now,
      endsAt,
      createdBy: `${by} (${request.actor.surface} ${request.actor.id}) via Wheelhouse`,
      comment: `Silenced from the Wheelhouse incident thread ${id}: ${state.commonAnnotations.summary ?? state.groupKey}`,
    });
    input.silenceId = silenceId;
    await recordSilence(deps, id, (s) => ({
      ...s,
      silences: [
        ...s.silences.filter((x) => x.id !== silenceId),
        { id: silenceId, by, until: endsAt.toISOString() },
      ],
      revision: s.revision + 1,
    }));
    deps.kick(id);
    return {
      input,
      result: {
        summary: `Silenced {${what}} for ${durationText}, until ${endsAt.toISOString()} (silence ${silenceId}).`,
        tone: 'success',
        sections: [
          {
            type: 'actions',
            actions: [{ label: 'Expire silence', command: `unsilence ${id} ${silenceId}`, style: 'danger' }],
          },
        ],
      },
    };
  } catch (error) {
    throw new CommandError(error, input);
  }
}

async function expireSilence(
  deps: AlertCommandDeps,
  request: ChatRequest,
  id: string,
  silenceId: string,
): Promise<Done> {
  const now = (deps.now ?? (() => new Date()))();
  const input: Record<string, unknown> = { incident: id, silenceId };
  try {
    const state = await incident(deps, id);
    input.namespace = namespaceOf(state);
    input.decision = authorize(deps, request.actor, `expire silence ${silenceId}`, input, now);
    const base = deps.alertmanagerUrl ?? state.externalURL;
    if (!base) throw new WheelhouseError('SOURCE_NOT_CONFIGURED', 'I do not know where Alertmanager is.');
    await deps.silences.expire(base, silenceId);
    await recordSilence(deps, id, (s) => ({
      ...s,
      silences: s.silences.filter((x) => x.id !== silenceId),
      revision: s.revision + 1,
    }));
    deps.kick(id);
    return {
      input,
      result: {
        summary: `Expired silence ${silenceId}; the alerts notify again.`,
        tone: 'success',
        sections: [],
      },
    };
  } catch (error) {
    throw new CommandError(error, input);
  }
}

async function recordSilence(
  deps: AlertCommandDeps,
  id: string,
  change: (s: IncidentState) => IncidentState,
): Promise<void> {
  for (let attempt = 0; attempt < 25; attempt += 1) {
    const run = await deps.runs.get(id);
    if (run === undefined) return;
    const updated = await deps.runs.update(
      id,
      run.version,
      { state: change(parseIncidentState(run.state)) },
      new Date(),
    );
    if (updated !== undefined) return;
  }
  deps.logger.warn(
    { incident: id },
    'Could not record the silence on the incident (it exists in Alertmanager)',
  );
}

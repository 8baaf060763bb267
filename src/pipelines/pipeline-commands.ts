import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { approverText, isApprover } from '../approvals/approvers.ts';
import type { ApprovalRecord, ApprovalStore } from '../approvals/types.ts';
import { type AuditEntry, auditActor } from '../audit/audit-record.ts';
import { recordReply, replyOutcome } from '../audit/record-reply.ts';
import { toWheelhouseError, WheelhouseError } from '../errors.ts';
import { type Decision, evaluate } from '../policy/evaluate.ts';
import type { Policy } from '../policy/policy-schema.ts';
import type { ChatRequest, Reply, RequestHandler } from '../runner/types.ts';
import type { Actor } from '../skills/context.ts';
import type { SkillResult } from '../skills/result.ts';
import type { RunStore } from '../store/run-store.ts';
import type { AuditLog } from '../store/types.ts';
import { parseParamWords, validateParams } from './params.ts';
import { type Acting, JOBS, PIPELINE_RUNS, type PipelineCluster } from './pipeline-cluster.ts';
import type { PipelineSpec } from './pipeline-config.ts';
import { jobManifest, newRunState, pipelineRunManifest, runName } from './run-manifests.ts';
import { isFinished, PIPELINE_RUN_KIND, parseRunState, type RunState } from './run-state.ts';
import { duration, requesterText } from './run-view.ts';
import { cancelRun } from './stage-scheduler.ts';

/**
 * `run <pipeline> key=value…`, `runs [pipeline]`, `cancel-run <id>`, `rerun <id>`, and the
 * approve/deny buttons of pipeline approvals. Starting a run takes its own road, top to bottom in
 * `startRun`: catalog → parameters → policy → dedupe → RBAC as the user (access review, then a
 * server-side dry-run of what will be created) → audit → store (the keeper then creates, as the
 * user, and follows). Every command is audited whatever its outcome; anything else goes on to the
 * inner handler unchanged.
 */
export interface PipelineCommandDeps {
  catalog: ReadonlyMap<string, PipelineSpec>;
  runs: RunStore;
  approvals: ApprovalStore;
  cluster: PipelineCluster;
  audit: AuditLog;
  policy: Policy;
  isMapped: (actor: Actor) => boolean;
  /** Member ids of a Slack user group, for approvers given as one. */
  groupMembers?: ((usergroup: string) => Promise<string[]>) | undefined;
  /** Steps a run now (after it was created, approved or cancelled). */
  kick: (runId: string) => void;
  /** Identical `run`s by one user within this window start one run. */
  dedupeWindowMs: number;
  /** How long the policy's approval before a run stays open. */
  approvalTtlSeconds: number;
  jobTtlSeconds: number;
  logger: Logger;
  now: () => Date;
  newId: () => string;
}

const RUN = /^run\s+(\S+)((?:\s+\S+)*)\s*$/i;
const RUNS = /^runs(?:\s+(\S+))?\s*$/i;
const CANCEL = /^cancel-run\s+(\S+)\s*$/i;
const RERUN = /^rerun\s+(\S+)\s*$/i;
const DECIDE = /^(approve|deny)\s+(\S+)(?:\s+(.*))?$/is;

/** The handler with the pipeline commands in front of it. */
export function withPipelineCommands(inner: RequestHandler, deps: PipelineCommandDeps): RequestHandler {
  return {
    async handle(request) {
      const text = request.text.trim().replace(/^\/wh\s+/, '');
      const run = RUN.exec(text);
      if (run) {
        const words = (run[2] ?? '').trim().split(/\s+/).filter(Boolean);
        return audited(deps, request, 'pipeline.run', (r) =>
          startRun(deps, r, run[1] ?? '', words, undefined),
        );
      }
      const runs = RUNS.exec(text);
      if (runs) return audited(deps, request, 'pipeline.runs', () => listRuns(deps, runs[1]));
      const cancel = CANCEL.exec(text);
      if (cancel)
        return audited(deps, request, 'pipeline.cancel', (r) => cancelRunCommand(deps, r, cancel[1] ?? ''));
      const rerun = RERUN.exec(text);
      if (rerun)
        return audited(deps, request, 'pipeline.rerun', (r) => rerunCommand(deps, r, rerun[1] ?? ''));
      const decide = DECIDE.exec(text);
      if (decide) {
        const approval = await deps.approvals.get(decide[2] ?? '').catch(() => undefined);
        if (approval?.skill === 'pipeline-run') {
          const verb = decide[1]?.toLowerCase() === 'approve' ? 'approve' : 'deny';
          return audited(deps, request, `pipeline.${verb}`, () =>
            decideApproval(deps, request, approval, verb, decide[3]?.trim() || 'no reason given'),
          );
        }
      }
      return inner.handle(request);
    },
  };
}

interface Done {
  result: SkillResult;
  input: Record<string, unknown>;
}

/** The road of `run`, top to bottom. `rerunOf` names the run a Rerun button repeats. */
export async function startRun(
  deps: PipelineCommandDeps,
  request: ChatRequest & { requestId: string },
  name: string,
  words: readonly string[],
  rerunOf: string | undefined,
): Promise<Done> {
  const { actor } = request;
  const pipeline = findPipeline(deps, name);
  const params = validateParams(pipeline.name, pipeline.params, parseParamWords(words));
  const input = { pipeline: pipeline.name, params, rerunOf };
  const decision = authorize(
    deps,
    actor,
    'pipeline-run',
    `run pipeline ${pipeline.name}`,
    pipeline.namespace,
    input,
  );

  // Slack retries and double clicks: one run per key (the store's unique key decides races).
  const keys = dedupeKeys(deps, actor, pipeline.name, params, rerunOf);
  for (const key of keys) {
    const existing = await deps.runs.byKey(PIPELINE_RUN_KIND, key);
    if (
      existing &&
      (rerunOf || deps.now().getTime() - Date.parse(existing.createdAt) < deps.dedupeWindowMs)
    ) {
      return { result: alreadyStarted(existing.id, parseRunState(existing.state), deps.now()), input };
    }
  }
  const key = keys[0] ?? '';
  const id = deps.newId();
  const state = newRunState(pipeline, {
    id,
    name: runName(pipeline.name, key),
    params,
    actor,
    requestId: request.requestId,
    rerunOf,
    now: deps.now(),
    gate:
      decision.effect === 'require_approval'
        ? { required: decision.approvers, ttlSeconds: deps.approvalTtlSeconds }
        : undefined,
  });

  // Kubernetes decides as the user, before anything is stored: an access review, then a dry-run.
  const acting: Acting = { identity: actor.kube, requestId: request.requestId };
  await dryRun(deps, acting, pipeline, state);

  await appendAudit(
    deps,
    request,
    'pipeline.start',
    `start ${pipeline.name} run ${state.name}`,
    { ...input, runId: id, run: state.name },
    'ok',
  );
  const created = await deps.runs.create(
    { id, kind: PIPELINE_RUN_KIND, key, status: 'active', state },
    deps.now(),
  );
  if (created === undefined) {
    const winner = await deps.runs.byKey(PIPELINE_RUN_KIND, key);
    if (winner) return { result: alreadyStarted(winner.id, parseRunState(winner.state), deps.now()), input };
    throw new WheelhouseError('INTERNAL', `run ${state.name} could not be stored`);
  }
  deps.kick(id);
  return {
    result: {
      summary:
        decision.effect === 'require_approval'
          ? `Pipeline ${pipeline.name} run ${state.name} waits for approval (${decision.reason}); follow it in the run's message.`
          : `Started pipeline ${pipeline.name} run ${state.name}; follow it in the run's message.`,
      tone: 'success',
      sections: [
        {
          type: 'fields',
          fields: [
            { label: 'Run id', value: id },
            {
              label: 'Parameters',
              value:
                Object.entries(params)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(' ') || '(none)',
            },
          ],
        },
      ],
    },
    input: { ...input, runId: id, run: state.name },
  };
}

function findPipeline(deps: PipelineCommandDeps, name: string): PipelineSpec {
  const pipeline = deps.catalog.get(name);
  if (pipeline) return pipeline;
  const names = [...deps.catalog.keys()];
  throw new WheelhouseError('NOT_FOUND', `There is no pipeline named ${name}.`, {
    hint: names.length
      ? `Pipelines: ${names.join(', ')}.`
      : 'No pipelines are configured (`pipelines.catalog`).',
  });
}

/** The key of this trigger now, then of the window before (an identical run there is a duplicate too). */
function dedupeKeys(
  deps: PipelineCommandDeps,
  actor: Actor,
  pipeline: string,
  params: Record<string, string>,
  rerunOf: string | undefined,
): string[] {
  if (rerunOf) return [`rerun:${rerunOf}`];
  const what = createHash('sha256')
    .update(JSON.stringify([actor.id, actor.channel ?? '', pipeline, Object.entries(params).sort()]))
    .digest('hex')
    .slice(0, 24);
  const bucket = Math.floor(deps.now().getTime() / deps.dedupeWindowMs);
  return [`run:${what}:${bucket}`, `run:${what}:${bucket - 1}`];
}

async function dryRun(
  deps: PipelineCommandDeps,
  acting: Acting,
  pipeline: PipelineSpec,
  state: RunState,
): Promise<void> {
  if (pipeline.type === 'tekton') {
    await deps.cluster.authorize(acting, 'create', PIPELINE_RUNS, pipeline.namespace);
    await deps.cluster.create(acting, PIPELINE_RUNS, pipelineRunManifest(state, pipeline), true);
  } else if (pipeline.type === 'built-in') {
    await deps.cluster.authorize(acting, 'create', JOBS, pipeline.namespace);
    for (const [index, stage] of pipeline.stages.entries()) {
      if (!('tasks' in stage)) continue;
      for (const task of stage.tasks) {
        await deps.cluster.create(acting, JOBS, jobManifest(state, index, task, deps.jobTtlSeconds), true);
      }
    }
  }
}

function alreadyStarted(id: string, state: RunState, now: Date): SkillResult {
  return {
    summary: `Already started: pipeline ${state.pipeline} run ${state.name} (${state.status}, ${duration(state.createdAt, state.finishedAt, now)} ago); not starting it twice.`,
    tone: 'info',
    sections: [{ type: 'fields', fields: [{ label: 'Run id', value: id }] }],
  };
}

async function listRuns(deps: PipelineCommandDeps, pipeline: string | undefined): Promise<Done> {
  if (pipeline) findPipeline(deps, pipeline);
  const all = await deps.runs.list(PIPELINE_RUN_KIND, { limit: 1000 });
  const rows = all
    .map((r) => ({ id: r.id, state: parseRunState(r.state) }))
    .filter((r) => pipeline === undefined || r.state.pipeline === pipeline)
    .slice(-20)
    .reverse();
  const now = deps.now();
  return {
    result: {
      summary: rows.length
        ? `The last ${rows.length} run(s)${pipeline ? ` of ${pipeline}` : ''}.`
        : `No runs${pipeline ? ` of ${pipeline}` : ''} yet. Pipelines: ${[...deps.catalog.keys()].join(', ') || '(none configured)'}.`,
      tone: 'info',
      sections: rows.length
        ? [
            {
              type: 'table',
              columns: ['Run', 'Pipeline', 'Status', 'Started by', 'Started', 'Took'],
              rows: rows.map(({ state }) => [
                state.name,
                state.pipeline,
                state.status,
                requesterText(state),
                state.createdAt,
                duration(state.createdAt, state.finishedAt, now),
              ]),
            },
          ]
        : [],
    },
    input: { pipeline },
  };
}

async function loadRun(deps: PipelineCommandDeps, id: string) {
  const record = await deps.runs.get(id);
  if (record === undefined || record.kind !== PIPELINE_RUN_KIND) {
    throw new WheelhouseError('NOT_FOUND', `There is no pipeline run ${id}.`, {
      hint: 'Use the buttons of the run message, or `/wh runs` for recent runs.',
    });
  }
  return { record, state: parseRunState(record.state) };
}

/**
 * Cancel: policy decides (a write in the run's namespace); where it asks for approval, only an
 * approver's click cancels. Kubernetes decides again: Jobs are deleted and the PipelineRun is
 * marked cancelled as the clicking user.
 */
async function cancelRunCommand(
  deps: PipelineCommandDeps,
  request: ChatRequest & { requestId: string },
  id: string,
): Promise<Done> {
  const { record, state } = await loadRun(deps, id);
  const input = { runId: id, run: state.name, pipeline: state.pipeline };
  if (isFinished(state.status)) {
    return {
      result: {
        summary: `Run ${state.name} has already ${state.status}; nothing to cancel.`,
        tone: 'info',
        sections: [],
      },
      input,
    };
  }
  const decision = authorize(
    deps,
    request.actor,
    'pipeline-cancel',
    `cancel ${state.name}`,
    state.namespace,
    input,
  );
  if (
    decision.effect === 'require_approval' &&
    !(await isApprover(request.actor, decision.approvers, deps.groupMembers))
  ) {
    throw new WheelhouseError(
      'POLICY_DENIED',
      `Only an approver may cancel runs in ${state.namespace}: ${decision.reason}.`,
      {
        hint: `Ask someone from ${approverText(decision.approvers)}.`,
      },
    );
  }
  const acting: Acting = { identity: request.actor.kube, requestId: request.requestId };
  const kind = state.type === 'tekton' ? PIPELINE_RUNS : JOBS;
  await deps.cluster.authorize(acting, state.type === 'tekton' ? 'patch' : 'delete', kind, state.namespace);
  const by = request.actor.name ?? request.actor.id;
  const next = cancelRun(state, by, deps.now());
  await appendAudit(deps, request, 'pipeline.cancel-intent', `cancel ${state.name}`, input, 'ok');
  // `active` until the keeper has shown the final message.
  const stored = await deps.runs.update(
    id,
    record.version,
    { status: 'active', state: next.state },
    deps.now(),
  );
  if (stored === undefined) {
    throw new WheelhouseError('CONFLICT', `Run ${state.name} changed while cancelling; try again.`);
  }
  if (state.type === 'tekton') {
    await deps.cluster.patch(acting, PIPELINE_RUNS, state.namespace, state.name, {
      spec: { status: 'Cancelled' },
    });
  }
  for (const job of next.jobs) await deps.cluster.delete(acting, JOBS, state.namespace, job);
  if (next.approvalId)
    await deps.approvals.transition(next.approvalId, 'pending', 'voided', `run cancelled by ${by}`);
  deps.kick(id);
  return {
    result: {
      summary: `Cancelled pipeline ${state.pipeline} run ${state.name}${next.jobs.length ? `; deleted ${next.jobs.length} running Job(s)` : ''}.`,
      tone: 'warning',
      sections: [],
    },
    input: { ...input, deletedJobs: next.jobs },
  };
}

async function rerunCommand(
  deps: PipelineCommandDeps,
  request: ChatRequest & { requestId: string },
  id: string,
): Promise<Done> {
  const { state } = await loadRun(deps, id);
  const words = Object.entries(state.params).map(([k, v]) => `${k}=${v}`);
  // The rerun is the clicking user's run: their policy, their RBAC, their name on it.
  return startRun(deps, request, state.pipeline, words, id);
}

/** Approve or deny a pipeline approval; the approver is checked now, at click time. */
async function decideApproval(
  deps: PipelineCommandDeps,
  request: ChatRequest,
  approval: ApprovalRecord,
  verb: 'approve' | 'deny',
  reason: string,
): Promise<Done> {
  const input = { approvalId: approval.id, ...approval.input };
  const runId = typeof approval.input['runId'] === 'string' ? approval.input['runId'] : '';
  if (request.actor.id === approval.requester.id) {
    throw new WheelhouseError('POLICY_DENIED', 'You cannot approve or deny your own pipeline run.', {
      hint: `It needs ${approval.required.quorum} approver(s) from ${approverText(approval.required)}.`,
    });
  }
  if (!(await isApprover(request.actor, approval.required, deps.groupMembers))) {
    throw new WheelhouseError('POLICY_DENIED', 'You are not an approver for this pipeline run.', {
      hint: `It needs ${approval.required.quorum} approver(s) from ${approverText(approval.required)}.`,
    });
  }
  if (verb === 'deny') {
    if (!(await deps.approvals.deny(approval.id, request.actor.id, reason, deps.now()))) {
      throw new WheelhouseError(
        'CONFLICT',
        `The approval ${approval.id} is ${approval.status}; it can no longer be denied.`,
      );
    }
    deps.kick(runId);
    return {
      result: { summary: `Denied: ${approval.summary} (${reason}).`, tone: 'info', sections: [] },
      input,
    };
  }
  const vote = await deps.approvals.vote(approval.id, request.actor.id, deps.now());
  if (vote.kind === 'rejected') {
    throw new WheelhouseError('CONFLICT', `Your approval was not counted: ${vote.reason}.`);
  }
  deps.kick(runId);
  return {
    result:
      vote.kind === 'approved'
        ? { summary: `Approved: ${approval.summary}.`, tone: 'success', sections: [] }
        : {
            summary: `Approved by ${vote.record.approvals.length}; ${vote.remaining} more needed: ${approval.summary}.`,
            tone: 'info',
            sections: [],
          },
    input,
  };
}

function authorize(
  deps: PipelineCommandDeps,
  actor: Actor,
  skill: string,
  summary: string,
  namespace: string,
  input: Record<string, unknown>,
): Decision {
  const decision = evaluate(
    {
      plan: {
        source: 'grammar',
        rationale: 'typed command',
        steps: [{ skill, risk: 'write', input, summary, namespace }],
      },
      actor,
      mapped: deps.isMapped(actor),
      now: deps.now(),
      recentWrites: 0,
    },
    deps.policy,
  );
  if (decision.effect === 'deny') {
    throw new WheelhouseError('POLICY_DENIED', `Policy does not allow this: ${decision.reason}`, {
      hint: 'Ask a Wheelhouse admin which commands your channel and role may run.',
    });
  }
  return decision;
}

/** Runs one command and audits it whatever the outcome; never throws (like the one road). */
async function audited(
  deps: PipelineCommandDeps,
  request: ChatRequest,
  type: string,
  work: (request: ChatRequest & { requestId: string }) => Promise<Done>,
): Promise<Reply> {
  const requestId = request.requestId ?? deps.newId();
  const started = performance.now();
  let outcome: { ok: true; done: Done } | { ok: false; error: WheelhouseError };
  try {
    outcome = { ok: true, done: await work({ ...request, requestId }) };
  } catch (error) {
    outcome = { ok: false, error: toWheelhouseError(error) };
  }
  const durationMs = Math.round(performance.now() - started);
  const entry = auditEntryOf(
    deps,
    { ...request, requestId },
    type,
    outcome.ok ? outcome.done.result.summary : outcome.error.message,
    outcome.ok ? outcome.done.input : null,
    replyOutcome(outcome),
    outcome.ok ? null : outcome.error.code,
    durationMs,
  );
  const reply: Reply = outcome.ok
    ? { ok: true, requestId, skill: 'pipeline-run', durationMs, result: outcome.done.result }
    : { ok: false, requestId, skill: 'pipeline-run', durationMs, error: outcome.error };
  return recordReply(deps.audit, entry, reply, deps.logger, {
    message: 'I could not write the audit record of this pipeline command.',
  });
}

async function appendAudit(...args: Parameters<typeof auditEntryOf>): Promise<void> {
  await args[0].audit.append(auditEntryOf(...args));
}

function auditEntryOf(
  deps: PipelineCommandDeps,
  request: ChatRequest & { requestId: string },
  type: string,
  message: string,
  input: unknown,
  outcome: AuditEntry['outcome'],
  errorCode: string | null = null,
  durationMs = 0,
): AuditEntry {
  const { actor } = request;
  return {
    type,
    requestId: request.requestId,
    time: deps.now().toISOString(),
    actor: auditActor(actor),
    text: request.text,
    plan: null,
    skill: 'pipeline-run',
    input: input ?? null,
    outcome,
    errorCode,
    message,
    durationMs,
  };
}

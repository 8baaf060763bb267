import type { Phase, RunState, StageState, TaskState } from './run-state.ts';
import { isFinished } from './run-state.ts';

/** What the cluster (and the approval store) says now about a run's objects. */
export interface Observation {
  /** By Job name; undefined: not there (not created yet, or already cleaned up). */
  jobs: Readonly<Record<string, ObservedObject | undefined>>;
  /** By approval id: its status in the approval store. */
  approvals: Readonly<Record<string, ApprovalPhase | undefined>>;
  /** The PipelineRun of a Tekton run. */
  pipelineRun?: (ObservedObject & { tasks: Array<{ name: string; object: string }> }) | undefined;
  /** The answer of a webhook trigger once sent. */
  webhook?: { ok: boolean; message: string } | undefined;
}

export interface ObservedObject {
  phase: 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  message?: string | undefined;
}

export type ApprovalPhase = 'pending' | 'approved' | 'denied' | 'expired' | 'voided';

/** Side effects the keeper carries out after the new state is stored (each is idempotent). */
export type Action =
  | { kind: 'create-jobs'; stage: number; jobs: string[] }
  | { kind: 'request-approval'; stage: number; approvalId: string }
  | { kind: 'delete-jobs'; jobs: string[] }
  | { kind: 'fetch-logs'; task: string; job: string }
  | { kind: 'create-pipelinerun' }
  | { kind: 'call-webhook' };

/**
 * The stage scheduler, pure: from the stored state and what is observed now, the next state and
 * the actions that bring the cluster there. Stages run in order; the tasks of a stage run in
 * parallel; the first failed task fails its stage and the run (its siblings are stopped, later
 * stages are skipped); an approval stage waits for its approval. Missing objects of a running
 * stage are created again (creation is idempotent), so a crash between storing and creating
 * loses nothing.
 */
export function advance(
  previous: RunState,
  observed: Observation,
  now: Date,
): { state: RunState; actions: Action[] } {
  if (isFinished(previous.status)) return { state: previous, actions: [] };
  const at = now.toISOString();
  const state: RunState = structuredClone(previous);
  const actions: Action[] = [];
  state.status = 'running';
  for (const stage of state.stages) {
    if (stage.status === 'succeeded' || stage.status === 'skipped') continue;
    stepStage(state, stage, observed, at, actions);
    const status = statusOf(stage);
    if (status === 'succeeded') continue;
    if (status === 'failed' || status === 'cancelled') {
      finish(state, status, at);
      for (const later of state.stages) if (later.status === 'pending') later.status = 'skipped';
    } else if (status === 'waiting') {
      state.status = 'waiting';
    }
    return { state, actions };
  }
  finish(state, 'succeeded', at);
  return { state, actions };
}

function stepStage(
  state: RunState,
  stage: StageState,
  observed: Observation,
  at: string,
  actions: Action[],
): void {
  if (stage.status === 'pending') {
    stage.status = stage.kind === 'approval' ? 'waiting' : 'running';
    stage.startedAt = at;
    switch (stage.kind) {
      case 'approval':
        actions.push({ kind: 'request-approval', stage: stage.index, approvalId: stage.approvalId ?? '' });
        return;
      case 'tasks':
        actions.push({ kind: 'create-jobs', stage: stage.index, jobs: stage.tasks.map((t) => t.object) });
        return;
      case 'tekton':
        actions.push({ kind: 'create-pipelinerun' });
        return;
      case 'webhook':
        actions.push({ kind: 'call-webhook' });
        return;
    }
  }
  switch (stage.kind) {
    case 'approval':
      stepApproval(stage, observed.approvals[stage.approvalId ?? ''], at);
      return;
    case 'tasks':
      stepTasks(state, stage, observed, at, actions);
      return;
    case 'tekton':
      stepTekton(state, stage, observed, at, actions);
      return;
    case 'webhook': {
      const answer = observed.webhook;
      if (answer === undefined) {
        actions.push({ kind: 'call-webhook' });
        return;
      }
      stage.status = answer.ok ? 'succeeded' : 'failed';
      stage.finishedAt = at;
      stage.message = answer.message;
      if (!answer.ok) state.failure = { reason: answer.message, logTail: [] };
      return;
    }
  }
}

function stepApproval(stage: StageState, approval: ApprovalPhase | undefined, at: string): void {
  if (approval === undefined || approval === 'pending') return;
  stage.finishedAt = at;
  if (approval === 'approved') {
    stage.status = 'succeeded';
    stage.message = 'approved';
    return;
  }
  stage.status = 'failed';
  stage.message =
    approval === 'denied' ? 'denied' : approval === 'expired' ? 'not approved in time (expired)' : 'voided';
}

function stepTasks(
  state: RunState,
  stage: StageState,
  observed: Observation,
  at: string,
  actions: Action[],
): void {
  const missing: string[] = [];
  for (const task of stage.tasks) {
    if (isTerminal(task.status)) continue;
    const job = observed.jobs[task.object];
    if (job === undefined) {
      missing.push(task.object);
      continue;
    }
    applyObserved(task, job);
  }
  const failed = stage.tasks.find((t) => t.status === 'failed');
  if (failed) {
    stage.status = 'failed';
    stage.finishedAt = at;
    const running = stage.tasks.filter((t) => !isTerminal(t.status));
    for (const t of running) {
      t.status = 'cancelled';
      t.finishedAt = at;
    }
    if (running.length) actions.push({ kind: 'delete-jobs', jobs: running.map((t) => t.object) });
    state.failure = {
      task: failed.name,
      reason: failed.message ?? `task ${failed.name} failed`,
      logTail: [],
    };
    actions.push({ kind: 'fetch-logs', task: failed.name, job: failed.object });
    return;
  }
  if (stage.tasks.every((t) => t.status === 'succeeded')) {
    stage.status = 'succeeded';
    stage.finishedAt = at;
    return;
  }
  if (missing.length) actions.push({ kind: 'create-jobs', stage: stage.index, jobs: missing });
}

function stepTekton(
  state: RunState,
  stage: StageState,
  observed: Observation,
  at: string,
  actions: Action[],
): void {
  const run = observed.pipelineRun;
  if (run === undefined) {
    actions.push({ kind: 'create-pipelinerun' });
    return;
  }
  stage.tasks = run.tasks.map(
    (t) => stage.tasks.find((old) => old.name === t.name) ?? { ...t, status: 'running' },
  );
  stage.message = run.message;
  if (run.startedAt) stage.startedAt = run.startedAt;
  if (run.phase === 'succeeded' || run.phase === 'failed' || run.phase === 'cancelled') {
    stage.status = run.phase;
    stage.finishedAt = run.finishedAt ?? at;
    for (const t of stage.tasks) if (!isTerminal(t.status)) t.status = run.phase;
    if (run.phase === 'failed')
      state.failure = { reason: run.message ?? 'the PipelineRun failed', logTail: [] };
  }
}

function applyObserved(task: TaskState, job: ObservedObject): void {
  task.status = job.phase;
  if (job.startedAt) task.startedAt = job.startedAt;
  if (job.finishedAt) task.finishedAt = job.finishedAt;
  if (job.message) task.message = job.message;
}

/** Read again after a step (the compiler keeps the narrowing from before the call otherwise). */
function statusOf(stage: StageState): Phase {
  return stage.status;
}

function isTerminal(phase: Phase): boolean {
  return phase === 'succeeded' || phase === 'failed' || phase === 'cancelled' || phase === 'skipped';
}

function finish(state: RunState, status: 'succeeded' | 'failed' | 'cancelled', at: string): void {
  state.status = status;
  state.finishedAt = at;
}

/**
 * Cancels a run that has not finished: the running stage and its unfinished tasks are cancelled,
 * later stages skipped. Returns the Jobs to delete and the approval to void.
 */
export function cancelRun(
  previous: RunState,
  by: string,
  now: Date,
): { state: RunState; jobs: string[]; approvalId: string | undefined } {
  const state: RunState = structuredClone(previous);
  const at = now.toISOString();
  const jobs: string[] = [];
  let approvalId: string | undefined;
  for (const stage of state.stages) {
    if (stage.status === 'running' || stage.status === 'waiting') {
      stage.status = 'cancelled';
      stage.finishedAt = at;
      if (stage.kind === 'approval') approvalId = stage.approvalId;
      for (const t of stage.tasks) {
        if (isTerminal(t.status)) continue;
        t.status = 'cancelled';
        t.finishedAt = at;
        if (stage.kind === 'tasks') jobs.push(t.object);
      }
    } else if (stage.status === 'pending') {
      stage.status = 'skipped';
    }
  }
  state.status = 'cancelled';
  state.finishedAt = at;
  state.cancelledBy = by;
  return { state, jobs, approvalId };
}

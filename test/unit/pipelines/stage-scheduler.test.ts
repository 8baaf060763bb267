import { describe, expect, it } from 'vitest';
import { pipelineSpecSchema } from '../../../src/pipelines/pipeline-config.ts';
import { newRunState } from '../../../src/pipelines/run-manifests.ts';
import type { RunState } from '../../../src/pipelines/run-state.ts';
import { type Action, advance, cancelRun, type Observation } from '../../../src/pipelines/stage-scheduler.ts';

const pipeline = pipelineSpecSchema.parse({
  name: 'ship',
  type: 'built-in',
  namespace: 'shop',
  stages: [
    {
      name: 'build',
      tasks: [
        { name: 'compile', image: 'ci/build:1' },
        { name: 'lint', image: 'ci/lint:1' },
      ],
    },
    { name: 'gate', approval: { group: 'approvers', quorum: 1 } },
    { name: 'deploy', tasks: [{ name: 'apply', image: 'ci/deploy:1' }] },
  ],
});

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const actor = {
  surface: 'slack' as const,
  id: 'U1',
  name: 'bob',
  channel: 'C1',
  kube: { user: 'bob', groups: [] },
};

function fresh(): RunState {
  return newRunState(pipeline, {
    id: 'r1',
    name: 'ship-abc',
    params: {},
    actor,
    requestId: 'req-1',
    now: T0,
  });
}

const none: Observation = { jobs: {}, approvals: {} };
const job = (phase: 'running' | 'succeeded' | 'failed', message?: string) => ({ phase, message });

function step(
  state: RunState,
  observed: Observation,
  seconds: number,
): { state: RunState; actions: Action[] } {
  return advance(state, observed, at(seconds));
}

describe('stage scheduler', () => {
  it('starts every task of the first stage at once, and nothing of the later stages', () => {
    const { state, actions } = step(fresh(), none, 0);
    expect(actions).toEqual([
      { kind: 'create-jobs', stage: 0, jobs: ['ship-abc-0-compile', 'ship-abc-0-lint'] },
    ]);
    expect(state.stages.map((s) => s.status)).toEqual(['running', 'pending', 'pending']);
  });

  it('creates again a Job that is missing while its stage runs (a crash between storing and creating)', () => {
    const running = step(fresh(), none, 0).state;
    const { actions } = step(running, { jobs: { 'ship-abc-0-compile': job('running') }, approvals: {} }, 1);
    expect(actions).toEqual([{ kind: 'create-jobs', stage: 0, jobs: ['ship-abc-0-lint'] }]);
  });

  it('waits for all tasks of a stage, then asks for the approval of the next', () => {
    let state = step(fresh(), none, 0).state;
    const oneDone = step(
      state,
      { jobs: { 'ship-abc-0-compile': job('succeeded'), 'ship-abc-0-lint': job('running') }, approvals: {} },
      5,
    );
    expect(oneDone.actions).toEqual([]);
    expect(oneDone.state.stages[0]?.status).toBe('running');
    state = oneDone.state;
    const bothDone = step(
      state,
      {
        jobs: { 'ship-abc-0-compile': job('succeeded'), 'ship-abc-0-lint': job('succeeded') },
        approvals: {},
      },
      9,
    );
    expect(bothDone.state.stages.map((s) => s.status)).toEqual(['succeeded', 'waiting', 'pending']);
    expect(bothDone.state.status).toBe('waiting');
    expect(bothDone.actions).toEqual([{ kind: 'request-approval', stage: 1, approvalId: 'r1-gate' }]);
  });

  it('goes on after the approval and succeeds when the last stage does', () => {
    let state = step(fresh(), none, 0).state;
    const built = { 'ship-abc-0-compile': job('succeeded'), 'ship-abc-0-lint': job('succeeded') };
    state = step(state, { jobs: built, approvals: {} }, 9).state;
    expect(step(state, { jobs: {}, approvals: { 'r1-gate': 'pending' } }, 10).actions).toEqual([]);
    const approved = step(state, { jobs: {}, approvals: { 'r1-gate': 'approved' } }, 20);
    expect(approved.actions).toEqual([{ kind: 'create-jobs', stage: 2, jobs: ['ship-abc-2-apply'] }]);
    const done = step(approved.state, { jobs: { 'ship-abc-2-apply': job('succeeded') }, approvals: {} }, 30);
    expect(done.state.status).toBe('succeeded');
    expect(done.state.finishedAt).toBe(at(30).toISOString());
    expect(step(done.state, none, 31).actions).toEqual([]);
  });

  it('fails the run on the first failed task: stops its siblings, skips later stages, fetches its logs', () => {
    const state = step(fresh(), none, 0).state;
    const { state: failed, actions } = step(
      state,
      {
        jobs: {
          'ship-abc-0-compile': job('failed', 'BackoffLimitExceeded'),
          'ship-abc-0-lint': job('running'),
        },
        approvals: {},
      },
      4,
    );
    expect(failed.status).toBe('failed');
    expect(failed.failure).toEqual({ task: 'compile', reason: 'BackoffLimitExceeded', logTail: [] });
    expect(failed.stages.map((s) => s.status)).toEqual(['failed', 'skipped', 'skipped']);
    expect(actions).toEqual([
      { kind: 'delete-jobs', jobs: ['ship-abc-0-lint'] },
      { kind: 'fetch-logs', task: 'compile', job: 'ship-abc-0-compile' },
    ]);
  });

  it.each([
    ['denied', 'denied'],
    ['expired', 'not approved in time (expired)'],
  ] as const)('fails the run when the approval is %s', (phase, message) => {
    let state = step(fresh(), none, 0).state;
    state = step(
      state,
      {
        jobs: { 'ship-abc-0-compile': job('succeeded'), 'ship-abc-0-lint': job('succeeded') },
        approvals: {},
      },
      9,
    ).state;
    const { state: after, actions } = step(state, { jobs: {}, approvals: { 'r1-gate': phase } }, 12);
    expect(after.status).toBe('failed');
    expect(after.stages[1]?.message).toBe(message);
    expect(after.stages[2]?.status).toBe('skipped');
    expect(actions).toEqual([]);
  });

  it('cancels: the running stage and its tasks stop, later stages are skipped, running Jobs are named for deletion', () => {
    const state = step(fresh(), none, 0).state;
    const { state: cancelled, jobs } = cancelRun(state, 'ana', at(3));
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.cancelledBy).toBe('ana');
    expect(jobs).toEqual(['ship-abc-0-compile', 'ship-abc-0-lint']);
    expect(cancelled.stages.map((s) => s.status)).toEqual(['cancelled', 'skipped', 'skipped']);
    expect(step(cancelled, none, 4).actions).toEqual([]);
  });

  it('puts the policy approval before a Tekton run and creates the PipelineRun once it is approved', () => {
    const tekton = pipelineSpecSchema.parse({
      name: 'tk',
      type: 'tekton',
      namespace: 'shop',
      pipelineRef: 'build',
    });
    const gated = newRunState(tekton, {
      id: 'r2',
      name: 'tk-1',
      params: {},
      actor,
      requestId: 'q',
      now: T0,
      gate: { required: { group: 'approvers', quorum: 2 }, ttlSeconds: 60 },
    });
    const waiting = step(gated, none, 0);
    expect(waiting.actions).toEqual([{ kind: 'request-approval', stage: -1, approvalId: 'r2-approval' }]);
    const approved = step(waiting.state, { jobs: {}, approvals: { 'r2-approval': 'approved' } }, 5);
    expect(approved.actions).toEqual([{ kind: 'create-pipelinerun' }]);
    const cancelled = step(
      approved.state,
      { jobs: {}, approvals: {}, pipelineRun: { phase: 'cancelled', message: 'Cancelled', tasks: [] } },
      9,
    );
    expect(cancelled.state.status).toBe('cancelled');
  });
});

import { describe, expect, it } from 'vitest';
import {
  type Rollout,
  rolloutChanges,
  rolloutName,
  rolloutSchema,
  rolloutView,
} from '../../../src/canary/argo-rollout.ts';
import type { WheelhouseError } from '../../../src/errors.ts';
import type { ActionsSection, FieldsSection, TableSection } from '../../../src/skills/result.ts';

/** A canary Rollout with 4 steps, paused by its controller at step 2 (a pause without duration). */
function rollout(status: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): Rollout {
  return rolloutSchema.parse({
    metadata: { name: 'checkout', namespace: 'shop', resourceVersion: '41' },
    spec: {
      replicas: 4,
      strategy: {
        canary: {
          steps: [
            { setWeight: 25 },
            { pause: {} },
            { analysis: { templates: [{ templateName: 'success-rate' }] } },
            { pause: { duration: '30s' } },
          ],
        },
      },
      ...spec,
    },
    status: {
      phase: 'Paused',
      currentStepIndex: 1,
      pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-11-25T08:00:00Z' }],
      controllerPause: true,
      stableRS: 'aaa',
      currentPodHash: 'bbb',
      ...status,
    },
  });
}

const statusPatch = (patch: Record<string, unknown>, resourceVersion?: string) => ({
  type: 'patch',
  target: {
    group: 'argoproj.io',
    version: 'v1alpha1',
    resource: 'rollouts',
    kind: 'Rollout',
    namespace: 'shop',
    name: 'checkout',
  },
  resourceVersion,
  patchType: 'merge',
  patch: { status: patch },
  subresource: 'status',
});

function refusal(fn: () => unknown): WheelhouseError {
  try {
    fn();
  } catch (e) {
    return e as WheelhouseError;
  }
  throw new Error('expected a refusal');
}

describe('rolloutChanges: the patches of kubectl argo rollouts promote|abort|retry', () => {
  it('promote at a pause step clears the pause conditions, nothing else', () => {
    expect(rolloutChanges(rollout(), 'promote')).toEqual([statusPatch({ pauseConditions: null })]);
  });

  it('promote of a Rollout paused by a person also sets spec.paused false (on the object, not status)', () => {
    const changes = rolloutChanges(rollout({}, { paused: true }), 'promote');
    expect(changes).toHaveLength(2);
    expect(changes[1]).toMatchObject({ patch: { spec: { paused: false } }, patchType: 'merge' });
    expect(changes[1]).not.toHaveProperty('subresource');
  });

  it('promote during a running analysis goes to the next step, guarded by the resourceVersion read', () => {
    const running = rollout({
      phase: 'Progressing',
      currentStepIndex: 2,
      pauseConditions: null,
      controllerPause: false,
      canary: { currentStepAnalysisRunStatus: { name: 'checkout-2', status: 'Running' } },
    });
    expect(rolloutChanges(running, 'promote')).toEqual([
      statusPatch({ pauseConditions: null, currentStepIndex: 3 }, '41'),
    ]);
  });

  it('promote after an inconclusive analysis also lifts the controller pause and moves on a step', () => {
    const inconclusive = rollout({
      currentStepIndex: 2,
      pauseConditions: [{ reason: 'InconclusiveAnalysisRun' }],
      controllerPause: true,
      canary: { currentStepAnalysisRunStatus: { name: 'checkout-2', status: 'Inconclusive' } },
    });
    expect(rolloutChanges(inconclusive, 'promote')).toEqual([
      statusPatch({ pauseConditions: null, controllerPause: false, currentStepIndex: 3 }, '41'),
    ]);
  });

  it('promote with every step done and nothing paused has nothing to do', () => {
    const done = rollout({ currentStepIndex: 4, pauseConditions: null, phase: 'Progressing' });
    expect(refusal(() => rolloutChanges(done, 'promote')).message).toBe(
      'rollout/checkout in shop has no step left to promote.',
    );
  });

  it('promote --full sets promoteFull unless the current version is the stable one', () => {
    expect(rolloutChanges(rollout(), 'promote-full')).toEqual([statusPatch({ promoteFull: true })]);
    expect(refusal(() => rolloutChanges(rollout({ currentPodHash: 'aaa' }), 'promote-full')).code).toBe(
      'INVALID_INPUT',
    );
  });

  it('abort sets status.abort; retry clears it; each refuses the state it would not change', () => {
    expect(rolloutChanges(rollout(), 'abort')).toEqual([statusPatch({ abort: true })]);
    expect(rolloutChanges(rollout({ abort: true }), 'retry')).toEqual([statusPatch({ abort: false })]);
    expect(refusal(() => rolloutChanges(rollout({ abort: true }), 'abort')).message).toContain(
      'is aborted already',
    );
    expect(refusal(() => rolloutChanges(rollout(), 'retry')).message).toContain('is not aborted');
  });
});

describe('rolloutView', () => {
  it('shows the state, the steps with the current one, the analysis and Promote/Abort buttons', () => {
    const view = rolloutView(
      rollout({ canary: { currentBackgroundAnalysisRunStatus: { name: 'checkout-bg', status: 'Running' } } }),
    );
    expect(view.summary).toBe('Argo Rollout checkout in shop: paused (CanaryPauseStep), step 2 of 4.');
    expect(view.tone).toBe('warning');
    const fields = view.sections.find((s): s is FieldsSection => s.type === 'fields');
    expect(fields?.fields.find((f) => f.label === 'Step')?.value).toBe('2 of 4: pause (until promoted)');
    const [steps, analysis] = view.sections.filter((s): s is TableSection => s.type === 'table');
    expect(steps?.rows).toEqual([
      ['1', 'set weight 25%', 'done'],
      ['2', 'pause (until promoted)', 'current'],
      ['3', 'analysis (success-rate)', 'pending'],
      ['4', 'pause 30s', 'pending'],
    ]);
    expect(analysis?.rows).toEqual([['background analysis', 'checkout-bg', 'Running', '']]);
    const actions = view.sections.find((s): s is ActionsSection => s.type === 'actions');
    expect(actions?.actions.map((a) => [a.label, a.command])).toEqual([
      ['Promote', 'argo-promote rollout/checkout -n shop'],
      ['Promote full', 'argo-promote rollout/checkout -n shop --full'],
      ['Abort', 'argo-abort rollout/checkout -n shop'],
    ]);
  });

  it('offers only Retry for an aborted Rollout, and no buttons for a healthy one', () => {
    const aborted = rolloutView(rollout({ abort: true, phase: 'Degraded' }));
    expect(aborted.summary).toMatch(/: aborted/);
    expect(aborted.tone).toBe('error');
    expect(
      aborted.sections.find((s): s is ActionsSection => s.type === 'actions')?.actions.map((a) => a.label),
    ).toEqual(['Retry']);
    const healthy = rolloutView(rollout({ phase: 'Healthy', currentStepIndex: 4, pauseConditions: null }));
    expect(healthy.summary).toBe('Argo Rollout checkout in shop: healthy.');
    expect(healthy.sections.some((s) => s.type === 'actions')).toBe(false);
  });
});

describe('rolloutName', () => {
  it('reads rollout/NAME or a bare name, and refuses other kinds', () => {
    expect(rolloutName('rollout/checkout')).toBe('checkout');
    expect(rolloutName('checkout')).toBe('checkout');
    expect(refusal(() => rolloutName('deploy/checkout')).code).toBe('INVALID_INPUT');
  });
});

import { describe, expect, it } from 'vitest';
import { parseAnalysis } from '../../../src/canary/analysis.ts';
import { canaryConfigSchema, resolveRunSettings } from '../../../src/canary/canary-config.ts';
import {
  afterAnalysis,
  applyCommand,
  type CanaryState,
  currentShare,
} from '../../../src/canary/canary-run.ts';
import { canaryView } from '../../../src/canary/canary-view.ts';
import { parseSteps, planSteps, progressBar } from '../../../src/canary/steps.ts';

const T0 = new Date('2025-01-01T00:00:00Z');

function canaryState(overrides: Partial<CanaryState> = {}): CanaryState {
  return {
    requestId: 'req-1',
    summary: 'canary deploy/web',
    actor: { surface: 'slack', id: 'UBOB', name: 'bob', channel: 'C1', kube: { user: 'bob', groups: [] } },
    engine: 'deployment',
    namespace: 'shop',
    stable: 'web',
    canary: 'web-canary',
    container: 'web',
    image: 'web:v2',
    previousImage: 'web:v1',
    total: 4,
    steps: [25, 50, 100],
    stepIndex: 0,
    appliedStep: 0,
    intervalSeconds: 60,
    analysis: parseAnalysis('success-rate>=99%'),
    failureLimit: 2,
    gates: [],
    phase: 'running',
    nextAnalysisAt: T0.toISOString(),
    failedChecks: 0,
    checks: [],
    commands: [],
    lease: { owner: 'me', until: T0.toISOString() },
    startedAt: T0.toISOString(),
    ...overrides,
  };
}

describe('step planner', () => {
  it('keeps total capacity at every step, with at least one canary pod', () => {
    expect(planSteps(4, [25, 50, 100]).map((p) => [p.canary, p.stable, p.actual])).toEqual([
      [1, 3, 25],
      [2, 2, 50],
      [4, 0, 100],
    ]);
    expect(planSteps(3, [10, 50, 100]).map((p) => [p.canary, p.stable])).toEqual([
      [1, 2],
      [2, 1],
      [3, 0],
    ]);
    expect(planSteps(10, [10, 25]).map((p) => p.canary + p.stable)).toEqual([10, 10]);
  });

  it('parses steps, adds the promotion (100) and refuses nonsense', () => {
    expect(parseSteps('10,25,50')).toEqual([10, 25, 50, 100]);
    expect(parseSteps('10%, 50%, 100')).toEqual([10, 50, 100]);
    expect(() => parseSteps('50,25')).toThrow(/ascend/);
    expect(() => parseSteps('0,50')).toThrow(/1..100/);
    expect(() => parseSteps('100')).toThrow(/below 100/);
    expect(progressBar(25)).toBe('▰▰▰▱▱▱▱▱▱▱ 25%');
    expect(progressBar(50)).toBe('▰▰▰▰▰▱▱▱▱▱ 50%');
  });
});

describe('state machine', () => {
  const pass = { decision: 'pass' as const };
  it('goes step by step on passing analyses, then promotes after the last share below 100', () => {
    const s1 = afterAnalysis(canaryState(), [], pass, T0);
    expect(s1).toMatchObject({ phase: 'running', stepIndex: 1, appliedStep: 0 });
    expect(s1.nextAnalysisAt).toBe('2025-01-01T00:01:00.000Z');
    const s2 = afterAnalysis({ ...s1, appliedStep: 1 }, [], pass, T0);
    expect(s2).toMatchObject({ phase: 'promoting', reason: 'every step passed its analysis' });
  });

  it('rolls back on fail, retries below the limit, pauses and asks on inconclusive', () => {
    expect(afterAnalysis(canaryState(), [], { decision: 'fail', reason: 'x' }, T0)).toMatchObject({
      phase: 'rolling-back',
      reason: 'x',
    });
    expect(afterAnalysis(canaryState(), [], { decision: 'retry', reason: 'p99' }, T0)).toMatchObject({
      phase: 'running',
      failedChecks: 1,
      stepIndex: 0,
    });
    expect(
      afterAnalysis(canaryState(), [], { decision: 'inconclusive', reason: 'no data' }, T0),
    ).toMatchObject({
      phase: 'paused',
      pause: { kind: 'inconclusive', reason: 'no data' },
    });
  });

  it('stops at a gate and goes through it only on Resume', () => {
    const gated = afterAnalysis(canaryState({ gates: [100], stepIndex: 1, appliedStep: 1 }), [], pass, T0);
    expect(gated).toMatchObject({ phase: 'paused', pause: { kind: 'gate' } });
    expect(applyCommand(gated, 'resume', 'ana', T0)).toMatchObject({
      phase: 'promoting',
      reason: 'promotion approved by ana',
    });
    const midGate = afterAnalysis(canaryState({ gates: [50] }), [], pass, T0);
    expect(applyCommand(midGate, 'resume', 'ana', T0)).toMatchObject({ phase: 'running', stepIndex: 1 });
  });

  it('carries out commands that fit the phase only', () => {
    const running = canaryState();
    expect(applyCommand(running, 'pause', 'bob', T0)).toMatchObject({
      phase: 'paused',
      pause: { kind: 'user' },
    });
    expect(applyCommand(running, 'resume', 'bob', T0)).toBe(running);
    expect(applyCommand(running, 'abort', 'bob', T0)).toMatchObject({
      phase: 'rolling-back',
      reason: 'aborted by bob',
    });
    expect(applyCommand(running, 'promote', 'ana', T0)).toMatchObject({ phase: 'promoting' });
    const done = canaryState({ phase: 'promoted' });
    expect(applyCommand(done, 'abort', 'bob', T0)).toBe(done);
  });

  it('shows share, metrics and the buttons that fit in its one message', () => {
    const view = canaryView(
      'run-1',
      canaryState({ phase: 'paused', pause: { kind: 'inconclusive', reason: 'no data' } }),
    );
    expect(view.summary).toContain('paused and needs you: no data');
    const actions = view.sections.find((s) => s.type === 'actions');
    expect(actions?.type === 'actions' && actions.actions.map((a) => [a.label, a.command])).toEqual([
      ['Promote now', 'canary promote run-1'],
      ['Resume', 'canary resume run-1'],
      ['Abort', 'canary abort run-1'],
    ]);
    const final = canaryView('run-1', canaryState({ phase: 'promoted' }));
    expect(final.sections.some((s) => s.type === 'actions')).toBe(false);
    expect(currentShare(canaryState({ appliedStep: 1 }))).toBe(50);
  });
});

describe('config', () => {
  it('takes flags over the workload entry over defaults over built-ins', () => {
    const config = canaryConfigSchema.parse({
      defaults: { interval: '2m', analysis: 'success-rate>=98%' },
      workloads: [{ namespace: 'shop', name: 'checkout', steps: '5,50', gates: [100] }],
    });
    const checkout = resolveRunSettings(config, { namespace: 'shop', name: 'checkout' }, { interval: '30s' });
    expect(checkout).toMatchObject({
      steps: [5, 50, 100],
      intervalSeconds: 30,
      gates: [100],
      failureLimit: 2,
    });
    expect(checkout.analysis[0]?.threshold?.value).toBe(0.98);
    const other = resolveRunSettings(config, { namespace: 'shop', name: 'cart' }, {});
    expect(other).toMatchObject({ steps: [10, 25, 50, 100], intervalSeconds: 120, gates: [] });
    expect(() => canaryConfigSchema.parse({ rateWindow: 'soon' })).toThrow(/duration/);
  });

  it('leases a run for 30s by default, any length above 0, shorter than a rollout wait too', () => {
    expect(canaryConfigSchema.parse({})).toMatchObject({ lease: '30s', rolloutTimeout: '2m' });
    expect(canaryConfigSchema.parse({ lease: '10s', rolloutTimeout: '5m' })).toMatchObject({ lease: '10s' });
    expect(() => canaryConfigSchema.parse({ lease: '0s' })).toThrow(/longer than 0s/);
    expect(() => canaryConfigSchema.parse({ lease: '0m' })).toThrow(/longer than 0s/);
  });
});

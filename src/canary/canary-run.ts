import { z } from 'zod';
import { actorSchema } from '../skills/actor-schema.ts';
import type { RunRecord } from '../store/run-store.ts';
import { type MetricVerdict, metricSpecSchema, metricVerdictSchema } from './analysis.ts';

/** The run kind of a canary in the store. */
export const CANARY = 'canary';

/** Where a run is; `running` and `paused` are in flight, the last four are final. */
export const CANARY_PHASES = [
  'running',
  'paused',
  'promoting',
  'rolling-back',
  'promoted',
  'rolled-back',
  'aborted',
  'failed',
] as const;
export type CanaryPhase = (typeof CANARY_PHASES)[number];
export const FINAL_PHASES: readonly CanaryPhase[] = ['promoted', 'rolled-back', 'aborted', 'failed'];

export const CANARY_ACTIONS = ['promote', 'pause', 'resume', 'abort'] as const;
export type CanaryAction = (typeof CANARY_ACTIONS)[number];

const checkSchema = z.object({
  at: z.string(),
  step: z.number(),
  decision: z.enum(['pass', 'fail', 'retry', 'inconclusive']),
  metrics: z.array(metricVerdictSchema),
});

/** A persisted canary run: everything a restarted (or another) Wheelhouse needs to carry on. */
export const canaryStateSchema = z.object({
  requestId: z.string(),
  summary: z.string(),
  /** The requester: steps, promotion and rollback are applied as them (impersonated). */
  actor: actorSchema,
  engine: z.enum(['deployment']),
  namespace: z.string(),
  stable: z.string(),
  canary: z.string(),
  container: z.string(),
  image: z.string(),
  previousImage: z.string(),
  /** Stable's replicas before the run: the capacity every step keeps. */
  total: z.number().int(),
  /** Traffic shares; the last (100) is the promotion. */
  steps: z.array(z.number()),
  /** The step in force; the canary runs at steps[stepIndex] once `appliedStep` equals it. */
  stepIndex: z.number().int(),
  appliedStep: z.number().int(),
  intervalSeconds: z.number(),
  analysis: z.array(metricSpecSchema),
  failureLimit: z.number().int().min(1),
  /** Shares that need an approver's Resume before they start (100 = before promotion). */
  gates: z.array(z.number()),
  phase: z.enum(CANARY_PHASES),
  pause: z.object({ kind: z.enum(['inconclusive', 'user', 'gate']), reason: z.string() }).optional(),
  /** Why it is promoting, rolling back or ended. */
  reason: z.string().optional(),
  nextAnalysisAt: z.string(),
  failedChecks: z.number().int(),
  checks: z.array(checkSchema),
  /** Commands from chat not yet carried out, oldest first. */
  commands: z.array(
    z.object({ id: z.string(), action: z.enum(CANARY_ACTIONS), by: z.string(), at: z.string() }),
  ),
  /** The chat message updated in place. */
  message: z.object({ channel: z.string(), ts: z.string() }).optional(),
  lease: z.object({ owner: z.string(), until: z.string() }),
  startedAt: z.string(),
  endedAt: z.string().optional(),
});
export type CanaryState = z.infer<typeof canaryStateSchema>;

export function parseCanary(run: RunRecord): CanaryState {
  return canaryStateSchema.parse(run.state);
}

export function isFinal(phase: CanaryPhase): boolean {
  return FINAL_PHASES.includes(phase);
}

/** The status of the run record per phase: `active` while in flight, else how it ended. */
export function runStatusOf(phase: CanaryPhase): string {
  return isFinal(phase) ? phase : 'active';
}

/** Keeps the newest analyses only: the run record stays small. */
const KEEP_CHECKS = 20;

function later(now: Date, seconds: number): string {
  return new Date(now.getTime() + seconds * 1000).toISOString();
}

/**
 * Carries out one chat command. Pause stops analysis where it is; Resume goes on (through a gate:
 * to the gated step); Promote now skips the remaining steps; Abort rolls back. Commands that do not
 * fit the phase (Resume while running) change nothing.
 */
export function applyCommand(state: CanaryState, action: CanaryAction, by: string, now: Date): CanaryState {
  if (isFinal(state.phase) || state.phase === 'promoting' || state.phase === 'rolling-back') return state;
  switch (action) {
    case 'abort':
      return { ...state, phase: 'rolling-back', pause: undefined, reason: `aborted by ${by}` };
    case 'promote':
      return { ...state, phase: 'promoting', pause: undefined, reason: `promoted early by ${by}` };
    case 'pause':
      return state.phase === 'running'
        ? { ...state, phase: 'paused', pause: { kind: 'user', reason: `paused by ${by}` } }
        : state;
    case 'resume': {
      if (state.phase !== 'paused') return state;
      const resumed = { ...state, phase: 'running' as const, pause: undefined, failedChecks: 0 };
      if (state.pause?.kind === 'gate') {
        const next = state.stepIndex + 1;
        const last = next >= state.steps.length - 1;
        return last
          ? { ...resumed, phase: 'promoting', reason: `promotion approved by ${by}` }
          : { ...resumed, stepIndex: next, nextAnalysisAt: later(now, state.intervalSeconds) };
      }
      return { ...resumed, nextAnalysisAt: later(now, state.intervalSeconds) };
    }
  }
}

/**
 * What an analysis at the current step leads to: fail → roll back; retry → look again next
 * interval; inconclusive → pause and ask; pass → the next step, through its gate if it has one,
 * or promotion after the last step below 100.
 */
export function afterAnalysis(
  state: CanaryState,
  metrics: MetricVerdict[],
  outcome: { decision: 'pass' | 'fail' | 'retry' | 'inconclusive'; reason?: string },
  now: Date,
): CanaryState {
  const checks = [
    ...state.checks,
    { at: now.toISOString(), step: state.stepIndex, decision: outcome.decision, metrics },
  ].slice(-KEEP_CHECKS);
  const base = { ...state, checks };
  switch (outcome.decision) {
    case 'fail':
      return {
        ...base,
        phase: 'rolling-back',
        failedChecks: state.failedChecks + 1,
        reason: outcome.reason ?? 'analysis failed',
      };
    case 'retry':
      return {
        ...base,
        failedChecks: state.failedChecks + 1,
        nextAnalysisAt: later(now, state.intervalSeconds),
      };
    case 'inconclusive':
      return {
        ...base,
        phase: 'paused',
        pause: { kind: 'inconclusive', reason: outcome.reason ?? 'no data' },
        nextAnalysisAt: later(now, state.intervalSeconds),
      };
    case 'pass': {
      const next = state.stepIndex + 1;
      const share = state.steps[next] ?? 100;
      const promote = next >= state.steps.length - 1;
      if (state.gates.includes(share)) {
        return {
          ...base,
          failedChecks: 0,
          phase: 'paused',
          pause: {
            kind: 'gate',
            reason: promote ? 'promotion needs an approver' : `going to ${share}% needs an approver`,
          },
        };
      }
      if (promote)
        return { ...base, failedChecks: 0, phase: 'promoting', reason: 'every step passed its analysis' };
      return { ...base, failedChecks: 0, stepIndex: next, nextAnalysisAt: later(now, state.intervalSeconds) };
    }
  }
}

/** The share of traffic the canary has now (0 before its first step landed, 100 once promoted). */
export function currentShare(state: CanaryState): number {
  if (state.phase === 'promoted') return 100;
  if (state.phase === 'rolled-back' || state.phase === 'aborted') return 0;
  return state.steps[state.appliedStep] ?? 0;
}

/** What the change road stores when a canary's first step is applied and verified (status `pending`). */
export const pendingCanarySchema = z.object({
  requestId: z.string(),
  summary: z.string(),
  actor: actorSchema,
  namespace: z.string(),
  stable: z.string(),
  canary: z.string(),
  container: z.string(),
  image: z.string(),
  previousImage: z.string(),
  total: z.number().int(),
  flags: z.object({
    steps: z.string().optional(),
    interval: z.string().optional(),
    analysis: z.string().optional(),
  }),
});
export type PendingCanary = z.infer<typeof pendingCanarySchema>;

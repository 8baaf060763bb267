import type { Section, SkillResult, Tone } from '../skills/result.ts';
import { formatMetricValue, type MetricUnit } from '../sources/metric-templates.ts';
import type { MetricVerdict } from './analysis.ts';
import { type CanaryState, currentShare, isFinal } from './canary-run.ts';
import { progressBar } from './steps.ts';

const VERDICT_MARK: Record<MetricVerdict['verdict'], string> = {
  pass: 'pass',
  fail: 'FAIL',
  inconclusive: 'no data',
};

/**
 * The one chat message of a run, chat-neutral: progress, the step and share, each metric's latest
 * verdict against its threshold, and the buttons that fit the phase. The final version is the
 * summary: decision and evidence.
 */
export function canaryView(runId: string, state: CanaryState): SkillResult {
  const share = currentShare(state);
  const last = state.checks.at(-1);
  const steps = state.steps.length;
  const where = `deploy/${state.stable} in ${state.namespace}`;
  const headline = headlineOf(state, where);
  const sections: Section[] = [
    {
      type: 'text',
      text: `${progressBar(share)} · step ${Math.min(state.stepIndex + 1, steps)} of ${steps} (${state.steps.join(' → ')}%)`,
    },
    {
      type: 'fields',
      fields: [
        { label: 'Canary', value: `${state.canary} → ${state.image}` },
        { label: 'Stable', value: `${state.stable} (${state.previousImage})` },
        { label: 'Phase', value: state.pause ? `${state.phase}: ${state.pause.reason}` : state.phase },
        {
          label: 'Analyses',
          value: `${state.checks.length} (${state.failedChecks} failed in a row); every ${state.intervalSeconds} s`,
        },
        ...(state.reason ? [{ label: 'Why', value: state.reason }] : []),
        { label: 'Run', value: runId },
      ],
    },
  ];
  if (last) {
    sections.push({
      type: 'table',
      columns: ['METRIC', 'VERDICT', 'CANARY', 'STABLE', 'THRESHOLD', 'DETAIL'],
      rows: last.metrics.map((m) => [
        `${m.name}${m.critical ? ' (critical)' : ''}`,
        VERDICT_MARK[m.verdict],
        show(m.canary, m.unit),
        show(m.stable, m.unit),
        m.threshold ?? '—',
        m.reason,
      ]),
      caption: `analysis at ${last.at} (step ${last.step + 1}): ${last.decision}`,
    });
  }
  const actions = buttons(runId, state);
  if (actions.length) sections.push({ type: 'actions', actions });
  return { summary: headline, tone: toneOf(state), sections };
}

function show(value: number | null, unit: string): string {
  return value === null ? 'n/a' : formatMetricValue(value, unit as MetricUnit);
}

function headlineOf(state: CanaryState, where: string): string {
  switch (state.phase) {
    case 'running':
      return `Canary of ${where}: ${state.image} at ${currentShare(state)}% of traffic`;
    case 'paused':
      return `Canary of ${where} is paused and needs you: ${state.pause?.reason ?? 'paused'}`;
    case 'promoting':
      return `Canary of ${where}: promoting ${state.image}`;
    case 'rolling-back':
      return `Canary of ${where}: rolling back (${state.reason ?? 'failed'})`;
    case 'promoted':
      return `Canary of ${where} promoted: ${where} runs ${state.image} (${state.reason ?? 'passed'})`;
    case 'rolled-back':
      return `Canary of ${where} rolled back: ${state.reason ?? 'failed'}; stable ${state.previousImage} serves all traffic`;
    case 'aborted':
      return `Canary of ${where} aborted (${state.reason ?? 'aborted'}); stable ${state.previousImage} serves all traffic`;
    case 'failed':
      return `Canary of ${where} stopped with an error: ${state.reason ?? 'unknown'}`;
  }
}

function toneOf(state: CanaryState): Tone {
  if (state.phase === 'promoted') return 'success';
  if (state.phase === 'paused') return 'warning';
  if (isFinal(state.phase) || state.phase === 'rolling-back') return 'error';
  return 'info';
}

function buttons(runId: string, state: CanaryState) {
  if (state.phase !== 'running' && state.phase !== 'paused') return [];
  return [
    { label: 'Promote now', command: `canary promote ${runId}`, style: 'primary' as const },
    state.phase === 'paused'
      ? { label: 'Resume', command: `canary resume ${runId}` }
      : { label: 'Pause', command: `canary pause ${runId}` },
    { label: 'Abort', command: `canary abort ${runId}`, style: 'danger' as const },
  ];
}

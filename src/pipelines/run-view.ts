import type { Section, SkillResult, Tone } from '../skills/result.ts';
import type { Phase, RunState } from './run-state.ts';
import { isFinished } from './run-state.ts';

const ICON: Record<Phase, string> = {
  pending: '·',
  running: '▶',
  waiting: '⏸',
  succeeded: '✔',
  failed: '✖',
  cancelled: '■',
  skipped: '–',
};

/**
 * `1m 05s`, `42s`: how long from `from` to `to` (or now). The run message shows durations of
 * finished stages and tasks only: a view that changed every second would spend Slack's shared
 * chat.update budget (Tier 3, ~50 a minute per workspace) on ticking clocks.
 */
export function duration(from: string | undefined, to: string | undefined, now: Date): string {
  if (!from) return '';
  const ms = Math.max(0, (to ? Date.parse(to) : now.getTime()) - Date.parse(from));
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m ${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** The one message of a run, chat-neutral: status, stages and tasks with durations, buttons. */
export function runView(id: string, state: RunState, now: Date): SkillResult {
  const tone: Tone =
    state.status === 'succeeded'
      ? 'success'
      : state.status === 'failed'
        ? 'error'
        : state.status === 'cancelled'
          ? 'warning'
          : 'info';
  const took = duration(state.createdAt, state.finishedAt, now);
  const head =
    state.status === 'succeeded'
      ? `Pipeline ${state.pipeline} run ${state.name} succeeded in ${took}.`
      : state.status === 'failed'
        ? `Pipeline ${state.pipeline} run ${state.name} failed after ${took}${state.failure?.task ? ` (task ${state.failure.task})` : ''}.`
        : state.status === 'cancelled'
          ? `Pipeline ${state.pipeline} run ${state.name} was cancelled${state.cancelledBy ? ` by ${state.cancelledBy}` : ''}.`
          : state.status === 'waiting'
            ? `Pipeline ${state.pipeline} run ${state.name} is waiting for approval.`
            : `Pipeline ${state.pipeline} run ${state.name} is running (started ${state.createdAt}).`;
  const lines: string[] = [];
  for (const stage of state.stages) {
    const d = stage.finishedAt ? duration(stage.startedAt, stage.finishedAt, now) : '';
    lines.push(
      `${ICON[stage.status]} ${stage.name}: ${stage.status}${d ? ` ${d}` : ''}${stage.message ? ` (${stage.message})` : ''}`,
    );
    for (const task of stage.tasks) {
      const t = task.finishedAt ? duration(task.startedAt, task.finishedAt, now) : '';
      lines.push(`    ${ICON[task.status]} ${task.name}: ${task.status}${t ? ` ${t}` : ''}`);
    }
  }
  const sections: Section[] = [
    {
      type: 'fields',
      fields: [
        { label: 'Run', value: `${state.name} (${state.type}, namespace ${state.namespace})` },
        { label: 'Started by', value: requesterText(state) },
        {
          label: 'Parameters',
          value:
            Object.entries(state.params)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ') || '(none)',
        },
        { label: 'Run id', value: id },
      ],
    },
    { type: 'list', title: 'Stages', items: lines },
  ];
  if (state.status === 'failed' && state.failure) {
    sections.push({ type: 'text', text: `Why: ${state.failure.reason}`, tone: 'error' });
    if (state.failure.logTail.length) {
      sections.push({ type: 'logs', lines: state.failure.logTail, total: state.failure.logTail.length });
    }
  }
  const actions: Array<{ label: string; command: string; style?: 'primary' | 'danger' }> = [];
  const waiting = state.stages.find((s) => s.status === 'waiting' && s.approvalId);
  if (waiting?.approvalId) {
    actions.push({ label: 'Approve', command: `approve ${waiting.approvalId}`, style: 'primary' });
    actions.push({ label: 'Deny', command: `deny ${waiting.approvalId}`, style: 'danger' });
  }
  if (!isFinished(state.status))
    actions.push({ label: 'Cancel', command: `cancel-run ${id}`, style: 'danger' });
  else if (state.status !== 'succeeded')
    actions.push({ label: 'Rerun', command: `rerun ${id}`, style: 'primary' });
  if (actions.length) sections.push({ type: 'actions', actions });
  return { summary: head, tone, sections };
}

/** `ana as bob`: the chat name, and the Kubernetes user the run acts as. */
export function requesterText(state: RunState): string {
  const { name, id, kubeUser } = state.requester;
  return `${name ?? id}${kubeUser ? ` as ${kubeUser}` : ''}`;
}

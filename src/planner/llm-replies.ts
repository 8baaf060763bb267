import type { Section, SkillResult } from '../skills/result.ts';
import { commandFor } from './command-text.ts';
import type { PlannerOutcome, PlannerStep } from './llm-planner.ts';

type Answer = Extract<PlannerOutcome, { kind: 'answer' }>;
type Change = Extract<PlannerOutcome, { kind: 'change' }>;

/** How the planner's answer reads in chat: the answer, its evidence, what was read, the last result. */
export function answerReply(outcome: Answer): SkillResult {
  const sections: Section[] = [{ type: 'text', text: outcome.answer }];
  if (outcome.evidence.length) {
    sections.push({ type: 'list', title: 'Evidence', items: outcome.evidence.map((e) => `"${e}"`) });
  }
  if (outcome.tainted.length) sections.push(injectionWarning(outcome.tainted, false));
  if (outcome.steps.length) sections.push(stepsSection(outcome.steps));
  const last = outcome.results.at(-1);
  if (last) sections.push(...last.sections.filter((s) => s.type !== 'actions'));
  return {
    summary: firstLine(outcome.answer),
    tone: outcome.stoppedBy ? 'warning' : 'info',
    sections,
    ...(last?.attachments ? { attachments: last.attachments } : {}),
  };
}

/**
 * A change the model proposed and policy did not forbid: nothing is applied; the button submits
 * the equivalent typed command, which takes the grammar's road (preview, approval, audit).
 */
export function proposalReply(outcome: Change): SkillResult {
  const command = commandFor(outcome.skill, outcome.input);
  const sections: Section[] = [];
  if (outcome.steps.length) sections.push(stepsSection(outcome.steps));
  sections.push(
    {
      type: 'fields',
      title: 'Proposed change (not applied)',
      fields: [
        { label: 'Change', value: outcome.skill.summarize(outcome.input) },
        { label: 'Risk', value: outcome.skill.risk },
        { label: 'Command', value: `/wh ${command}` },
      ],
    },
    {
      type: 'text',
      text: 'Submit shows the preview and asks for approval when policy requires it. Nothing changes until then.',
    },
    { type: 'actions', actions: [{ label: 'Submit', command, style: 'primary' }] },
  );
  return {
    summary: `I propose: ${outcome.skill.summarize(outcome.input)}.`,
    tone: 'info',
    sections,
  };
}

/** The warning on anything proposed or said after reading text that tried to instruct the model. */
export function injectionWarning(lines: readonly string[], forcedApproval: boolean): Section {
  const shown = lines.slice(0, 3).map((l) => `"${l.length > 160 ? `${l.slice(0, 160)}…` : l}"`);
  return {
    type: 'list',
    tone: 'warning',
    title: forcedApproval
      ? 'Flagged: proposed after reading text that tries to instruct the assistant; approval required'
      : 'Flagged: the data read contains text that tries to instruct the assistant; it was not followed',
    items: shown,
  };
}

function stepsSection(steps: readonly PlannerStep[]): Section {
  return {
    type: 'list',
    title: 'What I read',
    items: steps.map((s) => (s.ok ? s.summary : `${s.summary}: ${s.error ?? 'failed'}`)),
  };
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? text;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

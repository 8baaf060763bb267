import { z } from 'zod';
import type { AnySkill } from '../skills/define-skill.ts';
import type { SkillRegistry } from '../skills/registry.ts';
import type { ToolSpec } from './chat-model.ts';

/** The planner's final word on a question: an answer with the evidence it rests on. */
export const answerSchema = z.object({
  answer: z
    .string()
    .min(1)
    .max(4000)
    .describe('The answer for the user, plain text, e.g. "crashy exits with code 1 because …"'),
  evidence: z
    .array(z.string().min(1).max(600))
    .max(12)
    .default([])
    .describe(
      'Lines quoted verbatim from tool output that support the answer, e.g. "Back-off restarting failed container"',
    ),
});

/** Declining: out of scope, unsafe, or asking to get around people, policy or secrets. */
export const refuseSchema = z.object({
  reason: z.string().min(1).max(1000).describe('Why, politely, e.g. "I cannot approve changes; people do."'),
});

/** Names of the two tools that end a turn; no skill may take them. */
export const ANSWER_TOOL = 'answer';
export const REFUSE_TOOL = 'refuse';

/** A skill's input schema as the JSON Schema sent to the model (what a user would type, before transforms). */
export function skillParameters(skill: AnySkill): Record<string, unknown> {
  return jsonSchemaOf(skill.input);
}

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return rest;
}

/**
 * The tools the model may call: one per skill, derived from the registry (name, description written
 * for the planner, zod input schema), plus `answer` and `refuse`. There is no approve or deny tool:
 * approvals are people's, on the change road.
 */
export function toolsFor(registry: SkillRegistry): ToolSpec[] {
  const skills = registry
    .all()
    .filter((s) => s.name !== ANSWER_TOOL && s.name !== REFUSE_TOOL)
    .map(
      (skill): ToolSpec => ({
        name: skill.name,
        description: `${skill.risk === 'read' ? '[read] ' : `[${skill.risk}: proposes a change that people preview and approve] `}${skill.description}`,
        parameters: skillParameters(skill),
      }),
    );
  return [
    ...skills,
    {
      name: ANSWER_TOOL,
      description:
        'Ends the turn with the answer for the user and the evidence quoted from tool output. Use after reading enough, or at once when no tool is needed.',
      parameters: jsonSchemaOf(answerSchema),
    },
    {
      name: REFUSE_TOOL,
      description:
        'Declines the request: outside what the tools do, asks for secrets, or asks to approve, bypass policy or act without people.',
      parameters: jsonSchemaOf(refuseSchema),
    },
  ];
}

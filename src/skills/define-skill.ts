import type { z } from 'zod';
import type { SkillContext } from './context.ts';
import type { SkillResult } from './result.ts';

/** What policy decides on: reads, writes, and dangerous writes. */
export type Risk = 'read' | 'write' | 'dangerous';

/**
 * How the chat grammar maps words onto the input schema. Everything else is derived from the
 * schema: `--flag value` for each field (camelCase becomes kebab-case), `--flag` for booleans,
 * `field=value` for any field name.
 */
export interface GrammarHints<Input> {
  /** The word users type, e.g. "pods" for skill "pods-list". Defaults to the skill name. */
  command?: string;
  /** Further words that reach the skill, e.g. ["pod", "po"]. */
  aliases?: string[];
  /** Fields filled, in order, by bare words. */
  positional?: Array<keyof Input & string>;
  /** Field that collects `key=value` words whose key is not a field name (a label selector). */
  selectorField?: keyof Input & string;
  /** One-letter flags, e.g. { n: "namespace", A: "allNamespaces" }. */
  short?: Record<string, keyof Input & string>;
}

export interface SkillExample<Input> {
  utterance: string;
  /** The command that does the same, e.g. "/wh pods shop". */
  command: string;
  input: Input;
}

export interface SkillDefinition<Schema extends z.ZodObject> {
  /** `<resource>-<action>`, equal to the folder name under skills/. */
  name: string;
  title: string;
  /** Written for the planner: purpose, then "Use when…", then "Not for… (use X)". */
  description: string;
  input: Schema;
  risk: Risk;
  /** Kubernetes verbs and resources the skill uses: for policy, RBAC templates and docs. */
  verbs: string[];
  resources: string[];
  grammar?: GrammarHints<z.input<Schema>>;
  examples: Array<SkillExample<z.input<Schema>>>;
  /** One line for audit and approvals, e.g. "list pods in shop". */
  summarize(input: z.output<Schema>): string;
  run(input: z.output<Schema>, ctx: SkillContext): Promise<SkillResult>;
}

/** A skill with its schema erased, as the registry and runner hold it. */
export interface AnySkill {
  name: string;
  title: string;
  description: string;
  input: z.ZodObject;
  risk: Risk;
  verbs: string[];
  resources: string[];
  grammar: GrammarHints<Record<string, unknown>>;
  examples: Array<SkillExample<Record<string, unknown>>>;
  summarize(input: Record<string, unknown>): string;
  run(input: Record<string, unknown>, ctx: SkillContext): Promise<SkillResult>;
}

/**
 * Declares a skill. The returned object validates its own input before `summarize` and `run`,
 * so the erased form can be called with anything the grammar or the planner produced.
 */
export function defineSkill<Schema extends z.ZodObject>(definition: SkillDefinition<Schema>): AnySkill {
  const parse = (input: Record<string, unknown>): z.output<Schema> => definition.input.parse(input);
  return {
    name: definition.name,
    title: definition.title,
    description: definition.description,
    input: definition.input,
    risk: definition.risk,
    verbs: definition.verbs,
    resources: definition.resources,
    grammar: { ...(definition.grammar ?? {}) } as GrammarHints<Record<string, unknown>>,
    examples: definition.examples as Array<SkillExample<Record<string, unknown>>>,
    summarize: (input) => definition.summarize(parse(input)),
    run: (input, ctx) => definition.run(parse(input), ctx),
  };
}

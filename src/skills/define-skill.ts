import type { z } from 'zod';
import type { ChangeProposal } from '../changes/types.ts';
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

interface SkillBase<Schema extends z.ZodObject> {
  /** `<resource>-<action>`, equal to the folder name under skills/. */
  name: string;
  title: string;
  /** Written for the planner: purpose, then "Use when…", then "Not for… (use X)". */
  description: string;
  input: Schema;
  /** Kubernetes verbs and resources the skill uses: for policy, RBAC templates and docs. */
  verbs: string[];
  resources: string[];
  grammar?: GrammarHints<z.input<Schema>>;
  examples: Array<SkillExample<z.input<Schema>>>;
  /** One line for audit and approvals, e.g. "list pods in shop". */
  summarize(input: z.output<Schema>): string;
}

/** A read skill answers directly. */
export interface ReadSkillDefinition<Schema extends z.ZodObject> extends SkillBase<Schema> {
  risk: 'read';
  run(input: z.output<Schema>, ctx: SkillContext): Promise<SkillResult>;
}

/**
 * A write skill never changes anything itself: it proposes desired state, and the runner
 * authorizes, previews (dry-run and diff), approves, applies and verifies it.
 */
export interface WriteSkillDefinition<Schema extends z.ZodObject> extends SkillBase<Schema> {
  risk: 'write' | 'dangerous';
  propose(input: z.output<Schema>, ctx: SkillContext): Promise<ChangeProposal>;
}

export type SkillDefinition<Schema extends z.ZodObject> =
  | ReadSkillDefinition<Schema>
  | WriteSkillDefinition<Schema>;

interface ErasedSkillBase {
  name: string;
  title: string;
  description: string;
  input: z.ZodObject;
  verbs: string[];
  resources: string[];
  grammar: GrammarHints<Record<string, unknown>>;
  examples: Array<SkillExample<Record<string, unknown>>>;
  summarize(input: Record<string, unknown>): string;
}

/** A read skill with its schema erased, as the registry and runner hold it. */
export interface ReadSkill extends ErasedSkillBase {
  risk: 'read';
  run(input: Record<string, unknown>, ctx: SkillContext): Promise<SkillResult>;
}

/** A write skill with its schema erased. */
export interface WriteSkill extends ErasedSkillBase {
  risk: 'write' | 'dangerous';
  propose(input: Record<string, unknown>, ctx: SkillContext): Promise<ChangeProposal>;
}

export type AnySkill = ReadSkill | WriteSkill;

/**
 * Declares a skill. The returned object validates its own input before `summarize`, `run` and
 * `propose`, so the erased form can be called with anything the grammar or the planner produced.
 */
export function defineSkill<Schema extends z.ZodObject>(definition: ReadSkillDefinition<Schema>): ReadSkill;
export function defineSkill<Schema extends z.ZodObject>(definition: WriteSkillDefinition<Schema>): WriteSkill;
export function defineSkill<Schema extends z.ZodObject>(definition: SkillDefinition<Schema>): AnySkill {
  const parse = (input: Record<string, unknown>): z.output<Schema> => definition.input.parse(input);
  const base: ErasedSkillBase = {
    name: definition.name,
    title: definition.title,
    description: definition.description,
    input: definition.input,
    verbs: definition.verbs,
    resources: definition.resources,
    grammar: { ...(definition.grammar ?? {}) } as GrammarHints<Record<string, unknown>>,
    examples: definition.examples as Array<SkillExample<Record<string, unknown>>>,
    summarize: (input) => definition.summarize(parse(input)),
  };
  if (definition.risk === 'read') {
    return { ...base, risk: 'read', run: (input, ctx) => definition.run(parse(input), ctx) };
  }
  return { ...base, risk: definition.risk, propose: (input, ctx) => definition.propose(parse(input), ctx) };
}

import type { Actor } from '../skills/context.ts';
import type { Risk } from '../skills/define-skill.ts';

/** A typed step of a plan: one skill and its input. */
export interface PlanStep {
  skill: string;
  risk: Risk;
  input: Record<string, unknown>;
  /** One line, e.g. "list pods in shop". */
  summary: string;
}

/** What the user asked for, in typed form. The grammar and (later) the LLM both produce it. */
export interface Plan {
  steps: PlanStep[];
  /** Why these steps: "typed command" for the grammar; the model's reasoning for the planner. */
  rationale: string;
  source: 'grammar' | 'llm';
}

export type Decision =
  | { effect: 'allow' }
  | { effect: 'deny'; reason: string }
  | { effect: 'require_approval'; reason: string; approvers: { group: string; quorum: number } };

/**
 * Pure policy evaluation. Until the change road exists only reads are allowed: any write a plan
 * carries is denied here, before anything reaches Kubernetes.
 */
export function evaluate(plan: Plan, _actor: Actor): Decision {
  const write = plan.steps.find((s) => s.risk !== 'read');
  if (write)
    return { effect: 'deny', reason: `${write.skill} changes the cluster, and changes are not enabled.` };
  return { effect: 'allow' };
}

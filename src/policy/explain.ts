import type { Config } from '../config/schema.ts';
import { WheelhouseError } from '../errors.ts';
import { parseCommand } from '../planner/grammar.ts';
import type { Actor } from '../skills/context.ts';
import type { SkillRegistry } from '../skills/registry.ts';
import { type Approvers, type ExplainedDecision, evaluate, type Plan, type PlanStep } from './evaluate.ts';
import type { Policy } from './policy-schema.ts';

/** What `wheelhouse policy explain` asks: what would happen if `user` typed `text` in `channel` at `at`. */
export interface ExplainQuestion {
  text: string;
  /** Slack user id, email or Kubernetes user name of a configured user; anything else is unmapped. */
  user: string;
  channel?: string | undefined;
  /** Kubernetes groups added to the mapped ones, to try out a group rule. */
  groups?: string[] | undefined;
  at: Date;
  /** Writes the user made in the rate-limit window; default 0. */
  recentWrites?: number | undefined;
}

export interface ExplainSetting {
  policy: Policy;
  identity: Config['identity'];
  registry: SkillRegistry;
}

export interface PolicyExplanation {
  question: ExplainQuestion;
  /** Undefined when unmapped users are refused outright (`identity.unmapped: deny`). */
  actor: Actor | undefined;
  mapped: boolean;
  plan: Plan;
  decision: ExplainedDecision;
}

/** Exit codes of `policy explain`: 0 allowed, 3 needs approval, 4 denied. */
export const EXPLAIN_EXIT_CODES: Record<ExplainedDecision['effect'], number> = {
  allow: 0,
  require_approval: 3,
  deny: 4,
};

/**
 * Answers "what would happen if U asked for X in channel C": maps the user like the Slack surface
 * does, parses the text with the real grammar, builds the plan as the runner does and evaluates it.
 * Throws the grammar's WheelhouseError (GRAMMAR, UNKNOWN_SKILL, INVALID_INPUT) for text that does
 * not parse, and GRAMMAR for text that runs no skill (help, approve, deny).
 */
export function explainRequest(question: ExplainQuestion, setting: ExplainSetting): PolicyExplanation {
  const plan = planFor(question.text, setting.registry);
  const identity = identityOf(question.user, setting.identity);
  if (identity === undefined) {
    return {
      question,
      actor: undefined,
      mapped: false,
      plan,
      decision: {
        effect: 'deny',
        reason: `${question.user} has no identity mapping and unmapped users are refused (identity.unmapped: deny)`,
        reasons: [`identity.unmapped: deny refuses every user not listed in identity.users`],
        rules: ['identity.unmapped'],
        decidedBy: ['identity.unmapped'],
      },
    };
  }
  const actor: Actor = {
    surface: 'slack',
    id: identity.id,
    channel: question.channel,
    kube: { user: identity.kube.user, groups: unique([...identity.kube.groups, ...(question.groups ?? [])]) },
  };
  const decision = evaluate(
    { plan, actor, mapped: identity.mapped, now: question.at, recentWrites: question.recentWrites ?? 0 },
    setting.policy,
  );
  return { question, actor, mapped: identity.mapped, plan, decision };
}

function planFor(text: string, registry: SkillRegistry): Plan {
  const command = parseCommand(text, registry);
  if (command.kind !== 'skill') {
    throw new WheelhouseError(
      'GRAMMAR',
      `"${text}" runs no skill, so there is nothing for policy to decide.`,
      {
        hint: 'Give a command such as "scale deploy/checkout -n shop --replicas 5".',
      },
    );
  }
  const { skill, input } = command;
  const namespace = typeof input['namespace'] === 'string' ? input['namespace'] : undefined;
  const step: PlanStep = {
    skill: skill.name,
    risk: skill.risk,
    input,
    summary: skill.summarize(input),
    namespace,
  };
  if (skill.risk !== 'read' && namespace !== undefined) {
    // Before a proposal exists, the blast radius is what the input asks for: one object, and the
    // replicas of a scale (or the maximum of an autoscaler).
    const replicas = [input['replicas'], input['max']].find((v) => typeof v === 'number');
    step.blastRadius = {
      namespace,
      objects: 1,
      replicas: typeof replicas === 'number' ? replicas : undefined,
    };
  }
  return { source: 'grammar', rationale: 'typed command', steps: [step] };
}

/** The identity a Slack user acts as, as the identity map would resolve it; undefined when refused. */
function identityOf(
  user: string,
  rules: Config['identity'],
): { id: string; kube: { user: string; groups: string[] }; mapped: boolean } | undefined {
  const lower = user.toLowerCase();
  const rule = rules.users.find(
    (r) => r.slack === user || r.email?.toLowerCase() === lower || r.kubeUser === user,
  );
  if (rule)
    return { id: rule.slack ?? user, kube: { user: rule.kubeUser, groups: rule.groups }, mapped: true };
  if (rules.unmapped === 'deny') return undefined;
  return {
    id: user,
    kube: { user: rules.unmapped.kubeUser.replaceAll('{id}', user), groups: rules.unmapped.groups },
    mapped: false,
  };
}

/** The explanation as the terminal shows it. */
export function formatExplanation(x: PolicyExplanation): string {
  const { decision, actor } = x;
  const who = actor?.kube
    ? `${x.question.user} → kube user ${actor.kube.user}${actor.kube.groups.length ? `, groups ${actor.kube.groups.join(', ')}` : ''} (${x.mapped ? 'mapped' : 'unmapped'})`
    : `${x.question.user} (unmapped, refused)`;
  const lines = [
    `Request:  ${x.question.text}`,
    `User:     ${who}`,
    `Channel:  ${x.question.channel ?? '(none)'}`,
    `At:       ${x.question.at.toISOString()}`,
    'Plan:',
    ...x.plan.steps.map(
      (s, i) =>
        `  ${i + 1}. ${s.skill} (${s.risk}) ${s.summary}${s.blastRadius?.replicas !== undefined ? ` [${s.blastRadius.replicas} replicas]` : ''}`,
    ),
    '',
    `Decision: ${headline(decision)}`,
  ];
  if (decision.effect !== 'allow') lines.push(`Why:      ${decision.reason}`);
  lines.push(
    `Decided by: ${decision.decidedBy.join(', ')}`,
    'Reasons:',
    ...decision.reasons.map((r) => `  - ${r}`),
  );
  lines.push(`Rules consulted: ${decision.rules.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

function headline(decision: ExplainedDecision): string {
  switch (decision.effect) {
    case 'allow':
      return 'ALLOW';
    case 'deny':
      return 'DENY';
    case 'require_approval':
      return `REQUIRES APPROVAL by ${describeApprovers(decision.approvers)}`;
  }
}

/** "1 of group wheelhouse:approvers" or "2 of U1, U2, U3". */
export function describeApprovers(approvers: Approvers): string {
  return 'group' in approvers
    ? `${approvers.quorum} of group ${approvers.group}`
    : `${approvers.quorum} of ${approvers.users.join(', ')}`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

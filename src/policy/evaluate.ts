import type { ChangeProposal } from '../changes/types.ts';
import type { Actor } from '../skills/context.ts';
import type { Risk } from '../skills/define-skill.ts';
import { parseDurationSeconds } from '../skills/schema.ts';
import { inCronWindow, inWeeklyWindow, parseCron, parseWeeklyTime } from './freeze-windows.ts';
import {
  type Approvers,
  BUILT_IN_PROTECTED_NAMESPACES,
  type Effect,
  type Freeze,
  type Policy,
  type PolicyRule,
} from './policy-schema.ts';

export type { Approvers, Policy } from './policy-schema.ts';

/** A typed step of a plan: one skill and its input. */
export interface PlanStep {
  skill: string;
  risk: Risk;
  input: Record<string, unknown>;
  /** One line, e.g. "list pods in shop". */
  summary: string;
  /** The namespace the step acts in; when absent, `input.namespace` if it is a string. */
  namespace?: string | undefined;
  /** What a write touches, once known (from the proposal, or estimated from the input). */
  blastRadius?: ChangeProposal['blastRadius'] | undefined;
}

/** What the user asked for, in typed form. The grammar and (later) the LLM both produce it. */
export interface Plan {
  steps: PlanStep[];
  /** Why these steps: "typed command" for the grammar; the model's reasoning for the planner. */
  rationale: string;
  source: 'grammar' | 'llm';
}

/** Everything a decision depends on. The caller looks up what is not in the plan. */
export interface PolicyInput {
  plan: Plan;
  actor: Actor;
  /** False for a chat user no identity rule maps: they get at most `policy.unmapped`. */
  mapped: boolean;
  now: Date;
  /** Writes (incl. dangerous) this user made in the last rate-limit window (`rateLimitWindowMs`). */
  recentWrites: number;
}

/** Why a decision came out as it did, for `policy explain`, the approval message and the audit. */
export interface Explanation {
  /** Every finding, in order: "rules[1] (shop) says write: approve for group shop-editors, namespace shop". */
  reasons: string[];
  /** Every rule, default or guard that had a say, e.g. "rules[1] (shop)", "defaults.write", "freezes[0] (weekend)". */
  rules: string[];
  /** The subset of `rules` whose finding is the final effect. */
  decidedBy: string[];
}

/**
 * The policy's answer. `reason` is the deciding finding(s) in one line, for the user. The
 * explanation is optional so a caller can state a decision it already has (e.g. after approval).
 */
export type Decision =
  | ({ effect: 'allow' } & Partial<Explanation>)
  | ({ effect: 'deny'; reason: string } & Partial<Explanation>)
  | ({ effect: 'require_approval'; reason: string; approvers: Approvers } & Partial<Explanation>);

/** What `evaluate` returns: a decision that always carries its explanation. */
export type ExplainedDecision = Decision & Explanation;

type Outcome = Decision['effect'];

const SEVERITY: Record<Outcome, number> = { allow: 0, require_approval: 1, deny: 2 };
const OUTCOME: Record<Effect, Outcome> = { allow: 'allow', approve: 'require_approval', deny: 'deny' };

interface Finding {
  outcome: Outcome;
  source: string;
  reason: string;
  approvers?: Approvers | undefined;
  /** Worth telling (an overridden freeze) but not a cause of the decision. */
  note?: boolean;
}

interface Match {
  rule: PolicyRule;
  index: number;
  /** 2 per dimension matched by exact name, 1 per glob, 0 for "*". */
  score: number;
  /** What matched, e.g. ["channel C123", "group sre"]. */
  matched: string[];
}

/**
 * Pure policy evaluation. Each step is decided by the most specific matching rule for its risk
 * level (or the defaults); protected namespaces, change freezes, the rate limit and replica bounds
 * then add their own findings. The strictest finding of all wins: deny, then require_approval, then
 * allow. See src/policy/README.md.
 */
export function evaluate(input: PolicyInput, policy: Policy): ExplainedDecision {
  const findings: Finding[] = [];
  const { steps } = input.plan;
  let writesSoFar = 0;
  for (const [index, step] of steps.entries()) {
    const label = steps.length > 1 ? `step ${index + 1} (${step.summary}): ` : '';
    const stepFindings = evaluateStep(step, input, policy, writesSoFar);
    for (const f of stepFindings) findings.push({ ...f, reason: label + f.reason });
    if (step.risk !== 'read') writesSoFar++;
  }
  if (findings.length === 0)
    findings.push({ outcome: 'allow', source: 'plan', reason: 'the plan has no steps' });
  return decide(findings);
}

function evaluateStep(step: PlanStep, input: PolicyInput, policy: Policy, writesSoFar: number): Finding[] {
  const { actor, mapped } = input;
  const { risk } = step;
  const namespace = namespaceOf(step);
  const matches = policy.rules
    .map((rule, index) => matchRule(rule, index, actor, namespace))
    .filter((m) => m !== undefined);
  const findings: Finding[] = [];

  // 1. The rule (or default) for this risk level. In a protected namespace only rules that name it
  // exactly may decide a write: a wildcard or a rule without namespaces never opens kube-system.
  const isProtected = risk !== 'read' && namespace !== undefined && protects(policy, namespace);
  const candidates = matches.filter(
    (m) => m.rule[risk] !== undefined && (!isProtected || m.rule.namespaces?.includes(namespace ?? '')),
  );
  const winner = mostSpecific(candidates, (m) => SEVERITY[OUTCOME[m.rule[risk] ?? 'deny']]);
  if (winner) {
    const effect = winner.best.rule[risk] ?? 'deny';
    const tie =
      winner.tied.length > 1
        ? ` (as specific as ${winner.tied
            .filter((m) => m !== winner.best)
            .map((m) => ruleId(m.rule, m.index))
            .join(', ')}; the strictest wins)`
        : '';
    findings.push({
      outcome: OUTCOME[effect],
      source: ruleId(winner.best.rule, winner.best.index),
      reason: `${ruleId(winner.best.rule, winner.best.index)} says ${risk}: ${effect}${forWhom(winner.best)}${tie}`,
      approvers: winner.best.rule.approvers ?? defaultApprovers(policy, risk),
    });
    if (!mapped && SEVERITY[OUTCOME[policy.unmapped[risk]]] > SEVERITY[OUTCOME[effect]]) {
      findings.push(unmappedFinding(policy, risk));
    }
  } else if (isProtected) {
    findings.push({
      outcome: 'deny',
      source: 'protectedNamespaces',
      reason: `namespace ${namespace} is protected: ${risk} steps there need a rule that names it (not a wildcard)`,
    });
  } else if (!mapped) {
    findings.push(unmappedFinding(policy, risk));
  } else {
    const effect = policy.defaults[risk];
    findings.push({
      outcome: OUTCOME[effect],
      source: `defaults.${risk}`,
      reason: `defaults.${risk}: ${effect} (no rule decides ${risk} for this user, channel and namespace)`,
      approvers: defaultApprovers(policy, risk),
    });
  }
  if (risk === 'read') return findings;

  // 2. Change freezes. A rule with `override: true` that decided this step is exempt.
  for (const [index, freeze] of policy.freezes.entries()) {
    if (!inFreeze(freeze, input.now)) continue;
    const id = freezeId(freeze, index);
    const what = `${id} is in force (${describeWindow(freeze)}): ${freeze.reason}`;
    if (winner?.best.rule.override) {
      const by = ruleId(winner.best.rule, winner.best.index);
      findings.push({ outcome: 'allow', source: id, reason: `${what}; overridden by ${by}`, note: true });
    } else if (risk === 'dangerous') {
      findings.push({
        outcome: 'deny',
        source: id,
        reason: `${what}; dangerous steps are never allowed in a freeze`,
      });
    } else {
      findings.push({
        outcome: OUTCOME[freeze.effect],
        source: id,
        reason: `${what}; writes ${freeze.effect === 'deny' ? 'are denied' : 'need approval'}`,
        approvers: freeze.approvers ?? defaultApprovers(policy, risk),
      });
    }
  }

  // 3. The user's rate limit: earlier writes of the same plan count too.
  const limit = mostSpecific(
    matches.filter((m) => m.rule.maxWrites !== undefined),
    (m) => -(m.rule.maxWrites ?? 0),
  );
  const maxWrites = limit ? (limit.best.rule.maxWrites ?? 0) : policy.rateLimit.maxWrites;
  const limitSource = limit ? ruleId(limit.best.rule, limit.best.index) : 'rateLimit';
  const writes = input.recentWrites + writesSoFar;
  if (writes >= maxWrites) {
    findings.push({
      outcome: OUTCOME[policy.rateLimit.effect],
      source: limitSource,
      reason: `rate limit: ${writes} write(s) in the last ${policy.rateLimit.window}, at most ${maxWrites} allowed (${limitSource})`,
      approvers: policy.rateLimit.approvers ?? defaultApprovers(policy, risk),
    });
  }

  // 4. Replica bounds against the blast radius.
  const replicas = step.blastRadius?.replicas;
  const bound = mostSpecific(
    matches.filter((m) => m.rule.maxReplicas !== undefined),
    (m) => -(m.rule.maxReplicas ?? 0),
  );
  const maxReplicas = bound ? bound.best.rule.maxReplicas : policy.maxReplicas;
  const boundSource = bound ? ruleId(bound.best.rule, bound.best.index) : 'maxReplicas';
  if (replicas !== undefined && maxReplicas !== undefined && replicas > maxReplicas) {
    findings.push({
      outcome: 'deny',
      source: boundSource,
      reason: `${replicas} replicas exceed the bound of ${maxReplicas}${namespace ? ` in ${namespace}` : ''} (${boundSource})`,
    });
  }
  return findings;
}

function unmappedFinding(policy: Policy, risk: Risk): Finding {
  const effect = policy.unmapped[risk];
  return {
    outcome: OUTCOME[effect],
    source: `unmapped.${risk}`,
    reason: `unmapped.${risk}: ${effect} (the user has no identity mapping; rules cannot give them more)`,
    approvers: defaultApprovers(policy, risk),
  };
}

/** Who approves an approval that names no approvers (reads are never sent to approval). */
function defaultApprovers(policy: Policy, risk: Risk): Approvers {
  return risk === 'dangerous' ? policy.approvers.dangerous : policy.approvers.write;
}

function decide(findings: Finding[]): ExplainedDecision {
  const severity = Math.max(...findings.map((f) => SEVERITY[f.outcome]));
  const deciding = findings.filter((f) => SEVERITY[f.outcome] === severity && !f.note);
  const explained: Explanation = {
    reasons: unique(findings.map((f) => f.reason)),
    rules: unique(findings.map((f) => f.source)),
    decidedBy: unique(deciding.map((f) => f.source)),
  };
  const reason = unique(deciding.map((f) => f.reason)).join('; ');
  const first = deciding[0];
  if (!first || first.outcome === 'allow') return { effect: 'allow', ...explained };
  if (first.outcome === 'deny') return { effect: 'deny', reason, ...explained };
  // Several approval findings: the one asking for the most approvers (the first of equals) stands.
  let approvers: Approvers = first.approvers ?? { group: 'wheelhouse:approvers', quorum: 1 };
  for (const f of deciding) if (f.approvers && f.approvers.quorum > approvers.quorum) approvers = f.approvers;
  return { effect: 'require_approval', reason, approvers, ...explained };
}

function namespaceOf(step: PlanStep): string | undefined {
  if (step.namespace !== undefined) return step.namespace;
  if (step.blastRadius) return step.blastRadius.namespace;
  const value = step.input['namespace'];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The rule's match against who asks, where, and the step's namespace; undefined when it does not match. */
function matchRule(
  rule: PolicyRule,
  index: number,
  actor: Actor,
  namespace: string | undefined,
): Match | undefined {
  const dimensions: Array<[string, readonly string[] | undefined, Array<string | undefined>]> = [
    ['channel', rule.channels, [actor.channel]],
    ['user', rule.users, [actor.id, actor.kube?.user]],
    ['group', rule.groups, actor.kube?.groups ?? []],
    ['namespace', rule.namespaces, [namespace]],
  ];
  let score = 0;
  const matched: string[] = [];
  for (const [name, patterns, values] of dimensions) {
    if (patterns === undefined) continue;
    let best: { score: number; value: string } | undefined;
    for (const value of values) {
      if (value === undefined) continue;
      const s = patternScore(patterns, value);
      if (s !== undefined && (best === undefined || s > best.score)) best = { score: s, value };
    }
    if (best === undefined) return undefined;
    score += best.score;
    matched.push(`${name} ${best.value}`);
  }
  return { rule, index, score, matched };
}

function patternScore(patterns: readonly string[], value: string): number | undefined {
  let best: number | undefined;
  for (const p of patterns) {
    const s = p === value ? 2 : p === '*' ? 0 : p.includes('*') && globMatches(p, value) ? 1 : undefined;
    if (s !== undefined && (best === undefined || s > best)) best = s;
  }
  return best;
}

function globMatches(glob: string, value: string): boolean {
  const source = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(value);
}

/** The highest-scoring matches; among them the one with the highest `strictness` (the first of equals). */
function mostSpecific(
  matches: Match[],
  strictness: (m: Match) => number,
): { best: Match; tied: Match[] } | undefined {
  if (matches.length === 0) return undefined;
  const top = Math.max(...matches.map((m) => m.score));
  const tied = matches.filter((m) => m.score === top);
  let best = tied[0];
  for (const m of tied) if (best === undefined || strictness(m) > strictness(best)) best = m;
  return best && { best, tied };
}

function protects(policy: Policy, namespace: string): boolean {
  return (
    patternScore([...BUILT_IN_PROTECTED_NAMESPACES, ...policy.protectedNamespaces], namespace) !== undefined
  );
}

function inFreeze(freeze: Freeze, now: Date): boolean {
  if (freeze.start !== undefined && freeze.end !== undefined) {
    const t = now.getTime();
    return t >= Date.parse(freeze.start) && t < Date.parse(freeze.end);
  }
  if (freeze.weekly) {
    const from = parseWeeklyTime(freeze.weekly.from);
    const to = parseWeeklyTime(freeze.weekly.to);
    return typeof from === 'number' && typeof to === 'number' && inWeeklyWindow(now, from, to);
  }
  if (freeze.cron !== undefined && freeze.duration !== undefined) {
    const cron = parseCron(freeze.cron);
    const seconds = parseDurationSeconds(freeze.duration) ?? 0;
    return typeof cron !== 'string' && inCronWindow(cron, Math.ceil(seconds / 60), now);
  }
  return false;
}

function describeWindow(freeze: Freeze): string {
  if (freeze.weekly) return `weekly ${freeze.weekly.from} – ${freeze.weekly.to} UTC`;
  if (freeze.cron !== undefined) return `cron "${freeze.cron}" UTC for ${freeze.duration}`;
  return `${freeze.start} – ${freeze.end}`;
}

function forWhom(match: Match): string {
  return match.matched.length ? ` for ${match.matched.join(', ')}` : ' for everyone';
}

/** How explain and the audit name a rule: "rules[2] (shop-editors)". */
export function ruleId(rule: { name?: string | undefined }, index: number): string {
  return rule.name ? `rules[${index}] (${rule.name})` : `rules[${index}]`;
}

function freezeId(freeze: Freeze, index: number): string {
  return freeze.name ? `freezes[${index}] (${freeze.name})` : `freezes[${index}]`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

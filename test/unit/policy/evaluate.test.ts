import { describe, expect, it } from 'vitest';
import {
  type Approvers,
  type ExplainedDecision,
  evaluate,
  type PlanStep,
} from '../../../src/policy/evaluate.ts';
import { DEFAULT_POLICY, policySchema } from '../../../src/policy/policy-schema.ts';
import type { Actor } from '../../../src/skills/context.ts';
import type { Risk } from '../../../src/skills/define-skill.ts';

/**
 * Policy as a specification: each row is "given this policy and this user, when they ask for these
 * steps at this time, then this is the decision". Times are UTC; 2026-11-25 is a Wednesday.
 */

const WEDNESDAY = '2026-11-25T10:00:00Z';

interface Who {
  id?: string;
  channel?: string;
  user?: string;
  groups?: string[];
  surface?: Actor['surface'];
  mapped?: boolean;
}

interface Row {
  given: string;
  when: string;
  expected: string;
  /** The `policy` section as YAML would give it; omitted means no policy configured. */
  policy?: Record<string, unknown>;
  who?: Who;
  steps: Array<Partial<PlanStep> & { risk: Risk }>;
  at?: string;
  recentWrites?: number;
  effect: ExplainedDecision['effect'];
  approvers?: Approvers;
  decidedBy?: string[];
  /** A fragment the one-line reason (deny, approval) or else some reason must contain. */
  says?: string;
}

function step(s: Partial<PlanStep> & { risk: Risk }): PlanStep {
  return {
    skill: s.risk === 'read' ? 'pods-list' : s.risk === 'write' ? 'workload-scale' : 'pod-delete',
    input: {},
    summary: `${s.risk} something`,
    ...s,
  };
}

function decide(row: Row): ExplainedDecision {
  const who = row.who ?? {};
  const actor: Actor = {
    surface: who.surface ?? 'slack',
    id: who.id ?? 'U0ALICE01',
    channel: who.surface === 'console' ? undefined : (who.channel ?? 'C0SHOP001'),
    kube: { user: who.user ?? 'alice', groups: who.groups ?? ['shop-editors'] },
  };
  const policy = row.policy ? policySchema.parse(row.policy) : DEFAULT_POLICY;
  return evaluate(
    {
      plan: { source: 'grammar', rationale: 'test', steps: row.steps.map(step) },
      actor,
      mapped: who.mapped ?? true,
      now: new Date(row.at ?? WEDNESDAY),
      recentWrites: row.recentWrites ?? 0,
    },
    policy,
  );
}

function check(row: Row): void {
  const decision = decide(row);
  expect(decision.effect, decision.reasons.join('\n')).toBe(row.effect);
  if (row.approvers) {
    expect(decision.effect === 'require_approval' && decision.approvers).toEqual(row.approvers);
  }
  if (row.decidedBy) expect(decision.decidedBy).toEqual(row.decidedBy);
  if (row.says) {
    const text = decision.effect === 'allow' ? decision.reasons.join('\n') : decision.reason;
    expect(text).toContain(row.says);
  }
}

const write = (namespace: string, more: Partial<PlanStep> = {}) => ({
  risk: 'write' as const,
  namespace,
  ...more,
});
const dangerous = (namespace: string) => ({ risk: 'dangerous' as const, namespace });
const read = (namespace?: string) => ({ risk: 'read' as const, namespace });
const approvers = (group: string, quorum = 1): Approvers => ({ group, quorum });

const defaults: Row[] = [
  {
    given: 'no policy',
    when: 'a mapped user reads',
    expected: 'it is allowed by defaults.read',
    steps: [read('shop')],
    effect: 'allow',
    decidedBy: ['defaults.read'],
  },
  {
    given: 'no policy',
    when: 'a mapped user writes',
    expected: 'one approver from wheelhouse:approvers is needed',
    steps: [write('shop')],
    effect: 'require_approval',
    approvers: approvers('wheelhouse:approvers', 1),
    decidedBy: ['defaults.write'],
  },
  {
    given: 'no policy',
    when: 'a mapped user runs a dangerous step',
    expected: 'two approvers from wheelhouse:approvers are needed',
    steps: [dangerous('shop')],
    effect: 'require_approval',
    approvers: approvers('wheelhouse:approvers', 2),
  },
  {
    given: 'no policy',
    when: 'a mapped user writes in kube-system',
    expected: 'it is denied: the namespace is protected',
    steps: [write('kube-system')],
    effect: 'deny',
    decidedBy: ['protectedNamespaces'],
    says: 'namespace kube-system is protected',
  },
  {
    given: 'no policy',
    when: 'a mapped user writes in kube-node-lease or kube-public',
    expected: 'both are protected too',
    steps: [write('kube-node-lease'), write('kube-public')],
    effect: 'deny',
    says: 'kube-public is protected',
  },
  {
    given: 'no policy',
    when: 'a mapped user reads kube-system',
    expected: 'reads are not affected by protection',
    steps: [read('kube-system')],
    effect: 'allow',
  },
  {
    given: 'no policy',
    when: 'a step has no namespace field but its input names one',
    expected: 'the input namespace is used',
    steps: [{ risk: 'write', input: { namespace: 'kube-system' } }],
    effect: 'deny',
    decidedBy: ['protectedNamespaces'],
  },
  {
    given: 'no policy',
    when: 'a step carries only a blast radius',
    expected: 'the blast radius namespace is used',
    steps: [{ risk: 'write', blastRadius: { namespace: 'kube-system', objects: 1 } }],
    effect: 'deny',
  },
  {
    given: 'no policy',
    when: 'the plan has no steps',
    expected: 'there is nothing to refuse',
    steps: [],
    effect: 'allow',
    decidedBy: ['plan'],
  },
  {
    given: 'configured defaults { write: deny }',
    when: 'a mapped user writes and no rule decides',
    expected: 'it is denied, while dangerous keeps its default',
    policy: { defaults: { write: 'deny' } },
    steps: [write('shop')],
    effect: 'deny',
    decidedBy: ['defaults.write'],
  },
];

const unmapped: Row[] = [
  {
    given: 'no policy',
    when: 'an unmapped user reads',
    expected: 'it is allowed by unmapped.read',
    who: { mapped: false, id: 'U0STRANGE', user: 'slack:U0STRANGE', groups: ['wheelhouse:viewers'] },
    steps: [read('shop')],
    effect: 'allow',
    decidedBy: ['unmapped.read'],
  },
  {
    given: 'no policy',
    when: 'an unmapped user writes',
    expected: 'it is denied (read-only by default)',
    who: { mapped: false },
    steps: [write('shop')],
    effect: 'deny',
    decidedBy: ['unmapped.write'],
    says: 'no identity mapping',
  },
  {
    given: 'no policy',
    when: 'an unmapped user runs a dangerous step',
    expected: 'it is denied',
    who: { mapped: false },
    steps: [dangerous('shop')],
    effect: 'deny',
  },
  {
    given: 'a channel rule allowing writes to everyone in it',
    when: 'an unmapped user writes there',
    expected: 'rules cannot give more than unmapped allows',
    policy: { rules: [{ name: 'ops', channels: ['C0OPS0001'], write: 'allow' }] },
    who: { mapped: false, channel: 'C0OPS0001' },
    steps: [write('shop')],
    effect: 'deny',
    decidedBy: ['unmapped.write'],
  },
  {
    given: 'unmapped { read: deny }',
    when: 'an unmapped user reads',
    expected: 'it is denied',
    policy: { unmapped: { read: 'deny' } },
    who: { mapped: false },
    steps: [read('shop')],
    effect: 'deny',
  },
  {
    given: 'a rule denying reads in a channel',
    when: 'an unmapped user reads there',
    expected: 'the stricter rule decides',
    policy: { rules: [{ name: 'guests', channels: ['C0GUESTS1'], read: 'deny' }] },
    who: { mapped: false, channel: 'C0GUESTS1' },
    steps: [read('shop')],
    effect: 'deny',
    decidedBy: ['rules[0] (guests)'],
  },
  {
    given: 'unmapped { write: approve }',
    when: 'an unmapped user writes where a rule allows it',
    expected: 'approval is still needed',
    policy: { unmapped: { write: 'approve' }, rules: [{ namespaces: ['shop'], write: 'allow' }] },
    who: { mapped: false },
    steps: [write('shop')],
    effect: 'require_approval',
    decidedBy: ['unmapped.write'],
  },
];

const dimensions: Row[] = [
  {
    given: 'a channel-only rule allowing writes in #ops',
    when: 'a mapped user writes from #ops',
    expected: 'it is allowed by that rule',
    policy: { rules: [{ name: 'ops', channels: ['C0OPS0001'], write: 'allow' }] },
    who: { channel: 'C0OPS0001' },
    steps: [write('shop')],
    effect: 'allow',
    decidedBy: ['rules[0] (ops)'],
    says: 'for channel C0OPS0001',
  },
  {
    given: 'a channel-only rule allowing writes in #ops',
    when: 'the same user writes from another channel',
    expected: 'the defaults decide',
    policy: { rules: [{ name: 'ops', channels: ['C0OPS0001'], write: 'allow' }] },
    who: { channel: 'C0OTHER01' },
    steps: [write('shop')],
    effect: 'require_approval',
    decidedBy: ['defaults.write'],
  },
  {
    given: 'a channel-only rule',
    when: 'the console (no channel) asks',
    expected: 'the channel rule does not match',
    policy: { rules: [{ channels: ['*'], write: 'deny' }] },
    who: { surface: 'console' },
    steps: [write('shop')],
    effect: 'require_approval',
    decidedBy: ['defaults.write'],
  },
  {
    given: 'a channel-only rule denying reads in the customer channel',
    when: 'a mapped user reads there',
    expected: 'it is denied',
    policy: { rules: [{ name: 'customer', channels: ['C0GUESTS1'], read: 'deny' }] },
    who: { channel: 'C0GUESTS1' },
    steps: [read('shop')],
    effect: 'deny',
  },
  {
    given: 'a rule for a Slack user id',
    when: 'that user writes',
    expected: 'the rule decides',
    policy: { rules: [{ name: 'alice', users: ['U0ALICE01'], write: 'allow' }] },
    steps: [write('shop')],
    effect: 'allow',
    says: 'user U0ALICE01',
  },
  {
    given: 'a rule for a Kubernetes user name',
    when: 'the user mapped to it writes',
    expected: 'the rule decides',
    policy: { rules: [{ name: 'alice', users: ['alice'], write: 'deny' }] },
    steps: [write('shop')],
    effect: 'deny',
    says: 'user alice',
  },
  {
    given: 'a group rule for sre',
    when: 'a member of sre writes',
    expected: 'it is allowed',
    policy: { rules: [{ name: 'sre', groups: ['sre'], write: 'allow' }] },
    who: { groups: ['devs', 'sre'] },
    steps: [write('shop')],
    effect: 'allow',
    says: 'group sre',
  },
  {
    given: 'a group rule for sre',
    when: 'someone outside sre writes',
    expected: 'the defaults decide',
    policy: { rules: [{ name: 'sre', groups: ['sre'], write: 'allow' }] },
    who: { groups: ['devs'] },
    steps: [write('shop')],
    effect: 'require_approval',
  },
  {
    given: 'a namespace rule denying writes in billing',
    when: 'anyone writes there',
    expected: 'it is denied',
    policy: { rules: [{ name: 'billing', namespaces: ['billing'], write: 'deny' }] },
    steps: [write('billing')],
    effect: 'deny',
    says: 'namespace billing',
  },
  {
    given: 'a namespace glob shop-*',
    when: 'a user writes in shop-eu',
    expected: 'the glob matches',
    policy: { rules: [{ namespaces: ['shop-*'], write: 'allow' }] },
    steps: [write('shop-eu')],
    effect: 'allow',
    decidedBy: ['rules[0]'],
  },
  {
    given: 'a namespace glob shop-*',
    when: 'a user writes in shop',
    expected: 'the glob does not match the bare prefix',
    policy: { rules: [{ namespaces: ['shop-*'], write: 'allow' }] },
    steps: [write('shop')],
    effect: 'require_approval',
  },
  {
    given: 'a rule for group shop-editors in namespace shop',
    when: 'a shop editor writes in billing',
    expected: 'every dimension a rule names must match, so the defaults decide',
    policy: { rules: [{ groups: ['shop-editors'], namespaces: ['shop'], write: 'allow' }] },
    steps: [write('billing')],
    effect: 'require_approval',
    decidedBy: ['defaults.write'],
  },
  {
    given: 'a rule with several names in one dimension',
    when: 'any one of them matches',
    expected: 'the rule matches',
    policy: { rules: [{ channels: ['C0A', 'C0OPS0001'], namespaces: ['a', 'shop'], write: 'allow' }] },
    who: { channel: 'C0OPS0001' },
    steps: [write('shop')],
    effect: 'allow',
  },
  {
    given: 'a namespace rule',
    when: 'a step has no namespace (cluster-wide)',
    expected: 'namespace rules do not match it',
    policy: { rules: [{ namespaces: ['*'], read: 'deny' }] },
    steps: [read()],
    effect: 'allow',
    decidedBy: ['defaults.read'],
  },
  {
    given: 'a rule that sets only write',
    when: 'a matching user runs a dangerous step',
    expected: 'the rule has no say and the defaults decide',
    policy: { rules: [{ groups: ['shop-editors'], write: 'allow' }] },
    steps: [dangerous('shop')],
    effect: 'require_approval',
    decidedBy: ['defaults.dangerous'],
  },
];

const precedence: Row[] = [
  {
    given: 'payments needs approval, but payments leads (group + namespace) may write directly',
    when: 'a lead writes in payments',
    expected: 'the more specific rule wins',
    policy: {
      rules: [
        { name: 'payments', namespaces: ['payments'], write: 'approve' },
        { name: 'leads', groups: ['payments-leads'], namespaces: ['payments'], write: 'allow' },
      ],
    },
    who: { groups: ['payments-leads'] },
    steps: [write('payments')],
    effect: 'allow',
    decidedBy: ['rules[1] (leads)'],
  },
  {
    given: 'sre may write, but not from #random',
    when: 'an SRE writes from #random',
    expected: 'the more specific deny wins',
    policy: {
      rules: [
        { name: 'sre', groups: ['sre'], write: 'allow' },
        { name: 'random', groups: ['sre'], channels: ['C0RANDOM1'], write: 'deny' },
      ],
    },
    who: { groups: ['sre'], channel: 'C0RANDOM1' },
    steps: [write('shop')],
    effect: 'deny',
    decidedBy: ['rules[1] (random)'],
  },
  {
    given: 'a channel deny and a group allow, equally specific',
    when: 'an SRE writes from that channel',
    expected: 'the stricter wins on a tie',
    policy: {
      rules: [
        { name: 'sre', groups: ['sre'], write: 'allow' },
        { name: 'random', channels: ['C0RANDOM1'], write: 'deny' },
      ],
    },
    who: { groups: ['sre'], channel: 'C0RANDOM1' },
    steps: [write('shop')],
    effect: 'deny',
    decidedBy: ['rules[1] (random)'],
    says: 'the strictest wins',
  },
  {
    given: 'an approve and an allow, equally specific',
    when: 'both match',
    expected: 'approval (stricter) wins over allow',
    policy: {
      rules: [
        { groups: ['sre'], write: 'allow' },
        { channels: ['C0SHOP001'], write: 'approve', approvers: { group: 'shop-leads' } },
      ],
    },
    who: { groups: ['sre'] },
    steps: [write('shop')],
    effect: 'require_approval',
    approvers: approvers('shop-leads'),
  },
  {
    given: 'shop-* denies writes, shop-eu (exact name) allows them',
    when: 'a user writes in shop-eu',
    expected: 'the exact name is more specific than the glob',
    policy: {
      rules: [
        { name: 'glob', namespaces: ['shop-*'], write: 'deny' },
        { name: 'exact', namespaces: ['shop-eu'], write: 'allow' },
      ],
    },
    steps: [write('shop-eu')],
    effect: 'allow',
    decidedBy: ['rules[1] (exact)'],
  },
  {
    given: 'a "*" rule and a channel rule',
    when: 'both match',
    expected: '"*" counts as no name at all, so the channel rule wins',
    policy: {
      rules: [
        { namespaces: ['*'], write: 'allow' },
        { channels: ['C0SHOP001'], write: 'approve' },
      ],
    },
    steps: [write('shop')],
    effect: 'require_approval',
    decidedBy: ['rules[1]'],
  },
  {
    given: 'a "*" rule allowing writes',
    when: 'nothing more specific matches',
    expected: 'the rule still beats the defaults',
    policy: { rules: [{ namespaces: ['*'], write: 'allow' }] },
    steps: [write('shop')],
    effect: 'allow',
  },
  {
    given: 'a rule that approves with its own approvers (a user list)',
    when: 'it decides',
    expected: 'its approvers are asked',
    policy: {
      rules: [
        { namespaces: ['shop'], write: 'approve', approvers: { users: ['U1', 'U2', 'U3'], quorum: 2 } },
      ],
    },
    steps: [write('shop')],
    effect: 'require_approval',
    approvers: { users: ['U1', 'U2', 'U3'], quorum: 2 },
  },
  {
    given: 'a rule that approves without approvers and configured default approvers',
    when: 'it decides',
    expected: 'the configured defaults are asked',
    policy: {
      approvers: { write: { group: 'oncall', quorum: 1 } },
      rules: [{ namespaces: ['shop'], write: 'approve' }],
    },
    steps: [write('shop')],
    effect: 'require_approval',
    approvers: approvers('oncall', 1),
  },
  {
    given: 'a plan with a read and a write',
    when: 'the read is allowed and the write needs approval',
    expected: 'the strictest step decides the plan',
    steps: [read('shop'), write('shop')],
    effect: 'require_approval',
    says: 'step 2 (write something)',
  },
  {
    given: 'a plan with a write (1 approver) and a dangerous step (2 approvers)',
    when: 'both need approval',
    expected: 'the larger quorum is asked for',
    steps: [write('shop'), dangerous('shop')],
    effect: 'require_approval',
    approvers: approvers('wheelhouse:approvers', 2),
  },
  {
    given: 'a plan with an allowed write and a denied one',
    when: 'evaluated',
    expected: 'deny beats allow',
    policy: { rules: [{ namespaces: ['shop'], write: 'allow' }] },
    steps: [write('shop'), write('kube-system')],
    effect: 'deny',
  },
];

const protectedNamespaces: Row[] = [
  {
    given: 'payments configured as protected and a "*" rule allowing writes',
    when: 'a user writes in payments',
    expected: 'a wildcard never opens a protected namespace',
    policy: { protectedNamespaces: ['payments'], rules: [{ namespaces: ['*'], write: 'allow' }] },
    steps: [write('payments')],
    effect: 'deny',
    decidedBy: ['protectedNamespaces'],
  },
  {
    given: 'protected namespaces "*-prod"',
    when: 'a user writes in shop-prod',
    expected: 'a glob protects too',
    policy: { protectedNamespaces: ['*-prod'], rules: [{ groups: ['shop-editors'], write: 'allow' }] },
    steps: [write('shop-prod')],
    effect: 'deny',
  },
  {
    given: 'configured protected namespaces',
    when: 'a user writes in kube-system',
    expected: 'the built-in ones stay protected',
    policy: { protectedNamespaces: ['payments'] },
    steps: [write('kube-system')],
    effect: 'deny',
  },
  {
    given: 'a rule naming kube-system exactly with write: approve',
    when: 'a matching user writes there',
    expected: 'the protection opens, with approval',
    policy: {
      rules: [
        {
          name: 'sre-ks',
          groups: ['sre'],
          namespaces: ['kube-system'],
          write: 'approve',
          approvers: { group: 'sre', quorum: 2 },
        },
      ],
    },
    who: { groups: ['sre'] },
    steps: [write('kube-system')],
    effect: 'require_approval',
    approvers: approvers('sre', 2),
    decidedBy: ['rules[0] (sre-ks)'],
  },
  {
    given: 'a rule naming kube-* with write: allow',
    when: 'a user writes in kube-system',
    expected: 'a glob is not an explicit name',
    policy: { rules: [{ namespaces: ['kube-*'], write: 'allow' }] },
    steps: [write('kube-system')],
    effect: 'deny',
    decidedBy: ['protectedNamespaces'],
  },
  {
    given: 'a group rule without namespaces allowing writes',
    when: 'a member writes in kube-system',
    expected: 'it is denied',
    policy: { rules: [{ groups: ['sre'], write: 'allow' }] },
    who: { groups: ['sre'] },
    steps: [write('kube-system')],
    effect: 'deny',
  },
  {
    given: 'a rule naming kube-system that allows only writes',
    when: 'a user runs a dangerous step there',
    expected: 'the rule has no say on dangerous, so it stays denied',
    policy: { rules: [{ namespaces: ['kube-system'], write: 'allow' }] },
    steps: [dangerous('kube-system')],
    effect: 'deny',
    decidedBy: ['protectedNamespaces'],
  },
  {
    given: 'a more specific rule without the namespace and a rule naming kube-system',
    when: 'a user writes in kube-system',
    expected: 'only the rule naming it can decide',
    policy: {
      rules: [
        { name: 'sre-ops', groups: ['sre'], channels: ['C0SHOP001'], write: 'allow' },
        { name: 'ks', namespaces: ['kube-system'], write: 'approve' },
      ],
    },
    who: { groups: ['sre'] },
    steps: [write('kube-system')],
    effect: 'require_approval',
    decidedBy: ['rules[1] (ks)'],
  },
];

const weekendFreeze = {
  rules: [{ name: 'shop', namespaces: ['shop'], write: 'allow', dangerous: 'allow' }],
  freezes: [{ name: 'weekend', weekly: { from: 'Fri 16:00', to: 'Mon 08:00' }, reason: 'weekend' }],
};
const inWeekend = (at: string, frozen: boolean): Row => ({
  given: 'a weekly freeze Fri 16:00 – Mon 08:00 UTC',
  when: `a write is asked at ${at}`,
  expected: frozen ? 'it is frozen' : 'it is outside the freeze',
  policy: weekendFreeze,
  steps: [write('shop')],
  at,
  effect: frozen ? 'deny' : 'allow',
});

const freezes: Row[] = [
  {
    given: 'an explicit Black Friday freeze',
    when: 'a user writes during it',
    expected: 'it is denied with the reason',
    policy: {
      rules: [{ namespaces: ['shop'], write: 'allow' }],
      freezes: [
        { name: 'bf', start: '2026-11-27T00:00:00Z', end: '2026-11-30T08:00:00Z', reason: 'Black Friday' },
      ],
    },
    steps: [write('shop')],
    at: '2026-11-27T17:00:00Z',
    effect: 'deny',
    decidedBy: ['freezes[0] (bf)'],
    says: 'Black Friday',
  },
  {
    given: 'an explicit freeze',
    when: 'a user writes one minute before it starts',
    expected: 'it is allowed',
    policy: {
      rules: [{ namespaces: ['shop'], write: 'allow' }],
      freezes: [{ start: '2026-11-27T00:00:00Z', end: '2026-11-30T08:00:00Z', reason: 'BF' }],
    },
    steps: [write('shop')],
    at: '2026-11-26T23:59:00Z',
    effect: 'allow',
  },
  {
    given: 'an explicit freeze',
    when: 'a user writes exactly at its end',
    expected: 'the end is exclusive',
    policy: {
      rules: [{ namespaces: ['shop'], write: 'allow' }],
      freezes: [{ start: '2026-11-27T00:00:00Z', end: '2026-11-30T08:00:00Z', reason: 'BF' }],
    },
    steps: [write('shop')],
    at: '2026-11-30T08:00:00Z',
    effect: 'allow',
  },
  {
    given: 'an explicit freeze starting 2026-11-27T00:00:00+01:00 (23:00 UTC the day before)',
    when: 'a user writes at 23:30 UTC on the 26th',
    expected: 'offsets are converted to UTC, so it is frozen',
    policy: {
      rules: [{ namespaces: ['shop'], write: 'allow' }],
      freezes: [{ start: '2026-11-27T00:00:00+01:00', end: '2026-11-28T00:00:00+01:00', reason: 'BF' }],
    },
    steps: [write('shop')],
    at: '2026-11-26T23:30:00Z',
    effect: 'deny',
  },
  inWeekend('2026-11-27T15:59:00Z', false),
  inWeekend('2026-11-27T16:00:00Z', true),
  inWeekend('2026-11-28T12:00:00Z', true),
  inWeekend('2026-11-29T23:59:00Z', true),
  inWeekend('2026-11-30T00:00:00Z', true),
  inWeekend('2026-11-30T07:59:00Z', true),
  inWeekend('2026-11-30T08:00:00Z', false),
  inWeekend('2026-11-25T12:00:00Z', false),
  // The same instants written with offsets: the window is in UTC whatever the caller's zone.
  inWeekend('2026-11-27T17:30:00+01:00', true),
  inWeekend('2026-11-27T16:30:00+01:00', false),
  inWeekend('2026-11-30T02:00:00-06:00', false),
  inWeekend('2026-11-30T01:00:00-06:00', true),
  {
    given: 'a weekly freeze over midnight, Mon 22:00 – Tue 06:00',
    when: 'a write is asked Tuesday 02:00',
    expected: 'it is frozen',
    policy: {
      rules: [{ namespaces: ['shop'], write: 'allow' }],
      freezes: [{ weekly: { from: 'Mon 22:00', to: 'Tue 06:00' }, reason: 'maintenance' }],
    },
    steps: [write('shop')],
    at: '2026-11-24T02:00:00Z',
    effect: 'deny',
  },
  {
    given: 'a weekly freeze over midnight, Mon 22:00 – Tue 06:00',
    when: 'a write is asked Monday 21:59',
    expected: 'it is not frozen yet',
    policy: {
      rules: [{ namespaces: ['shop'], write: 'allow' }],
      freezes: [{ weekly: { from: 'Monday 22:00', to: 'Tuesday 06:00' }, reason: 'maintenance' }],
    },
    steps: [write('shop')],
    at: '2026-11-23T21:59:00Z',
    effect: 'allow',
  },
  {
    given: 'a freeze with effect approve',
    when: 'a user writes during it',
    expected: 'writes need the freeze approvers',
    policy: {
      rules: [{ namespaces: ['shop'], write: 'allow' }],
      freezes: [
        {
          name: 'weekend',
          weekly: { from: 'Fri 16:00', to: 'Mon 08:00' },
          reason: 'weekend',
          effect: 'approve',
          approvers: { group: 'oncall', quorum: 1 },
        },
      ],
    },
    steps: [write('shop')],
    at: '2026-11-28T12:00:00Z',
    effect: 'require_approval',
    approvers: approvers('oncall'),
    decidedBy: ['freezes[0] (weekend)'],
  },
  {
    given: 'a freeze with effect approve and a rule allowing dangerous steps',
    when: 'a user runs a dangerous step during it',
    expected: 'dangerous is always denied in a freeze',
    policy: {
      rules: [{ namespaces: ['shop'], dangerous: 'allow' }],
      freezes: [{ weekly: { from: 'Fri 16:00', to: 'Mon 08:00' }, reason: 'weekend', effect: 'approve' }],
    },
    steps: [dangerous('shop')],
    at: '2026-11-28T12:00:00Z',
    effect: 'deny',
    says: 'dangerous steps are never allowed in a freeze',
  },
  {
    given: 'a freeze and an incident rule with override: true',
    when: 'an SRE in the incident channel runs a dangerous step during it',
    expected: 'the rule decides, and the freeze is reported as overridden',
    policy: {
      rules: [
        { name: 'incident', channels: ['C0INCIDENT'], groups: ['sre'], dangerous: 'approve', override: true },
      ],
      freezes: [{ name: 'bf', start: '2026-11-27T00:00:00Z', end: '2026-11-30T08:00:00Z', reason: 'BF' }],
    },
    who: { channel: 'C0INCIDENT', groups: ['sre'] },
    steps: [dangerous('shop')],
    at: '2026-11-28T12:00:00Z',
    effect: 'require_approval',
    decidedBy: ['rules[0] (incident)'],
  },
  {
    given: 'a freeze and an incident rule with override: true',
    when: 'an SRE in the incident channel writes during it',
    expected: 'it is allowed, and the reasons say the freeze was overridden',
    policy: {
      rules: [
        { name: 'incident', channels: ['C0INCIDENT'], groups: ['sre'], write: 'allow', override: true },
      ],
      freezes: [{ name: 'bf', start: '2026-11-27T00:00:00Z', end: '2026-11-30T08:00:00Z', reason: 'BF' }],
    },
    who: { channel: 'C0INCIDENT', groups: ['sre'] },
    steps: [write('shop')],
    at: '2026-11-28T12:00:00Z',
    effect: 'allow',
    decidedBy: ['rules[0] (incident)'],
    says: 'overridden by rules[0] (incident)',
  },
  {
    given: 'a freeze and an override rule that does not decide the step',
    when: 'a user writes under another rule',
    expected: 'the freeze applies',
    policy: {
      rules: [
        { name: 'incident', channels: ['C0INCIDENT'], dangerous: 'allow', override: true },
        { name: 'shop', namespaces: ['shop'], write: 'allow' },
      ],
      freezes: [{ start: '2026-11-27T00:00:00Z', end: '2026-11-30T08:00:00Z', reason: 'BF' }],
    },
    who: { channel: 'C0INCIDENT' },
    steps: [write('shop')],
    at: '2026-11-28T12:00:00Z',
    effect: 'deny',
  },
  {
    given: 'a freeze',
    when: 'a user reads during it',
    expected: 'reads are never frozen',
    policy: { freezes: [{ start: '2026-11-27T00:00:00Z', end: '2026-11-30T08:00:00Z', reason: 'BF' }] },
    steps: [read('shop')],
    at: '2026-11-28T12:00:00Z',
    effect: 'allow',
  },
  ...(
    [
      ['2026-11-24T23:00:00Z', true, 'Tuesday 23:00, an hour into the window'],
      ['2026-11-25T05:59:00Z', true, "Wednesday 05:59, the end of Tuesday's window"],
      ['2026-11-25T06:00:00Z', false, 'Wednesday 06:00, when the window closes'],
      ['2026-11-28T23:00:00Z', false, 'Saturday 23:00 (no window opens on Saturday)'],
      ['2026-11-28T05:00:00Z', true, "Saturday 05:00, the end of Friday's window"],
    ] as const
  ).map(
    ([at, frozen, what]): Row => ({
      given: 'a cron freeze "0 22 * * 1-5" lasting 8h',
      when: `a write is asked ${what}`,
      expected: frozen ? 'it is frozen' : 'it is not frozen',
      policy: {
        rules: [{ namespaces: ['shop'], write: 'allow' }],
        freezes: [{ name: 'nights', cron: '0 22 * * 1-5', duration: '8h', reason: 'batch jobs' }],
      },
      steps: [write('shop')],
      at,
      effect: frozen ? 'deny' : 'allow',
    }),
  ),
  {
    given: 'a freeze and a rule that denies',
    when: 'a user writes during the freeze',
    expected: 'both deny, and both are named',
    policy: {
      rules: [{ name: 'no', namespaces: ['shop'], write: 'deny' }],
      freezes: [{ name: 'bf', start: '2026-11-27T00:00:00Z', end: '2026-11-30T08:00:00Z', reason: 'BF' }],
    },
    steps: [write('shop')],
    at: '2026-11-28T12:00:00Z',
    effect: 'deny',
    decidedBy: ['rules[0] (no)', 'freezes[0] (bf)'],
  },
];

const shopAllowed = { rules: [{ name: 'shop', namespaces: ['shop'], write: 'allow' }] };

const rateLimits: Row[] = [
  {
    given: 'the default rate limit (20 writes an hour)',
    when: 'a user with 19 recent writes writes',
    expected: 'it is allowed',
    policy: shopAllowed,
    recentWrites: 19,
    steps: [write('shop')],
    effect: 'allow',
  },
  {
    given: 'the default rate limit (20 writes an hour)',
    when: 'a user with 20 recent writes writes',
    expected: 'it is denied by the rate limit',
    policy: shopAllowed,
    recentWrites: 20,
    steps: [write('shop')],
    effect: 'deny',
    decidedBy: ['rateLimit'],
    says: '20 write(s) in the last 1h, at most 20',
  },
  {
    given: 'a rule with maxWrites: 5',
    when: 'a matching user with 5 recent writes writes',
    expected: "the rule's limit applies",
    policy: { rules: [{ name: 'shop', namespaces: ['shop'], write: 'allow', maxWrites: 5 }] },
    recentWrites: 5,
    steps: [write('shop')],
    effect: 'deny',
    decidedBy: ['rules[0] (shop)'],
  },
  {
    given: 'a rule for sre with maxWrites: 60',
    when: 'an SRE with 30 recent writes writes',
    expected: 'the higher limit applies to them',
    policy: { rules: [{ name: 'sre', groups: ['sre'], write: 'allow', maxWrites: 60 }] },
    who: { groups: ['sre'] },
    recentWrites: 30,
    steps: [write('shop')],
    effect: 'allow',
  },
  {
    given: 'a rate limit with effect approve',
    when: 'a user over the limit writes',
    expected: 'approval is needed instead',
    policy: {
      ...shopAllowed,
      rateLimit: { maxWrites: 3, effect: 'approve', approvers: { group: 'oncall' } },
    },
    recentWrites: 3,
    steps: [write('shop')],
    effect: 'require_approval',
    approvers: approvers('oncall'),
  },
  {
    given: 'a rate limit of 3',
    when: 'a user over the limit reads',
    expected: 'reads are not limited',
    policy: { rateLimit: { maxWrites: 3 } },
    recentWrites: 10,
    steps: [read('shop')],
    effect: 'allow',
  },
  {
    given: 'a rate limit of 20',
    when: 'a plan with two writes comes from a user with 19 recent writes',
    expected: 'the second write of the plan is over the limit',
    policy: shopAllowed,
    recentWrites: 19,
    steps: [write('shop'), write('shop')],
    effect: 'deny',
    says: 'step 2',
  },
];

const replicaBounds: Row[] = [
  {
    given: 'shop bounded to 50 replicas',
    when: 'a change touches 60 replicas in shop',
    expected: 'it is denied',
    policy: { rules: [{ name: 'shop', namespaces: ['shop'], write: 'allow', maxReplicas: 50 }] },
    steps: [write('shop', { blastRadius: { namespace: 'shop', objects: 1, replicas: 60 } })],
    effect: 'deny',
    decidedBy: ['rules[0] (shop)'],
    says: '60 replicas exceed the bound of 50 in shop',
  },
  {
    given: 'shop bounded to 50 replicas',
    when: 'a change touches exactly 50',
    expected: 'it is allowed',
    policy: { rules: [{ name: 'shop', namespaces: ['shop'], write: 'allow', maxReplicas: 50 }] },
    steps: [write('shop', { blastRadius: { namespace: 'shop', objects: 1, replicas: 50 } })],
    effect: 'allow',
  },
  {
    given: 'a global maxReplicas of 100',
    when: 'a change touches 101 replicas',
    expected: 'it is denied',
    policy: { ...shopAllowed, maxReplicas: 100 },
    steps: [write('shop', { blastRadius: { namespace: 'shop', objects: 1, replicas: 101 } })],
    effect: 'deny',
    decidedBy: ['maxReplicas'],
  },
  {
    given: 'shop bounded to 50, and SREs in shop to 200',
    when: 'an SRE scales shop to 150',
    expected: 'the more specific bound applies',
    policy: {
      rules: [
        { namespaces: ['shop'], write: 'allow', maxReplicas: 50 },
        { groups: ['sre'], namespaces: ['shop'], maxReplicas: 200 },
      ],
    },
    who: { groups: ['sre'] },
    steps: [write('shop', { blastRadius: { namespace: 'shop', objects: 1, replicas: 150 } })],
    effect: 'allow',
  },
  {
    given: 'two equally specific bounds, 50 and 80',
    when: 'a change touches 60',
    expected: 'the lower bound wins the tie',
    policy: {
      rules: [
        { namespaces: ['shop'], write: 'allow', maxReplicas: 80 },
        { channels: ['C0SHOP001'], maxReplicas: 50 },
      ],
    },
    steps: [write('shop', { blastRadius: { namespace: 'shop', objects: 1, replicas: 60 } })],
    effect: 'deny',
    decidedBy: ['rules[1]'],
  },
  {
    given: 'shop bounded to 50 replicas',
    when: 'the step has no blast radius yet',
    expected: 'there is nothing to check',
    policy: { rules: [{ namespaces: ['shop'], write: 'allow', maxReplicas: 50 }] },
    steps: [write('shop')],
    effect: 'allow',
  },
];

const tables: Array<[string, Row[]]> = [
  ['defaults (no policy configured)', defaults],
  ['unmapped users', unmapped],
  ['dimensions: channel, user, group, namespace', dimensions],
  ['precedence', precedence],
  ['protected namespaces', protectedNamespaces],
  ['change freezes (UTC)', freezes],
  ['rate limits', rateLimits],
  ['replica bounds', replicaBounds],
];

describe('evaluate', () => {
  for (const [title, rows] of tables) {
    describe(title, () => {
      it.each(rows)('given $given, when $when, then $expected', (row) => check(row));
    });
  }

  it('names every rule that had a say, and only the deciding ones in decidedBy', () => {
    const decision = decide({
      given: '',
      when: '',
      expected: '',
      policy: {
        rules: [{ name: 'shop', namespaces: ['shop'], write: 'allow', maxReplicas: 10 }],
        freezes: [
          {
            name: 'weekend',
            weekly: { from: 'Fri 16:00', to: 'Mon 08:00' },
            reason: 'weekend',
            effect: 'approve',
          },
        ],
      },
      steps: [write('shop', { blastRadius: { namespace: 'shop', objects: 1, replicas: 3 } })],
      at: '2026-11-28T12:00:00Z',
      effect: 'require_approval',
    });
    expect(decision).toMatchObject({
      effect: 'require_approval',
      rules: ['rules[0] (shop)', 'freezes[0] (weekend)'],
      decidedBy: ['freezes[0] (weekend)'],
      approvers: approvers('wheelhouse:approvers', 1),
    });
    expect(decision.reasons).toEqual([
      'rules[0] (shop) says write: allow for namespace shop',
      'freezes[0] (weekend) is in force (weekly Fri 16:00 – Mon 08:00 UTC): weekend; writes need approval',
    ]);
  });

  it('is pure: the same input gives the same decision and the policy is not changed', () => {
    const policy = policySchema.parse({ rules: [{ namespaces: ['shop'], write: 'approve' }] });
    const before = JSON.stringify(policy);
    const input = {
      plan: { source: 'grammar' as const, rationale: 't', steps: [step(write('shop'))] },
      actor: { surface: 'slack' as const, id: 'U1', channel: 'C1', kube: { user: 'a', groups: [] } },
      mapped: true,
      now: new Date(WEDNESDAY),
      recentWrites: 0,
    };
    expect(evaluate(input, policy)).toEqual(evaluate(input, policy));
    expect(JSON.stringify(policy)).toBe(before);
  });
});

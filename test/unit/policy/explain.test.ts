import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../../../src/config/load-config.ts';
import type { Config } from '../../../src/config/schema.ts';
import { isWheelhouseError } from '../../../src/errors.ts';
import {
  EXPLAIN_EXIT_CODES,
  type ExplainQuestion,
  explainRequest,
  formatExplanation,
} from '../../../src/policy/explain.ts';
import { defineSkill } from '../../../src/skills/define-skill.ts';
import { SkillRegistry } from '../../../src/skills/registry.ts';
import { dnsLabel } from '../../../src/skills/schema.ts';
import { listThings } from '../../support/test-skills.ts';

const EXAMPLE = resolve(import.meta.dirname, '../../fixtures/config/policy-example.yaml');

/** Write skills shaped like the real deploy and scale, so explain is tried on writes before they ship. */
const deploy = defineSkill({
  name: 'thing-deploy',
  title: 'Deploy a thing',
  description: 'Sets the image of a thing.',
  input: z.object({
    target: z.string().min(1).describe('e.g. "deploy/checkout"'),
    namespace: dnsLabel.describe('e.g. "shop"'),
    image: z.string().min(1).describe('e.g. "registry/checkout:v2"'),
  }),
  risk: 'write',
  verbs: ['patch'],
  resources: ['deployments'],
  grammar: { command: 'deploy', positional: ['target'], short: { n: 'namespace' } },
  examples: [],
  summarize: (i) => `set image of ${i.target} to ${i.image} in ${i.namespace}`,
  async propose() {
    throw new Error('explain must never ask for a proposal');
  },
});

const scale = defineSkill({
  name: 'thing-scale',
  title: 'Scale a thing',
  description: 'Sets replicas.',
  input: z.object({
    target: z.string().min(1).describe('e.g. "deploy/checkout"'),
    namespace: dnsLabel.describe('e.g. "shop"'),
    replicas: z.number().int().min(0).describe('e.g. 5'),
  }),
  risk: 'write',
  verbs: ['patch'],
  resources: ['deployments/scale'],
  grammar: { command: 'scale', positional: ['target'], short: { n: 'namespace' } },
  examples: [],
  summarize: (i) => `scale ${i.target} to ${i.replicas} in ${i.namespace}`,
  async propose() {
    throw new Error('explain must never ask for a proposal');
  },
});

const deletePod = defineSkill({
  name: 'thing-delete',
  title: 'Delete a thing',
  description: 'Deletes a pod.',
  input: z.object({
    pod: z.string().min(1).describe('e.g. "x"'),
    namespace: dnsLabel.describe('e.g. "shop"'),
  }),
  risk: 'dangerous',
  verbs: ['delete'],
  resources: ['pods'],
  grammar: { command: 'delete-pod', positional: ['pod'], short: { n: 'namespace' } },
  examples: [],
  summarize: (i) => `delete pod ${i.pod} in ${i.namespace}`,
  async propose() {
    throw new Error('explain must never ask for a proposal');
  },
});

const registry = new SkillRegistry([listThings, deploy, scale, deletePod]);
const example = loadConfig({ env: {}, configPath: EXAMPLE, cwd: '/srv' }).config;

const WEDNESDAY = new Date('2026-11-25T10:00:00Z');
const SATURDAY = new Date('2026-12-05T12:00:00Z');
const BLACK_FRIDAY = new Date('2026-11-27T17:00:00Z');

function explain(question: Partial<ExplainQuestion> & { text: string }, config: Config = example) {
  return explainRequest(
    { user: 'U024BE7LH', channel: 'C0SHOP001', at: WEDNESDAY, ...question },
    { policy: config.policy, identity: config.identity, registry },
  );
}

describe('explainRequest on the example policy', () => {
  const rows: Array<{
    case: string;
    question: Partial<ExplainQuestion> & { text: string };
    effect: 'allow' | 'require_approval' | 'deny';
    decidedBy: string[];
    approvers?: unknown;
  }> = [
    {
      case: 'a shop editor deploys to shop on a Wednesday',
      question: { text: 'deploy deploy/checkout -n shop image=registry/checkout:v2' },
      effect: 'allow',
      decidedBy: ['rules[0] (shop-editors)'],
    },
    {
      case: 'a shop editor scales shop above its bound of 50',
      question: { text: 'scale deploy/checkout -n shop --replicas 60' },
      effect: 'deny',
      decidedBy: ['rules[0] (shop-editors)'],
    },
    {
      case: 'a shop editor deploys on Black Friday (also a weekend freeze)',
      question: { text: 'deploy deploy/checkout -n shop image=x:v2', at: BLACK_FRIDAY },
      effect: 'deny',
      decidedBy: ['freezes[0] (black-friday)'],
    },
    {
      case: 'a shop editor deploys on an ordinary Saturday',
      question: { text: 'deploy deploy/checkout -n shop image=x:v2', at: SATURDAY },
      effect: 'require_approval',
      decidedBy: ['freezes[1] (weekend)'],
      approvers: { group: 'wheelhouse:approvers', quorum: 1 },
    },
    {
      case: 'a shop editor deploys during the nightly billing batch',
      question: { text: 'deploy deploy/checkout -n shop image=x:v2', at: new Date('2026-11-25T01:30:00Z') },
      effect: 'deny',
      decidedBy: ['freezes[2] (nightly-billing)'],
    },
    {
      case: 'a shop editor deletes a pod in shop',
      question: { text: 'delete-pod checkout-1 -n shop' },
      effect: 'require_approval',
      decidedBy: ['rules[0] (shop-editors)'],
      approvers: { group: 'shop-leads', quorum: 1 },
    },
    {
      case: 'a shop editor deploys to payments (protected, named by a rule)',
      question: { text: 'deploy deploy/api -n payments image=x:v2' },
      effect: 'require_approval',
      decidedBy: ['rules[1] (payments-changes)'],
      approvers: { users: ['U0CAROL01', 'U0BOB0001', 'U0DAVE001'], quorum: 2 },
    },
    {
      case: 'a shop editor lists pods in payments',
      question: { text: 'things payments' },
      effect: 'deny',
      decidedBy: ['rules[2] (payments-reads)'],
    },
    {
      case: 'a payments team member (mapped by email) lists pods in payments',
      question: { text: 'things payments', user: 'dave@example.com' },
      effect: 'allow',
      decidedBy: ['rules[3] (payments-team-reads)'],
    },
    {
      case: 'an SRE deploys to kube-system',
      question: { text: 'deploy ds/kube-proxy -n kube-system image=x:v2', user: 'U0BOB0001' },
      effect: 'require_approval',
      decidedBy: ['rules[5] (sre-kube-system)'],
      approvers: { group: 'sre', quorum: 2 },
    },
    {
      case: 'an SRE deploys from the incident channel on Black Friday',
      question: {
        text: 'deploy deploy/checkout -n shop image=x:v2',
        user: 'U0BOB0001',
        channel: 'C0INCIDENT',
        at: BLACK_FRIDAY,
      },
      effect: 'allow',
      decidedBy: ['rules[6] (incident-response)'],
    },
    {
      case: 'an SRE deploys from the customer channel',
      question: {
        text: 'deploy deploy/checkout -n shop image=x:v2',
        user: 'U0BOB0001',
        channel: 'C0GUESTS1',
      },
      effect: 'deny',
      decidedBy: ['rules[7] (customer-channel)'],
    },
    {
      case: 'a shop editor with 20 writes this hour deploys',
      question: { text: 'deploy deploy/checkout -n shop image=x:v2', recentWrites: 20 },
      effect: 'deny',
      decidedBy: ['rateLimit'],
    },
    {
      case: 'an SRE with 30 writes this hour deploys (the sre rule allows 60)',
      question: { text: 'deploy deploy/checkout -n ops image=x:v2', user: 'U0BOB0001', recentWrites: 30 },
      effect: 'allow',
      decidedBy: ['rules[4] (sre)'],
    },
    {
      case: 'a shop editor tried with --group sre writes in ops',
      question: { text: 'deploy deploy/x -n ops image=x:v2', groups: ['sre'] },
      effect: 'allow',
      decidedBy: ['rules[4] (sre)'],
    },
    {
      case: 'an unknown Slack user deploys',
      question: {
        text: 'deploy deploy/checkout -n shop image=x:v2',
        user: 'U0NOBODY1',
        channel: 'C0RANDOM1',
      },
      effect: 'deny',
      decidedBy: ['unmapped.write'],
    },
    {
      case: 'an unknown Slack user in an unknown channel reads',
      question: { text: 'things shop', user: 'U0NOBODY1', channel: 'C0RANDOM1' },
      effect: 'allow',
      decidedBy: ['unmapped.read'],
    },
    {
      case: 'a shop editor deploys to a *-prod namespace no rule names',
      question: { text: 'deploy deploy/checkout -n shop-prod image=x:v2' },
      effect: 'deny',
      decidedBy: ['protectedNamespaces'],
    },
  ];

  it.each(rows)('$case → $effect', (row) => {
    const { decision } = explain(row.question);
    expect(decision.effect, decision.reasons.join('\n')).toBe(row.effect);
    expect(decision.decidedBy).toEqual(row.decidedBy);
    if (row.approvers)
      expect(decision.effect === 'require_approval' && decision.approvers).toEqual(row.approvers);
  });

  it('maps the user like the Slack surface does, adding --group groups', () => {
    const mapped = explain({ text: 'things shop', groups: ['extra', 'shop-editors'] });
    expect(mapped).toMatchObject({
      mapped: true,
      actor: { surface: 'slack', id: 'U024BE7LH', channel: 'C0SHOP001' },
    });
    expect(mapped.actor?.kube).toEqual({ user: 'alice', groups: ['shop-editors', 'extra'] });
    const unmapped = explain({ text: 'things shop', user: 'U0NOBODY1' });
    expect(unmapped.mapped).toBe(false);
    expect(unmapped.actor?.kube).toEqual({ user: 'slack:U0NOBODY1', groups: ['wheelhouse:viewers'] });
  });

  it('builds the plan as the runner does, with the namespace and the replicas as blast radius', () => {
    const { plan } = explain({ text: 'scale deploy/checkout -n shop --replicas 7' });
    expect(plan).toEqual({
      source: 'grammar',
      rationale: 'typed command',
      steps: [
        {
          skill: 'thing-scale',
          risk: 'write',
          input: { target: 'deploy/checkout', namespace: 'shop', replicas: 7 },
          summary: 'scale deploy/checkout to 7 in shop',
          namespace: 'shop',
          blastRadius: { namespace: 'shop', objects: 1, replicas: 7 },
        },
      ],
    });
  });

  it('denies everyone unmapped when identity.unmapped is deny', () => {
    const strict = { ...example, identity: { ...example.identity, unmapped: 'deny' as const } };
    const { decision, actor } = explain({ text: 'things shop', user: 'U0NOBODY1' }, strict);
    expect(actor).toBeUndefined();
    expect(decision).toMatchObject({ effect: 'deny', decidedBy: ['identity.unmapped'] });
    expect(EXPLAIN_EXIT_CODES[decision.effect]).toBe(4);
  });

  it('throws the grammar error for text that does not parse, and for text that runs no skill', () => {
    const codeOf = (text: string): string => {
      try {
        explain({ text });
      } catch (e) {
        if (isWheelhouseError(e)) return e.code;
        throw e;
      }
      return 'no error';
    };
    expect(codeOf('deploi deploy/x -n shop')).toBe('UNKNOWN_SKILL');
    expect(codeOf('scale deploy/x -n shop --replicas many')).toBe('GRAMMAR');
    expect(codeOf('scale deploy/x -n shop')).toBe('INVALID_INPUT');
    expect(codeOf('help')).toBe('GRAMMAR');
  });

  it('maps decisions to exit codes 0, 3 and 4', () => {
    expect(EXPLAIN_EXIT_CODES).toEqual({ allow: 0, require_approval: 3, deny: 4 });
  });

  it('prints the decision, the approvers and every reason and rule', () => {
    const text = formatExplanation(
      explain({ text: 'deploy ds/kube-proxy -n kube-system image=x:v2', user: 'U0BOB0001', at: SATURDAY }),
    );
    expect(text).toBe(
      [
        'Request:  deploy ds/kube-proxy -n kube-system image=x:v2',
        'User:     U0BOB0001 → kube user bob, groups sre (mapped)',
        'Channel:  C0SHOP001',
        'At:       2026-12-05T12:00:00.000Z',
        'Plan:',
        '  1. thing-deploy (write) set image of ds/kube-proxy to x:v2 in kube-system',
        '',
        'Decision: REQUIRES APPROVAL by 2 of group sre',
        'Why:      rules[5] (sre-kube-system) says write: approve for group sre, namespace kube-system; freezes[1] (weekend) is in force (weekly Fri 16:00 – Mon 08:00 UTC): weekend changes need a second pair of eyes; writes need approval',
        'Decided by: rules[5] (sre-kube-system), freezes[1] (weekend)',
        'Reasons:',
        '  - rules[5] (sre-kube-system) says write: approve for group sre, namespace kube-system',
        '  - freezes[1] (weekend) is in force (weekly Fri 16:00 – Mon 08:00 UTC): weekend changes need a second pair of eyes; writes need approval',
        'Rules consulted: rules[5] (sre-kube-system), freezes[1] (weekend)',
        '',
      ].join('\n'),
    );
  });
});

import { z } from 'zod';
import { proposeRolloutAction } from '../../src/canary/argo-rollout.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import { dnsLabel } from '../../src/skills/schema.ts';

export const argoRolloutPromote = defineSkill({
  name: 'argo-rollout-promote',
  title: 'Promote an Argo Rollout',
  description:
    'Promotes an Argo Rollout past its current pause or step (clears its pause conditions, as `kubectl argo rollouts promote` does), ' +
    'or with --full to the new version at once, skipping the remaining steps, pauses and analysis. ' +
    'Use when asked to promote, continue or go on with an Argo Rollout. ' +
    'Not for Deployments (use rollout-resume) or Wheelhouse canary runs (their Promote now button).',
  input: z.object({
    target: z.string().min(1).max(300).describe('The Rollout, as rollout/NAME, e.g. "rollout/checkout"'),
    namespace: dnsLabel.describe('Namespace, e.g. "shop"'),
    full: z.boolean().prefault(false).describe('Skip every remaining step, pause and analysis, e.g. true'),
  }),
  risk: 'write',
  verbs: ['get', 'patch'],
  resources: ['rollouts', 'rollouts/status'],
  grammar: { command: 'argo-promote', positional: ['target'], short: { n: 'namespace' } },
  examples: [
    {
      utterance: 'promote the checkout rollout in shop',
      command: '/wh argo-promote rollout/checkout -n shop',
      input: { target: 'rollout/checkout', namespace: 'shop' },
    },
    {
      utterance: 'fully promote checkout in shop, skip the rest',
      command: '/wh argo-promote rollout/checkout -n shop --full',
      input: { target: 'rollout/checkout', namespace: 'shop', full: true },
    },
  ],
  summarize: (i) => `${i.full ? 'fully promote' : 'promote'} Argo ${i.target} in ${i.namespace}`,
  propose: (input, ctx) =>
    proposeRolloutAction(
      ctx.kube,
      input,
      input.full ? 'promote-full' : 'promote',
      (name) =>
        `${input.full ? 'fully promote' : 'promote'} Argo rollout/${name} in ${input.namespace}${input.full ? ' (skipping the remaining steps and analysis)' : ''}`,
    ),
});

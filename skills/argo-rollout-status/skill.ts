import { z } from 'zod';
import { readRollout, rolloutName, rolloutView } from '../../src/canary/argo-rollout.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import { dnsLabel } from '../../src/skills/schema.ts';

export const argoRolloutStatus = defineSkill({
  name: 'argo-rollout-status',
  title: 'Show an Argo Rollout',
  description:
    "Shows an Argo Rollout (argoproj.io/v1alpha1): its state, its canary steps and which one it is at, its analysis runs' " +
    'status, with Promote / Promote full / Abort (or Retry) buttons that fit its state. ' +
    'Use when asked how an Argo Rollout is doing, where its canary is, or to promote or abort one. ' +
    'Not for Deployments (use workload-describe) or Wheelhouse canary runs (their own message shows them).',
  input: z.object({
    target: z.string().min(1).max(300).describe('The Rollout, as rollout/NAME, e.g. "rollout/checkout"'),
    namespace: dnsLabel.describe('Namespace, e.g. "shop"'),
  }),
  risk: 'read',
  verbs: ['get'],
  resources: ['rollouts'],
  grammar: { command: 'argo', positional: ['target'], short: { n: 'namespace' } },
  examples: [
    {
      utterance: 'how is the checkout rollout doing in shop?',
      command: '/wh argo rollout/checkout -n shop',
      input: { target: 'rollout/checkout', namespace: 'shop' },
    },
  ],
  summarize: (i) => `show Argo ${i.target} in ${i.namespace}`,
  async run(input, ctx) {
    return rolloutView(await readRollout(ctx.kube, input.namespace, rolloutName(input.target)));
  },
});

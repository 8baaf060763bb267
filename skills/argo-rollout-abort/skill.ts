import { z } from 'zod';
import { proposeRolloutAction } from '../../src/canary/argo-rollout.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import { dnsLabel } from '../../src/skills/schema.ts';

export const argoRolloutAbort = defineSkill({
  name: 'argo-rollout-abort',
  title: 'Abort an Argo Rollout',
  description:
    'Aborts an Argo Rollout (sets status.abort, as `kubectl argo rollouts abort` does): its controller scales the canary down ' +
    'and sends all traffic back to the stable version. ' +
    'Use when asked to abort, stop or roll back an Argo Rollout in progress. ' +
    'Not for Deployments (use workload-rollback) or Wheelhouse canary runs (their Abort button).',
  input: z.object({
    target: z.string().min(1).max(300).describe('The Rollout, as rollout/NAME, e.g. "rollout/checkout"'),
    namespace: dnsLabel.describe('Namespace, e.g. "shop"'),
  }),
  risk: 'write',
  verbs: ['get', 'patch'],
  resources: ['rollouts', 'rollouts/status'],
  grammar: { command: 'argo-abort', positional: ['target'], short: { n: 'namespace' } },
  examples: [
    {
      utterance: 'abort the checkout rollout in shop',
      command: '/wh argo-abort rollout/checkout -n shop',
      input: { target: 'rollout/checkout', namespace: 'shop' },
    },
  ],
  summarize: (i) => `abort Argo ${i.target} in ${i.namespace}`,
  propose: (input, ctx) =>
    proposeRolloutAction(
      ctx.kube,
      input,
      'abort',
      (name) => `abort Argo rollout/${name} in ${input.namespace} (traffic goes back to the stable version)`,
    ),
});

import { z } from 'zod';
import { proposeRolloutAction } from '../../src/canary/argo-rollout.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import { dnsLabel } from '../../src/skills/schema.ts';

export const argoRolloutRetry = defineSkill({
  name: 'argo-rollout-retry',
  title: 'Retry an aborted Argo Rollout',
  description:
    'Retries an aborted Argo Rollout (clears status.abort, as `kubectl argo rollouts retry` does): its controller starts ' +
    'the canary steps again. Use when asked to retry or restart an aborted Argo Rollout. ' +
    'Not for a Rollout that is not aborted (use argo-rollout-promote) or for Deployments (use workload-restart).',
  input: z.object({
    target: z.string().min(1).max(300).describe('The Rollout, as rollout/NAME, e.g. "rollout/checkout"'),
    namespace: dnsLabel.describe('Namespace, e.g. "shop"'),
  }),
  risk: 'write',
  verbs: ['get', 'patch'],
  resources: ['rollouts', 'rollouts/status'],
  grammar: { command: 'argo-retry', positional: ['target'], short: { n: 'namespace' } },
  examples: [
    {
      utterance: 'retry the aborted checkout rollout in shop',
      command: '/wh argo-retry rollout/checkout -n shop',
      input: { target: 'rollout/checkout', namespace: 'shop' },
    },
  ],
  summarize: (i) => `retry Argo ${i.target} in ${i.namespace}`,
  propose: (input, ctx) =>
    proposeRolloutAction(
      ctx.kube,
      input,
      'retry',
      (name) => `retry Argo rollout/${name} in ${input.namespace} (its canary steps start again)`,
    ),
});

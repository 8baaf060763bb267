import { z } from 'zod';
import {
  changeTarget,
  desiredReplicas,
  mergePatch,
  parseTargetRef,
  readRolloutWorkload,
  resourceVersionOf,
  rolloutVerification,
} from '../../src/changes/targets.ts';
import { WheelhouseError } from '../../src/errors.ts';
import { formatWorkloadRef } from '../../src/kube/workload-ref.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import { dnsLabel } from '../../src/skills/schema.ts';

export const rolloutResume = defineSkill({
  name: 'rollout-resume',
  title: 'Resume a rollout',
  description:
    "Resumes a paused Deployment's rollouts (spec.paused false), like `kubectl rollout resume`; any template change made " +
    'while paused rolls out now and is verified by following the rollout. ' +
    'Use when asked to resume, continue or unpause a rollout or deployment. ' +
    'Not for pausing (use rollout-pause) or restarting pods (use workload-restart).',
  input: z.object({
    target: z.string().min(1).max(300).describe('The Deployment, as deploy/NAME, e.g. "deploy/checkout"'),
    namespace: dnsLabel.describe('Namespace, e.g. "shop"'),
  }),
  risk: 'write',
  verbs: ['get', 'patch'],
  resources: ['deployments'],
  grammar: {
    command: 'resume',
    aliases: ['unpause'],
    positional: ['target'],
    short: { n: 'namespace' },
  },
  examples: [
    {
      utterance: 'resume the checkout rollout in shop',
      command: '/wh resume deploy/checkout -n shop',
      input: { target: 'deploy/checkout', namespace: 'shop' },
    },
  ],
  summarize: (i) => `resume the rollout of ${i.target} in ${i.namespace}`,
  async propose(input, ctx) {
    const ref = parseTargetRef(input.target, input.namespace, ['Deployment'], 'resume');
    const where = formatWorkloadRef(ref);
    const workload = await readRolloutWorkload(ctx.kube, ref);
    if (workload.kind !== 'Deployment' || !workload.object.spec?.paused) {
      throw new WheelhouseError(
        'INVALID_INPUT',
        `${where} is not paused in ${ref.namespace}; there is nothing to resume.`,
      );
    }
    const target = changeTarget(ref);
    // A merge patch for the same reason as rollout-pause: spec.paused stays out of the apply intent.
    return {
      summary: `resume the rollout of ${where} in ${ref.namespace}`,
      changes: [mergePatch(target, resourceVersionOf(workload.object), { spec: { paused: false } })],
      verify: rolloutVerification(target, workload),
      blastRadius: { namespace: ref.namespace, objects: 1, replicas: desiredReplicas(workload) },
      undo: [mergePatch(target, undefined, { spec: { paused: true } })],
    };
  },
});

import { z } from 'zod';
import {
  changeTarget,
  mergePatch,
  parseTargetRef,
  readRolloutWorkload,
  resourceVersionOf,
} from '../../src/changes/targets.ts';
import { WheelhouseError } from '../../src/errors.ts';
import { formatWorkloadRef } from '../../src/kube/workload-ref.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import { dnsLabel } from '../../src/skills/schema.ts';

export const rolloutPause = defineSkill({
  name: 'rollout-pause',
  title: 'Pause a rollout',
  description:
    "Pauses a Deployment's rollouts (spec.paused), like `kubectl rollout pause`: pods keep running as they are and " +
    'template changes wait until it is resumed. ' +
    'Use when asked to pause, halt or freeze a rollout in progress, or to batch several changes into one rollout. ' +
    'Not for resuming (use rollout-resume), undoing a bad rollout (use workload-rollback) or stopping pods (use workload-scale with 0 replicas).',
  input: z.object({
    target: z.string().min(1).max(300).describe('The Deployment, as deploy/NAME, e.g. "deploy/checkout"'),
    namespace: dnsLabel.describe('Namespace, e.g. "shop"'),
  }),
  risk: 'write',
  verbs: ['get', 'patch'],
  resources: ['deployments'],
  grammar: {
    command: 'pause',
    positional: ['target'],
    short: { n: 'namespace' },
  },
  examples: [
    {
      utterance: 'pause the checkout rollout in shop',
      command: '/wh pause deploy/checkout -n shop',
      input: { target: 'deploy/checkout', namespace: 'shop' },
    },
  ],
  summarize: (i) => `pause the rollout of ${i.target} in ${i.namespace}`,
  async propose(input, ctx) {
    const ref = parseTargetRef(input.target, input.namespace, ['Deployment'], 'pause');
    const where = formatWorkloadRef(ref);
    const workload = await readRolloutWorkload(ctx.kube, ref);
    if (workload.kind === 'Deployment' && workload.object.spec?.paused) {
      throw new WheelhouseError('INVALID_INPUT', `${where} is already paused in ${ref.namespace}.`, {
        hint: `\`/wh resume ${where} -n ${ref.namespace}\` resumes it.`,
      });
    }
    const target = changeTarget(ref);
    // A merge patch, not an apply: spec.paused must not join Wheelhouse's apply intent, or the next
    // image apply (which leaves it out) would quietly unpause the Deployment.
    return {
      summary: `pause the rollout of ${where} in ${ref.namespace} (pods keep running; changes wait for a resume)`,
      changes: [mergePatch(target, resourceVersionOf(workload.object), { spec: { paused: true } })],
      verify: { kind: 'none' },
      blastRadius: { namespace: ref.namespace, objects: 1, replicas: 0 },
      undo: [mergePatch(target, undefined, { spec: { paused: false } })],
    };
  },
});

import { z } from 'zod';
import {
  changeTarget,
  desiredReplicas,
  parseTargetRef,
  podTemplatePatch,
  RESTARTED_AT_ANNOTATION,
  ROLLOUT_KINDS,
  readRolloutWorkload,
  resourceVersionOf,
  rolloutVerification,
  templateImages,
} from '../../src/changes/targets.ts';
import { WheelhouseError } from '../../src/errors.ts';
import { formatWorkloadRef } from '../../src/kube/workload-ref.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import { dnsLabel } from '../../src/skills/schema.ts';

export const workloadRestart = defineSkill({
  name: 'workload-restart',
  title: 'Restart a workload',
  description:
    'Rolling restart of a Deployment, StatefulSet or DaemonSet, like `kubectl rollout restart`: stamps the pod template ' +
    'with a restartedAt annotation so every pod is replaced gradually with the same image; previewed, approved when ' +
    'policy says so, and verified by following the rollout. ' +
    'Use when asked to restart, bounce or recycle an app, or to pick up changed ConfigMaps, Secrets or a re-pushed tag. ' +
    'Not for a new image (use workload-deploy), one stuck pod (use pod-delete) or going back to an earlier version (use workload-rollback).',
  input: z.object({
    target: z
      .string()
      .min(1)
      .max(300)
      .describe('The workload, as KIND/NAME, e.g. "deploy/checkout", "sts/db" or "ds/log-agent"'),
    namespace: dnsLabel.describe('Namespace, e.g. "shop"'),
  }),
  risk: 'write',
  verbs: ['get', 'patch'],
  resources: ['deployments', 'statefulsets', 'daemonsets'],
  grammar: {
    command: 'restart',
    aliases: ['rollout-restart'],
    positional: ['target'],
    short: { n: 'namespace' },
  },
  examples: [
    {
      utterance: 'restart checkout in shop',
      command: '/wh restart deploy/checkout -n shop',
      input: { target: 'deploy/checkout', namespace: 'shop' },
    },
  ],
  summarize: (i) => `restart ${i.target} in ${i.namespace}`,
  async propose(input, ctx) {
    const ref = parseTargetRef(input.target, input.namespace, ROLLOUT_KINDS, 'restart');
    const where = formatWorkloadRef(ref);
    const workload = await readRolloutWorkload(ctx.kube, ref);
    if (workload.kind === 'Deployment' && workload.object.spec?.paused) {
      // As kubectl: a paused Deployment would take the new template but never roll it out.
      throw new WheelhouseError(
        'INVALID_INPUT',
        `${where} is paused in ${ref.namespace}, so a restart would not roll out.`,
        {
          hint: `Resume it first: \`/wh resume ${where} -n ${ref.namespace}\`.`,
        },
      );
    }
    const target = changeTarget(ref);
    const replicas = desiredReplicas(workload);
    return {
      summary: `restart ${where} in ${ref.namespace} (replaces its ${replicas} pods one by one)`,
      changes: [
        // The live images go along so the patch states the whole template's images (see podTemplatePatch).
        podTemplatePatch(
          target,
          resourceVersionOf(workload.object),
          templateImages(workload.object.spec?.template),
          {
            [RESTARTED_AT_ANNOTATION]: ctx.now().toISOString(),
          },
        ),
      ],
      verify: rolloutVerification(target, workload),
      blastRadius: { namespace: ref.namespace, objects: 1, replicas },
    };
  },
});

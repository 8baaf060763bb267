import { z } from 'zod';
import {
  changeTarget,
  desiredReplicas,
  hpaTarget,
  mergePatch,
  parseTargetRef,
  readRolloutWorkload,
  resourceVersionOf,
  rolloutVerification,
} from '../../src/changes/targets.ts';
import type { ChangeProposal } from '../../src/changes/types.ts';
import { WheelhouseError } from '../../src/errors.ts';
import { formatWorkloadRef } from '../../src/kube/workload-ref.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import { dnsLabel } from '../../src/skills/schema.ts';

/** The most replicas one chat command may ask for; policy may set tighter bounds. */
export const MAX_REPLICAS = 1000;

const HPA_PREFIX = /^(hpa|horizontalpodautoscalers?)\/(.*)$/i;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const count = (min: number) =>
  z
    .number()
    .int('must be a whole number')
    .min(min, `must be ${min} or more`)
    .max(MAX_REPLICAS, `must be at most ${MAX_REPLICAS}`);

export const workloadScale = defineSkill({
  name: 'workload-scale',
  title: 'Scale a workload or its autoscaler',
  description:
    "Sets a Deployment's or StatefulSet's replicas through the scale subresource, or a HorizontalPodAutoscaler's " +
    'minimum and maximum replicas; previewed, approved when policy says so, and verified when scaling up. ' +
    'Use when asked to scale, add or remove pods or instances, scale to zero, or change autoscaling bounds. ' +
    'When an HPA manages the workload, change the HPA (hpa/NAME with --min/--max): it overrides --replicas. ' +
    'Not for a new image (use workload-deploy) or fresh pods with the same replicas (use workload-restart).',
  input: z
    .object({
      target: z
        .string()
        .min(1)
        .max(300)
        .describe(
          'The workload or autoscaler, as KIND/NAME, e.g. "deploy/checkout", "sts/db" or "hpa/checkout"',
        ),
      namespace: dnsLabel.describe('Namespace, e.g. "shop"'),
      replicas: count(0)
        .optional()
        .describe(`Desired replicas of a Deployment or StatefulSet, 0 to ${MAX_REPLICAS}, e.g. 5`),
      min: count(1).optional().describe('Minimum replicas of an hpa/NAME, e.g. 2'),
      max: count(1).optional().describe('Maximum replicas of an hpa/NAME, e.g. 10'),
    })
    .refine((i) => i.replicas !== undefined || i.min !== undefined || i.max !== undefined, {
      message: 'is required (or --min/--max for an hpa/NAME)',
      path: ['replicas'],
    }),
  risk: 'write',
  verbs: ['get', 'patch'],
  resources: [
    'deployments',
    'deployments/scale',
    'statefulsets',
    'statefulsets/scale',
    'horizontalpodautoscalers',
  ],
  grammar: { command: 'scale', positional: ['target'], short: { n: 'namespace' } },
  examples: [
    {
      utterance: 'scale checkout in shop to 5 pods',
      command: '/wh scale deploy/checkout -n shop --replicas 5',
      input: { target: 'deploy/checkout', namespace: 'shop', replicas: 5 },
    },
    {
      utterance: 'let the checkout autoscaler go from 2 up to 20 pods',
      command: '/wh scale hpa/checkout -n shop --min 2 --max 20',
      input: { target: 'hpa/checkout', namespace: 'shop', min: 2, max: 20 },
    },
  ],
  summarize: (i) =>
    i.replicas !== undefined
      ? `scale ${i.target} to ${i.replicas} replicas in ${i.namespace}`
      : `set ${i.target} ${bounds(i.min, i.max)} in ${i.namespace}`,
  async propose(input, ctx) {
    const hpa = HPA_PREFIX.exec(input.target);
    if (hpa) return proposeHpa(hpa[2] ?? '', input);
    const ref = parseTargetRef(input.target, input.namespace, ['Deployment', 'StatefulSet'], 'scale');
    const where = formatWorkloadRef(ref);
    if (input.min !== undefined || input.max !== undefined) {
      throw new WheelhouseError(
        'INVALID_INPUT',
        `--min and --max set an autoscaler's bounds, not ${where}'s.`,
        {
          hint: `Use --replicas N for ${where}, or hpa/NAME with --min/--max.`,
        },
      );
    }
    const replicas = input.replicas;
    if (replicas === undefined) {
      throw new WheelhouseError('INVALID_INPUT', `--replicas is required to scale ${where}.`);
    }
    const workload = await readRolloutWorkload(ctx.kube, ref);
    const before = desiredReplicas(workload);
    if (before === replicas) {
      throw new WheelhouseError(
        'INVALID_INPUT',
        `${where} already has ${replicas} replicas in ${ref.namespace}; there is nothing to change.`,
      );
    }
    const target = changeTarget(ref);
    return {
      summary:
        `scale ${where} in ${ref.namespace} from ${before} to ${replicas} replicas` +
        (replicas === 0 ? ' (stops all its pods)' : ''),
      changes: [mergePatch(target, resourceVersionOf(workload.object), { spec: { replicas } }, 'scale')],
      // Scaling down needs no rollout to finish; scaling up is verified until the new pods are available.
      verify: replicas > before ? rolloutVerification(target, workload) : { kind: 'none' },
      // Pods created or removed.
      blastRadius: { namespace: ref.namespace, objects: 1, replicas: Math.abs(replicas - before) },
      undo: [mergePatch(target, undefined, { spec: { replicas: before } }, 'scale')],
    };
  },
});

function bounds(min: number | undefined, max: number | undefined): string {
  return [min !== undefined ? `min ${min}` : '', max !== undefined ? `max ${max}` : '']
    .filter(Boolean)
    .join(', ');
}

/**
 * The autoscaler's bounds as a merge patch. The reader cannot read HPAs (yet), so the proposal has no
 * resourceVersion, no undo and no check of a single bound against the live other one: the API
 * server's validation (min ≤ max) answers at dry-run.
 */
function proposeHpa(
  name: string,
  input: {
    namespace: string;
    replicas?: number | undefined;
    min?: number | undefined;
    max?: number | undefined;
  },
): ChangeProposal {
  if (!DNS_SUBDOMAIN.test(name) || name.length > 253) {
    throw new WheelhouseError('INVALID_INPUT', `"${name}" is not a HorizontalPodAutoscaler name.`, {
      hint: 'Write hpa/NAME, e.g. hpa/checkout.',
    });
  }
  if (input.replicas !== undefined) {
    throw new WheelhouseError(
      'INVALID_INPUT',
      `hpa/${name} has no --replicas; it keeps replicas between --min and --max.`,
      {
        hint: `e.g. \`/wh scale hpa/${name} -n ${input.namespace} --min 2 --max 10\`, or scale the workload itself.`,
      },
    );
  }
  const { min, max } = input;
  if (min !== undefined && max !== undefined && min > max) {
    throw new WheelhouseError('INVALID_INPUT', `--min ${min} is above --max ${max}.`);
  }
  const target = hpaTarget(input.namespace, name);
  return {
    summary: `set hpa/${name} in ${input.namespace} to ${bounds(min, max)} replicas`,
    changes: [
      mergePatch(target, undefined, {
        spec: {
          ...(min !== undefined ? { minReplicas: min } : {}),
          ...(max !== undefined ? { maxReplicas: max } : {}),
        },
      }),
    ],
    verify: { kind: 'none' },
    blastRadius: { namespace: input.namespace, objects: 1, replicas: max },
  };
}

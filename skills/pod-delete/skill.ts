import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { changeTarget, parseTargetRef, resourceVersionOf } from '../../src/changes/targets.ts';
import { isWheelhouseError, WheelhouseError } from '../../src/errors.ts';
import type { KubeReader } from '../../src/kube/types.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import { dnsLabel } from '../../src/skills/schema.ts';

const SHORT_OWNER: Record<string, string> = {
  ReplicaSet: 'rs',
  Deployment: 'deploy',
  StatefulSet: 'sts',
  DaemonSet: 'ds',
  Job: 'job',
  Node: 'node',
};

export const podDelete = defineSkill({
  name: 'pod-delete',
  title: 'Delete a pod',
  description:
    'Deletes one pod, guarded by its uid and resourceVersion so a same-named replacement is never hit; its controller ' +
    '(ReplicaSet, StatefulSet, DaemonSet, Job) usually creates a new one, but a pod without a controller is gone for good. ' +
    'Dangerous: previewed and approved when policy says so. ' +
    'Use when asked to delete, kill or evict one stuck, wedged or misbehaving pod. ' +
    'Not for restarting every pod of a workload (use workload-restart), fewer pods (use workload-scale) or just looking (use workload-describe).',
  input: z.object({
    pod: z
      .string()
      .min(1)
      .max(257)
      .describe('Pod name, optionally as pod/NAME, e.g. "checkout-7d9f8c6b5-x2x9q"'),
    namespace: dnsLabel.describe('Namespace, e.g. "shop"'),
  }),
  risk: 'dangerous',
  verbs: ['get', 'delete'],
  resources: ['pods', 'replicasets'],
  grammar: { command: 'delete-pod', aliases: ['kill-pod'], positional: ['pod'], short: { n: 'namespace' } },
  examples: [
    {
      utterance: 'kill the stuck checkout pod checkout-7d9f8c6b5-x2x9q in shop',
      command: '/wh delete-pod checkout-7d9f8c6b5-x2x9q -n shop',
      input: { pod: 'checkout-7d9f8c6b5-x2x9q', namespace: 'shop' },
    },
  ],
  summarize: (i) => `delete pod ${i.pod.replace(/^(pod|po|pods)\//, '')} in ${i.namespace}`,
  async propose(input, ctx) {
    const ref = parseTargetRef(input.pod, input.namespace, ['Pod'], 'delete-pod');
    const workload = await ctx.kube.getWorkload(ref);
    if (workload.kind !== 'Pod') throw new WheelhouseError('INTERNAL', `pod/${ref.name} is not a Pod.`);
    const pod = workload.object;
    if (pod.metadata?.deletionTimestamp) {
      const finalizers = pod.metadata.finalizers ?? [];
      throw new WheelhouseError(
        'INVALID_INPUT',
        `pod/${ref.name} is already being deleted in ${ref.namespace}.`,
        {
          hint: finalizers.length
            ? `It waits for its finalizers (${finalizers.join(', ')}); the controller that owns them has to finish.`
            : 'It goes away once its containers stop (the grace period).',
        },
      );
    }
    const fate = await fateOf(ctx.kube, pod);
    return {
      summary: `delete pod ${ref.name} in ${ref.namespace}; ${fate}`,
      changes: [
        {
          type: 'delete',
          target: changeTarget(ref),
          resourceVersion: resourceVersionOf(pod),
          uid: pod.metadata?.uid,
        },
      ],
      verify: { kind: 'none' },
      blastRadius: { namespace: ref.namespace, objects: 1, replicas: 1 },
    };
  },
});

function controllerOf(object: {
  metadata?: { ownerReferences?: V1OwnerReference[] };
}): V1OwnerReference | undefined {
  return object.metadata?.ownerReferences?.find((o) => o.controller === true);
}

function ownerText(owner: V1OwnerReference): string {
  return `${SHORT_OWNER[owner.kind] ?? owner.kind}/${owner.name}`;
}

/** What happens after the delete, naming the controller (through its ReplicaSet to the Deployment). */
async function fateOf(kube: KubeReader, pod: V1Pod): Promise<string> {
  const owner = controllerOf(pod);
  const namespace = pod.metadata?.namespace ?? '';
  if (!owner) return 'it has no controller, so it is gone for good (nothing recreates it)';
  switch (owner.kind) {
    case 'ReplicaSet': {
      const deployment = await deploymentOf(kube, namespace, owner.name);
      const via = deployment ? `${ownerText(deployment)} (via ${ownerText(owner)})` : ownerText(owner);
      return `its controller ${via} creates a replacement`;
    }
    case 'StatefulSet':
      return `its controller ${ownerText(owner)} recreates it with the same name`;
    case 'DaemonSet':
      return `its controller ${ownerText(owner)} recreates it on the same node`;
    case 'Job':
      return `its controller ${ownerText(owner)} starts a replacement unless the job has finished`;
    case 'Node':
      return `it is a static pod of ${ownerText(owner)}, which the kubelet recreates`;
    default:
      return `its controller ${ownerText(owner)} decides whether it comes back`;
  }
}

/** The Deployment owning a ReplicaSet; undefined when there is none or the user may not read it. */
async function deploymentOf(
  kube: KubeReader,
  namespace: string,
  name: string,
): Promise<V1OwnerReference | undefined> {
  try {
    const rs = await kube.getWorkload({ kind: 'ReplicaSet', namespace, name });
    const owner = controllerOf(rs.object);
    return owner?.kind === 'Deployment' ? owner : undefined;
  } catch (error) {
    // The owner only adds detail to the summary; the delete itself does not depend on it.
    if (isWheelhouseError(error) && (error.code === 'NOT_FOUND' || error.code === 'FORBIDDEN'))
      return undefined;
    throw error;
  }
}

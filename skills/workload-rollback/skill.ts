import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import { z } from 'zod';
import {
  changeTarget,
  desiredReplicas,
  formatImages,
  parseTargetRef,
  podTemplatePatch,
  ROLLOUT_KINDS,
  readRolloutWorkload,
  resourceVersionOf,
  rolloutVerification,
  type TemplateImages,
  templateImages,
} from '../../src/changes/targets.ts';
import { WheelhouseError } from '../../src/errors.ts';
import { formatLabelSelector } from '../../src/kube/label-selector.ts';
import type { KubeReader } from '../../src/kube/types.ts';
import { formatWorkloadRef } from '../../src/kube/workload-ref.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import { dnsLabel } from '../../src/skills/schema.ts';

/** The annotation the deployment controller numbers each ReplicaSet with. */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

interface Revision {
  number: number;
  replicaSet: V1ReplicaSet;
}

export const workloadRollback = defineSkill({
  name: 'workload-rollback',
  title: 'Roll back a Deployment',
  description:
    'Rolls a Deployment back to the previous revision or a named one, like `kubectl rollout undo`: the container images of ' +
    "that revision's ReplicaSet are applied to the pod template (env, volumes and probes stay as they are now), then " +
    'previewed, approved when policy says so, and verified by following the rollout. StatefulSets and DaemonSets are not supported. ' +
    'Use when asked to roll back, revert or undo a bad deploy or go back to an earlier revision. ' +
    'Not for deploying a named image (use workload-deploy) or pausing a rollout in progress (use rollout-pause).',
  input: z.object({
    target: z.string().min(1).max(300).describe('The Deployment, as deploy/NAME, e.g. "deploy/checkout"'),
    namespace: dnsLabel.describe('Namespace, e.g. "shop"'),
    revision: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be 1 or more')
      .optional()
      .describe(
        'Revision to go back to (deployment.kubernetes.io/revision); the previous one when left out, e.g. 3',
      ),
  }),
  risk: 'write',
  verbs: ['get', 'list', 'patch'],
  resources: ['deployments', 'replicasets'],
  grammar: {
    command: 'rollback',
    aliases: ['rollout-undo'],
    positional: ['target'],
    short: { n: 'namespace' },
  },
  examples: [
    {
      utterance: 'the checkout deploy is broken, roll it back',
      command: '/wh rollback deploy/checkout -n shop',
      input: { target: 'deploy/checkout', namespace: 'shop' },
    },
    {
      utterance: 'take checkout in shop back to revision 3',
      command: '/wh rollback deploy/checkout -n shop --revision 3',
      input: { target: 'deploy/checkout', namespace: 'shop', revision: 3 },
    },
  ],
  summarize: (i) =>
    `roll back ${i.target} to ${i.revision === undefined ? 'the previous revision' : `revision ${i.revision}`} in ${i.namespace}`,
  async propose(input, ctx) {
    const ref = parseTargetRef(input.target, input.namespace, ROLLOUT_KINDS, 'rollback');
    const where = formatWorkloadRef(ref);
    if (ref.kind !== 'Deployment') {
      throw new WheelhouseError(
        'INVALID_INPUT',
        `Rolling back a ${ref.kind} (ControllerRevisions) is not supported; rollback works on deploy/NAME.`,
        {
          hint: `Deploy the image you want back instead: \`/wh deploy ${where} IMAGE -n ${ref.namespace}\`.`,
        },
      );
    }
    const workload = await readRolloutWorkload(ctx.kube, ref);
    if (workload.kind !== 'Deployment')
      throw new WheelhouseError('INTERNAL', `${where} is not a Deployment.`);
    const deployment = workload.object;
    if (deployment.spec?.paused) {
      // As kubectl: the controller would not roll the old template out while paused.
      throw new WheelhouseError(
        'INVALID_INPUT',
        `${where} is paused in ${ref.namespace}; a paused Deployment cannot be rolled back.`,
        {
          hint: `Resume it first: \`/wh resume ${where} -n ${ref.namespace}\`.`,
        },
      );
    }

    const revisions = await revisionsOf(ctx.kube, deployment);
    // As kubectl: the newest revision is the current one (the controller renumbers a reused ReplicaSet).
    const current = revisions.at(-1)?.number;
    const chosen = chooseRevision(revisions, current, input.revision, where);
    const live = templateImages(deployment.spec?.template);
    const wanted = imagesOfRevision(
      live,
      templateImages(chosen.replicaSet.spec?.template),
      chosen.number,
      where,
    );
    if (sameImages(live, wanted)) {
      throw new WheelhouseError(
        'INVALID_INPUT',
        `${where} already runs the images of revision ${chosen.number} (${formatImages(live)}); there is nothing to roll back.`,
        {
          hint: 'Rollback restores container images only; other template changes (env, volumes, probes) are not rolled back.',
        },
      );
    }
    const target = changeTarget(ref);
    return {
      summary: `roll back ${where} in ${ref.namespace} to revision ${chosen.number}: ${formatImages(wanted)} (now ${formatImages(live)})`,
      changes: [podTemplatePatch(target, resourceVersionOf(deployment), wanted)],
      verify: rolloutVerification(target, workload),
      blastRadius: { namespace: ref.namespace, objects: 1, replicas: desiredReplicas(workload) },
      undo: [podTemplatePatch(target, undefined, live)],
    };
  },
});

/** The Deployment's ReplicaSets (controller owner reference) with a numeric revision, oldest first. */
async function revisionsOf(kube: KubeReader, deployment: V1Deployment): Promise<Revision[]> {
  const namespace = deployment.metadata?.namespace ?? '';
  const selector = formatLabelSelector(deployment.spec?.selector) || undefined;
  const uid = deployment.metadata?.uid;
  const name = deployment.metadata?.name;
  const owned = (await kube.listReplicaSets(namespace, selector)).filter((rs) =>
    rs.metadata?.ownerReferences?.some(
      (o) => o.controller === true && o.kind === 'Deployment' && (uid ? o.uid === uid : o.name === name),
    ),
  );
  return owned
    .map((replicaSet) => ({
      number: Number(replicaSet.metadata?.annotations?.[REVISION_ANNOTATION]),
      replicaSet,
    }))
    .filter((r) => Number.isInteger(r.number) && r.number > 0)
    .sort((a, b) => a.number - b.number);
}

function chooseRevision(
  revisions: Revision[],
  current: number | undefined,
  requested: number | undefined,
  where: string,
): Revision {
  const listed = revisions
    .map((r) => (r.number === current ? `${r.number} (current)` : String(r.number)))
    .join(', ');
  if (requested !== undefined) {
    const found = revisions.find((r) => r.number === requested);
    if (!found) {
      throw new WheelhouseError(
        'INVALID_INPUT',
        revisions.length
          ? `${where} has no revision ${requested}; its revisions are ${listed}.`
          : `${where} has no rollout history (no ReplicaSets with a revision).`,
        {
          hint: 'Old ReplicaSets beyond spec.revisionHistoryLimit are gone; pick one of the listed revisions.',
        },
      );
    }
    if (found.number === current) {
      throw new WheelhouseError(
        'INVALID_INPUT',
        `Revision ${requested} is the current revision of ${where}; its revisions are ${listed}.`,
      );
    }
    return found;
  }
  const previous = revisions.filter((r) => current === undefined || r.number < current).at(-1);
  if (!previous) {
    throw new WheelhouseError(
      'INVALID_INPUT',
      revisions.length
        ? `${where} has no revision before the current one (revisions: ${listed}); there is nothing to roll back to.`
        : `${where} has no rollout history (no ReplicaSets with a revision).`,
    );
  }
  return previous;
}

/**
 * The revision's images laid onto the live containers. Containers added or removed since that
 * revision cannot be rolled back by images alone, so such a rollback is refused.
 */
function imagesOfRevision(
  live: TemplateImages,
  old: TemplateImages,
  revision: number,
  where: string,
): TemplateImages {
  const names = (images: TemplateImages): string =>
    [...images.containers.map((c) => c.name), ...images.initContainers.map((c) => `${c.name} (init)`)]
      .sort()
      .join(', ');
  if (names(live) !== names(old)) {
    throw new WheelhouseError(
      'INVALID_INPUT',
      `Revision ${revision} of ${where} has containers ${names(old)}, the live template has ${names(live)}; Wheelhouse rolls back images only and cannot add or remove containers.`,
      { hint: 'Deploy the images you want with `/wh deploy`, or roll back with your deployment tooling.' },
    );
  }
  const from = (list: TemplateImages['containers'], name: string): string | undefined =>
    list.find((c) => c.name === name)?.image;
  return {
    containers: live.containers.map((c) => ({ name: c.name, image: from(old.containers, c.name) })),
    initContainers: live.initContainers.map((c) => ({
      name: c.name,
      image: from(old.initContainers, c.name),
    })),
  };
}

function sameImages(a: TemplateImages, b: TemplateImages): boolean {
  return formatImages(a) === formatImages(b);
}

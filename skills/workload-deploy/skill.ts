import { z } from 'zod';
import { imageReference } from '../../src/changes/image-ref.ts';
import {
  type ContainerImage,
  changeTarget,
  desiredReplicas,
  parseTargetRef,
  podTemplatePatch,
  ROLLOUT_KINDS,
  readRolloutWorkload,
  resourceVersionOf,
  rolloutVerification,
  type TemplateImages,
  templateImages,
  withImage,
} from '../../src/changes/targets.ts';
import { WheelhouseError } from '../../src/errors.ts';
import { formatWorkloadRef } from '../../src/kube/workload-ref.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import { dnsLabel } from '../../src/skills/schema.ts';

export const workloadDeploy = defineSkill({
  name: 'workload-deploy',
  title: 'Deploy an image',
  description:
    'Sets the image of one container of a Deployment, StatefulSet or DaemonSet, which starts a rollout; ' +
    'the change is previewed, approved when policy says so, applied as the user and verified by following the rollout. ' +
    'Use when asked to deploy, release, ship, upgrade or downgrade an app to an image, tag or digest. ' +
    'Not for new pods with the same image (use workload-restart), going back to an earlier rollout without naming the image ' +
    '(use workload-rollback) or changing the number of pods (use workload-scale).',
  input: z.object({
    target: z
      .string()
      .min(1)
      .max(300)
      .describe('The workload, as KIND/NAME, e.g. "deploy/checkout", "sts/db" or "ds/log-agent"'),
    namespace: dnsLabel.describe('Namespace, e.g. "shop"'),
    image: imageReference.describe(
      'The new image reference, [registry[:port]/]path[:tag][@sha256:digest], e.g. "registry.example.com/shop/checkout:v2"',
    ),
    container: dnsLabel
      .optional()
      .describe('Container to change; required when the workload has several, e.g. "checkout"'),
  }),
  risk: 'write',
  verbs: ['get', 'patch'],
  resources: ['deployments', 'statefulsets', 'daemonsets'],
  grammar: {
    command: 'deploy',
    aliases: ['set-image'],
    positional: ['target', 'image'],
    short: { n: 'namespace', c: 'container' },
  },
  examples: [
    {
      utterance: 'deploy checkout v2 to shop',
      command: '/wh deploy deploy/checkout -n shop image=registry.example.com/shop/checkout:v2',
      input: { target: 'deploy/checkout', namespace: 'shop', image: 'registry.example.com/shop/checkout:v2' },
    },
    {
      utterance: 'roll the checkout container of the checkout deployment in shop to 2.4.1',
      command:
        '/wh deploy deploy/checkout registry.example.com/shop/checkout:2.4.1 -n shop --container checkout',
      input: {
        target: 'deploy/checkout',
        namespace: 'shop',
        image: 'registry.example.com/shop/checkout:2.4.1',
        container: 'checkout',
      },
    },
  ],
  summarize: (i) =>
    `set image of ${i.target}${i.container ? ` container ${i.container}` : ''} to ${i.image} in ${i.namespace}`,
  async propose(input, ctx) {
    const ref = parseTargetRef(input.target, input.namespace, ROLLOUT_KINDS, 'deploy');
    const workload = await readRolloutWorkload(ctx.kube, ref);
    const where = formatWorkloadRef(ref);
    const live = templateImages(workload.object.spec?.template);
    const container = pickContainer(live, input.container, where, input);

    if (container.image === input.image) {
      // A no-op is refused rather than proposed: there would be nothing to preview, approve or verify.
      throw new WheelhouseError(
        'INVALID_INPUT',
        `${where} container ${container.name} already runs ${input.image} in ${ref.namespace}; there is nothing to change.`,
        {
          hint: `To start fresh pods with the same image, use \`/wh restart ${where} -n ${ref.namespace}\`.`,
        },
      );
    }
    const target = changeTarget(ref);
    const paused = workload.kind === 'Deployment' && workload.object.spec?.paused === true;
    return {
      summary:
        `set image of ${where} container ${container.name} to ${input.image} in ${ref.namespace} ` +
        `(was ${container.image ?? 'unset'})` +
        (paused
          ? `; ${where} is paused, so it rolls out on \`/wh resume ${where} -n ${ref.namespace}\``
          : ''),
      changes: [
        podTemplatePatch(
          target,
          resourceVersionOf(workload.object),
          withImage(live, container.name, input.image),
        ),
      ],
      // A paused Deployment does not roll out, so following it would only run into the timeout.
      verify: paused ? { kind: 'none' } : rolloutVerification(target, workload),
      blastRadius: { namespace: ref.namespace, objects: 1, replicas: desiredReplicas(workload) },
      // The previous image; the runner knows the resourceVersion the apply leaves behind.
      undo: [podTemplatePatch(target, undefined, live)],
    };
  },
});

/** The container `requested` names, or the only one; INVALID_INPUT naming the containers there are. */
function pickContainer(
  images: TemplateImages,
  requested: string | undefined,
  where: string,
  input: { namespace: string; image: string },
): ContainerImage {
  const names = images.containers.map((c) => c.name);
  const inits = images.initContainers.map((c) => c.name);
  const listed = `${names.join(', ')}${inits.length ? ` (init: ${inits.join(', ')})` : ''}`;
  if (requested !== undefined) {
    const found = [...images.containers, ...images.initContainers].find((c) => c.name === requested);
    if (found) return found;
    throw new WheelhouseError(
      'INVALID_INPUT',
      `${where} has no container "${requested}"; its containers are ${listed}.`,
      { hint: `Use one of them with --container, e.g. --container ${names[0] ?? inits[0] ?? 'NAME'}.` },
    );
  }
  const [only, ...others] = images.containers;
  if (only && others.length === 0) return only;
  if (!only) {
    throw new WheelhouseError('INVALID_INPUT', `${where} has no containers in its pod template.`);
  }
  throw new WheelhouseError(
    'INVALID_INPUT',
    `${where} is ambiguous: containers ${names.join(', ')} — add --container.`,
    {
      hint: `e.g. \`/wh deploy ${where} ${input.image} -n ${input.namespace} --container ${only.name}\`.`,
    },
  );
}

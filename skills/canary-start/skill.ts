import { z } from 'zod';
import { CANARY, type PendingCanary } from '../../src/canary/canary-run.ts';
import { canaryDeployment, canaryName, deploymentTarget } from '../../src/canary/deployment-canary.ts';
import { parseSteps } from '../../src/canary/steps.ts';
import { imageReference } from '../../src/changes/image-ref.ts';
import { parseTargetRef, readRolloutWorkload, templateImages } from '../../src/changes/targets.ts';
import { isWheelhouseError, WheelhouseError } from '../../src/errors.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import { dnsLabel } from '../../src/skills/schema.ts';

export const canaryStart = defineSkill({
  name: 'canary-start',
  title: 'Start a canary release',
  description:
    'Releases a new image of a Deployment to a growing share of its traffic (a canary Deployment next to the stable one), ' +
    'analyzes canary against stable on Prometheus at every interval, and promotes it or rolls it back on its own; ' +
    'the start is previewed, approved when policy says so and audited like any change, and one chat message follows the run ' +
    'with Promote now / Pause / Resume / Abort buttons. Use when asked for a canary, a progressive or gradual release, ' +
    'or to try a version on a slice of traffic. Not for an all-at-once release (use workload-deploy).',
  input: z.object({
    target: z.string().min(1).max(300).describe('The Deployment, as deploy/NAME, e.g. "deploy/checkout"'),
    namespace: dnsLabel.describe('Namespace, e.g. "shop"'),
    image: imageReference.describe('The new image, e.g. "registry.example.com/shop/checkout:v2"'),
    container: dnsLabel.optional().describe('Container to change when there are several, e.g. "checkout"'),
    steps: z
      .string()
      .max(100)
      .optional()
      .describe(
        'Traffic shares in percent, the last (100) being promotion, e.g. "10,25,50,100"; default from config',
      ),
    interval: z
      .string()
      .regex(/^\d+(s|m|h)$/, 'a duration like 30s, 1m or 1h')
      .optional()
      .describe('Time between analyses, e.g. "1m"; default from config'),
    analysis: z
      .string()
      .max(500)
      .optional()
      .describe('Metrics and thresholds, e.g. "success-rate>=99%, p99<300ms"; default from config'),
  }),
  risk: 'write',
  verbs: ['get', 'patch', 'create', 'delete'],
  resources: ['deployments', 'deployments/scale'],
  grammar: { command: 'canary', positional: ['target', 'image'], short: { n: 'namespace', c: 'container' } },
  examples: [
    {
      utterance: 'canary checkout v2 in shop',
      command: '/wh canary deploy/checkout -n shop image=registry.example.com/shop/checkout:v2',
      input: { target: 'deploy/checkout', namespace: 'shop', image: 'registry.example.com/shop/checkout:v2' },
    },
    {
      utterance: 'release checkout v3 to 10 then 50 percent, checking success rate and p99 every 2 minutes',
      command:
        '/wh canary deploy/checkout -n shop image=registry.example.com/shop/checkout:v3 --steps 10,50,100 --interval 2m --analysis "success-rate>=99%, p99<300ms"',
      input: {
        target: 'deploy/checkout',
        namespace: 'shop',
        image: 'registry.example.com/shop/checkout:v3',
        steps: '10,50,100',
        interval: '2m',
        analysis: 'success-rate>=99%, p99<300ms',
      },
    },
  ],
  summarize: (i) => `canary ${i.target} to ${i.image} in ${i.namespace}`,
  async propose(input, ctx) {
    // Steps are checked now, so a typo is refused before anything changes; the analysis names
    // custom metrics of the config, so it is checked when the run starts (and ends it if wrong).
    try {
      if (input.steps !== undefined) parseSteps(input.steps);
    } catch (e) {
      throw new WheelhouseError('INVALID_INPUT', e instanceof Error ? e.message : String(e), {
        hint: 'e.g. --steps 10,25,50,100',
      });
    }
    const ref = parseTargetRef(input.target, input.namespace, ['Deployment'], 'canary');
    const workload = await readRolloutWorkload(ctx.kube, ref);
    if (workload.kind !== 'Deployment')
      throw new WheelhouseError('INVALID_INPUT', 'canary works on deploy/NAME.');
    const stable = workload.object;
    const name = canaryName(ref.name);
    const existing = await ctx.kube
      .getWorkload({ kind: 'Deployment', namespace: ref.namespace, name })
      .catch((e: unknown) =>
        isWheelhouseError(e) && e.code === 'NOT_FOUND' ? undefined : Promise.reject(e),
      );
    if (existing) {
      throw new WheelhouseError(
        'CONFLICT',
        `deploy/${name} exists already in ${ref.namespace}: a canary of deploy/${ref.name} is running.`,
        {
          hint: 'Finish it with its buttons (Promote now or Abort) before starting another.',
        },
      );
    }
    const containers = templateImages(stable.spec?.template).containers;
    const container =
      (input.container
        ? containers.find((c) => c.name === input.container)
        : containers.length === 1
          ? containers[0]
          : undefined) ?? undefined;
    if (!container) {
      throw new WheelhouseError(
        'INVALID_INPUT',
        `Name the container of deploy/${ref.name} with --container: ${containers.map((c) => c.name).join(', ')}.`,
      );
    }
    if (container.image === input.image) {
      throw new WheelhouseError(
        'INVALID_INPUT',
        `deploy/${ref.name} runs ${input.image} already; there is nothing to try.`,
      );
    }
    const total = stable.spec?.replicas ?? 1;
    const summary = `canary deploy/${ref.name} container ${container.name} → ${input.image} in ${ref.namespace} (stable ${container.image ?? 'unset'}, ${total} pod(s))`;
    const pending: PendingCanary = {
      requestId: ctx.requestId,
      summary,
      actor: { ...ctx.actor, kube: ctx.actor.kube },
      namespace: ref.namespace,
      stable: ref.name,
      canary: name,
      container: container.name,
      image: input.image,
      previousImage: container.image ?? '',
      total,
      flags: { steps: input.steps, interval: input.interval, analysis: input.analysis },
    };
    const target = deploymentTarget(ref.namespace, name);
    return {
      summary: `${summary}: first one canary pod, then the steps`,
      // One canary pod to start with; the run takes it to its first share and scales stable to match.
      changes: [
        canaryDeployment(stable, { name, container: container.name, image: input.image, replicas: 1 }),
      ],
      verify: { kind: 'rollout', target, timeoutSeconds: stable.spec?.progressDeadlineSeconds ?? 600 },
      blastRadius: { namespace: ref.namespace, objects: 2, replicas: total },
      undo: [{ type: 'delete', target, resourceVersion: undefined, uid: undefined }],
      followUp: { kind: CANARY, summary: 'The canary run starts now', state: pending },
    };
  },
});

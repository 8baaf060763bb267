import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ChangeTarget } from '../../src/changes/types.ts';
import { parseCommand } from '../../src/planner/grammar.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import { buildDeployment, buildReplicaSet, buildStatefulSet } from '../../test/support/builders.ts';
import { type FakeKubeOptions, fakeKube, skillContext } from '../../test/support/fake-kube.ts';
import { proposer } from '../../test/support/write-skills.ts';
import { workloadRollback } from './skill.ts';

const registry = new SkillRegistry([workloadRollback]);
const image = (tag: string): string => `registry.example.com/shop/checkout:${tag}`;

const propose = proposer(workloadRollback);

const deployTarget: ChangeTarget = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'shop',
  name: 'checkout',
};

/** A ReplicaSet of deploy/checkout at `revision`, its template running `tag` (and a proxy sidecar). */
function revision(
  number: number,
  tag: string,
  options: { deployment?: string; containers?: string[] } = {},
): V1ReplicaSet {
  const hash = `h${number}${tag.replace(/\W/g, '')}`;
  const rs = buildReplicaSet({
    name: `${options.deployment ?? 'checkout'}-${hash}`,
    deployment: options.deployment ?? 'checkout',
    labels: { app: 'checkout', 'pod-template-hash': hash },
    revision: String(number),
    replicas: 0,
  });
  if (rs.spec) {
    rs.spec.template = {
      metadata: { labels: { app: 'checkout', 'pod-template-hash': hash } },
      spec: {
        containers: (options.containers ?? ['app', 'proxy']).map((name) => ({
          name,
          image: name === 'app' ? image(tag) : 'registry.local/envoy:1.30',
        })),
      },
    };
  }
  return rs;
}

function checkout(tag: string, options: { paused?: boolean } = {}): V1Deployment {
  const deployment = buildDeployment({ image: image(tag) });
  deployment.metadata = { ...deployment.metadata, resourceVersion: '4711' };
  if (deployment.spec?.template.spec) {
    deployment.spec.template.spec.containers.push({ name: 'proxy', image: 'registry.local/envoy:1.30' });
    if (options.paused) deployment.spec.paused = true;
  }
  return deployment;
}

const templatePatch = (tag: string) => ({
  spec: {
    template: {
      spec: {
        containers: [
          { name: 'app', image: image(tag) },
          { name: 'proxy', image: 'registry.local/envoy:1.30' },
        ],
      },
    },
  },
});

const history: FakeKubeOptions = {
  deployments: [checkout('v3')],
  replicaSets: [
    revision(2, 'v2'),
    revision(1, 'v1'),
    revision(3, 'v3'),
    // Another Deployment's ReplicaSet with the same labels and a higher revision must not count.
    revision(9, 'v9', { deployment: 'checkout-canary' }),
  ],
};

describe('workload-rollback grammar', () => {
  it.each([
    ['/wh rollback deploy/checkout -n shop', { target: 'deploy/checkout', namespace: 'shop' }],
    [
      '/wh rollout-undo deploy/checkout -n shop --revision 3',
      { target: 'deploy/checkout', namespace: 'shop', revision: 3 },
    ],
  ])('%s', (command, input) => {
    const parsed = parseCommand(command, registry);
    expect(parsed.kind === 'skill' && parsed.input).toEqual(input);
  });

  it('refuses revision 0', () => {
    expect(() => parseCommand('/wh rollback deploy/checkout -n shop --revision 0', registry)).toThrowError(
      expect.objectContaining({ code: 'INVALID_INPUT', message: '--revision must be 1 or more' }),
    );
  });

  it('summarizes in one line', () => {
    expect(workloadRollback.summarize({ target: 'deploy/checkout', namespace: 'shop' })).toBe(
      'roll back deploy/checkout to the previous revision in shop',
    );
    expect(workloadRollback.summarize({ target: 'deploy/checkout', namespace: 'shop', revision: 2 })).toBe(
      'roll back deploy/checkout to revision 2 in shop',
    );
  });
});

describe('workload-rollback proposals', () => {
  it("patches in the previous revision's images, verified by the rollout, with today's images as undo", async () => {
    expect(await propose('/wh rollback deploy/checkout -n shop', history)).toEqual({
      summary:
        `roll back deploy/checkout in shop to revision 2: app=${image('v2')}, proxy=registry.local/envoy:1.30 ` +
        `(now app=${image('v3')}, proxy=registry.local/envoy:1.30)`,
      changes: [
        {
          type: 'patch',
          target: deployTarget,
          resourceVersion: '4711',
          patchType: 'strategic-merge',
          patch: templatePatch('v2'),
        },
      ],
      verify: { kind: 'rollout', target: deployTarget, timeoutSeconds: 600 },
      blastRadius: { namespace: 'shop', objects: 1, replicas: 3 },
      undo: [
        {
          type: 'patch',
          target: deployTarget,
          resourceVersion: undefined,
          patchType: 'strategic-merge',
          patch: templatePatch('v3'),
        },
      ],
    });
  });

  it('lists the ReplicaSets by the Deployment selector', async () => {
    const kube = fakeKube(history);
    const parsed = parseCommand('/wh rollback deploy/checkout -n shop', registry);
    if (parsed.kind !== 'skill' || parsed.skill.risk === 'read') throw new Error('expected a write skill');
    await parsed.skill.propose(parsed.input, skillContext(kube));
    expect(kube.calls.map((c) => c.method)).toEqual(['getWorkload', 'listReplicaSets']);
    expect(kube.calls[1]).toEqual({
      method: 'listReplicaSets',
      args: { namespace: 'shop', selector: 'app=checkout' },
    });
  });

  it('goes back to a named revision', async () => {
    const proposal = await propose('/wh rollback deploy/checkout -n shop --revision 1', history);
    expect(proposal.changes).toEqual([
      {
        type: 'patch',
        target: deployTarget,
        resourceVersion: '4711',
        patchType: 'strategic-merge',
        patch: templatePatch('v1'),
      },
    ]);
    expect(proposal.summary).toMatch(/^roll back deploy\/checkout in shop to revision 1: /);
  });

  it('counts a reused ReplicaSet by its new revision', async () => {
    // After an earlier rollback to revision 2 the controller renumbered it 4: v2 is current, v3 is previous.
    const options: FakeKubeOptions = {
      deployments: [checkout('v2')],
      replicaSets: [revision(1, 'v1'), revision(3, 'v3'), revision(4, 'v2')],
    };
    const proposal = await propose('/wh rollback deploy/checkout -n shop', options);
    expect(proposal.changes).toEqual([
      {
        type: 'patch',
        target: deployTarget,
        resourceVersion: '4711',
        patchType: 'strategic-merge',
        patch: templatePatch('v3'),
      },
    ]);
  });
});

describe('workload-rollback bad input', () => {
  it('lists the revisions there are for an unknown one', async () => {
    await expect(propose('/wh rollback deploy/checkout -n shop --revision 7', history)).rejects.toMatchObject(
      {
        code: 'INVALID_INPUT',
        message: 'deploy/checkout has no revision 7; its revisions are 1, 2, 3 (current).',
      },
    );
  });

  it('refuses the current revision', async () => {
    await expect(propose('/wh rollback deploy/checkout -n shop --revision 3', history)).rejects.toMatchObject(
      {
        code: 'INVALID_INPUT',
        message:
          'Revision 3 is the current revision of deploy/checkout; its revisions are 1, 2, 3 (current).',
      },
    );
  });

  it('has nothing to go back to with one revision, or none', async () => {
    await expect(
      propose('/wh rollback deploy/checkout -n shop', {
        deployments: [checkout('v1')],
        replicaSets: [revision(1, 'v1')],
      }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message:
        'deploy/checkout has no revision before the current one (revisions: 1 (current)); there is nothing to roll back to.',
    });
    await expect(
      propose('/wh rollback deploy/checkout -n shop', { deployments: [checkout('v1')] }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'deploy/checkout has no rollout history (no ReplicaSets with a revision).',
    });
  });

  it('refuses a revision whose images already run', async () => {
    const options: FakeKubeOptions = {
      deployments: [checkout('v2')],
      replicaSets: [revision(1, 'v2'), revision(2, 'v2')],
    };
    await expect(propose('/wh rollback deploy/checkout -n shop', options)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: `deploy/checkout already runs the images of revision 1 (app=${image('v2')}, proxy=registry.local/envoy:1.30); there is nothing to roll back.`,
    });
  });

  it('refuses a revision with other containers', async () => {
    const options: FakeKubeOptions = {
      deployments: [checkout('v3')],
      replicaSets: [revision(2, 'v2', { containers: ['app'] }), revision(3, 'v3')],
    };
    await expect(propose('/wh rollback deploy/checkout -n shop', options)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message:
        'Revision 2 of deploy/checkout has containers app, the live template has app, proxy; Wheelhouse rolls back images only and cannot add or remove containers.',
    });
  });

  it('refuses a paused Deployment, as kubectl does', async () => {
    await expect(
      propose('/wh rollback deploy/checkout -n shop', {
        ...history,
        deployments: [checkout('v3', { paused: true })],
      }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'deploy/checkout is paused in shop; a paused Deployment cannot be rolled back.',
      hint: 'Resume it first: `/wh resume deploy/checkout -n shop`.',
    });
  });

  it('says StatefulSet rollback is not supported', async () => {
    await expect(
      propose('/wh rollback sts/db -n shop', { statefulSets: [buildStatefulSet()] }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message:
        'Rolling back a StatefulSet (ControllerRevisions) is not supported; rollback works on deploy/NAME.',
      hint: 'Deploy the image you want back instead: `/wh deploy sts/db IMAGE -n shop`.',
    });
  });

  it('reports an unknown Deployment', async () => {
    await expect(propose('/wh rollback deploy/nope -n shop', history)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'deploy/nope was not found in namespace shop.',
    });
  });
});

import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ChangeTarget } from '../../src/changes/types.ts';
import { parseCommand } from '../../src/planner/grammar.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import { buildDaemonSet, buildDeployment, buildStatefulSet } from '../../test/support/builders.ts';
import { type FakeKubeOptions, fakeKube, skillContext } from '../../test/support/fake-kube.ts';
import { proposer, versioned } from '../../test/support/write-skills.ts';
import { workloadDeploy } from './skill.ts';

const registry = new SkillRegistry([workloadDeploy]);
const V2 = 'registry.example.com/shop/checkout:v2';

const propose = proposer(workloadDeploy);

/** The checkout Deployment with an app container, a proxy sidecar and a migrate init container. */
function multiContainer(): V1Deployment {
  const deployment = versioned(buildDeployment(), '4711');
  if (deployment.spec?.template.spec) {
    deployment.spec.template.spec.containers = [
      { name: 'app', image: 'registry.local/shop/checkout:1.0' },
      { name: 'proxy', image: 'registry.local/envoy:1.30' },
    ];
    deployment.spec.template.spec.initContainers = [
      { name: 'migrate', image: 'registry.local/shop/migrate:1.0' },
    ];
  }
  return deployment;
}

const deployTarget: ChangeTarget = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'shop',
  name: 'checkout',
};

const templatePatch = (containers: unknown, initContainers?: unknown) => ({
  spec: { template: { spec: { containers, ...(initContainers ? { initContainers } : {}) } } },
});

const single: FakeKubeOptions = { deployments: [versioned(buildDeployment(), '4711')] };

describe('workload-deploy grammar', () => {
  it.each([
    [
      `/wh deploy deploy/checkout -n shop image=${V2}`,
      { target: 'deploy/checkout', namespace: 'shop', image: V2 },
    ],
    [
      `/wh deploy deploy/checkout ${V2} -n shop -c app`,
      { target: 'deploy/checkout', namespace: 'shop', image: V2, container: 'app' },
    ],
    [
      `/wh set-image sts/db --image ${V2} --namespace shop --container db`,
      { target: 'sts/db', namespace: 'shop', image: V2, container: 'db' },
    ],
  ])('%s', (command, input) => {
    const parsed = parseCommand(command, registry);
    expect(parsed.kind === 'skill' && parsed.input).toEqual(input);
  });

  it('summarizes in one line', () => {
    expect(
      workloadDeploy.summarize({
        target: 'deploy/checkout',
        namespace: 'shop',
        image: V2,
        container: 'checkout',
      }),
    ).toBe(`set image of deploy/checkout container checkout to ${V2} in shop`);
  });

  it('refuses a malformed image before reading anything', () => {
    expect(() =>
      parseCommand('/wh deploy deploy/checkout -n shop image=registry/Checkout:v2', registry),
    ).toThrowError(
      expect.objectContaining({
        code: 'INVALID_INPUT',
        message:
          '<image> is not a valid image reference: the repository path must be lower-case ("Checkout")',
      }),
    );
    expect(() =>
      parseCommand('/wh deploy deploy/checkout -n shop image=registry/checkout@sha256:abc', registry),
    ).toThrowError(/a sha256 digest has 64 hex digits, this one has 3/);
  });
});

describe('workload-deploy proposals', () => {
  it('patches only the container image, carrying the resourceVersion, verified by the rollout', async () => {
    const proposal = await propose(`/wh deploy deploy/checkout -n shop image=${V2}`, single);
    expect(proposal).toEqual({
      summary: `set image of deploy/checkout container app to ${V2} in shop (was registry.local/shop/checkout:1.0)`,
      changes: [
        {
          type: 'patch',
          target: deployTarget,
          resourceVersion: '4711',
          patchType: 'strategic-merge',
          patch: templatePatch([{ name: 'app', image: V2 }]),
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
          patch: templatePatch([{ name: 'app', image: 'registry.local/shop/checkout:1.0' }]),
        },
      ],
    });
  });

  it('reads the live object once and writes nothing', async () => {
    const kube = fakeKube(single);
    const parsed = parseCommand(`/wh deploy deploy/checkout -n shop image=${V2}`, registry);
    if (parsed.kind !== 'skill' || parsed.skill.risk === 'read') throw new Error('expected a write skill');
    await parsed.skill.propose(parsed.input, skillContext(kube));
    expect(kube.calls).toEqual([
      { method: 'getWorkload', args: { kind: 'Deployment', namespace: 'shop', name: 'checkout' } },
    ]);
  });

  it('changes the named container and states the live image of every other one', async () => {
    const proposal = await propose(`/wh deploy deploy/checkout ${V2} -n shop --container app`, {
      deployments: [multiContainer()],
    });
    expect(proposal.changes).toEqual([
      {
        type: 'patch',
        target: deployTarget,
        resourceVersion: '4711',
        patchType: 'strategic-merge',
        patch: templatePatch(
          [
            { name: 'app', image: V2 },
            { name: 'proxy', image: 'registry.local/envoy:1.30' },
          ],
          [{ name: 'migrate', image: 'registry.local/shop/migrate:1.0' }],
        ),
      },
    ]);
    expect(proposal.undo).toEqual([
      {
        type: 'patch',
        target: deployTarget,
        resourceVersion: undefined,
        patchType: 'strategic-merge',
        patch: templatePatch(
          [
            { name: 'app', image: 'registry.local/shop/checkout:1.0' },
            { name: 'proxy', image: 'registry.local/envoy:1.30' },
          ],
          [{ name: 'migrate', image: 'registry.local/shop/migrate:1.0' }],
        ),
      },
    ]);
  });

  it('can change an init container', async () => {
    const proposal = await propose(
      '/wh deploy deploy/checkout registry.local/shop/migrate:1.1 -n shop -c migrate',
      {
        deployments: [multiContainer()],
      },
    );
    expect(proposal.summary).toBe(
      'set image of deploy/checkout container migrate to registry.local/shop/migrate:1.1 in shop (was registry.local/shop/migrate:1.0)',
    );
    expect(proposal.changes).toEqual([
      {
        type: 'patch',
        target: deployTarget,
        resourceVersion: '4711',
        patchType: 'strategic-merge',
        patch: templatePatch(
          [
            { name: 'app', image: 'registry.local/shop/checkout:1.0' },
            { name: 'proxy', image: 'registry.local/envoy:1.30' },
          ],
          [{ name: 'migrate', image: 'registry.local/shop/migrate:1.1' }],
        ),
      },
    ]);
  });

  it("follows the rollout for the Deployment's progress deadline", async () => {
    const deployment = buildDeployment({ replicas: 7 });
    if (deployment.spec) deployment.spec.progressDeadlineSeconds = 180;
    const proposal = await propose(`/wh deploy deploy/checkout -n shop image=${V2}`, {
      deployments: [deployment],
    });
    expect(proposal.verify).toEqual({ kind: 'rollout', target: deployTarget, timeoutSeconds: 180 });
    expect(proposal.blastRadius).toEqual({ namespace: 'shop', objects: 1, replicas: 7 });
  });

  it('deploys to a StatefulSet and a DaemonSet', async () => {
    const sts = await propose('/wh deploy sts/db registry.local/db:17 -n shop', {
      statefulSets: [versioned(buildStatefulSet(), '90')],
    });
    const stsTarget = { ...deployTarget, resource: 'statefulsets', kind: 'StatefulSet', name: 'db' };
    expect(sts.changes).toEqual([
      {
        type: 'patch',
        target: stsTarget,
        resourceVersion: '90',
        patchType: 'strategic-merge',
        patch: templatePatch([{ name: 'db', image: 'registry.local/db:17' }]),
      },
    ]);
    expect(sts.verify).toEqual({ kind: 'rollout', target: stsTarget, timeoutSeconds: 600 });
    expect(sts.blastRadius.replicas).toBe(3);

    const ds = await propose('/wh deploy ds/log-agent registry.local/agent:3 -n shop', {
      daemonSets: [buildDaemonSet()],
    });
    expect(ds.changes[0]?.target).toMatchObject({
      resource: 'daemonsets',
      kind: 'DaemonSet',
      name: 'log-agent',
    });
    expect(ds.blastRadius).toEqual({ namespace: 'shop', objects: 1, replicas: 4 });
  });

  it('does not follow a paused Deployment, and says it rolls out on resume', async () => {
    const deployment = buildDeployment();
    if (deployment.spec) deployment.spec.paused = true;
    const proposal = await propose(`/wh deploy deploy/checkout -n shop image=${V2}`, {
      deployments: [deployment],
    });
    expect(proposal.verify).toEqual({ kind: 'none' });
    expect(proposal.summary).toMatch(
      /; deploy\/checkout is paused, so it rolls out on `\/wh resume deploy\/checkout -n shop`$/,
    );
  });
});

describe('workload-deploy bad input', () => {
  it('reports an unknown workload', async () => {
    await expect(propose(`/wh deploy deploy/nope -n shop image=${V2}`, single)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'deploy/nope was not found in namespace shop.',
    });
  });

  it('names the containers there are when the container is unknown', async () => {
    await expect(
      propose(`/wh deploy deploy/checkout -n shop image=${V2} --container web`, {
        deployments: [multiContainer()],
      }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'deploy/checkout has no container "web"; its containers are app, proxy (init: migrate).',
      hint: 'Use one of them with --container, e.g. --container app.',
    });
  });

  it('asks which container when there are several', async () => {
    await expect(
      propose(`/wh deploy deploy/checkout -n shop image=${V2}`, { deployments: [multiContainer()] }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'deploy/checkout is ambiguous: containers app, proxy — add --container.',
      hint: `e.g. \`/wh deploy deploy/checkout ${V2} -n shop --container app\`.`,
    });
  });

  it('refuses the image the container already runs', async () => {
    await expect(
      propose('/wh deploy deploy/checkout registry.local/shop/checkout:1.0 -n shop', single),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message:
        'deploy/checkout container app already runs registry.local/shop/checkout:1.0 in shop; there is nothing to change.',
      hint: 'To start fresh pods with the same image, use `/wh restart deploy/checkout -n shop`.',
    });
  });

  it('refuses kinds that have no pod template to deploy', async () => {
    await expect(propose(`/wh deploy job/migrate -n shop image=${V2}`, single)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'deploy works on deploy/NAME, sts/NAME or ds/NAME; job/migrate is a Job.',
    });
    await expect(propose(`/wh deploy checkout -n shop image=${V2}`, single)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      hint: 'Name the kind, e.g. deploy/checkout.',
    });
  });

  it('passes on a refused read', async () => {
    await expect(
      propose(`/wh deploy deploy/checkout -n shop image=${V2}`, {
        ...single,
        identity: { user: 'alice', groups: [] },
        deny: [{ verb: 'get', resource: 'deployments' }],
      }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});

import { describe, expect, it } from 'vitest';
import type { ChangeTarget } from '../../src/changes/types.ts';
import { parseCommand } from '../../src/planner/grammar.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import { buildDaemonSet, buildDeployment, buildStatefulSet, TEST_NOW } from '../../test/support/builders.ts';
import { type FakeKubeOptions, fakeKube, skillContext } from '../../test/support/fake-kube.ts';
import { proposer, versioned } from '../../test/support/write-skills.ts';
import { workloadRestart } from './skill.ts';

const registry = new SkillRegistry([workloadRestart]);
const propose = proposer(workloadRestart);

const deployTarget: ChangeTarget = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'shop',
  name: 'checkout',
};

const shop: FakeKubeOptions = {
  deployments: [versioned(buildDeployment(), '4711')],
  statefulSets: [buildStatefulSet()],
  daemonSets: [buildDaemonSet()],
};

describe('workload-restart grammar', () => {
  it.each([
    ['/wh restart deploy/checkout -n shop', { target: 'deploy/checkout', namespace: 'shop' }],
    ['/wh rollout-restart sts/db --namespace shop', { target: 'sts/db', namespace: 'shop' }],
  ])('%s', (command, input) => {
    const parsed = parseCommand(command, registry);
    expect(parsed.kind === 'skill' && parsed.input).toEqual(input);
  });

  it('summarizes in one line', () => {
    expect(workloadRestart.summarize({ target: 'deploy/checkout', namespace: 'shop' })).toBe(
      'restart deploy/checkout in shop',
    );
  });
});

describe('workload-restart proposals', () => {
  it('stamps the pod template with restartedAt = now, keeps the live images, and follows the rollout', async () => {
    expect(await propose('/wh restart deploy/checkout -n shop', shop)).toEqual({
      summary: 'restart deploy/checkout in shop (replaces its 3 pods one by one)',
      changes: [
        {
          type: 'patch',
          target: deployTarget,
          resourceVersion: '4711',
          patchType: 'strategic-merge',
          patch: {
            spec: {
              template: {
                metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': TEST_NOW.toISOString() } },
                spec: { containers: [{ name: 'app', image: 'registry.local/shop/checkout:1.0' }] },
              },
            },
          },
        },
      ],
      verify: { kind: 'rollout', target: deployTarget, timeoutSeconds: 600 },
      blastRadius: { namespace: 'shop', objects: 1, replicas: 3 },
    });
  });

  it('takes the time from the context clock', async () => {
    const parsed = parseCommand('/wh restart deploy/checkout -n shop', registry);
    if (parsed.kind !== 'skill' || parsed.skill.risk === 'read') throw new Error('expected a write skill');
    const later = new Date('2026-11-25T09:30:00.000Z');
    const proposal = await parsed.skill.propose(
      parsed.input,
      skillContext(fakeKube(shop), { now: () => later }),
    );
    expect(JSON.stringify(proposal.changes)).toContain(
      '"kubectl.kubernetes.io/restartedAt":"2026-11-25T09:30:00.000Z"',
    );
  });

  it('restarts a StatefulSet and a DaemonSet', async () => {
    const sts = await propose('/wh restart sts/db -n shop', shop);
    expect(sts.changes[0]?.target).toMatchObject({
      resource: 'statefulsets',
      kind: 'StatefulSet',
      name: 'db',
    });
    expect(sts.changes).toEqual([
      {
        type: 'patch',
        target: { ...deployTarget, resource: 'statefulsets', kind: 'StatefulSet', name: 'db' },
        resourceVersion: undefined,
        patchType: 'strategic-merge',
        patch: {
          spec: {
            template: {
              metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': TEST_NOW.toISOString() } },
              spec: { containers: [{ name: 'db', image: 'registry.local/db:16' }] },
            },
          },
        },
      },
    ]);
    const ds = await propose('/wh restart ds/log-agent -n shop', shop);
    expect(ds.summary).toBe('restart ds/log-agent in shop (replaces its 4 pods one by one)');
    expect(ds.verify).toMatchObject({ kind: 'rollout', timeoutSeconds: 600 });
  });
});

describe('workload-restart bad input', () => {
  it('reports an unknown workload', async () => {
    await expect(propose('/wh restart deploy/nope -n shop', shop)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'deploy/nope was not found in namespace shop.',
    });
  });

  it('refuses a paused Deployment, as kubectl does', async () => {
    const paused = buildDeployment();
    if (paused.spec) paused.spec.paused = true;
    await expect(
      propose('/wh restart deploy/checkout -n shop', { deployments: [paused] }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'deploy/checkout is paused in shop, so a restart would not roll out.',
      hint: 'Resume it first: `/wh resume deploy/checkout -n shop`.',
    });
  });

  it('refuses a pod', async () => {
    await expect(propose('/wh restart pod/checkout-x -n shop', shop)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'restart works on deploy/NAME, sts/NAME or ds/NAME; pod/checkout-x is a Pod.',
    });
  });
});

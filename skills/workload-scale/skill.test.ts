import { describe, expect, it } from 'vitest';
import type { ChangeTarget } from '../../src/changes/types.ts';
import { parseCommand } from '../../src/planner/grammar.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import { buildDaemonSet, buildDeployment, buildStatefulSet } from '../../test/support/builders.ts';
import type { FakeKubeOptions } from '../../test/support/fake-kube.ts';
import { proposer, versioned } from '../../test/support/write-skills.ts';
import { workloadScale } from './skill.ts';

const registry = new SkillRegistry([workloadScale]);
const propose = proposer(workloadScale);

const deployTarget: ChangeTarget = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'shop',
  name: 'checkout',
};

const shop: FakeKubeOptions = {
  deployments: [versioned(buildDeployment({ replicas: 3 }), '4711')],
  statefulSets: [versioned(buildStatefulSet({ replicas: 3 }), '90')],
  daemonSets: [buildDaemonSet()],
};

const scalePatch = (replicas: number, resourceVersion: string | undefined, target = deployTarget) => ({
  type: 'patch',
  target,
  resourceVersion,
  patchType: 'merge',
  patch: { spec: { replicas } },
  subresource: 'scale',
});

describe('workload-scale grammar', () => {
  it.each([
    [
      '/wh scale deploy/checkout -n shop --replicas 5',
      { target: 'deploy/checkout', namespace: 'shop', replicas: 5 },
    ],
    [
      '/wh scale deploy/checkout -n shop replicas=0',
      { target: 'deploy/checkout', namespace: 'shop', replicas: 0 },
    ],
    [
      '/wh scale hpa/checkout -n shop --min 2 --max 20',
      { target: 'hpa/checkout', namespace: 'shop', min: 2, max: 20 },
    ],
  ])('%s', (command, input) => {
    const parsed = parseCommand(command, registry);
    expect(parsed.kind === 'skill' && parsed.input).toEqual(input);
  });

  it.each([
    ['--replicas 1001', '--replicas must be at most 1000'],
    ['--replicas -1', '--replicas must be 0 or more'],
    ['', '--replicas is required (or --min/--max for an hpa/NAME)'],
  ])('refuses %j: %s', (flags, message) => {
    expect(() => parseCommand(`/wh scale deploy/checkout -n shop ${flags}`, registry)).toThrowError(
      expect.objectContaining({ code: 'INVALID_INPUT', message }),
    );
  });

  it('wants whole replicas', () => {
    const result = workloadScale.input.safeParse({
      target: 'deploy/checkout',
      namespace: 'shop',
      replicas: 2.5,
    });
    expect(result.error?.issues.map((i) => i.message)).toEqual(['must be a whole number']);
  });

  it('summarizes in one line', () => {
    expect(workloadScale.summarize({ target: 'deploy/checkout', namespace: 'shop', replicas: 5 })).toBe(
      'scale deploy/checkout to 5 replicas in shop',
    );
    expect(workloadScale.summarize({ target: 'hpa/checkout', namespace: 'shop', max: 9 })).toBe(
      'set hpa/checkout max 9 in shop',
    );
  });
});

describe('workload-scale proposals', () => {
  it('scales up through the scale subresource, verified by the rollout, with the old count as undo', async () => {
    expect(await propose('/wh scale deploy/checkout -n shop --replicas 5', shop)).toEqual({
      summary: 'scale deploy/checkout in shop from 3 to 5 replicas',
      changes: [scalePatch(5, '4711')],
      verify: { kind: 'rollout', target: deployTarget, timeoutSeconds: 600 },
      blastRadius: { namespace: 'shop', objects: 1, replicas: 2 },
      undo: [scalePatch(3, undefined)],
    });
  });

  it('scales down without waiting for a rollout', async () => {
    const proposal = await propose('/wh scale deploy/checkout -n shop --replicas 1', shop);
    expect(proposal.verify).toEqual({ kind: 'none' });
    expect(proposal.blastRadius).toEqual({ namespace: 'shop', objects: 1, replicas: 2 });
    expect(proposal.undo).toEqual([scalePatch(3, undefined)]);
  });

  it('says that scaling to zero stops every pod', async () => {
    const proposal = await propose('/wh scale deploy/checkout -n shop --replicas 0', shop);
    expect(proposal.summary).toBe('scale deploy/checkout in shop from 3 to 0 replicas (stops all its pods)');
    expect(proposal.blastRadius.replicas).toBe(3);
  });

  it('scales a StatefulSet', async () => {
    const stsTarget = { ...deployTarget, resource: 'statefulsets', kind: 'StatefulSet', name: 'db' };
    const proposal = await propose('/wh scale sts/db -n shop --replicas 4', shop);
    expect(proposal.changes).toEqual([scalePatch(4, '90', stsTarget)]);
    expect(proposal.verify).toEqual({ kind: 'rollout', target: stsTarget, timeoutSeconds: 600 });
  });

  it("sets an autoscaler's bounds with a merge patch on autoscaling/v2", async () => {
    const proposal = await propose('/wh scale hpa/checkout -n shop --min 2 --max 20');
    expect(proposal).toEqual({
      summary: 'set hpa/checkout in shop to min 2, max 20 replicas',
      changes: [
        {
          type: 'patch',
          target: {
            group: 'autoscaling',
            version: 'v2',
            resource: 'horizontalpodautoscalers',
            kind: 'HorizontalPodAutoscaler',
            namespace: 'shop',
            name: 'checkout',
          },
          resourceVersion: undefined,
          patchType: 'merge',
          patch: { spec: { minReplicas: 2, maxReplicas: 20 } },
        },
      ],
      verify: { kind: 'none' },
      blastRadius: { namespace: 'shop', objects: 1, replicas: 20 },
    });
  });

  it('sets one bound alone', async () => {
    const proposal = await propose('/wh scale horizontalpodautoscaler/checkout -n shop --max 8');
    expect(proposal.changes[0]?.type === 'patch' && proposal.changes[0].patch).toEqual({
      spec: { maxReplicas: 8 },
    });
  });
});

describe('workload-scale bad input', () => {
  it('reports an unknown workload', async () => {
    await expect(propose('/wh scale deploy/nope -n shop --replicas 2', shop)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'deploy/nope was not found in namespace shop.',
    });
  });

  it('refuses the replicas it already has', async () => {
    await expect(propose('/wh scale deploy/checkout -n shop --replicas 3', shop)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'deploy/checkout already has 3 replicas in shop; there is nothing to change.',
    });
  });

  it('refuses a DaemonSet, which has no replicas', async () => {
    await expect(propose('/wh scale ds/log-agent -n shop --replicas 2', shop)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'scale works on deploy/NAME or sts/NAME; ds/log-agent is a DaemonSet.',
    });
  });

  it('keeps --min/--max for autoscalers and --replicas for workloads', async () => {
    await expect(propose('/wh scale deploy/checkout -n shop --min 2', shop)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: "--min and --max set an autoscaler's bounds, not deploy/checkout's.",
    });
    await expect(propose('/wh scale hpa/checkout -n shop --replicas 2')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'hpa/checkout has no --replicas; it keeps replicas between --min and --max.',
    });
  });

  it('refuses a minimum above the maximum and a malformed autoscaler name', async () => {
    await expect(propose('/wh scale hpa/checkout -n shop --min 9 --max 3')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: '--min 9 is above --max 3.',
    });
    await expect(propose('/wh scale hpa/Check_out -n shop --max 3')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: '"Check_out" is not a HorizontalPodAutoscaler name.',
    });
  });
});

import { describe, expect, it } from 'vitest';
import { WheelhouseError } from '../../src/errors.ts';
import type { CustomObjectRef, KubeReader } from '../../src/kube/types.ts';
import { parseCommand } from '../../src/planner/grammar.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import { fakeKube, skillContext } from '../../test/support/fake-kube.ts';
import { argoRolloutStatus } from './skill.ts';

/** A reader that knows one Rollout, shop/checkout, paused at its second step. */
function kubeWithRollout(): KubeReader & { asked: CustomObjectRef[] } {
  const asked: CustomObjectRef[] = [];
  return Object.assign(fakeKube({}), {
    asked,
    async getCustomObject(ref: CustomObjectRef) {
      asked.push(ref);
      if (ref.name !== 'checkout') throw new WheelhouseError('NOT_FOUND', `rollout ${ref.name} not found.`);
      return {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        metadata: { name: 'checkout', namespace: 'shop', resourceVersion: '7' },
        spec: { replicas: 4, strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }] } } },
        status: { phase: 'Paused', currentStepIndex: 1, pauseConditions: [{ reason: 'CanaryPauseStep' }] },
      };
    },
  });
}

describe('argo-rollout-status', () => {
  it('is `/wh argo rollout/NAME -n NS`', () => {
    expect(
      parseCommand('/wh argo rollout/checkout -n shop', new SkillRegistry([argoRolloutStatus])),
    ).toMatchObject({
      kind: 'skill',
      input: { target: 'rollout/checkout', namespace: 'shop' },
    });
  });

  it('reads the Rollout as the user from argoproj.io/v1alpha1 and shows its step with buttons', async () => {
    const kube = kubeWithRollout();
    const result = await argoRolloutStatus.run(
      { target: 'rollout/checkout', namespace: 'shop' },
      skillContext(kube),
    );
    expect(kube.asked).toEqual([
      {
        group: 'argoproj.io',
        version: 'v1alpha1',
        resource: 'rollouts',
        short: 'rollout',
        namespace: 'shop',
        name: 'checkout',
      },
    ]);
    expect(result.summary).toBe('Argo Rollout checkout in shop: paused (CanaryPauseStep), step 2 of 2.');
    expect(result.sections.some((s) => s.type === 'actions')).toBe(true);
  });

  it('passes NOT_FOUND on, and says so when the reader cannot read custom resources', async () => {
    await expect(
      argoRolloutStatus.run({ target: 'rollout/nope', namespace: 'shop' }, skillContext(kubeWithRollout())),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      argoRolloutStatus.run({ target: 'rollout/checkout', namespace: 'shop' }, skillContext(fakeKube({}))),
    ).rejects.toMatchObject({ code: 'SOURCE_NOT_CONFIGURED' });
  });
});

import { describe, expect, it } from 'vitest';
import type { CustomObjectRef } from '../../src/kube/types.ts';
import { parseCommand } from '../../src/planner/grammar.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import { fakeKube, skillContext } from '../../test/support/fake-kube.ts';
import { argoRolloutAbort } from '../argo-rollout-abort/skill.ts';
import { argoRolloutRetry } from '../argo-rollout-retry/skill.ts';
import { argoRolloutPromote } from './skill.ts';

function context(status: Record<string, unknown>) {
  const kube = Object.assign(fakeKube({}), {
    async getCustomObject(ref: CustomObjectRef) {
      return {
        metadata: { name: ref.name, namespace: ref.namespace, resourceVersion: '7' },
        spec: { replicas: 4, strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }] } } },
        status: { currentPodHash: 'b', stableRS: 'a', ...status },
      };
    },
  });
  return skillContext(kube);
}

const input = { target: 'rollout/checkout', namespace: 'shop' };

describe('argo-rollout-promote (and abort, retry)', () => {
  it('reads --full as a flag', () => {
    expect(
      parseCommand(
        '/wh argo-promote rollout/checkout -n shop --full',
        new SkillRegistry([argoRolloutPromote]),
      ),
    ).toMatchObject({ input: { target: 'rollout/checkout', namespace: 'shop', full: true } });
  });

  it('proposes status patches, verified by nothing but the API server, on one object', async () => {
    const paused = context({ currentStepIndex: 1, pauseConditions: [{ reason: 'CanaryPauseStep' }] });
    const promote = await argoRolloutPromote.propose({ ...input, full: false }, paused);
    expect(promote).toMatchObject({
      summary: 'promote Argo rollout/checkout in shop',
      changes: [{ type: 'patch', subresource: 'status', patch: { status: { pauseConditions: null } } }],
      verify: { kind: 'none' },
      blastRadius: { namespace: 'shop', objects: 1, replicas: 4 },
    });
    const full = await argoRolloutPromote.propose({ ...input, full: true }, paused);
    expect(full.changes).toMatchObject([{ patch: { status: { promoteFull: true } } }]);
    expect((await argoRolloutAbort.propose(input, paused)).changes).toMatchObject([
      { subresource: 'status', patch: { status: { abort: true } } },
    ]);
    await expect(argoRolloutRetry.propose(input, paused)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect((await argoRolloutRetry.propose(input, context({ abort: true }))).changes).toMatchObject([
      { subresource: 'status', patch: { status: { abort: false } } },
    ]);
  });

  it('declares what RBAC checks: patch on rollouts and rollouts/status', () => {
    for (const skill of [argoRolloutPromote, argoRolloutAbort, argoRolloutRetry]) {
      expect(skill.risk).toBe('write');
      expect(skill.resources).toEqual(['rollouts', 'rollouts/status']);
    }
  });
});

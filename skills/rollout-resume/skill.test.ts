import { describe, expect, it } from 'vitest';
import type { ChangeTarget } from '../../src/changes/types.ts';
import { parseCommand } from '../../src/planner/grammar.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import { buildDaemonSet, buildDeployment } from '../../test/support/builders.ts';
import { proposer } from '../../test/support/write-skills.ts';
import { rolloutResume } from './skill.ts';

const registry = new SkillRegistry([rolloutResume]);
const propose = proposer(rolloutResume);

const deployTarget: ChangeTarget = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'shop',
  name: 'checkout',
};

function deployment(paused: boolean) {
  const object = buildDeployment({ replicas: 4 });
  object.metadata = { ...object.metadata, resourceVersion: '4711' };
  if (object.spec && paused) object.spec.paused = true;
  return object;
}

describe('rollout-resume', () => {
  it('parses the command, also as unpause', () => {
    for (const command of [
      '/wh resume deploy/checkout -n shop',
      '/wh unpause deploy/checkout --namespace shop',
    ]) {
      const parsed = parseCommand(command, registry);
      expect(parsed.kind === 'skill' && parsed.input).toEqual({
        target: 'deploy/checkout',
        namespace: 'shop',
      });
    }
  });

  it('wants the namespace as -n, not as a bare word, for a change', () => {
    expect(() => parseCommand('/wh resume deploy/checkout shop', registry)).toThrowError(
      /I did not expect "shop" here/,
    );
  });

  it('summarizes in one line', () => {
    expect(rolloutResume.summarize({ target: 'deploy/checkout', namespace: 'shop' })).toBe(
      'resume the rollout of deploy/checkout in shop',
    );
  });

  it('clears spec.paused with a merge patch, follows the rollout, and pauses as undo', async () => {
    expect(await propose('/wh resume deploy/checkout -n shop', { deployments: [deployment(true)] })).toEqual({
      summary: 'resume the rollout of deploy/checkout in shop',
      changes: [
        {
          type: 'patch',
          target: deployTarget,
          resourceVersion: '4711',
          patchType: 'merge',
          patch: { spec: { paused: false } },
        },
      ],
      verify: { kind: 'rollout', target: deployTarget, timeoutSeconds: 600 },
      blastRadius: { namespace: 'shop', objects: 1, replicas: 4 },
      undo: [
        {
          type: 'patch',
          target: deployTarget,
          resourceVersion: undefined,
          patchType: 'merge',
          patch: { spec: { paused: true } },
        },
      ],
    });
  });

  it('refuses a Deployment that is not paused', async () => {
    await expect(
      propose('/wh resume deploy/checkout -n shop', { deployments: [deployment(false)] }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'deploy/checkout is not paused in shop; there is nothing to resume.',
    });
  });

  it('works on Deployments only', async () => {
    await expect(
      propose('/wh resume ds/log-agent -n shop', { daemonSets: [buildDaemonSet()] }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'resume works on deploy/NAME; ds/log-agent is a DaemonSet.',
    });
  });

  it('reports an unknown Deployment', async () => {
    await expect(
      propose('/wh resume deploy/nope -n shop', { deployments: [deployment(true)] }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

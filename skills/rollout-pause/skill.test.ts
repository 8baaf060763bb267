import { describe, expect, it } from 'vitest';
import type { ChangeTarget } from '../../src/changes/types.ts';
import { parseCommand } from '../../src/planner/grammar.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import { buildDeployment, buildStatefulSet } from '../../test/support/builders.ts';
import { proposer } from '../../test/support/write-skills.ts';
import { rolloutPause } from './skill.ts';

const registry = new SkillRegistry([rolloutPause]);
const propose = proposer(rolloutPause);

const deployTarget: ChangeTarget = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'shop',
  name: 'checkout',
};

function deployment(paused: boolean) {
  const object = buildDeployment();
  object.metadata = { ...object.metadata, resourceVersion: '4711' };
  if (object.spec && paused) object.spec.paused = true;
  return object;
}

describe('rollout-pause', () => {
  it('parses the command and summarizes it', () => {
    const parsed = parseCommand('/wh pause deploy/checkout -n shop', registry);
    expect(parsed.kind === 'skill' && parsed.input).toEqual({ target: 'deploy/checkout', namespace: 'shop' });
    expect(rolloutPause.summarize({ target: 'deploy/checkout', namespace: 'shop' })).toBe(
      'pause the rollout of deploy/checkout in shop',
    );
  });

  it('sets spec.paused with a merge patch, without verification, and resumes as undo', async () => {
    expect(await propose('/wh pause deploy/checkout -n shop', { deployments: [deployment(false)] })).toEqual({
      summary: 'pause the rollout of deploy/checkout in shop (pods keep running; changes wait for a resume)',
      changes: [
        {
          type: 'patch',
          target: deployTarget,
          resourceVersion: '4711',
          patchType: 'merge',
          patch: { spec: { paused: true } },
        },
      ],
      verify: { kind: 'none' },
      blastRadius: { namespace: 'shop', objects: 1, replicas: 0 },
      undo: [
        {
          type: 'patch',
          target: deployTarget,
          resourceVersion: undefined,
          patchType: 'merge',
          patch: { spec: { paused: false } },
        },
      ],
    });
  });

  it('refuses a Deployment that is already paused', async () => {
    await expect(
      propose('/wh pause deploy/checkout -n shop', { deployments: [deployment(true)] }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'deploy/checkout is already paused in shop.',
      hint: '`/wh resume deploy/checkout -n shop` resumes it.',
    });
  });

  it('works on Deployments only', async () => {
    await expect(
      propose('/wh pause sts/db -n shop', { statefulSets: [buildStatefulSet()] }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'pause works on deploy/NAME; sts/db is a StatefulSet.',
    });
  });

  it('reports an unknown Deployment', async () => {
    await expect(
      propose('/wh pause deploy/nope -n shop', { deployments: [deployment(false)] }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'deploy/nope was not found in namespace shop.',
    });
  });
});

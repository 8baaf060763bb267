import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/planner/grammar.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import { buildPod, buildReplicaSet, type PodOptions, TEST_NOW } from '../../test/support/builders.ts';
import type { FakeKubeOptions } from '../../test/support/fake-kube.ts';
import { proposer } from '../../test/support/write-skills.ts';
import { podDelete } from './skill.ts';

const registry = new SkillRegistry([podDelete]);
const POD = 'checkout-7d9f8c6b5-x2x9q';

const propose = proposer(podDelete);

function pod(options: PodOptions): V1Pod {
  const built = buildPod(options);
  built.metadata = { ...built.metadata, resourceVersion: '812' };
  return built;
}

const owned: FakeKubeOptions = {
  pods: [pod({ name: POD, owner: { kind: 'ReplicaSet', name: 'checkout-7d9f8c6b5' } })],
  replicaSets: [buildReplicaSet()],
};

describe('pod-delete grammar', () => {
  it.each([
    [`/wh delete-pod ${POD} -n shop`, { pod: POD, namespace: 'shop' }],
    [`/wh kill-pod pod/${POD} --namespace shop`, { pod: `pod/${POD}`, namespace: 'shop' }],
  ])('%s', (command, input) => {
    const parsed = parseCommand(command, registry);
    expect(parsed.kind === 'skill' && parsed.input).toEqual(input);
  });

  it('is dangerous, and summarizes in one line', () => {
    expect(podDelete.risk).toBe('dangerous');
    expect(podDelete.summarize({ pod: `pod/${POD}`, namespace: 'shop' })).toBe(`delete pod ${POD} in shop`);
  });
});

describe('pod-delete proposals', () => {
  it('deletes with uid and resourceVersion preconditions and names the controller that replaces it', async () => {
    expect(await propose(`/wh delete-pod ${POD} -n shop`, owned)).toEqual({
      summary: `delete pod ${POD} in shop; its controller deploy/checkout (via rs/checkout-7d9f8c6b5) creates a replacement`,
      changes: [
        {
          type: 'delete',
          target: { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespace: 'shop', name: POD },
          resourceVersion: '812',
          uid: `uid-${POD}`,
        },
      ],
      verify: { kind: 'none' },
      blastRadius: { namespace: 'shop', objects: 1, replicas: 1 },
    });
  });

  it('says a pod without a controller is gone for good', async () => {
    const proposal = await propose('/wh delete-pod debug-shell -n shop', {
      pods: [pod({ name: 'debug-shell' })],
    });
    expect(proposal.summary).toBe(
      'delete pod debug-shell in shop; it has no controller, so it is gone for good (nothing recreates it)',
    );
  });

  it.each([
    ['StatefulSet', 'db', 'its controller sts/db recreates it with the same name'],
    ['DaemonSet', 'log-agent', 'its controller ds/log-agent recreates it on the same node'],
    ['Job', 'migrate', 'its controller job/migrate starts a replacement unless the job has finished'],
  ])('names a %s owner', async (kind, name, fate) => {
    const proposal = await propose('/wh delete-pod p-0 -n shop', {
      pods: [pod({ name: 'p-0', owner: { kind, name } })],
    });
    expect(proposal.summary).toBe(`delete pod p-0 in shop; ${fate}`);
  });

  it('still proposes when the ReplicaSet cannot be read, naming the ReplicaSet', async () => {
    const proposal = await propose(`/wh delete-pod pod/${POD} -n shop`, {
      ...owned,
      identity: { user: 'alice', groups: [] },
      deny: [{ verb: 'get', resource: 'replicasets' }],
    });
    expect(proposal.summary).toBe(
      `delete pod ${POD} in shop; its controller rs/checkout-7d9f8c6b5 creates a replacement`,
    );
    expect(proposal.changes[0]).toMatchObject({ type: 'delete', uid: `uid-${POD}`, resourceVersion: '812' });
  });
});

describe('pod-delete bad input', () => {
  it('reports an unknown pod', async () => {
    await expect(propose('/wh delete-pod nope -n shop', owned)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'pod/nope was not found in namespace shop.',
    });
  });

  it('refuses a pod that is already being deleted, naming its finalizers', async () => {
    const stuck = pod({ name: POD, deletionTimestamp: TEST_NOW, finalizers: ['example.com/drain'] });
    await expect(propose(`/wh delete-pod ${POD} -n shop`, { pods: [stuck] })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: `pod/${POD} is already being deleted in shop.`,
      hint: 'It waits for its finalizers (example.com/drain); the controller that owns them has to finish.',
    });
  });

  it('deletes pods only', async () => {
    await expect(propose('/wh delete-pod deploy/checkout -n shop', owned)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'delete-pod works on pod/NAME; deploy/checkout is a Deployment.',
    });
  });
});

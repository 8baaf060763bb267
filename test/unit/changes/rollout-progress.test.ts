import type { V1DaemonSet, V1Deployment, V1Pod, V1ReplicaSet, V1StatefulSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  newestReplicaSet,
  podProblems,
  rolloutProgress,
  timedOut,
} from '../../../src/changes/rollout-progress.ts';
import type { ChangeTarget } from '../../../src/changes/types.ts';

const target: ChangeTarget = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'shop',
  name: 'checkout',
};
const now = new Date('2026-11-25T09:00:00Z');

function deployment(
  status: V1Deployment['status'],
  options: { generation?: number; replicas?: number; paused?: boolean } = {},
): V1Deployment {
  return {
    metadata: { name: 'checkout', generation: options.generation ?? 2 },
    spec: {
      replicas: options.replicas ?? 3,
      progressDeadlineSeconds: 10,
      paused: options.paused,
      selector: { matchLabels: { app: 'checkout' } },
      template: { spec: { containers: [{ name: 'checkout' }] } },
    },
    status,
  };
}

describe('rolloutProgress', () => {
  it('waits while the controller has not seen the new generation, even if the old one was done', () => {
    const progress = rolloutProgress(target, {
      kind: 'Deployment',
      object: deployment({
        observedGeneration: 1,
        replicas: 3,
        updatedReplicas: 3,
        readyReplicas: 3,
        availableReplicas: 3,
      }),
    });
    expect(progress.phase).toBe('progressing');
    expect(progress.message).toBe(
      'deploy/checkout: waiting for the deployment controller to see the new spec (3/3 updated, 3 ready, 3 available)',
    );
  });

  it('is progressing while new replicas are being updated', () => {
    const progress = rolloutProgress(target, {
      kind: 'Deployment',
      object: deployment({
        observedGeneration: 2,
        replicas: 4,
        updatedReplicas: 1,
        readyReplicas: 3,
        availableReplicas: 3,
      }),
    });
    expect(progress).toEqual({
      target,
      desired: 3,
      updated: 1,
      ready: 3,
      available: 3,
      phase: 'progressing',
      message:
        'deploy/checkout: 1 out of 3 new replicas have been updated (1/3 updated, 3 ready, 3 available)',
    });
  });

  it('is done when the new generation is observed and updated, ready and available reach desired', () => {
    const progress = rolloutProgress(target, {
      kind: 'Deployment',
      object: deployment({
        observedGeneration: 2,
        replicas: 3,
        updatedReplicas: 3,
        readyReplicas: 3,
        availableReplicas: 3,
      }),
    });
    expect(progress.phase).toBe('done');
    expect(progress.message).toBe('deploy/checkout rolled out: 3/3 updated, 3 ready, 3 available');
  });

  it('fails on ProgressDeadlineExceeded with the deadline and the controller message', () => {
    const progress = rolloutProgress(target, {
      kind: 'Deployment',
      object: deployment({
        observedGeneration: 2,
        replicas: 4,
        updatedReplicas: 1,
        readyReplicas: 3,
        availableReplicas: 3,
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'ReplicaSet "checkout-7d9f" has timed out progressing.',
          },
        ],
      }),
    });
    expect(progress.phase).toBe('failed');
    expect(progress.message).toBe(
      'deploy/checkout exceeded its progress deadline of 10s: ReplicaSet "checkout-7d9f" has timed out progressing. (1/3 updated, 3 ready, 3 available)',
    );
  });

  it('says when a Deployment is paused', () => {
    const progress = rolloutProgress(target, {
      kind: 'Deployment',
      object: deployment({ observedGeneration: 2, replicas: 3, updatedReplicas: 0 }, { paused: true }),
    });
    expect(progress.phase).toBe('progressing');
    expect(progress.message).toMatch(/; the rollout is paused$/);
  });

  it('follows a StatefulSet until the update revision is current and every replica is ready', () => {
    const sts = (status: V1StatefulSet['status']): V1StatefulSet => ({
      metadata: { name: 'orders-db', generation: 3 },
      spec: {
        replicas: 2,
        serviceName: 'orders-db',
        selector: { matchLabels: { app: 'orders-db' } },
        template: { spec: { containers: [{ name: 'db' }] } },
      },
      status,
    });
    const moving = rolloutProgress(target, {
      kind: 'StatefulSet',
      object: sts({
        observedGeneration: 3,
        replicas: 2,
        readyReplicas: 2,
        availableReplicas: 2,
        updatedReplicas: 1,
        currentRevision: 'a',
        updateRevision: 'b',
      }),
    });
    expect(moving.phase).toBe('progressing');
    expect(moving.message).toMatch(/^sts\/orders-db: rolling update to revision b/);
    const done = rolloutProgress(target, {
      kind: 'StatefulSet',
      object: sts({
        observedGeneration: 3,
        replicas: 2,
        readyReplicas: 2,
        availableReplicas: 2,
        updatedReplicas: 2,
        currentRevision: 'b',
        updateRevision: 'b',
      }),
    });
    expect(done).toMatchObject({ phase: 'done', desired: 2, updated: 2, ready: 2, available: 2 });
  });

  it('counts a DaemonSet by scheduled pods', () => {
    const ds: V1DaemonSet = {
      metadata: { name: 'agent', generation: 1 },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { spec: { containers: [{ name: 'a' }] } },
      },
      status: {
        observedGeneration: 1,
        currentNumberScheduled: 4,
        desiredNumberScheduled: 4,
        numberMisscheduled: 0,
        numberReady: 3,
        numberAvailable: 3,
        updatedNumberScheduled: 4,
      },
    };
    const progress = rolloutProgress(target, { kind: 'DaemonSet', object: ds });
    expect(progress).toMatchObject({ phase: 'progressing', desired: 4, updated: 4, ready: 3, available: 3 });
    expect(progress.message).toContain('ds/agent: 3 of 4 updated pods are available');
  });

  it('turns a progress into a timeout failure', () => {
    const progress = rolloutProgress(target, {
      kind: 'Deployment',
      object: deployment({ observedGeneration: 2, replicas: 3, updatedReplicas: 1 }),
    });
    const failed = timedOut(progress, 30);
    expect(failed.phase).toBe('failed');
    expect(failed.message).toBe(`did not finish within 30s: ${progress.message}`);
  });
});

describe('newestReplicaSet', () => {
  const rs = (name: string, revision: string, created: string, owner = 'dep-uid'): V1ReplicaSet => ({
    metadata: {
      name,
      creationTimestamp: new Date(created),
      annotations: { 'deployment.kubernetes.io/revision': revision },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout', uid: owner, controller: true },
      ],
    },
    spec: { selector: { matchLabels: { app: 'checkout' } } },
  });

  it('picks the ReplicaSet with the Deployment revision, among those the Deployment controls', () => {
    const sets = [
      rs('old', '3', '2026-11-25T08:00:00Z'),
      rs('new', '4', '2026-11-25T07:00:00Z'),
      rs('stranger', '4', '2026-11-25T09:00:00Z', 'other-uid'),
    ];
    expect(newestReplicaSet('dep-uid', '4', sets)?.metadata?.name).toBe('new');
  });

  it('falls back to the youngest one without a matching revision', () => {
    const sets = [rs('a', '1', '2026-11-25T07:00:00Z'), rs('b', '2', '2026-11-25T08:00:00Z')];
    expect(newestReplicaSet('dep-uid', undefined, sets)?.metadata?.name).toBe('b');
    expect(newestReplicaSet('dep-uid', '9', [])).toBeUndefined();
  });
});

describe('podProblems', () => {
  const pod = (name: string, status: V1Pod['status'], created = '2026-11-25T08:59:50Z'): V1Pod => ({
    metadata: { name, creationTimestamp: new Date(created) },
    spec: { containers: [{ name: 'app', image: 'registry/app:never-ready' }] },
    status,
  });
  const notReadyCondition = {
    type: 'Ready',
    status: 'False',
    reason: 'ContainersNotReady',
    message: 'containers with unready status: [app]',
  };

  it('says why each pod that is not ready is not, in name order, skipping ready and terminating pods', () => {
    const problems = podProblems(
      [
        pod('b-young', {
          phase: 'Running',
          conditions: [notReadyCondition],
          containerStatuses: [
            { name: 'app', image: 'x', imageID: '', ready: false, restartCount: 0, state: { running: {} } },
          ],
        }),
        pod('a-pull', {
          phase: 'Pending',
          conditions: [notReadyCondition],
          containerStatuses: [
            {
              name: 'app',
              image: 'registry/app:never-ready',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } },
            },
          ],
        }),
        pod('c-ready', { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }),
        {
          ...pod('d-going', { phase: 'Running', conditions: [notReadyCondition] }),
          metadata: { name: 'd-going', deletionTimestamp: now },
        },
      ],
      now,
    );
    expect(problems).toEqual([
      'pod a-pull: container app: ImagePullBackOff, cannot pull image "registry/app:never-ready": Back-off pulling image',
      'pod b-young: Running, not ready (ContainersNotReady: containers with unready status: [app])',
    ]);
  });

  it('lists at most five pods and counts the rest', () => {
    const pods = Array.from({ length: 7 }, (_, i) => pod(`p${i}`, { phase: 'Pending' }));
    const problems = podProblems(pods, now);
    expect(problems).toHaveLength(6);
    expect(problems[0]).toBe('pod p0: Pending, not ready');
    expect(problems[5]).toBe('and 2 more pods not ready');
  });
});

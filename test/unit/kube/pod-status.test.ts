import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  explainPod,
  formatAge,
  humanDuration,
  isPodUnhealthy,
  summarizePod,
} from '../../../src/kube/pod-status.ts';
import { buildPod } from '../../support/builders.ts';

const now = new Date('2026-11-25T08:00:00Z');
const ago = (ms: number): Date => new Date(now.getTime() - ms);
const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

/** A pod shaped like the ones in kubectl's printers_test.go: anonymous containers, no creation time. */
function pod(
  name: string,
  containers: number,
  status: NonNullable<V1Pod['status']>,
  extra: { init?: Array<{ name?: string; restartPolicy?: string }>; deleted?: Date } = {},
): V1Pod {
  return {
    metadata: { name, ...(extra.deleted ? { deletionTimestamp: extra.deleted } : {}) },
    spec: {
      containers: Array.from({ length: containers }, (_, i) => ({ name: `c${i}` })),
      ...(extra.init
        ? { initContainers: extra.init.map((c, i) => ({ name: c.name ?? `i${i}`, ...c })) }
        : {}),
    },
    status,
  };
}

function cs(partial: Partial<V1ContainerStatus>): V1ContainerStatus {
  return { name: '', image: '', imageID: '', ready: false, restartCount: 0, ...partial };
}

const running = { running: {} };
const terminatedAt = (finishedAt: Date) => ({ terminated: { exitCode: 0, finishedAt } });

// Expected rows are kubectl's own (kubernetes v1.36.3 pkg/printers/internalversion TestPrintPod and
// TestPrintPodWithRestartableInitContainer), ported case by case.
describe('summarizePod matches kubectl get pods', () => {
  const cases: Array<[string, V1Pod, [string, string, string, string]]> = [
    [
      'containers, restarts and ready count',
      pod('test1', 2, {
        phase: 'podPhase',
        containerStatuses: [cs({ ready: true, restartCount: 3, state: running }), cs({ restartCount: 3 })],
      }),
      ['test1', '1/2', 'podPhase', '6'],
    ],
    [
      'a waiting reason overrides the phase',
      pod('test2', 2, {
        phase: 'podPhase',
        containerStatuses: [
          cs({ ready: true, restartCount: 3, state: running }),
          cs({ restartCount: 3, state: { waiting: { reason: 'ContainerWaitingReason' } } }),
        ],
      }),
      ['test2', '1/2', 'ContainerWaitingReason', '6'],
    ],
    [
      'the first container wins over later ones',
      pod('test3', 2, {
        phase: 'podPhase',
        containerStatuses: [
          cs({ restartCount: 3, state: { waiting: { reason: 'ContainerWaitingReason' } } }),
          cs({
            restartCount: 3,
            state: { terminated: { exitCode: 0, reason: 'ContainerTerminatedReason' } },
          }),
        ],
      }),
      ['test3', '0/2', 'ContainerWaitingReason', '6'],
    ],
    [
      'ready alone is not running',
      pod('test4', 2, {
        phase: 'podPhase',
        containerStatuses: [
          cs({ ready: true, restartCount: 3, state: running }),
          cs({ ready: true, restartCount: 3 }),
        ],
      }),
      ['test4', '1/2', 'podPhase', '6'],
    ],
    [
      'the pod reason overrides the phase',
      pod('test5', 2, {
        reason: 'podReason',
        phase: 'podPhase',
        containerStatuses: [
          cs({ ready: true, restartCount: 3, state: running }),
          cs({ ready: true, restartCount: 3 }),
        ],
      }),
      ['test5', '1/2', 'podReason', '6'],
    ],
    [
      'one running and one completed container without Ready condition',
      pod('test6', 2, {
        phase: 'Running',
        containerStatuses: [
          cs({ ready: true, restartCount: 3, state: { terminated: { reason: 'Completed', exitCode: 0 } } }),
          cs({ ready: true, restartCount: 3, state: running }),
        ],
      }),
      ['test6', '1/2', 'NotReady', '6'],
    ],
    [
      'one running and one completed container with Ready condition',
      pod('test6', 2, {
        phase: 'Running',
        containerStatuses: [
          cs({ ready: true, restartCount: 3, state: { terminated: { reason: 'Completed', exitCode: 0 } } }),
          cs({ ready: true, restartCount: 3, state: running }),
        ],
        conditions: [{ type: 'Ready', status: 'True' }],
      }),
      ['test6', '1/2', 'Running', '6'],
    ],
    [
      'an init container restarting',
      pod(
        'test7',
        1,
        {
          phase: 'podPhase',
          initContainerStatuses: [
            cs({
              restartCount: 3,
              state: running,
              lastState: { terminated: { exitCode: 0, finishedAt: ago(10 * s) } },
            }),
          ],
          containerStatuses: [cs({ state: { waiting: {} } })],
        },
        { init: [{}] },
      ),
      ['test7', '0/1', 'Init:0/1', '3 (10s ago)'],
    ],
    [
      'two init containers, the first restarting',
      pod(
        'test8',
        1,
        {
          phase: 'podPhase',
          initContainerStatuses: [
            cs({
              restartCount: 3,
              state: running,
              lastState: { terminated: { exitCode: 0, finishedAt: ago(10 * s) } },
            }),
            cs({ state: { waiting: {} } }),
          ],
          containerStatuses: [cs({ state: { waiting: {} } })],
        },
        { init: [{}, {}] },
      ),
      ['test8', '0/1', 'Init:0/2', '3 (10s ago)'],
    ],
    [
      'two init containers, the first done, the second restarting',
      pod(
        'test9',
        1,
        {
          phase: 'podPhase',
          initContainerStatuses: [
            cs({ state: { terminated: { exitCode: 0 } } }),
            cs({
              restartCount: 3,
              state: running,
              lastState: { terminated: { exitCode: 0, finishedAt: ago(10 * s) } },
            }),
          ],
          containerStatuses: [cs({ state: { waiting: {} } })],
        },
        { init: [{}, {}] },
      ),
      ['test9', '0/1', 'Init:1/2', '3 (10s ago)'],
    ],
    [
      'init restarts add up',
      pod(
        'test10',
        1,
        {
          phase: 'podPhase',
          initContainerStatuses: [
            cs({
              restartCount: 2,
              state: { terminated: { exitCode: 0 } },
              lastState: { terminated: { exitCode: 0, finishedAt: ago(2 * m) } },
            }),
            cs({
              restartCount: 3,
              state: running,
              lastState: { terminated: { exitCode: 0, finishedAt: ago(10 * s) } },
            }),
          ],
          containerStatuses: [cs({ state: { waiting: {} } })],
        },
        { init: [{}, {}] },
      ),
      ['test10', '0/1', 'Init:1/2', '5 (10s ago)'],
    ],
    [
      'finished init restarts are not counted once the pod runs',
      pod(
        'test11',
        1,
        {
          phase: 'Running',
          initContainerStatuses: [
            cs({
              restartCount: 2,
              state: { terminated: { exitCode: 0 } },
              lastState: { terminated: { exitCode: 0, finishedAt: ago(2 * m) } },
            }),
          ],
          containerStatuses: [
            cs({
              restartCount: 4,
              state: running,
              lastState: { terminated: { exitCode: 0, finishedAt: ago(20 * s) } },
            }),
          ],
        },
        { init: [{}] },
      ),
      ['test11', '0/1', 'Running', '4 (20s ago)'],
    ],
    [
      'a restart 5 days ago',
      pod('test12', 1, {
        phase: 'Running',
        containerStatuses: [
          cs({ ready: true, restartCount: 3, state: running, lastState: terminatedAt(ago(5 * d)) }),
        ],
      }),
      ['test12', '1/1', 'Running', '3 (5d ago)'],
    ],
    [
      'one container never restarted, the other 10 days ago',
      pod('test13', 2, {
        phase: 'Running',
        containerStatuses: [
          cs({ ready: true, state: running }),
          cs({ ready: true, restartCount: 3, state: running, lastState: terminatedAt(ago(10 * d)) }),
        ],
      }),
      ['test13', '2/2', 'Running', '3 (10d ago)'],
    ],
    [
      'the newest restart is shown',
      pod('test14', 2, {
        phase: 'Running',
        containerStatuses: [
          cs({ ready: true, restartCount: 6, state: running, lastState: terminatedAt(ago(5 * d)) }),
          cs({ ready: true, restartCount: 3, state: running, lastState: terminatedAt(ago(20 * d)) }),
        ],
      }),
      ['test14', '2/2', 'Running', '9 (5d ago)'],
    ],
    [
      'a scheduling gate',
      pod('test15', 2, {
        phase: 'podPhase',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }],
      }),
      ['test15', '0/2', 'SchedulingGated', '0'],
    ],
    [
      'succeeded',
      pod('test16', 1, {
        phase: 'Succeeded',
        containerStatuses: [cs({ state: { terminated: { reason: 'Completed', exitCode: 0 } } })],
      }),
      ['test16', '0/1', 'Completed', '0'],
    ],
    [
      'failed',
      pod('test17', 1, {
        phase: 'Failed',
        containerStatuses: [cs({ state: { terminated: { reason: 'Error', exitCode: 1 } } })],
      }),
      ['test17', '0/1', 'Error', '0'],
    ],
    [
      'succeeded and being deleted',
      pod(
        'test18',
        1,
        {
          phase: 'Succeeded',
          containerStatuses: [cs({ state: { terminated: { reason: 'Completed', exitCode: 0 } } })],
        },
        { deleted: ago(10 * s) },
      ),
      ['test18', '0/1', 'Completed', '0'],
    ],
    [
      'running and being deleted',
      pod(
        'test19',
        1,
        { phase: 'Running', containerStatuses: [cs({ state: running })] },
        { deleted: ago(10 * s) },
      ),
      ['test19', '0/1', 'Terminating', '0'],
    ],
    [
      'pending and being deleted',
      pod('test20', 1, { phase: 'Pending' }, { deleted: ago(10 * s) }),
      ['test20', '0/1', 'Terminating', '0'],
    ],
    [
      'an error next to a running container (kubernetes#107713)',
      pod('test21', 2, {
        phase: 'Failed',
        containerStatuses: [
          cs({ state: { terminated: { finishedAt: now, exitCode: 1, reason: 'podCrash' } } }),
          cs({ ready: true, state: { running: { startedAt: now } } }),
        ],
      }),
      ['test21', '1/2', 'podCrash', '0'],
    ],
    [
      'a running container next to an error',
      pod('test22', 2, {
        phase: 'Failed',
        containerStatuses: [
          cs({ ready: true, state: { running: { startedAt: now } } }),
          cs({ state: { terminated: { finishedAt: now, exitCode: 1, reason: 'podCrash' } } }),
        ],
      }),
      ['test22', '1/2', 'podCrash', '0'],
    ],
    [
      'running, error and completed',
      pod('test23', 3, {
        phase: 'Failed',
        containerStatuses: [
          cs({ ready: true, state: { running: { startedAt: now } } }),
          cs({ ready: true, state: { terminated: { finishedAt: now, exitCode: 1, reason: 'podCrash' } } }),
          cs({ ready: true, state: { terminated: { finishedAt: now, exitCode: 0 } } }),
        ],
      }),
      ['test23', '1/3', 'podCrash', '0'],
    ],
    [
      'not ready: running, error and completed',
      pod('test24', 3, {
        phase: 'Failed',
        containerStatuses: [
          cs({ state: { running: { startedAt: now } } }),
          cs({ state: { terminated: { finishedAt: now, exitCode: 1, reason: 'podCrash' } } }),
          cs({ state: { terminated: { finishedAt: now, exitCode: 0 } } }),
        ],
      }),
      ['test24', '0/3', 'podCrash', '0'],
    ],
    [
      'two sidecars, the first running but not started',
      pod(
        'sidecar1',
        1,
        {
          phase: 'Pending',
          initContainerStatuses: [
            cs({
              name: 'r1',
              restartCount: 3,
              state: running,
              started: false,
              lastState: { terminated: { exitCode: 0, finishedAt: ago(10 * s) } },
            }),
            cs({ name: 'r2', state: { waiting: {} }, started: false }),
          ],
          containerStatuses: [cs({ state: { waiting: {} } })],
          conditions: [{ type: 'Initialized', status: 'False' }],
        },
        {
          init: [
            { name: 'r1', restartPolicy: 'Always' },
            { name: 'r2', restartPolicy: 'Always' },
          ],
        },
      ),
      ['sidecar1', '0/3', 'Init:0/2', '3 (10s ago)'],
    ],
    [
      'two sidecars, the first started',
      pod(
        'sidecar2',
        1,
        {
          phase: 'Pending',
          initContainerStatuses: [
            cs({
              name: 'r1',
              restartCount: 3,
              state: running,
              started: true,
              lastState: { terminated: { exitCode: 0, finishedAt: ago(10 * s) } },
            }),
            cs({ name: 'r2', state: running, started: false }),
          ],
          containerStatuses: [cs({ state: { waiting: {} } })],
          conditions: [{ type: 'Initialized', status: 'False' }],
        },
        {
          init: [
            { name: 'r1', restartPolicy: 'Always' },
            { name: 'r2', restartPolicy: 'Always' },
          ],
        },
      ),
      ['sidecar2', '0/3', 'Init:1/2', '3 (10s ago)'],
    ],
    [
      'two sidecars started and the main container running',
      pod(
        'sidecar3',
        1,
        {
          phase: 'Running',
          initContainerStatuses: [
            cs({
              name: 'r1',
              restartCount: 3,
              state: running,
              started: true,
              lastState: { terminated: { exitCode: 0, finishedAt: ago(10 * s) } },
            }),
            cs({ name: 'r2', state: running, started: true }),
          ],
          containerStatuses: [
            cs({
              ready: true,
              restartCount: 4,
              state: running,
              lastState: { terminated: { exitCode: 0, finishedAt: ago(20 * s) } },
            }),
          ],
          conditions: [{ type: 'Initialized', status: 'True' }],
        },
        {
          init: [
            { name: 'r1', restartPolicy: 'Always' },
            { name: 'r2', restartPolicy: 'Always' },
          ],
        },
      ),
      ['sidecar3', '1/3', 'Running', '7 (10s ago)'],
    ],
    [
      'sidecars that died with the completed main container',
      pod(
        'sidecar4',
        1,
        {
          phase: 'Succeeded',
          initContainerStatuses: [
            cs({
              name: 'r1',
              restartCount: 3,
              state: { terminated: { reason: 'Error', exitCode: 137 } },
              started: false,
              lastState: { terminated: { exitCode: 0, finishedAt: ago(10 * s) } },
            }),
            cs({ name: 'r2', state: { terminated: { reason: 'Error', exitCode: 137 } }, started: false }),
          ],
          containerStatuses: [
            cs({
              restartCount: 4,
              state: { terminated: { reason: 'Completed', exitCode: 0 } },
              lastState: { terminated: { exitCode: 0, finishedAt: ago(20 * s) } },
            }),
          ],
          conditions: [{ type: 'Initialized', status: 'True' }],
        },
        {
          init: [
            { name: 'r1', restartPolicy: 'Always' },
            { name: 'r2', restartPolicy: 'Always' },
          ],
        },
      ),
      ['sidecar4', '0/3', 'Completed', '7 (10s ago)'],
    ],
    [
      'statuses of containers that are not in the spec',
      pod(
        'test4',
        1,
        {
          phase: 'Running',
          initContainerStatuses: [
            cs({ name: 'initinvalid' }),
            cs({ name: 'init1' }),
            cs({ name: 'sidecar1' }),
          ],
          containerStatuses: [cs({ name: 'containerinvalid' }), cs({ name: 'container1' })],
        },
        { init: [{ name: 'init1' }, { name: 'sidecar1', restartPolicy: 'Always' }] },
      ),
      ['test4', '0/2', 'Init:0/2', '0'],
    ],
  ];

  it.each(cases)('%s', (_name, input, [name, ready, status, restarts]) => {
    const summary = summarizePod(input, now);
    expect([summary.name, summary.ready, summary.status, summary.restartsText]).toEqual([
      name,
      ready,
      status,
      restarts,
    ]);
    expect(summary.age).toBe('<unknown>');
  });
});

describe('summarizePod: more kubectl states', () => {
  it.each([
    [
      'CrashLoopBackOff',
      buildPod({ containers: [{ state: { waiting: 'CrashLoopBackOff' }, restartCount: 5 }] }),
    ],
    ['ImagePullBackOff', buildPod({ containers: [{ state: { waiting: 'ImagePullBackOff' } }] })],
    ['OOMKilled', buildPod({ containers: [{ state: { terminated: 'OOMKilled', exitCode: 137 } }] })],
    ['Init:Error', buildPod({ init: [{ state: { terminated: 'Error', exitCode: 1 } }], phase: 'Pending' })],
    ['Init:ExitCode:3', buildPod({ init: [{ state: { terminated: '', exitCode: 3 } }], phase: 'Pending' })],
    [
      'Init:Signal:9',
      buildPod({ init: [{ state: { terminated: '', exitCode: 137, signal: 9 } }], phase: 'Pending' }),
    ],
    [
      'Init:CrashLoopBackOff',
      buildPod({ init: [{ state: { waiting: 'CrashLoopBackOff' } }], phase: 'Pending' }),
    ],
    ['Signal:15', buildPod({ containers: [{ state: { terminated: '', exitCode: 143, signal: 15 } }] })],
    ['ExitCode:2', buildPod({ containers: [{ state: { terminated: '', exitCode: 2 } }] })],
    ['Pending', buildPod({ phase: 'Pending', containers: [{ state: 'none' }], node: '' })],
    [
      'ContainerCreating',
      buildPod({ phase: 'Pending', containers: [{ state: { waiting: 'ContainerCreating' } }] }),
    ],
    ['Evicted', buildPod({ phase: 'Failed', reason: 'Evicted', containers: [{ state: 'none' }] })],
    ['NodeLost', buildPod({ phase: 'Running', reason: 'NodeLost' })],
    ['Unknown', buildPod({ phase: 'Running', reason: 'NodeLost', deletionTimestamp: ago(m) })],
  ])('shows %s', (expected, input) => {
    expect(summarizePod(input, now).status).toBe(expected);
  });

  it('fills AGE and NODE like -o wide', () => {
    const summary = summarizePod(buildPod({ created: ago(3 * h + 12 * m), node: 'kwok-node-1' }), now);
    expect([summary.age, summary.node]).toEqual(['3h12m', 'kwok-node-1']);
    expect(summarizePod(buildPod({ node: '' }), now).node).toBe('<none>');
  });
});

describe('humanDuration (apimachinery HumanDuration)', () => {
  it.each([
    [-5 * s, '<invalid>'],
    [-1 * s, '0s'],
    [0, '0s'],
    [45 * s, '45s'],
    [119 * s, '119s'],
    [2 * m, '2m'],
    [5 * m + 12 * s, '5m12s'],
    [10 * m, '10m'],
    [179 * m, '179m'],
    [3 * h, '3h'],
    [3 * h + 12 * m, '3h12m'],
    [7 * h + 59 * m, '7h59m'],
    [8 * h + 30 * m, '8h'],
    [47 * h, '47h'],
    [2 * d, '2d'],
    [2 * d + 5 * h, '2d5h'],
    [7 * d + 23 * h, '7d23h'],
    [8 * d + 5 * h, '8d'],
    [400 * d, '400d'],
    [730 * d, '2y'],
    [760 * d, '2y30d'],
    [3000 * d, '8y'],
  ])('%i ms → %s', (ms, expected) => {
    expect(humanDuration(ms)).toBe(expected);
  });

  it('formats ages of missing timestamps as <unknown>', () => {
    expect(formatAge(undefined, now)).toBe('<unknown>');
    expect(formatAge(ago(90 * s), now)).toBe('90s');
  });
});

describe('isPodUnhealthy', () => {
  it.each([
    ['a ready running pod', buildPod({}), false],
    [
      'a completed job pod',
      buildPod({ phase: 'Succeeded', containers: [{ state: { terminated: 'Completed' } }] }),
      false,
    ],
    [
      'a pod starting for 20s',
      buildPod({
        created: ago(20 * s),
        phase: 'Pending',
        containers: [{ state: { waiting: 'ContainerCreating' } }],
      }),
      false,
    ],
    [
      'a pod creating containers for 5m',
      buildPod({
        created: ago(5 * m),
        phase: 'Pending',
        containers: [{ state: { waiting: 'ContainerCreating' } }],
      }),
      true,
    ],
    [
      'a crash-looping pod',
      buildPod({ containers: [{ state: { waiting: 'CrashLoopBackOff' }, restartCount: 4 }] }),
      true,
    ],
    [
      'a young pod that cannot pull its image',
      buildPod({ created: ago(10 * s), containers: [{ state: { waiting: 'ErrImagePull' } }] }),
      true,
    ],
    ['a running pod not ready for 5m', buildPod({ containers: [{ ready: false }] }), true],
    [
      'a running pod that restarted 3m ago',
      buildPod({
        containers: [
          { restartCount: 1, lastTerminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: ago(3 * m) } },
        ],
      }),
      true,
    ],
    [
      'a running pod that restarted 2d ago',
      buildPod({
        containers: [
          { restartCount: 1, lastTerminated: { reason: 'Error', exitCode: 1, finishedAt: ago(2 * d) } },
        ],
      }),
      false,
    ],
    [
      'an unschedulable young pod',
      buildPod({
        created: ago(5 * s),
        phase: 'Pending',
        node: '',
        containers: [{ state: 'none' }],
        unschedulable: '0/4 nodes are available: 4 Insufficient cpu.',
      }),
      true,
    ],
    ['a pod terminating within its grace period', buildPod({ deletionTimestamp: ago(10 * s) }), false],
    ['a pod stuck terminating', buildPod({ deletionTimestamp: ago(10 * m) }), true],
    [
      'an evicted pod',
      buildPod({ phase: 'Failed', reason: 'Evicted', containers: [{ state: 'none' }] }),
      true,
    ],
  ])('%s → %s', (_name, input, expected) => {
    expect(isPodUnhealthy(input, now)).toBe(expected);
  });
});

describe('explainPod', () => {
  it('explains a crash loop with the last exit code and reason', () => {
    const p = buildPod({
      containers: [
        {
          state: { waiting: 'CrashLoopBackOff' },
          restartCount: 12,
          lastTerminated: { reason: 'Error', exitCode: 1, finishedAt: ago(2 * m) },
        },
      ],
    });
    expect(explainPod(p, now)).toEqual([
      'container app: CrashLoopBackOff, restarted 12 times; last exit code 1 (Error) 2m ago',
    ]);
  });

  it('explains an OOM kill with the memory limit', () => {
    const p = buildPod({
      containers: [
        {
          state: { waiting: 'CrashLoopBackOff' },
          restartCount: 3,
          memoryLimit: '256Mi',
          lastTerminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: ago(5 * m) },
        },
      ],
    });
    expect(explainPod(p, now)).toEqual([
      'container app: CrashLoopBackOff, restarted 3 times; OOMKilled (exit code 137) 5m ago; memory limit 256Mi',
    ]);
  });

  it('names the image that cannot be pulled', () => {
    const p = buildPod({
      containers: [
        {
          image: 'registry.local/shop/checkout:v9',
          state: {
            waiting: 'ImagePullBackOff',
            message: 'Back-off pulling image "registry.local/shop/checkout:v9"',
          },
        },
      ],
    });
    expect(explainPod(p, now)).toEqual([
      'container app: ImagePullBackOff, cannot pull image "registry.local/shop/checkout:v9": Back-off pulling image "registry.local/shop/checkout:v9"',
    ]);
  });

  it("quotes the scheduler's message for an unschedulable pod", () => {
    const p = buildPod({
      phase: 'Pending',
      node: '',
      containers: [{ state: 'none' }],
      unschedulable: '0/4 nodes are available: 4 Insufficient cpu.',
    });
    expect(explainPod(p, now)).toEqual([
      'not scheduled (Unschedulable): 0/4 nodes are available: 4 Insufficient cpu.',
    ]);
  });

  it('explains an eviction and a config error', () => {
    const evicted = buildPod({
      phase: 'Failed',
      reason: 'Evicted',
      message: 'The node was low on resource: memory.',
      containers: [{ state: 'none' }],
    });
    expect(explainPod(evicted, now)).toEqual(['Evicted: The node was low on resource: memory.']);
    const config = buildPod({
      containers: [{ state: { waiting: 'CreateContainerConfigError', message: 'secret "db" not found' } }],
    });
    expect(explainPod(config, now)).toEqual([
      'container app: CreateContainerConfigError: secret "db" not found',
    ]);
  });

  it('says nothing about a healthy pod', () => {
    expect(explainPod(buildPod({}), now)).toEqual([]);
  });
});

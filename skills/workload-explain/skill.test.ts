import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/planner/grammar.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import type { ListSection, SkillResult } from '../../src/skills/result.ts';
import type { MetricsSource } from '../../src/sources/types.ts';
import {
  buildDeployment,
  buildEvent,
  buildPod,
  buildReplicaSet,
  TEST_NOW,
} from '../../test/support/builders.ts';
import { type FakeKubeOptions, fakeKube, skillContext } from '../../test/support/fake-kube.ts';
import { workloadExplain } from './skill.ts';

const registry = new SkillRegistry([workloadExplain]);
const minutesAgo = (m: number): Date => new Date(TEST_NOW.getTime() - m * 60_000);

async function run(command: string, options: FakeKubeOptions, metrics?: MetricsSource): Promise<SkillResult> {
  const parsed = parseCommand(command, registry);
  if (parsed.kind !== 'skill' || parsed.skill.risk !== 'read') throw new Error('expected a read skill');
  return parsed.skill.run(parsed.input, skillContext(fakeKube(options), { metrics }));
}

function list(result: SkillResult, title: string): string[] {
  const section = result.sections.find((s): s is ListSection => s.type === 'list' && s.title === title);
  if (!section)
    throw new Error(
      `no list "${title}" in ${result.sections.map((s) => ('title' in s ? s.title : s.type)).join(', ')}`,
    );
  return section.items;
}

const crashy: FakeKubeOptions = {
  deployments: [buildDeployment({ name: 'crashy', replicas: 1, available: 0, ready: 0 })],
  replicaSets: [
    buildReplicaSet({ deployment: 'crashy', name: 'crashy-5d4c', replicas: 1, revision: '2' }),
    buildReplicaSet({ deployment: 'crashy', name: 'crashy-4a1b', replicas: 0, revision: '1' }),
  ],
  pods: [
    buildPod({
      name: 'crashy-5d4c-q1',
      labels: { app: 'crashy' },
      containers: [
        {
          name: 'crashy',
          image: 'registry.example.com/shop/crashy:0.9.1',
          state: { waiting: 'CrashLoopBackOff' },
          restartCount: 5,
          lastTerminated: { reason: 'Error', exitCode: 1, finishedAt: minutesAgo(2) },
        },
      ],
    }),
  ],
  logs: [
    {
      pod: 'crashy-5d4c-q1',
      previous: true,
      text: [
        '2026-11-25T07:57:00Z starting crashy 0.9.1',
        '2026-11-25T07:57:01Z connecting with password=hunter2',
        '2026-11-25T07:57:02Z FATAL: config key DATABASE_URL is invalid',
      ].join('\n'),
    },
  ],
  events: [
    buildEvent({
      involved: { kind: 'Pod', name: 'crashy-5d4c-q1' },
      reason: 'BackOff',
      message: 'Back-off restarting failed container crashy in pod crashy-5d4c-q1',
    }),
  ],
};

describe('workload-explain', () => {
  it('explains a crash loop with the exit code and the last lines of the previous container, redacted', async () => {
    const result = await run('/wh explain deploy/crashy -n shop', crashy);
    expect(result.summary).toBe(
      'deploy/crashy in shop: container crashy crashes on start (CrashLoopBackOff).',
    );
    expect(result.tone).toBe('error');
    const evidence = list(result, 'Evidence: container crashy crashes on start (CrashLoopBackOff)');
    expect(evidence).toEqual([
      '"crashy-5d4c-q1/crashy: last exit code 1 (Error), 5 restart(s)"',
      '"(previous) starting crashy 0.9.1"',
      '"(previous) connecting with password=[REDACTED:password]"',
      '"(previous) FATAL: config key DATABASE_URL is invalid"',
    ]);
    expect(list(result, 'What changed recently')).toHaveLength(2);
    expect(list(result, 'What changed recently')[0]).toBe(
      'revision 2 (current): (images not recorded), created 60m ago',
    );
    expect(list(result, 'Warning events')[0]).toMatch(
      /^BackOff pod\/crashy-5d4c-q1 \(×1\): Back-off restarting/,
    );
    expect(list(result, 'Not covered')).toContain(
      'The Wheelhouse audit log is not consulted here; `wheelhouse audit tail` shows changes made through Wheelhouse.',
    );
  });

  it('explains an OOM kill against the memory limit, with the peak memory from Prometheus', async () => {
    const hungry: FakeKubeOptions = {
      deployments: [buildDeployment({ name: 'hungry', replicas: 1, available: 0, ready: 0 })],
      pods: [
        buildPod({
          name: 'hungry-1',
          labels: { app: 'hungry' },
          containers: [
            {
              name: 'hungry',
              memoryLimit: '128Mi',
              state: { terminated: 'OOMKilled', exitCode: 137 },
              restartCount: 3,
              lastTerminated: { reason: 'OOMKilled', exitCode: 137 },
            },
          ],
        }),
      ],
    };
    const queries: string[] = [];
    const metrics: MetricsSource = {
      url: 'http://prom.test',
      async rangeQuery(q) {
        queries.push(q.query);
        return [
          {
            labels: { pod: 'hungry-1' },
            points: [
              [1, 100 * 2 ** 20],
              [2, 127 * 2 ** 20],
            ],
          },
        ];
      },
    };
    const result = await run('/wh explain deploy/hungry -n shop', hungry, metrics);
    expect(result.summary).toBe(
      'deploy/hungry in shop: container hungry is killed for using too much memory (OOMKilled).',
    );
    expect(
      list(result, 'Evidence: container hungry is killed for using too much memory (OOMKilled)'),
    ).toEqual([
      '"hungry-1/hungry: terminated OOMKilled, exit code 137, 3 restart(s)"',
      '"memory limit 128Mi"',
    ]);
    expect(list(result, 'What would fix it')[0]).toMatch(/^Raise the memory limit of hungry above 128Mi/);
    expect(queries[0]).toContain('container_memory_working_set_bytes');
    expect(JSON.stringify(result.sections)).toContain('Peak working set');
  });

  it('names the image that cannot be pulled, and an unschedulable pod with the way to see why', async () => {
    const result = await run('/wh explain deploy/bad-image -n shop', {
      deployments: [buildDeployment({ name: 'bad-image', replicas: 2, available: 0, ready: 0 })],
      pods: [
        buildPod({
          name: 'bad-image-1',
          labels: { app: 'bad-image' },
          phase: 'Pending',
          containers: [
            {
              image: 'registry.example.com/shop/bad-image:does-not-exist',
              state: { waiting: 'ImagePullBackOff', message: 'Back-off pulling image' },
            },
          ],
        }),
        buildPod({
          name: 'bad-image-2',
          labels: { app: 'bad-image' },
          node: '',
          phase: 'Pending',
          containers: [{ state: 'none' }],
          unschedulable: '0/4 nodes are available: 4 Insufficient cpu.',
        }),
      ],
    });
    expect(list(result, 'Findings')).toEqual([
      'image registry.example.com/shop/bad-image:does-not-exist cannot be pulled',
      'pod bad-image-2 cannot be scheduled',
    ]);
    expect(list(result, 'What would fix it')).toContain(
      'See why: `/wh why-pending bad-image-2 -n shop` names the blocking constraint and the fix.',
    );
  });

  it('says so when nothing matches a known pattern, and what it could not read', async () => {
    const result = await run('/wh explain deploy/checkout -n shop', {
      deployments: [buildDeployment()],
      pods: [buildPod()],
      identity: { user: 'alice', groups: [] },
      deny: [{ verb: 'list', resource: 'events' }],
    });
    expect(result.summary).toBe('deploy/checkout in shop: no known failure pattern found; 3/3 ready.');
    expect(result.tone).toBe('success');
    expect(list(result, 'Warning events')[0]).toMatch(/^Events are left out: .*alice.*events/);
  });
});

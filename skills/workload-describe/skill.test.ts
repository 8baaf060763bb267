import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/planner/grammar.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import type { FieldsSection, SkillResult, TableSection, TextSection } from '../../src/skills/result.ts';
import {
  buildDaemonSet,
  buildDeployment,
  buildEvent,
  buildJob,
  buildPod,
  buildReplicaSet,
  buildStatefulSet,
  TEST_NOW,
} from '../../test/support/builders.ts';
import { type FakeKubeOptions, fakeKube, skillContext } from '../../test/support/fake-kube.ts';
import { workloadDescribe } from './skill.ts';

const registry = new SkillRegistry([workloadDescribe]);
const minutesAgo = (m: number): Date => new Date(TEST_NOW.getTime() - m * 60_000);

async function run(command: string, options: FakeKubeOptions): Promise<SkillResult> {
  const parsed = parseCommand(command, registry);
  if (parsed.kind !== 'skill' || parsed.skill.risk !== 'read')
    throw new Error('expected a read skill command');
  return parsed.skill.run(parsed.input, skillContext(fakeKube(options)));
}

function fields(result: SkillResult, title: string | RegExp): Record<string, string> {
  const section = result.sections.find(
    (s): s is FieldsSection =>
      s.type === 'fields' && (typeof title === 'string' ? s.title === title : title.test(s.title ?? '')),
  );
  if (!section) throw new Error(`no fields section ${String(title)}`);
  return Object.fromEntries(section.fields.map((f) => [f.label, f.value]));
}

/** The "Why it is unhealthy" list, which must come first. */
function why(result: SkillResult): string[] {
  const first = result.sections[0];
  if (first?.type !== 'list' || first.title !== 'Why it is unhealthy')
    throw new Error('no "why" section first');
  return first.items;
}

function tables(result: SkillResult): TableSection[] {
  return result.sections.filter((s): s is TableSection => s.type === 'table');
}

function tableWith(result: SkillResult, column: string): TableSection {
  const found = tables(result).find((t) => t.columns.includes(column));
  if (!found) throw new Error(`no table with column ${column}`);
  return found;
}

const healthy: FakeKubeOptions = {
  deployments: [buildDeployment()],
  replicaSets: [buildReplicaSet()],
  pods: ['a', 'b', 'c'].map((x) =>
    buildPod({ name: `checkout-7d9f8c6b5-${x}`, owner: { kind: 'ReplicaSet', name: 'checkout-7d9f8c6b5' } }),
  ),
};

const crashy: FakeKubeOptions = {
  deployments: [buildDeployment({ name: 'crashy', replicas: 1, available: 0, ready: 0 })],
  replicaSets: [buildReplicaSet({ deployment: 'crashy', name: 'crashy-5d4c', replicas: 1 })],
  pods: [
    buildPod({
      name: 'crashy-5d4c-q1',
      labels: { app: 'crashy' },
      containers: [
        {
          state: { waiting: 'CrashLoopBackOff' },
          restartCount: 5,
          lastTerminated: { reason: 'Error', exitCode: 1, finishedAt: minutesAgo(2) },
        },
      ],
    }),
    buildPod({ name: 'other-1', labels: { app: 'other' } }),
  ],
  events: [
    buildEvent({
      involved: { kind: 'Pod', name: 'crashy-5d4c-q1' },
      count: 3,
      lastTimestamp: minutesAgo(4),
      message: 'Back-off restarting failed container app',
    }),
    buildEvent({
      involved: { kind: 'Pod', name: 'crashy-5d4c-q1' },
      count: 4,
      lastTimestamp: minutesAgo(1),
      message: 'Back-off restarting failed container app',
    }),
    buildEvent({
      involved: { kind: 'ReplicaSet', name: 'crashy-5d4c' },
      reason: 'FailedCreate',
      message: 'quota exceeded; password=hunter2',
      lastTimestamp: minutesAgo(3),
    }),
    buildEvent({ involved: { kind: 'Pod', name: 'other-1' }, reason: 'Unhealthy', message: 'not mine' }),
    buildEvent({
      involved: { kind: 'Pod', name: 'crashy-5d4c-q1' },
      type: 'Normal',
      reason: 'Pulled',
      message: 'normal events are left out',
    }),
  ],
};

describe('workload-describe grammar', () => {
  it.each([
    ['/wh describe deploy/checkout -n shop', { target: 'deploy/checkout', namespace: 'shop' }],
    ['/wh status checkout-7d9f8-x2x9q shop', { target: 'checkout-7d9f8-x2x9q', namespace: 'shop' }],
    ['/wh workload-describe sts/db --namespace shop', { target: 'sts/db', namespace: 'shop' }],
  ])('%s', (command, input) => {
    const parsed = parseCommand(command, registry);
    expect(parsed.kind === 'skill' && parsed.input).toEqual(input);
  });

  it('needs a namespace', () => {
    expect(() => parseCommand('/wh describe deploy/checkout', registry)).toThrowError(
      /<namespace> is required/,
    );
  });
});

describe('workload-describe: deployments', () => {
  it('describes a healthy deployment without a "why" section', async () => {
    const result = await run('/wh describe deploy/checkout -n shop', healthy);
    expect(result.summary).toBe('deploy/checkout in shop is healthy: 3/3 ready, rollout complete.');
    expect(result.tone).toBe('success');
    expect(result.sections[0]?.type).toBe('fields');
    const facts = fields(result, 'Deployment shop/checkout');
    expect(facts['Replicas']).toBe('3 desired · 3 updated · 3 ready · 3 available');
    expect(facts['Rollout']).toBe('complete (successfully rolled out)');
    expect(facts['Generation']).toBe('1 (observed)');
    expect(facts['Selector']).toBe('app=checkout');
    expect(fields(result, 'Conditions')['Available']).toBe(
      'True (MinimumReplicasAvailable): Deployment has minimum availability.',
    );
    expect(tableWith(result, 'STATUS').rows.map((r) => r[0])).toEqual([
      'checkout-7d9f8c6b5-a',
      'checkout-7d9f8c6b5-b',
      'checkout-7d9f8c6b5-c',
    ]);
    const text = result.sections.filter((s): s is TextSection => s.type === 'text').map((s) => s.text);
    expect(text).toEqual(['No recent warning events.']);
  });

  it('puts why it is unhealthy first: availability and the crash loop with exit code', async () => {
    const result = await run('/wh describe deploy/crashy -n shop', crashy);
    expect(why(result)).toEqual([
      'only 0 of 1 replicas are available',
      'pod crashy-5d4c-q1: container app: CrashLoopBackOff, restarted 5 times; last exit code 1 (Error) 2m ago',
    ]);
    expect(result.tone).toBe('error');
    expect(result.summary).toBe(
      'deploy/crashy in shop is unhealthy: 0/1 ready; only 0 of 1 replicas are available (+1 more).',
    );
  });

  it('shows container states with the last termination', async () => {
    const result = await run('/wh describe deploy/crashy -n shop', crashy);
    expect(tableWith(result, 'LAST TERMINATION').rows).toEqual([
      ['crashy-5d4c-q1', 'app', 'waiting: CrashLoopBackOff', 'no', '5', 'Error, exit code 1, 2m ago'],
    ]);
  });

  it("merges its pods' and ReplicaSets' warning events, newest first, redacted", async () => {
    const result = await run('/wh describe deploy/crashy -n shop', crashy);
    expect(tableWith(result, 'REASON').rows).toEqual([
      ['60s', 'BackOff', 'pod/crashy-5d4c-q1', '7', 'Back-off restarting failed container app'],
      ['3m', 'FailedCreate', 'rs/crashy-5d4c', '1', 'quota exceeded; password=[REDACTED:password]'],
    ]);
  });

  it('reports an exceeded progress deadline as a failed rollout', async () => {
    const stuck = buildDeployment({
      available: 2,
      updated: 1,
      conditions: [
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: 'ReplicaSet "checkout-6b5" has timed out progressing.',
        },
      ],
    });
    const result = await run('/wh describe deploy/checkout -n shop', { ...healthy, deployments: [stuck] });
    expect(why(result)[0]).toBe(
      'the rollout exceeded its progress deadline of 600s: ReplicaSet "checkout-6b5" has timed out progressing.',
    );
    expect(fields(result, /^Deployment/)['Rollout']).toBe(
      'failed: deployment "checkout" exceeded its progress deadline',
    );
    expect(result.tone).toBe('error');
  });

  it('shows a rollout in progress and an unobserved generation', async () => {
    const rolling = buildDeployment({ updated: 1, current: 4 });
    const facts = fields(
      await run('/wh describe deploy/checkout -n shop', { ...healthy, deployments: [rolling] }),
      /^Deployment/,
    );
    expect(facts['Rollout']).toBe('in progress: 1 out of 3 new replicas have been updated');
    const unseen = buildDeployment({ generation: 5, observedGeneration: 4 });
    const facts2 = fields(
      await run('/wh describe deploy/checkout -n shop', { ...healthy, deployments: [unseen] }),
      /^Deployment/,
    );
    expect(facts2['Rollout']).toBe('in progress: waiting for the deployment controller to see the new spec');
    expect(facts2['Generation']).toBe('5, controller has seen 4 (the newest spec is not acted on yet)');
  });
});

describe('workload-describe: other kinds', () => {
  it('describes a bare pod name as a pod', async () => {
    const result = await run('/wh describe crashy-5d4c-q1 -n shop', crashy);
    expect(result.summary).toBe(
      'pod/crashy-5d4c-q1 in shop is unhealthy: 0/1 ready; container app: CrashLoopBackOff, restarted 5 times; last exit code 1 (Error) 2m ago.',
    );
    expect(fields(result, 'Pod shop/crashy-5d4c-q1')['Status']).toBe('CrashLoopBackOff');
    expect(tableWith(result, 'LAST TERMINATION').columns[0]).toBe('CONTAINER');
    expect(tables(result).some((t) => t.columns.includes('NODE'))).toBe(false);
  });

  it('describes a StatefulSet waiting for ready pods', async () => {
    const result = await run('/wh describe sts/db -n shop', {
      statefulSets: [buildStatefulSet({ ready: 2 })],
      pods: [buildPod({ name: 'db-0', labels: { app: 'db' } })],
    });
    expect(fields(result, 'StatefulSet shop/db')['Rollout']).toBe(
      'in progress: waiting for 1 pods to be ready',
    );
    expect(why(result)).toEqual(['only 2 of 3 replicas are ready']);
  });

  it('describes a DaemonSet', async () => {
    const result = await run('/wh describe ds/log-agent -n shop', { daemonSets: [buildDaemonSet()] });
    expect(result.summary).toBe('ds/log-agent in shop is healthy: 4/4 ready, rollout complete.');
    expect(result.sections).toContainEqual({
      type: 'text',
      text: 'No pods match its selector.',
      tone: 'warning',
    });
  });

  it('explains a failed job', async () => {
    const job = buildJob({
      failed: 7,
      conditions: [
        {
          type: 'Failed',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
        },
      ],
    });
    const result = await run('/wh describe job/migrate -n shop', { jobs: [job] });
    expect(why(result)).toEqual([
      'the job failed (BackoffLimitExceeded: Job has reached the specified backoff limit)',
    ]);
    expect(result.tone).toBe('error');
  });
});

describe('workload-describe: errors', () => {
  it('still answers when events may not be read', async () => {
    const result = await run('/wh describe deploy/checkout -n shop', {
      ...healthy,
      identity: { user: 'alice', groups: [] },
      deny: [{ verb: 'list', resource: 'events' }],
    });
    expect(result.sections.at(-1)).toEqual({
      type: 'text',
      text: 'Events are not shown: Kubernetes does not allow alice to list events in namespace shop.',
      tone: 'info',
    });
  });

  it('reports a missing workload', async () => {
    await expect(run('/wh describe deploy/nope -n shop', healthy)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'deploy/nope was not found in namespace shop.',
    });
  });

  it('rejects an unknown kind', async () => {
    await expect(run('/wh describe svc/checkout -n shop', healthy)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('passes on a refused get', async () => {
    const options = {
      ...healthy,
      identity: { user: 'alice', groups: [] },
      deny: [{ verb: 'get', resource: 'deployments' }],
    };
    await expect(run('/wh describe deploy/checkout -n shop', options)).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'Kubernetes does not allow alice to get deployments in namespace shop.',
    });
  });
});

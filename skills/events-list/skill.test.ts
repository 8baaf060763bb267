import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/planner/grammar.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import type { SkillResult, TableSection } from '../../src/skills/result.ts';
import {
  buildDeployment,
  buildEvent,
  buildPod,
  buildReplicaSet,
  TEST_NOW,
} from '../../test/support/builders.ts';
import { type FakeKubeOptions, fakeKube, skillContext } from '../../test/support/fake-kube.ts';
import { eventsList } from './skill.ts';

const registry = new SkillRegistry([eventsList]);
const minutesAgo = (m: number): Date => new Date(TEST_NOW.getTime() - m * 60_000);

const world: FakeKubeOptions = {
  namespaces: ['shop', 'payments'],
  deployments: [buildDeployment()],
  replicaSets: [buildReplicaSet()],
  pods: [buildPod({ name: 'checkout-7d9f8c6b5-a' }), buildPod({ name: 'cart-1', labels: { app: 'cart' } })],
  events: [
    buildEvent({
      involved: { kind: 'Pod', name: 'checkout-7d9f8c6b5-a' },
      reason: 'Unhealthy',
      message: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
      count: 5,
      lastTimestamp: minutesAgo(8),
    }),
    // The same warning again (e.g. after a controller restart): merged, counts summed, newest time kept.
    buildEvent({
      involved: { kind: 'Pod', name: 'checkout-7d9f8c6b5-a' },
      reason: 'Unhealthy',
      message: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
      series: { count: 12, lastObservedTime: minutesAgo(1) },
      eventTime: minutesAgo(30),
    }),
    buildEvent({
      involved: { kind: 'ReplicaSet', name: 'checkout-7d9f8c6b5' },
      reason: 'FailedCreate',
      message: 'Error creating: pods "checkout-7d9f8c6b5-z" is forbidden: exceeded quota: compute',
      lastTimestamp: minutesAgo(5),
    }),
    buildEvent({
      involved: { kind: 'Deployment', name: 'checkout' },
      type: 'Normal',
      reason: 'ScalingReplicaSet',
      message: 'Scaled up replica set checkout-7d9f8c6b5 to 3',
      lastTimestamp: minutesAgo(20),
    }),
    buildEvent({
      involved: { kind: 'Pod', name: 'cart-1' },
      reason: 'BackOff',
      message: 'Back-off pulling image with token=abc123',
      lastTimestamp: minutesAgo(3),
    }),
    buildEvent({
      namespace: 'payments',
      involved: { kind: 'Pod', name: 'pay-1' },
      reason: 'FailedScheduling',
      message: '0/4 nodes are available: 4 Insufficient cpu.',
      lastTimestamp: minutesAgo(2),
    }),
  ],
};

async function run(command: string, options: FakeKubeOptions = world): Promise<SkillResult> {
  const parsed = parseCommand(command, registry);
  if (parsed.kind !== 'skill' || parsed.skill.risk !== 'read')
    throw new Error('expected a read skill command');
  return parsed.skill.run(parsed.input, skillContext(fakeKube(options)));
}

function table(result: SkillResult): TableSection {
  const section = result.sections.find((s): s is TableSection => s.type === 'table');
  if (!section) throw new Error('no table');
  return section;
}

describe('events-list grammar', () => {
  it.each([
    ['/wh events shop', { target: 'shop' }],
    ['/wh events -n shop --all', { namespace: 'shop', all: true }],
    ['/wh events deploy/checkout -n shop', { target: 'deploy/checkout', namespace: 'shop' }],
    ['/wh ev pod/cart-1 shop', { target: 'pod/cart-1', namespace: 'shop' }],
    ['/wh events -A', { allNamespaces: true }],
  ])('%s', (command, input) => {
    const parsed = parseCommand(command, registry);
    expect(parsed.kind === 'skill' && parsed.input).toEqual(input);
  });

  it('needs a namespace for an object', () => {
    expect(() => parseCommand('/wh events deploy/checkout', registry)).toThrowError(
      /<namespace> is required/,
    );
  });

  it('keeps every example runnable as written', () => {
    for (const example of eventsList.examples) {
      const parsed = parseCommand(example.command, registry);
      expect(parsed.kind === 'skill' && parsed.input).toEqual(example.input);
    }
  });
});

describe('events-list', () => {
  it('lists the warnings of a namespace, newest first, merged and redacted', async () => {
    const result = await run('/wh events shop');
    const t = table(result);
    expect(t.columns).toEqual(['LAST SEEN', 'REASON', 'OBJECT', 'COUNT', 'MESSAGE']);
    expect(t.rows).toEqual([
      [
        '60s',
        'Unhealthy',
        'pod/checkout-7d9f8c6b5-a',
        '17',
        'Readiness probe failed: HTTP probe failed with statuscode: 503',
      ],
      ['3m', 'BackOff', 'pod/cart-1', '1', 'Back-off pulling image with token=[REDACTED:token]'],
      [
        '5m',
        'FailedCreate',
        'rs/checkout-7d9f8c6b5',
        '1',
        'Error creating: pods "checkout-7d9f8c6b5-z" is forbidden: exceeded quota: compute',
      ],
    ]);
    expect(result.summary).toBe('3 warning events in shop, newest 60s ago.');
    expect(result.tone).toBe('warning');
  });

  it('includes Normal events with --all and shows their type', async () => {
    const t = table(await run('/wh events -n shop --all'));
    expect(t.columns).toContain('TYPE');
    expect(t.rows.map((r) => `${r[1]} ${r[2]}`)).toContain('Normal ScalingReplicaSet');
  });

  it("shows a deployment's events with its ReplicaSets' and pods'", async () => {
    const result = await run('/wh events deploy/checkout -n shop --all');
    expect(table(result).rows.map((r) => r[3])).toEqual([
      'pod/checkout-7d9f8c6b5-a',
      'rs/checkout-7d9f8c6b5',
      'deploy/checkout',
    ]);
    expect(result.summary).toBe('3 events for deploy/checkout in shop, newest 60s ago.');
  });

  it("shows one pod's events", async () => {
    const result = await run('/wh events pod/cart-1 -n shop');
    expect(table(result).rows.map((r) => r[1])).toEqual(['BackOff']);
  });

  it('lists every namespace with -A', async () => {
    const t = table(await run('/wh events -A'));
    expect(t.columns).toContain('NAMESPACE');
    expect(t.rows.map((r) => `${r[2]} ${r[3]}`)).toEqual([
      'shop pod/checkout-7d9f8c6b5-a',
      'payments pod/pay-1',
      'shop pod/cart-1',
      'shop rs/checkout-7d9f8c6b5',
    ]);
  });

  it('says so when there are no warnings', async () => {
    const result = await run('/wh events payments', { ...world, events: [] });
    expect(result.summary).toBe('No warning events in payments.');
    expect(result.tone).toBe('success');
  });

  it('caps long lists and says how many there were', async () => {
    const many = Array.from({ length: 130 }, (_, i) =>
      buildEvent({ reason: `R${i}`, message: `m${i}`, lastTimestamp: minutesAgo(i) }),
    );
    const t = table(await run('/wh events shop', { ...world, events: many }));
    expect(t.rows).toHaveLength(100);
    expect(t.caption).toBe('Newest 100 of 130; repeated events are merged and counted.');
  });

  it('reports an unknown pod that has no events', async () => {
    await expect(run('/wh events pod/ghost -n shop')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'pod/ghost was not found in namespace shop.',
    });
  });

  it('reports an unknown namespace', async () => {
    await expect(run('/wh events nope')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'Namespace nope does not exist.',
    });
  });

  it('passes on a refused list', async () => {
    const options = {
      ...world,
      identity: { user: 'alice', groups: [] },
      deny: [{ verb: 'list', resource: 'events', namespace: 'payments' }],
    };
    await expect(run('/wh events payments', options)).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'Kubernetes does not allow alice to list events in namespace payments.',
    });
  });

  it('summarizes for audit', () => {
    expect(eventsList.summarize({ target: 'shop' })).toBe('list warning events in shop');
    expect(eventsList.summarize({ target: 'deploy/checkout', namespace: 'shop', all: true })).toBe(
      'list events of deploy/checkout in shop',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { isWheelhouseError } from '../../src/errors.ts';
import { parseCommand } from '../../src/planner/grammar.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import type { ListSection, SkillResult, TableSection } from '../../src/skills/result.ts';
import { buildPod, TEST_NOW } from '../../test/support/builders.ts';
import { fakeKube, skillContext } from '../../test/support/fake-kube.ts';
import { podsList } from './skill.ts';

const registry = new SkillRegistry([podsList]);
const minutesAgo = (m: number): Date => new Date(TEST_NOW.getTime() - m * 60_000);

const pods = [
  buildPod({ name: 'checkout-a', labels: { app: 'checkout' } }),
  buildPod({
    name: 'checkout-b',
    labels: { app: 'checkout' },
    containers: [
      {
        state: { waiting: 'CrashLoopBackOff' },
        restartCount: 7,
        lastTerminated: { reason: 'Error', exitCode: 1, finishedAt: minutesAgo(2) },
      },
    ],
  }),
  buildPod({ name: 'cart-a', labels: { app: 'cart' }, node: 'kwok-node-2' }),
  buildPod({
    name: 'pay-a',
    namespace: 'payments',
    labels: { app: 'pay' },
    containers: [{ state: { waiting: 'ImagePullBackOff' }, image: 'registry.local/pay:9' }],
  }),
];

async function run(command: string, kube = fakeKube({ pods })): Promise<SkillResult> {
  const parsed = parseCommand(command, registry);
  if (parsed.kind !== 'skill' || parsed.skill.risk !== 'read')
    throw new Error('expected a read skill command');
  return parsed.skill.run(parsed.input, skillContext(kube));
}

function table(result: SkillResult): TableSection {
  const section = result.sections.find((s) => s.type === 'table');
  if (section?.type !== 'table') throw new Error('no table');
  return section;
}

function why(result: SkillResult): ListSection | undefined {
  const section = result.sections.find((s) => s.type === 'list');
  return section?.type === 'list' ? section : undefined;
}

describe('pods-list grammar', () => {
  it.each([
    ['/wh pods shop', { namespace: 'shop' }],
    ['/wh po -n shop', { namespace: 'shop' }],
    [
      '/wh get-pods shop app=checkout --unhealthy',
      { namespace: 'shop', selector: 'app=checkout', unhealthy: true },
    ],
    ['/wh pods shop -l app=checkout,tier!=web', { namespace: 'shop', selector: 'app=checkout,tier!=web' }],
    ['/wh pods -A --unhealthy', { allNamespaces: true, unhealthy: true }],
  ])('%s', (command, input) => {
    const parsed = parseCommand(command, registry);
    expect(parsed.kind === 'skill' && parsed.input).toEqual(input);
  });

  it('asks for a namespace unless -A is given', () => {
    expect(() => parseCommand('/wh pods', registry)).toThrowError(
      /<namespace> is required unless --all-namespaces/,
    );
  });

  it('keeps every example runnable as written', () => {
    for (const example of podsList.examples) {
      const parsed = parseCommand(example.command, registry);
      expect(parsed.kind === 'skill' && parsed.input).toEqual(example.input);
    }
  });
});

describe('pods-list', () => {
  it("lists a namespace's pods with kubectl's columns, sorted by name", async () => {
    const result = await run('/wh pods shop');
    const t = table(result);
    expect(t.columns).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'NODE']);
    expect(t.rows).toEqual([
      ['cart-a', '1/1', 'Running', '0', '60m', 'kwok-node-2'],
      ['checkout-a', '1/1', 'Running', '0', '60m', 'kwok-node-0'],
      ['checkout-b', '0/1', 'CrashLoopBackOff', '7 (2m ago)', '60m', 'kwok-node-0'],
    ]);
    expect(t.caption).toBe('1 of 3 pods is unhealthy.');
    expect(result.summary).toBe('3 pods in shop, 1 unhealthy.');
    expect(result.tone).toBe('warning');
  });

  it('explains why unhealthy pods are unhealthy', async () => {
    const result = await run('/wh pods shop');
    expect(why(result)?.items).toEqual([
      'checkout-b: container app: CrashLoopBackOff, restarted 7 times; last exit code 1 (Error) 2m ago',
    ]);
  });

  it('filters by selector and to unhealthy pods', async () => {
    const kube = fakeKube({ pods });
    const result = await run('/wh pods shop app=checkout --unhealthy', kube);
    expect(kube.calls).toEqual([
      { method: 'listPods', args: { namespace: 'shop', selector: 'app=checkout' } },
    ]);
    expect(table(result).rows.map((r) => r[0])).toEqual(['checkout-b']);
    expect(result.summary).toBe('2 pods in shop matching app=checkout, 1 unhealthy.');
  });

  it('adds a NAMESPACE column across all namespaces', async () => {
    const kube = fakeKube({ pods });
    const result = await run('/wh pods -A --unhealthy', kube);
    expect(kube.calls[0]?.args).toEqual({ namespace: undefined, selector: undefined });
    const t = table(result);
    expect(t.columns[0]).toBe('NAMESPACE');
    expect(t.rows.map((r) => `${r[0]}/${r[1]}`)).toEqual(['payments/pay-a', 'shop/checkout-b']);
    expect(why(result)?.items[0]).toBe(
      'payments/pay-a: container app: ImagePullBackOff, cannot pull image "registry.local/pay:9"',
    );
  });

  it('says so when every pod is healthy', async () => {
    const result = await run('/wh pods shop app=cart --unhealthy');
    expect(result).toEqual({
      summary: 'The only pod in shop matching app=cart is healthy.',
      tone: 'success',
      sections: [],
    });
  });

  it('says so when there are no pods', async () => {
    const result = await run('/wh pods shop', fakeKube({ pods: [] }));
    expect(result.summary).toBe('No pods in shop.');
    expect(result.sections).toEqual([]);
  });

  it('caps the explanations and points to describe for the rest', async () => {
    const many = Array.from({ length: 13 }, (_, i) =>
      buildPod({
        name: `p-${String(i).padStart(2, '0')}`,
        containers: [{ state: { waiting: 'ErrImagePull' } }],
      }),
    );
    const result = await run('/wh pods shop', fakeKube({ pods: many }));
    const items = why(result)?.items ?? [];
    expect(items).toHaveLength(11);
    expect(items[10]).toMatch(/^…and 3 more; `\/wh describe pod\/NAME -n NAMESPACE`/);
    expect(table(result).rows).toHaveLength(13);
  });

  it('reports an unknown namespace instead of an empty table', async () => {
    await expect(run('/wh pods nope')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'Namespace nope does not exist.',
    });
  });

  it('passes on what Kubernetes refused', async () => {
    const kube = fakeKube({
      pods,
      identity: { user: 'alice', groups: [] },
      deny: [{ verb: 'list', resource: 'pods', namespace: 'payments' }],
    });
    const error = await run('/wh pods payments', kube).catch((e: unknown) => e);
    expect(isWheelhouseError(error) && [error.code, error.message]).toEqual([
      'FORBIDDEN',
      'Kubernetes does not allow alice to list pods in namespace payments.',
    ]);
  });

  it('passes on an unreachable cluster', async () => {
    await expect(run('/wh pods shop', fakeKube({ unreachable: true }))).rejects.toMatchObject({
      code: 'KUBE_UNREACHABLE',
    });
  });

  it('summarizes for audit', () => {
    expect(podsList.summarize({ namespace: 'shop', selector: 'app=checkout', unhealthy: true })).toBe(
      'list unhealthy pods with app=checkout in shop',
    );
    expect(podsList.summarize({ allNamespaces: true })).toBe('list pods in all namespaces');
  });
});

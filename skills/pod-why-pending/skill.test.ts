import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { filterNodes, parseQuantity, podRequests, tolerates } from '../../src/kube/scheduling-filter.ts';
import { parseCommand } from '../../src/planner/grammar.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import type { ListSection, SkillResult, TableSection } from '../../src/skills/result.ts';
import { buildDeployment, buildEvent, buildNode, buildPod } from '../../test/support/builders.ts';
import { type FakeKubeOptions, fakeKube, skillContext } from '../../test/support/fake-kube.ts';
import { podWhyPending } from './skill.ts';

const registry = new SkillRegistry([podWhyPending]);

async function run(command: string, options: FakeKubeOptions): Promise<SkillResult> {
  const parsed = parseCommand(command, registry);
  if (parsed.kind !== 'skill' || parsed.skill.risk !== 'read') throw new Error('expected a read skill');
  return parsed.skill.run(parsed.input, skillContext(fakeKube(options)));
}

/** A kwok-like node: 8 cpu, 32Gi, 110 pods, with optional labels, taints and cordon. */
function node(
  name: string,
  options: { cpu?: string; memory?: string; labels?: Record<string, string>; taints?: V1Node['spec'] } = {},
): V1Node {
  const built = buildNode(name);
  return {
    ...built,
    metadata: { ...built.metadata, labels: { ...built.metadata?.labels, ...options.labels } },
    spec: options.taints ?? {},
    status: {
      ...built.status,
      allocatable: { cpu: options.cpu ?? '8', memory: options.memory ?? '32Gi', pods: '110' },
    },
  };
}

/** A pending pod requesting `cpu` and `memory`, with optional scheduling constraints. */
function pending(
  name: string,
  requests: { cpu?: string; memory?: string },
  spec: Partial<NonNullable<V1Pod['spec']>> = {},
  message = '0/4 nodes are available: 4 Insufficient cpu.',
): V1Pod {
  const pod = buildPod({ name, labels: { app: name }, node: '', phase: 'Pending', unschedulable: message });
  const [container] = pod.spec?.containers ?? [];
  return {
    ...pod,
    spec: {
      ...pod.spec,
      ...spec,
      containers: [{ ...container, name: name, resources: { requests: { ...requests } } }],
    },
  };
}

/** A running pod on `nodeName` that holds `cpu`. */
function running(name: string, nodeName: string, cpu: string, namespace = 'shop'): V1Pod {
  const pod = buildPod({ name, namespace, node: nodeName, labels: { app: name } });
  const [container] = pod.spec?.containers ?? [];
  return {
    ...pod,
    spec: { ...pod.spec, containers: [{ ...container, name, resources: { requests: { cpu } } }] },
  };
}

function list(result: SkillResult, title: string): string[] {
  const section = result.sections.find((s): s is ListSection => s.type === 'list' && s.title === title);
  if (!section) throw new Error(`no list "${title}" in ${JSON.stringify(result.sections)}`);
  return section.items;
}

function table(result: SkillResult): TableSection {
  const section = result.sections.find((s): s is TableSection => s.type === 'table');
  if (!section) throw new Error('no table');
  return section;
}

const four = ['kwok-node-0', 'kwok-node-1', 'kwok-node-2', 'kwok-node-3'].map((n) => node(n));

describe('scheduling filter', () => {
  it('parses Kubernetes quantities', () => {
    expect([parseQuantity('64'), parseQuantity('250m'), parseQuantity('1Gi'), parseQuantity('1e3')]).toEqual([
      64,
      0.25,
      2 ** 30,
      1000,
    ]);
    expect(parseQuantity('12x')).toBeNaN();
  });

  it('sums container requests, takes the largest classic init container, adds sidecars', () => {
    const pod = pending('p', { cpu: '500m' });
    pod.spec = {
      ...pod.spec,
      containers: pod.spec?.containers ?? [],
      initContainers: [
        { name: 'migrate', resources: { requests: { cpu: '2' } } },
        { name: 'proxy', restartPolicy: 'Always', resources: { requests: { cpu: '100m' } } },
      ],
    };
    expect(podRequests(pod).get('cpu')).toBeCloseTo(2.1);
    expect(podRequests(pod).get('pods')).toBe(1);
  });

  it('tolerates like the scheduler: key, operator, value and effect', () => {
    const taint = { key: 'gpu', value: 'true', effect: 'NoSchedule' };
    expect(tolerates([{ key: 'gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }], taint)).toBe(
      true,
    );
    expect(tolerates([{ key: 'gpu', operator: 'Exists' }], taint)).toBe(true);
    expect(tolerates([{ operator: 'Exists' }], taint)).toBe(true);
    expect(tolerates([{ key: 'gpu', operator: 'Equal', value: 'false' }], taint)).toBe(false);
    expect(tolerates([{ key: 'gpu', operator: 'Exists', effect: 'NoExecute' }], taint)).toBe(false);
  });

  it("subtracts other pods' requests on the same node, not terminal ones", () => {
    const pod = pending('p', { cpu: '3' });
    const others = [running('a', 'n1', '6'), { ...running('b', 'n2', '6'), status: { phase: 'Succeeded' } }];
    const report = filterNodes(pod, [node('n1'), node('n2')], others);
    expect(report.verdicts.map((v) => [v.node, v.failures.map((f) => f.reason)])).toEqual([
      ['n1', ['Insufficient cpu']],
      ['n2', []],
    ]);
    expect(report.headline).toBe('1/2 nodes are available: 1 Insufficient cpu.');
  });
});

describe('pod-why-pending', () => {
  it('explains the seeded huge pod: no node has 64 cpu, and says what would fix it', async () => {
    const huge = pending('huge', { cpu: '64', memory: '1Gi' });
    const result = await run('/wh why-pending huge -n shop', {
      pods: [huge, running('checkout-1', 'kwok-node-0', '250m')],
      nodes: four,
      events: [
        buildEvent({
          reason: 'FailedScheduling',
          involved: { kind: 'Pod', name: 'huge' },
          message: '0/4 nodes are available: 4 Insufficient cpu. preemption: 0/4 nodes are available.',
        }),
      ],
    });
    expect(result.summary).toBe('pod huge in shop cannot be scheduled: Insufficient cpu on 4 of 4 nodes.');
    expect(result.tone).toBe('error');
    expect(list(result, 'What blocks it')).toEqual([
      'Insufficient cpu on 4 of 4 node(s) (requests 64, allocatable 8, already requested by other pods 250m)',
    ]);
    expect(list(result, 'What would fix it')).toEqual([
      'No node has 64 cpu allocatable (the largest has 8): lower the cpu request to at most 8, or add a node with more cpu.',
    ]);
    expect(table(result).caption).toBe('0/4 nodes are available: 4 Insufficient cpu.');
    expect(list(result, 'The scheduler said')).toContain(
      '"0/4 nodes are available: 4 Insufficient cpu. preemption: 0/4 nodes are available."',
    );
  });

  it('names an untolerated taint and a node selector that no node matches', async () => {
    const pod = pending('trainer', { cpu: '1' }, { nodeSelector: { gpu: 'a100' } });
    const nodes = [
      node('plain'),
      node('gpu-1', {
        labels: { gpu: 'a100' },
        taints: { taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] },
      }),
    ];
    const result = await run('/wh why-pending trainer -n shop', { pods: [pod], nodes });
    expect(table(result).rows).toEqual([
      [
        'plain',
        'no',
        "node(s) didn't match Pod's node affinity/selector (nodeSelector gpu=a100, node has gpu=(unset))",
      ],
      ['gpu-1', 'no', 'node(s) had untolerated taint {gpu: true} (gpu=true:NoSchedule)'],
    ]);
    expect(list(result, 'What would fix it')).toEqual([
      'Add a toleration for gpu=true:NoSchedule to the pod (if it should run there), or remove the taint from the node(s).',
      "No node matches the pod's nodeSelector/required node affinity (nodeSelector gpu=a100, node has gpu=(unset)): label a node to match, or relax the selector.",
    ]);
    const tolerated = pending(
      'trainer',
      { cpu: '1' },
      {
        nodeSelector: { gpu: 'a100' },
        tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }],
      },
    );
    const fixed = await run('/wh why-pending trainer -n shop', { pods: [tolerated], nodes });
    expect(fixed.summary).toMatch(/though 1 node\(s\) pass the filters I check/);
  });

  it('applies required node affinity (In, NotIn) and cordoned nodes', async () => {
    const pod = pending(
      'zonal',
      { cpu: '1' },
      {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
            },
          },
        },
      },
    );
    const nodes = [
      node('in-b', { labels: { zone: 'b' } }),
      node('in-a', { labels: { zone: 'a' }, taints: { unschedulable: true } }),
    ];
    const result = await run('/wh why-pending zonal -n shop', { pods: [pod], nodes });
    expect(table(result).rows.map((r) => [r[0], r[2]?.split(' (')[0]])).toEqual([
      ['in-b', "node(s) didn't match Pod's node affinity/selector"],
      ['in-a', 'node(s) were unschedulable'],
    ]);
    expect(list(result, 'What would fix it')).toContain(
      'Uncordon a node (kubectl uncordon NODE) when it is safe.',
    );
  });

  it('says when capacity exists but is taken by other pods', async () => {
    const pod = pending('mid', { cpu: '4' });
    const others = [running('a', 'n1', '6'), running('b', 'n2', '5', 'payments')];
    const result = await run('/wh why-pending mid -n shop', {
      pods: [pod, ...others],
      nodes: [node('n1'), node('n2')],
    });
    expect(list(result, 'What would fix it')).toEqual([
      'Nodes are big enough but their cpu is already requested by other pods: lower the request, scale down or move other workloads, or add a node.',
    ]);
  });

  it('without permission to read nodes, quotes the scheduler and says why it could not check', async () => {
    const huge = pending('huge', { cpu: '64' });
    const result = await run('/wh why-pending pod/huge -n shop', {
      pods: [huge],
      nodes: four,
      identity: { user: 'bob', groups: [] },
      deny: [{ verb: 'list', resource: 'nodes' }],
    });
    expect(result.summary).toBe(
      'pod huge in shop is not scheduled: 0/4 nodes are available: 4 Insufficient cpu.',
    );
    expect(list(result, 'What would fix it')).toEqual([
      "Lower the pod's cpu request, or add nodes with more cpu.",
    ]);
    expect(JSON.stringify(result.sections)).toMatch(/I could not check the nodes myself: .*bob.*nodes/);
  });

  it('counts only the namespace when pods of other namespaces may not be listed, and says so', async () => {
    const pod = pending('mid', { cpu: '4' });
    const result = await run('/wh why-pending mid -n shop', {
      pods: [pod, running('a', 'n1', '6', 'payments')],
      nodes: [node('n1')],
      identity: { user: 'bob', groups: [] },
      deny: [{ verb: 'list', resource: 'pods', namespace: undefined }],
    });
    // Denying every list of pods also denies the namespace; the answer still stands on the nodes.
    expect(table(result).caption).toMatch(/Only pods in shop are counted/);
    expect(table(result).rows[0]?.[1]).toBe('yes');
  });

  it('for a workload, explains its first pending pod; a scheduled one is no mystery', async () => {
    const trainer = buildDeployment({ name: 'trainer', replicas: 2 });
    const a = pending('trainer-a', { cpu: '64' });
    const b = pending('trainer-b', { cpu: '64' });
    for (const p of [a, b]) p.metadata = { ...p.metadata, labels: { app: 'trainer' } };
    const result = await run('/wh why-pending deploy/trainer -n shop', {
      deployments: [trainer],
      pods: [a, b],
      nodes: four,
    });
    expect(result.summary).toBe(
      'pod trainer-a in shop cannot be scheduled (1 more pod(s) of it pending alike): Insufficient cpu on 4 of 4 nodes.',
    );
    const fine = await run('/wh why-pending checkout-7d9f8c6b5-x2x9q -n shop', {
      pods: [buildPod()],
      nodes: four,
    });
    expect(fine.summary).toBe(
      'pod/checkout-7d9f8c6b5-x2x9q in shop has no pending pod: every pod is scheduled.',
    );
  });
});

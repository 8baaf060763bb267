import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { isWheelhouseError } from '../../src/errors.ts';
import { mergeEvents } from '../../src/kube/event-summary.ts';
import {
  type FilterReport,
  filterNodes,
  formatQuantity,
  type NodeFailure,
  parseQuantity,
} from '../../src/kube/scheduling-filter.ts';
import type { KubeReader } from '../../src/kube/types.ts';
import { formatWorkloadRef, parseWorkloadRef } from '../../src/kube/workload-ref.ts';
import type { SkillContext } from '../../src/skills/context.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import type { Section, SkillResult } from '../../src/skills/result.ts';
import { dnsLabel } from '../../src/skills/schema.ts';

export const podWhyPending = defineSkill({
  name: 'pod-why-pending',
  title: 'Why a pod is not scheduled',
  description:
    "Explains why a pod is Pending and not scheduled, reasoning as kube-scheduler's filters do: requests against " +
    "each node's allocatable minus other pods' requests, taints and tolerations, nodeSelector and required node affinity, " +
    'cordoned nodes; then names the constraint that blocks it and what would fix it. ' +
    'Use when asked why a pod is pending, unschedulable, stuck or not starting with FailedScheduling. ' +
    'Not for pods that run but crash (use workload-explain) or image pull problems (use workload-describe).',
  input: z.object({
    target: z
      .string()
      .min(1)
      .max(300)
      .describe(
        'The pod, or a workload whose pending pods to explain, e.g. "huge", "pod/huge" or "deploy/ml-trainer"',
      ),
    namespace: dnsLabel.describe('Namespace, e.g. "shop"'),
  }),
  risk: 'read',
  verbs: ['get', 'list'],
  resources: ['pods', 'nodes', 'events'],
  grammar: {
    command: 'why-pending',
    aliases: ['pending'],
    positional: ['target', 'namespace'],
    short: { n: 'namespace' },
  },
  examples: [
    {
      utterance: 'why is the huge pod in shop still pending?',
      command: '/wh why-pending huge -n shop',
      input: { target: 'huge', namespace: 'shop' },
    },
    {
      utterance: 'the ml-trainer deployment does not start, pods are unschedulable',
      command: '/wh why-pending deploy/ml-trainer -n shop',
      input: { target: 'deploy/ml-trainer', namespace: 'shop' },
    },
  ],
  summarize: (i) => `explain why ${i.target} in ${i.namespace} is pending`,
  async run(input, ctx) {
    const ref = parseWorkloadRef(input.target, input.namespace);
    const workload = await ctx.kube.getWorkload(ref);
    const pods = workload.kind === 'Pod' ? [workload.object] : await ctx.kube.podsOf(ref);
    const pending = pods.filter((p) => !p.spec?.nodeName && p.status?.phase === 'Pending');
    const where = `${formatWorkloadRef(ref)} in ${ref.namespace}`;
    const [pod] = pending;
    if (!pod) {
      const placed = pods.map((p) => `${p.metadata?.name ?? '?'} on ${p.spec?.nodeName ?? '(no node)'}`);
      return {
        summary: `${where} has no pending pod: every pod is scheduled.`,
        tone: 'success',
        sections: placed.length ? [{ type: 'list', title: 'Placement', items: placed }] : [],
      };
    }
    return explainPending(pod, pending.length, ctx);
  },
});

async function explainPending(pod: V1Pod, pendingCount: number, ctx: SkillContext): Promise<SkillResult> {
  const name = pod.metadata?.name ?? '?';
  const namespace = pod.metadata?.namespace ?? '';
  const scheduler = await schedulerSays(ctx.kube, pod);
  const nodes = await readOrReason(() => ctx.kube.listNodes());
  const also = pendingCount > 1 ? ` (${pendingCount - 1} more pod(s) of it pending alike)` : '';

  if (typeof nodes === 'string') {
    // Without nodes only the scheduler's verdict is left: quote it, and say why the rest is missing.
    return {
      summary: `pod ${name} in ${namespace} is not scheduled${also}: ${scheduler[0] ?? 'no reason recorded yet'}`,
      tone: 'warning',
      sections: [
        schedulerSection(scheduler),
        { type: 'list', title: 'What would fix it', items: fixesFromMessage(scheduler.join(' ')) },
        { type: 'text', tone: 'info', text: `I could not check the nodes myself: ${nodes}` },
      ],
    };
  }
  const others = await otherPods(ctx.kube, namespace);
  const report = filterNodes(pod, nodes, others.pods);
  const fits = report.verdicts.filter((v) => v.failures.length === 0).map((v) => v.node);
  const sections: Section[] = [];
  const blocking = report.counts.map(
    (c) => `${c.reason} on ${c.nodes} of ${nodes.length} node(s)${detailFor(report, c.reason)}`,
  );
  if (fits.length) {
    sections.push({
      type: 'text',
      tone: 'info',
      text: `By the filters I check, ${fits.join(', ')} could take it now: the scheduler may not have retried yet, or a check I do not make (inter-pod affinity, topology spread, volumes, ports) blocks it.`,
    });
  } else {
    sections.push({ type: 'list', title: 'What blocks it', items: blocking, tone: 'error' });
    sections.push({ type: 'list', title: 'What would fix it', items: fixes(report, nodes) });
  }
  sections.push(
    {
      type: 'fields',
      title: `What pod ${name} requests`,
      fields: [...report.requests]
        .filter(([resource]) => resource !== 'pods')
        .map(([resource, amount]) => ({ label: resource, value: formatQuantity(resource, amount) })),
    },
    {
      type: 'table',
      columns: ['NODE', 'FITS', 'WHY NOT'],
      rows: report.verdicts.map((v) => [
        v.node,
        v.failures.length ? 'no' : 'yes',
        v.failures.map((f) => `${f.reason} (${f.detail})`).join('; ') || '-',
      ]),
      caption: `${report.headline}${others.note ? ` ${others.note}` : ''}`,
    },
    schedulerSection(scheduler),
  );
  const main = report.counts[0];
  return {
    summary: fits.length
      ? `pod ${name} in ${namespace} is pending${also}, though ${fits.length} node(s) pass the filters I check.`
      : `pod ${name} in ${namespace} cannot be scheduled${also}: ${main ? `${main.reason} on ${main.nodes} of ${nodes.length} nodes` : 'there are no nodes'}.`,
    tone: fits.length ? 'warning' : 'error',
    sections: sections.map((s) => (s.type === 'text' ? { ...s, text: ctx.redact(s.text) } : s)),
  };
}

function detailFor(report: FilterReport, reason: string): string {
  const failure = report.verdicts.flatMap((v) => v.failures).find((f) => f.reason === reason);
  return failure ? ` (${failure.detail})` : '';
}

/** One fix per blocking filter, with the numbers that make it concrete. */
function fixes(report: FilterReport, nodes: readonly V1Node[]): string[] {
  const out: string[] = [];
  const failures = report.verdicts.flatMap((v) => v.failures);
  const by = (filter: NodeFailure['filter']) => failures.filter((f) => f.filter === filter);
  for (const resource of new Set(by('NodeResourcesFit').map((f) => f.reason))) {
    const key = resource === 'Too many pods' ? 'pods' : resource.replace(/^Insufficient /, '');
    const wanted = report.requests.get(key) ?? 0;
    const largest = Math.max(
      0,
      ...nodes.map((n) => parseQuantity(n.status?.allocatable?.[key])).filter(Number.isFinite),
    );
    if (key === 'pods') out.push('Every node is at its pod limit: add a node, or remove finished pods.');
    else if (wanted > largest) {
      out.push(
        `No node has ${formatQuantity(key, wanted)} ${key} allocatable (the largest has ${formatQuantity(key, largest)}): lower the ${key} request to at most ${formatQuantity(key, largest)}, or add a node with more ${key}.`,
      );
    } else {
      out.push(
        `Nodes are big enough but their ${key} is already requested by other pods: lower the request, scale down or move other workloads, or add a node.`,
      );
    }
  }
  const taints = new Set(by('TaintToleration').map((f) => f.detail));
  for (const taint of taints) {
    out.push(
      `Add a toleration for ${taint} to the pod (if it should run there), or remove the taint from the node(s).`,
    );
  }
  if (by('NodeAffinity').length) {
    out.push(
      `No node matches the pod's nodeSelector/required node affinity (${by('NodeAffinity')[0]?.detail ?? ''}): label a node to match, or relax the selector.`,
    );
  }
  if (by('NodeUnschedulable').length) out.push('Uncordon a node (kubectl uncordon NODE) when it is safe.');
  if (by('NodeNotReady').length) out.push('Some nodes are not ready: fix or replace them.');
  if (nodes.length === 0) out.push('The cluster has no nodes: add one.');
  return out;
}

/** Fixes read from the scheduler's own message, when the nodes cannot be read. */
function fixesFromMessage(message: string): string[] {
  const out: string[] = [];
  const resources = new Set([...message.matchAll(/Insufficient ([a-z0-9./-]*[a-z0-9])/g)].map((m) => m[1]));
  for (const resource of resources) {
    out.push(`Lower the pod's ${resource} request, or add nodes with more ${resource}.`);
  }
  if (/untolerated taint/.test(message))
    out.push('Add a toleration for the taint, or remove the taint from the nodes.');
  if (/node affinity|node selector/i.test(message))
    out.push("Relax the pod's nodeSelector/affinity, or label a node to match.");
  if (/unschedulable/.test(message)) out.push('Uncordon a node when it is safe.');
  if (/Too many pods/.test(message)) out.push('Add a node: every node is at its pod limit.');
  return out.length ? out : ['Ask someone who may read nodes to run this again.'];
}

/** The scheduler's verdict: the PodScheduled condition and the newest FailedScheduling event. */
async function schedulerSays(kube: KubeReader, pod: V1Pod): Promise<string[]> {
  const condition = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  const said = condition?.message ? [condition.message] : [];
  const events = await readOrReason(() =>
    kube.listEvents({
      namespace: pod.metadata?.namespace,
      involved: { kind: 'Pod', name: pod.metadata?.name ?? '' },
    }),
  );
  if (typeof events !== 'string') {
    const failed = mergeEvents(events).find((e) => e.reason === 'FailedScheduling');
    if (failed && !said.includes(failed.message)) said.push(failed.message);
  }
  return said;
}

function schedulerSection(said: string[]): Section {
  return said.length
    ? { type: 'list', title: 'The scheduler said', items: said.map((s) => `"${s}"`) }
    : { type: 'text', tone: 'info', text: 'The scheduler has recorded no reason yet.' };
}

/** Pods that hold node resources; cluster-wide when the user may list them, else this namespace (and say so). */
async function otherPods(kube: KubeReader, namespace: string): Promise<{ pods: V1Pod[]; note?: string }> {
  const all = await readOrReason(() => kube.listPods({}));
  if (typeof all !== 'string') return { pods: all };
  const mine = await readOrReason(() => kube.listPods({ namespace }));
  return {
    pods: typeof mine === 'string' ? [] : mine,
    note: `Only pods in ${namespace} are counted as using node resources (${all}); other namespaces may use more.`,
  };
}

/** A read, or the reason it was refused (FORBIDDEN) — the answer goes on without it. */
async function readOrReason<T>(read: () => Promise<T>): Promise<T | string> {
  try {
    return await read();
  } catch (e) {
    if (isWheelhouseError(e) && e.code === 'FORBIDDEN') return e.message;
    throw e;
  }
}

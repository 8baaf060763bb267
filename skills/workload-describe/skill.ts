import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { isWheelhouseError } from '../../src/errors.ts';
import { mergeEvents } from '../../src/kube/event-summary.ts';
import { formatLabelSelector } from '../../src/kube/label-selector.ts';
import {
  describeContainerState,
  describeLastTermination,
  explainPod,
  formatAge,
  isPodUnhealthy,
  summarizePod,
} from '../../src/kube/pod-status.ts';
import type { KubeReader, Workload, WorkloadRef } from '../../src/kube/types.ts';
import { formatWorkloadRef, parseWorkloadRef } from '../../src/kube/workload-ref.ts';
import { type WorkloadStatus, workloadStatus } from '../../src/kube/workload-status.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import type { Section, Tone } from '../../src/skills/result.ts';
import { dnsLabel } from '../../src/skills/schema.ts';

/** Unhealthy pods explained by name before the list says "and N more". */
const MAX_POD_PROBLEMS = 5;
const MAX_WARNINGS = 10;

export const workloadDescribe = defineSkill({
  name: 'workload-describe',
  title: 'Describe a workload or pod',
  description:
    'Describes one Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or pod: why it is unhealthy (first), ' +
    'its rollout state (updated/ready/available replicas, observed generation, progress deadline exceeded), ' +
    "conditions, its pods' container states with the last termination reason and exit code, and recent warning events. " +
    'Use when asked about the status of one app, why it is not ready or crashing, or whether a rollout finished. ' +
    'Not for listing the pods of a namespace (use pods-list), reading logs (use pod-logs) or all events of a namespace (use events-list).',
  input: z.object({
    target: z
      .string()
      .min(1)
      .max(300)
      .describe(
        'What to describe, as KIND/NAME or a bare pod name, e.g. "deploy/checkout", "sts/db" or "checkout-7d9f8-x2x9q"',
      ),
    namespace: dnsLabel.describe('Namespace, e.g. "shop"'),
  }),
  risk: 'read',
  verbs: ['get', 'list'],
  resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets', 'jobs', 'pods', 'events'],
  grammar: {
    command: 'describe',
    aliases: ['status'],
    positional: ['target', 'namespace'],
    short: { n: 'namespace' },
  },
  examples: [
    {
      utterance: 'how is the checkout deployment doing in shop?',
      command: '/wh describe deploy/checkout -n shop',
      input: { target: 'deploy/checkout', namespace: 'shop' },
    },
    {
      utterance: 'why is pod checkout-7d9f8-x2x9q not ready?',
      command: '/wh status checkout-7d9f8-x2x9q -n shop',
      input: { target: 'checkout-7d9f8-x2x9q', namespace: 'shop' },
    },
  ],
  summarize: (i) => `describe ${i.target} in ${i.namespace}`,
  async run(input, ctx) {
    const ref = parseWorkloadRef(input.target, input.namespace);
    const now = ctx.now();
    const workload = await ctx.kube.getWorkload(ref);
    const pods = sortByName(workload.kind === 'Pod' ? [workload.object] : await ctx.kube.podsOf(ref));
    const status = workloadStatus(workload, now);
    const related = await relatedObjects(ctx.kube, workload, pods);
    const events = await warningEvents(ctx.kube, ref.namespace);

    const unhealthyPods = pods.filter((p) => isPodUnhealthy(p, now));
    const problems = [
      ...status.problems,
      ...(workload.kind === 'Pod' ? [] : podProblems(unhealthyPods, now)),
    ].map(ctx.redact);
    const sections: Section[] = [];
    if (problems.length > 0) {
      sections.push({
        type: 'list',
        title: 'Why it is unhealthy',
        items: problems,
        tone: toneOf(status, problems),
      });
    }
    sections.push({
      type: 'fields',
      title: `${workload.kind} ${ref.namespace}/${ref.name}`,
      fields: status.facts,
    });
    if (status.conditions.length > 0) {
      sections.push({
        type: 'fields',
        title: 'Conditions',
        fields: status.conditions.map((c) => ({
          label: c.type,
          value: ctx.redact(
            `${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}${c.lastTransition ? `, since ${formatAge(c.lastTransition, now)} ago` : ''}`,
          ),
        })),
      });
    }
    if (workload.kind !== 'Pod') sections.push(podsTable(pods, unhealthyPods.length, now));
    if (pods.length > 0) sections.push(containersTable(pods, workload.kind !== 'Pod', now));
    sections.push(...eventSections(events, related, ref, ctx.redact, now));

    const where = `${formatWorkloadRef(ref)} in ${ref.namespace}`;
    const tone = problems.length ? toneOf(status, problems) : 'success';
    const rolloutText =
      status.rollout && workload.kind !== 'Job'
        ? `, rollout ${status.rollout.done ? 'complete' : 'in progress'}`
        : '';
    return {
      summary: problems.length
        ? `${where} is unhealthy: ${status.ready} ready; ${(problems[0] ?? '').replace(/\.$/, '')}${problems.length > 1 ? ` (+${problems.length - 1} more)` : ''}.`
        : `${where} is healthy: ${status.ready} ready${rolloutText}.`,
      tone,
      sections,
    };
  },
});

function sortByName(pods: V1Pod[]): V1Pod[] {
  return [...pods].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

function toneOf(status: WorkloadStatus, problems: string[]): Tone {
  const [readyText = '0', desiredText = '0'] = status.ready.split('/');
  const nothingReady = Number(readyText) === 0 && Number(desiredText) > 0;
  return status.rollout?.failed || nothingReady ? 'error' : problems.length ? 'warning' : 'success';
}

function podProblems(unhealthy: V1Pod[], now: Date): string[] {
  const lines = unhealthy.slice(0, MAX_POD_PROBLEMS).map((pod) => {
    const reasons = explainPod(pod, now);
    return `pod ${pod.metadata?.name ?? '?'}: ${reasons.length ? reasons.join('; ') : summarizePod(pod, now).status}`;
  });
  const rest = unhealthy.length - lines.length;
  if (rest > 0) lines.push(`…and ${rest} more unhealthy pods (see the table below)`);
  return lines;
}

/** The objects whose events belong to this workload: itself, its pods and (for a Deployment) its ReplicaSets. */
async function relatedObjects(kube: KubeReader, workload: Workload, pods: V1Pod[]): Promise<Set<string>> {
  const name = workload.object.metadata?.name ?? '';
  const related = new Set([`${workload.kind}/${name}`, ...pods.map((p) => `Pod/${p.metadata?.name ?? ''}`)]);
  if (workload.kind === 'Deployment') {
    const selector = formatLabelSelector(workload.object.spec?.selector);
    const namespace = workload.object.metadata?.namespace ?? '';
    const replicaSets = selector ? await kube.listReplicaSets(namespace, selector) : [];
    for (const rs of replicaSets) {
      if (rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === name)) {
        related.add(`ReplicaSet/${rs.metadata.name ?? ''}`);
      }
    }
  }
  return related;
}

/** Warning events of the namespace; a user who may not read events still gets the rest of the answer. */
async function warningEvents(kube: KubeReader, namespace: string): Promise<CoreV1Event[] | string> {
  try {
    return (await kube.listEvents({ namespace })).filter((e) => e.type === 'Warning');
  } catch (error) {
    if (isWheelhouseError(error) && error.code === 'FORBIDDEN') return error.message;
    throw error;
  }
}

function podsTable(pods: V1Pod[], unhealthy: number, now: Date): Section {
  if (pods.length === 0) return { type: 'text', text: 'No pods match its selector.', tone: 'warning' };
  return {
    type: 'table',
    columns: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'NODE'],
    rows: pods.map((pod) => {
      const s = summarizePod(pod, now);
      return [s.name, s.ready, s.status, s.restartsText, s.age, s.node];
    }),
    caption: `Pods: ${pods.length}${unhealthy ? `, ${unhealthy} unhealthy` : ', all healthy'}.`,
  };
}

function containersTable(pods: V1Pod[], withPod: boolean, now: Date): Section {
  const rows = pods.flatMap((pod) =>
    [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].map((c) => [
      ...(withPod ? [pod.metadata?.name ?? ''] : []),
      c.name,
      describeContainerState(c),
      c.ready ? 'yes' : 'no',
      String(c.restartCount),
      describeLastTermination(c, now) ?? '-',
    ]),
  );
  return {
    type: 'table',
    columns: [...(withPod ? ['POD'] : []), 'CONTAINER', 'STATE', 'READY', 'RESTARTS', 'LAST TERMINATION'],
    rows,
    caption: 'Containers: current state and how each last ended.',
  };
}

function eventSections(
  events: CoreV1Event[] | string,
  related: Set<string>,
  ref: WorkloadRef,
  redact: (text: string) => string,
  now: Date,
): Section[] {
  if (typeof events === 'string')
    return [{ type: 'text', text: `Events are not shown: ${events}`, tone: 'info' }];
  const mine = mergeEvents(
    events.filter((e) => related.has(`${e.involvedObject.kind}/${e.involvedObject.name}`)),
  );
  if (mine.length === 0) return [{ type: 'text', text: 'No recent warning events.', tone: 'info' }];
  const shown = mine.slice(0, MAX_WARNINGS);
  const more =
    mine.length > shown.length
      ? ` (newest ${shown.length} of ${mine.length}; \`/wh events ${formatWorkloadRef(ref)} -n ${ref.namespace}\` lists all)`
      : '';
  return [
    {
      type: 'table',
      columns: ['LAST SEEN', 'REASON', 'OBJECT', 'COUNT', 'MESSAGE'],
      rows: shown.map((e) => [
        formatAge(e.last, now),
        e.reason,
        e.object,
        String(e.count),
        redact(e.message),
      ]),
      caption: `Recent warning events${more}.`,
    },
  ];
}

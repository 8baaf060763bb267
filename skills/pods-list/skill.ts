import type { V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { explainPod, isPodUnhealthy, type PodSummary, summarizePod } from '../../src/kube/pod-status.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import type { Section } from '../../src/skills/result.ts';
import { dnsLabel, labelSelector } from '../../src/skills/schema.ts';

/** Unhealthy pods explained in the "why" list before it points to `describe` for the rest. */
const MAX_EXPLAINED = 10;

export const podsList = defineSkill({
  name: 'pods-list',
  title: 'List pods',
  description:
    "Lists pods with kubectl's READY, STATUS, RESTARTS, AGE and NODE columns and explains the unhealthy ones " +
    '(crash loops with exit codes, OOM kills, image pull errors, unschedulable pods). ' +
    'Use when asked what runs in a namespace, what is crashing, failing or pending, or whether pods are healthy. ' +
    "Not for one workload's rollout and conditions (use workload-describe), logs (use pod-logs) or events (use events-list).",
  input: z
    .object({
      namespace: dnsLabel.optional().describe('Namespace to list, e.g. "shop"'),
      selector: labelSelector.optional().describe('Label selector, e.g. "app=checkout"'),
      unhealthy: z.boolean().default(false).describe('Only pods that need attention, e.g. true'),
      allNamespaces: z.boolean().default(false).describe('Every namespace instead of one, e.g. true'),
    })
    .refine((i) => i.allNamespaces || i.namespace !== undefined, {
      message: 'is required unless --all-namespaces (-A) is given',
      path: ['namespace'],
    }),
  risk: 'read',
  verbs: ['list'],
  resources: ['pods'],
  grammar: {
    command: 'pods',
    aliases: ['po', 'get-pods'],
    positional: ['namespace', 'selector'],
    selectorField: 'selector',
    short: { n: 'namespace', A: 'allNamespaces', l: 'selector' },
  },
  examples: [
    { utterance: 'what runs in shop?', command: '/wh pods shop', input: { namespace: 'shop' } },
    {
      utterance: 'is checkout crashing in shop?',
      command: '/wh pods shop app=checkout --unhealthy',
      input: { namespace: 'shop', selector: 'app=checkout', unhealthy: true },
    },
    {
      utterance: 'what is broken anywhere in the cluster?',
      command: '/wh pods -A --unhealthy',
      input: { allNamespaces: true, unhealthy: true },
    },
  ],
  summarize: (i) =>
    `list ${i.unhealthy ? 'unhealthy ' : ''}pods${i.selector ? ` with ${i.selector}` : ''} in ${where(i)}`,
  async run(input, ctx) {
    const namespace = input.allNamespaces ? undefined : input.namespace;
    const now = ctx.now();
    const pods = sortPods(await ctx.kube.listPods({ namespace, selector: input.selector }));
    const place = where(input);
    const matching = input.selector ? ` matching ${input.selector}` : '';

    if (pods.length === 0) {
      return { summary: `No pods in ${place}${matching}.`, tone: 'info', sections: [] };
    }
    const rows = pods.map((pod) => ({
      pod,
      summary: summarizePod(pod, now),
      unhealthy: isPodUnhealthy(pod, now),
    }));
    const unhealthy = rows.filter((r) => r.unhealthy);
    const shown = input.unhealthy ? unhealthy : rows;
    const total = `${pods.length} pod${pods.length === 1 ? '' : 's'}`;

    if (input.unhealthy && unhealthy.length === 0) {
      const all = pods.length === 1 ? 'The only pod' : `All ${total}`;
      return {
        summary: `${all} in ${place}${matching} ${pods.length === 1 ? 'is' : 'are'} healthy.`,
        tone: 'success',
        sections: [],
      };
    }
    const sections: Section[] = [
      {
        type: 'table',
        columns: [
          ...(namespace === undefined ? ['NAMESPACE'] : []),
          'NAME',
          'READY',
          'STATUS',
          'RESTARTS',
          'AGE',
          'NODE',
        ],
        rows: shown.map(({ summary }) => [
          ...(namespace === undefined ? [summary.namespace] : []),
          ...cells(summary),
        ]),
        caption:
          unhealthy.length === 0
            ? `${pods.length === 1 ? 'The pod is' : `All ${total} are`} healthy.`
            : `${unhealthy.length} of ${total} ${unhealthy.length === 1 ? 'is' : 'are'} unhealthy.`,
      },
    ];
    if (unhealthy.length > 0) sections.push(whyList(unhealthy, namespace === undefined, now));

    return {
      summary:
        unhealthy.length === 0
          ? `${total} in ${place}${matching}, all healthy.`
          : `${total} in ${place}${matching}, ${unhealthy.length} unhealthy.`,
      tone: unhealthy.length === 0 ? 'success' : 'warning',
      sections,
    };
  },
});

function where(input: { namespace?: string | undefined; allNamespaces: boolean }): string {
  return input.allNamespaces || input.namespace === undefined ? 'all namespaces' : input.namespace;
}

function cells(s: PodSummary): string[] {
  return [s.name, s.ready, s.status, s.restartsText, s.age, s.node];
}

/** kubectl's order: by namespace, then by name. */
function sortPods(pods: V1Pod[]): V1Pod[] {
  const key = (p: V1Pod): string => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
  return [...pods].sort((a, b) => key(a).localeCompare(key(b)));
}

function whyList(
  unhealthy: Array<{ pod: V1Pod; summary: PodSummary }>,
  withNamespace: boolean,
  now: Date,
): Section {
  const items = unhealthy.slice(0, MAX_EXPLAINED).map(({ pod, summary }) => {
    const name = withNamespace ? `${summary.namespace}/${summary.name}` : summary.name;
    const reasons = explainPod(pod, now);
    return `${name}: ${reasons.length ? reasons.join('; ') : summary.status}`;
  });
  const rest = unhealthy.length - items.length;
  if (rest > 0) items.push(`…and ${rest} more; \`/wh describe pod/NAME -n NAMESPACE\` explains any of them.`);
  return { type: 'list', title: 'Why they are unhealthy', items, tone: 'warning' };
}

import type { CoreV1Event } from '@kubernetes/client-node';
import { z } from 'zod';
import { WheelhouseError } from '../../src/errors.ts';
import { type MergedEvent, mergeEvents } from '../../src/kube/event-summary.ts';
import { formatLabelSelector } from '../../src/kube/label-selector.ts';
import { formatAge } from '../../src/kube/pod-status.ts';
import type { KubeReader, WorkloadRef } from '../../src/kube/types.ts';
import { formatWorkloadRef, parseWorkloadRef } from '../../src/kube/workload-ref.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import { dnsLabel } from '../../src/skills/schema.ts';

/** Rows shown at most; the caption says how many more there were. */
const MAX_ROWS = 100;

export const eventsList = defineSkill({
  name: 'events-list',
  title: 'List events',
  description:
    'Lists Kubernetes warning events (with --all also Normal ones) of a namespace or of one object and what belongs to it ' +
    '(a Deployment with its ReplicaSets and pods), newest first, with repeated events merged and counted. ' +
    'Use when asked what happened recently, why something failed to schedule, pull, mount or start, or for the events of a deployment or pod. ' +
    "Not for a workload's overall state (use workload-describe), pod status (use pods-list) or logs (use pod-logs). Events are kept about an hour.",
  input: z
    .object({
      target: z
        .string()
        .min(1)
        .max(300)
        .optional()
        .describe(
          'Object whose events to show, as KIND/NAME, e.g. "deploy/checkout" or "pod/checkout-7d9f8-x2x9q"; a bare word without a namespace is the namespace',
        ),
      namespace: dnsLabel.optional().describe('Namespace, e.g. "shop"'),
      all: z.boolean().default(false).describe('Include Normal events, not only warnings, e.g. true'),
      allNamespaces: z.boolean().default(false).describe('Warnings from every namespace, e.g. true'),
    })
    .refine(
      (i) =>
        i.allNamespaces || i.namespace !== undefined || (i.target !== undefined && !i.target.includes('/')),
      {
        message: 'is required unless --all-namespaces (-A) is given',
        path: ['namespace'],
      },
    ),
  risk: 'read',
  verbs: ['list', 'get'],
  resources: ['events', 'pods', 'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs'],
  grammar: {
    command: 'events',
    aliases: ['ev'],
    positional: ['target', 'namespace'],
    short: { n: 'namespace', A: 'allNamespaces' },
  },
  examples: [
    { utterance: 'any warnings in shop?', command: '/wh events shop', input: { target: 'shop' } },
    {
      utterance: 'what happened to the checkout deployment?',
      command: '/wh events deploy/checkout -n shop',
      input: { target: 'deploy/checkout', namespace: 'shop' },
    },
    {
      utterance: 'show all events in payments, not just warnings',
      command: '/wh events -n payments --all',
      input: { namespace: 'payments', all: true },
    },
  ],
  summarize: (i) => {
    const scope = resolveScope(i);
    return `list ${i.all ? '' : 'warning '}events${scope.target ? ` of ${scope.target}` : ''} in ${scope.namespace ?? 'all namespaces'}`;
  },
  async run(input, ctx) {
    const scope = resolveScope(input);
    const now = ctx.now();
    let events: CoreV1Event[];
    let about = '';
    if (scope.target !== undefined) {
      if (scope.namespace === undefined) {
        throw new WheelhouseError('INVALID_INPUT', `Events of ${scope.target} need a namespace.`, {
          hint: `Add -n NAMESPACE, e.g. \`/wh events ${scope.target} -n shop\`.`,
        });
      }
      const ref = parseWorkloadRef(scope.target, scope.namespace);
      events = await eventsOf(ctx.kube, ref);
      about = ` for ${formatWorkloadRef(ref)}`;
    } else {
      events = await ctx.kube.listEvents({ namespace: scope.namespace });
    }
    const kinds = input.all ? 'events' : 'warning events';
    const merged = mergeEvents(input.all ? events : events.filter((e) => e.type === 'Warning'));
    const place = scope.namespace ?? 'all namespaces';

    if (merged.length === 0) {
      return {
        summary: `No ${kinds}${about} in ${place}.`,
        tone: 'success',
        sections: [
          { type: 'text', text: 'Kubernetes keeps events for about an hour by default.', tone: 'info' },
        ],
      };
    }
    const shown = merged.slice(0, MAX_ROWS);
    const withNamespace = scope.namespace === undefined;
    const warnings = merged.filter((e) => e.type === 'Warning').length;
    return {
      summary: `${merged.length} ${merged.length === 1 ? kinds.replace(/s$/, '') : kinds}${about} in ${place}, newest ${formatAge(merged[0]?.last, now)} ago.`,
      tone: warnings > 0 ? 'warning' : 'info',
      sections: [
        {
          type: 'table',
          columns: [
            'LAST SEEN',
            ...(input.all ? ['TYPE'] : []),
            'REASON',
            ...(withNamespace ? ['NAMESPACE'] : []),
            'OBJECT',
            'COUNT',
            'MESSAGE',
          ],
          rows: shown.map((e) => row(e, input.all, withNamespace, ctx.redact, now)),
          caption:
            shown.length < merged.length
              ? `Newest ${shown.length} of ${merged.length}; repeated events are merged and counted.`
              : 'Newest first; repeated events are merged and counted.',
        },
      ],
    };
  },
});

/** A bare word with no namespace is the namespace (`/wh events shop`); -A drops the namespace. */
function resolveScope(input: {
  target?: string | undefined;
  namespace?: string | undefined;
  allNamespaces?: boolean | undefined;
}): { namespace: string | undefined; target: string | undefined } {
  if (input.allNamespaces) return { namespace: undefined, target: input.target };
  if (input.namespace === undefined && input.target !== undefined && !input.target.includes('/')) {
    return { namespace: input.target, target: undefined };
  }
  return { namespace: input.namespace, target: input.target };
}

/** Events of an object and what it owns: a Deployment's ReplicaSets and every workload's pods. */
async function eventsOf(kube: KubeReader, ref: WorkloadRef): Promise<CoreV1Event[]> {
  if (ref.kind === 'Pod') {
    const events = await kube.listEvents({
      namespace: ref.namespace,
      involved: { kind: 'Pod', name: ref.name },
    });
    // A pod that is gone keeps its events for a while; with no events, say whether it exists.
    if (events.length === 0) await kube.getWorkload(ref);
    return events;
  }
  const workload = await kube.getWorkload(ref);
  const related = new Set([`${ref.kind}/${ref.name}`]);
  for (const pod of await kube.podsOf(ref)) related.add(`Pod/${pod.metadata?.name ?? ''}`);
  if (workload.kind === 'Deployment') {
    const selector = formatLabelSelector(workload.object.spec?.selector);
    for (const rs of selector ? await kube.listReplicaSets(ref.namespace, selector) : []) {
      if (rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === ref.name)) {
        related.add(`ReplicaSet/${rs.metadata.name ?? ''}`);
      }
    }
  }
  const events = await kube.listEvents({ namespace: ref.namespace });
  return events.filter((e) => related.has(`${e.involvedObject.kind}/${e.involvedObject.name}`));
}

function row(
  e: MergedEvent,
  withType: boolean,
  withNamespace: boolean,
  redact: (text: string) => string,
  now: Date,
): string[] {
  return [
    formatAge(e.last, now),
    ...(withType ? [e.type] : []),
    e.reason,
    ...(withNamespace ? [e.namespace] : []),
    e.object,
    String(e.count),
    redact(e.message),
  ];
}

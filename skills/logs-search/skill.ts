import { z } from 'zod';
import { WheelhouseError } from '../../src/errors.ts';
import type { SkillContext } from '../../src/skills/context.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import type { Attachment, Section, SkillResult } from '../../src/skills/result.ts';
import { dnsLabel, duration, formatDuration } from '../../src/skills/schema.ts';
import type { LogHit } from '../../src/sources/types.ts';

const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const input = z.object({
  namespace: dnsLabel.describe('Namespace whose logs to search, e.g. "shop"'),
  app: z
    .string()
    .max(63)
    .regex(labelValue, 'must be a label value')
    .optional()
    .describe('Value of the pod label `app`, e.g. "checkout"'),
  pod: z.string().max(253).optional().describe('Exact pod name, e.g. "checkout-7d9f8-abcde"'),
  level: z
    .string()
    .max(16)
    .regex(/^[A-Za-z]+$/, 'must be a word such as error or warn')
    .optional()
    .describe('Log level as the app writes it (any case), e.g. "error"'),
  text: z
    .string()
    .min(1)
    .max(500)
    .optional()
    .describe(
      'Text to find in the message: plain words match as a phrase; `|`, `+`, `-word`, `"…"` and `*` use ' +
        'simple query syntax, e.g. "connection reset"',
    ),
  since: duration.prefault('15m').describe('How far back from now to search, e.g. "15m" or "2h"'),
  limit: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Most lines to fetch (capped by the server limit), e.g. 200'),
});

type Input = z.output<typeof input>;

export const logsSearch = defineSkill({
  name: 'logs-search',
  title: 'Search logs',
  description:
    'Searches centralised logs (Elasticsearch) of a namespace by app label, pod, level and text over a recent ' +
    'time range, newest matches first, shown oldest-to-newest. Use when asked what errors an app logged, when a ' +
    'message first appeared, or to find lines across many or deleted pods. Not for the live log of one running ' +
    'pod (use pod-logs), not for metrics (use metrics-query).',
  input,
  risk: 'read',
  verbs: ['get'],
  resources: ['pods/log'],
  grammar: { command: 'search-logs', positional: ['text'], short: { n: 'namespace' } },
  examples: [
    {
      utterance: 'checkout errors about connection resets in the last hour',
      command: '/wh search-logs -n shop app=checkout level=error --since 1h "connection reset"',
      input: { namespace: 'shop', app: 'checkout', level: 'error', since: '1h', text: 'connection reset' },
    },
    {
      utterance: 'any timeouts in shop recently?',
      command: '/wh search-logs -n shop timeout',
      input: { namespace: 'shop', text: 'timeout' },
    },
  ],
  summarize: (i) =>
    `search logs in ${i.namespace} over the last ${formatDuration(i.since)}${i.text ? ` for "${i.text}"` : ''}`,
  run: searchLogs,
});

async function searchLogs(input: Input, ctx: SkillContext): Promise<SkillResult> {
  const logSearch = ctx.logSearch;
  if (!logSearch) {
    throw new WheelhouseError('SOURCE_NOT_CONFIGURED', 'Log search is not configured.', {
      hint:
        'Set `elasticsearch.node` in the config file (or the env WH_ES_NODE) to your Elasticsearch; ' +
        "`/wh logs` reads a pod's log without it.",
    });
  }
  const to = ctx.now();
  const from = new Date(to.getTime() - input.since * 1000);
  const cap = ctx.limits.maxSearchHits;
  const size = Math.min(input.limit ?? cap, cap);
  const result = await logSearch.search({
    namespace: input.namespace,
    app: input.app,
    pod: input.pod,
    level: input.level,
    text: input.text,
    from,
    to,
    size,
    signal: ctx.signal,
  });
  const window = `in ${input.namespace} over the last ${formatDuration(input.since)}`;
  const filters = describeFilters(input);
  if (result.hits.length === 0) {
    return {
      summary: `No log lines match ${window}.`,
      tone: 'info',
      sections: [
        { type: 'text', text: `Searched ${filters}.` },
        {
          type: 'list',
          title: 'To widen the search',
          items: [
            'Use a longer --since, e.g. --since 6h.',
            'Drop a filter (level values are matched as written by the app, in any case).',
            'Check that the log shipper sends this namespace to the configured index pattern.',
          ],
        },
      ],
    };
  }

  // Elasticsearch returns the newest first so the cap keeps the most recent lines; people read
  // logs top to bottom like `kubectl logs`, so they are shown oldest first.
  const lines = result.hits.map((hit) => ctx.redact(formatHit(hit))).reverse();
  const chatLines = lines.slice(-ctx.limits.chatLogLines);
  const totalText = `${result.total.toLocaleString('en-US')}${result.totalIsLowerBound ? '+' : ''}`;
  const attachments: Attachment[] = [];
  let attachment: string | undefined;
  if (lines.length > chatLines.length) {
    attachment = `logs-${input.namespace}-${to.toISOString().replace(/[:.]/g, '-')}.txt`;
    attachments.push({
      name: attachment,
      title: `Log search ${window}`,
      mimeType: 'text/plain',
      content: `${lines.join('\n')}\n`,
    });
  }
  const notes = [
    `Showing ${chatLines.length.toLocaleString('en-US')} of ${totalText} matching lines, oldest first.`,
  ];
  if (attachment) notes.push(`The ${lines.length.toLocaleString('en-US')} newest are in ${attachment}.`);
  if (result.total > lines.length) {
    notes.push(
      `Only the newest ${lines.length.toLocaleString('en-US')} were fetched; narrow the search to see older ones.`,
    );
  }
  const sections: Section[] = [
    { type: 'logs', lines: chatLines, total: result.total, ...(attachment ? { attachment } : {}) },
    { type: 'text', text: `${notes.join(' ')}\nSearched ${filters}.` },
  ];
  return {
    summary: `${totalText} log lines match ${window}; showing the newest ${chatLines.length}.`,
    tone: 'info',
    sections,
    ...(attachments.length ? { attachments } : {}),
  };
}

function formatHit(hit: LogHit): string {
  const level = hit.level ? ` ${hit.level.toUpperCase()}` : '';
  return `${hit.time} ${hit.pod ?? '-'}${level} ${hit.message}`;
}

function describeFilters(input: Input): string {
  const parts = [`namespace=${input.namespace}`];
  if (input.app) parts.push(`app=${input.app}`);
  if (input.pod) parts.push(`pod=${input.pod}`);
  if (input.level) parts.push(`level=${input.level}`);
  if (input.text) parts.push(`text "${input.text}"`);
  return parts.join(', ');
}

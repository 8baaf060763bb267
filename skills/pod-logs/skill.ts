import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { isWheelhouseError, WheelhouseError } from '../../src/errors.ts';
import type { KubeReader } from '../../src/kube/types.ts';
import { formatWorkloadRef, parseWorkloadRef } from '../../src/kube/workload-ref.ts';
import type { SkillContext } from '../../src/skills/context.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import type { Attachment, Section } from '../../src/skills/result.ts';
import { dnsLabel, duration, formatDuration, labelSelector } from '../../src/skills/schema.ts';

/** Containers read per request at most: each is one API request through the rate limiter. */
const MAX_STREAMS = 20;
/** Containers read at the same time. */
const CONCURRENCY = 4;
/** Characters of one line shown in chat; the attachment keeps whole lines. */
const MAX_CHAT_LINE = 1000;

const grepPattern = z
  .string()
  .min(1)
  .max(200)
  .refine(compiles, 'must be a valid regular expression, e.g. "timeout|ERROR"')
  .refine(
    (source) => !NESTED_QUANTIFIER.test(source),
    'nests repetitions like (a+)+, which can take forever; simplify it',
  );

/** A repeated group that itself repeats: the classic catastrophic-backtracking shape. */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*](?:[^()\\]|\\.)*\)\s*[+*{]/;

export const podLogs = defineSkill({
  name: 'pod-logs',
  title: 'Read pod logs',
  description:
    'Reads container logs of one pod or of every pod of a workload (deploy/NAME, sts/NAME, ds/NAME, job/NAME) or label selector, ' +
    'merged by timestamp and prefixed pod/container, optionally filtered by a regular expression, with secrets redacted. ' +
    '--previous reads the crashed container of a crash loop. ' +
    'Use when asked what an app logged, for errors or timeouts in its output, or why a container crashed. ' +
    'Not for searching logs across the cluster or older than the pods (use logs-search), pod status (use pods-list) or events (use events-list).',
  input: z
    .object({
      target: z
        .string()
        .min(1)
        .max(300)
        .optional()
        .describe('A pod name, or deploy/NAME, sts/NAME, ds/NAME, job/NAME, e.g. "deploy/checkout"'),
      namespace: dnsLabel.describe('Namespace, e.g. "shop"'),
      selector: labelSelector.optional().describe('Pods by label instead of a target, e.g. "app=checkout"'),
      container: dnsLabel.optional().describe('Only this container, e.g. "app"; all containers by default'),
      since: duration.optional().describe('Only lines newer than this, e.g. "15m"'),
      tail: z
        .number()
        .int()
        .positive()
        .max(100_000)
        .optional()
        .describe('Last N lines of each container, e.g. 100'),
      grep: grepPattern
        .optional()
        .describe('Regular expression lines must match (case-sensitive), e.g. "timeout|ERROR"'),
      previous: z
        .boolean()
        .default(false)
        .describe('The previous, crashed container instead of the running one, e.g. true'),
    })
    .refine((i) => i.target !== undefined || i.selector !== undefined, {
      message: 'needs a pod, a workload such as deploy/checkout, or --selector',
      path: ['target'],
    })
    .refine((i) => i.target === undefined || i.selector === undefined, {
      message: 'takes either a target or --selector, not both',
      path: ['selector'],
    }),
  risk: 'read',
  verbs: ['get', 'list'],
  resources: ['pods', 'pods/log', 'deployments', 'statefulsets', 'daemonsets', 'replicasets', 'jobs'],
  grammar: {
    command: 'logs',
    aliases: ['log'],
    positional: ['target'],
    selectorField: 'selector',
    short: { n: 'namespace', l: 'selector', c: 'container', p: 'previous' },
  },
  examples: [
    {
      utterance: 'any timeouts in checkout in the last 15 minutes?',
      command: '/wh logs deploy/checkout -n shop --since 15m --grep timeout',
      input: { target: 'deploy/checkout', namespace: 'shop', since: '15m', grep: 'timeout' },
    },
    {
      utterance: 'why did the crashy pod crash?',
      command: '/wh logs crashy-7c7bc87c95-8qk5c -n shop --previous',
      input: { target: 'crashy-7c7bc87c95-8qk5c', namespace: 'shop', previous: true },
    },
    {
      utterance: 'last 20 lines of the cart pods',
      command: '/wh logs -l app=cart -n shop --tail 20',
      input: { selector: 'app=cart', namespace: 'shop', tail: 20 },
    },
  ],
  summarize: (i) =>
    `read ${i.previous ? 'previous ' : ''}logs of ${i.target ?? i.selector ?? '?'} in ${i.namespace}` +
    `${i.since !== undefined ? ` for the last ${formatDuration(i.since)}` : ''}${i.grep ? ` matching /${i.grep}/` : ''}`,
  async run(input, ctx) {
    const label =
      input.target !== undefined ? formatTarget(input.target, input.namespace) : (input.selector ?? '');
    const pods = await resolvePods(ctx.kube, input);
    const grep = input.grep === undefined ? undefined : new RegExp(input.grep);
    const notes: string[] = [];
    const window = describeWindow(input);

    if (pods.length === 0) {
      return { summary: `No pods for ${label} in ${input.namespace}.`, tone: 'warning', sections: [] };
    }
    const planned = planStreams(pods, input.container, input.previous, notes);
    if (planned.length === 0) {
      return { summary: nothingToRead(label, input), tone: 'info', sections: notesSection(notes) };
    }
    const streams = planned.slice(0, MAX_STREAMS);
    if (planned.length > streams.length) {
      notes.push(
        `Read ${streams.length} of ${planned.length} containers (the first by pod name); narrow with --selector or --container.`,
      );
    }
    const budget = Math.max(1, Math.floor(ctx.limits.maxLogLines / streams.length));
    const tail = Math.min(input.tail ?? budget, budget);
    if (input.tail !== undefined && input.tail > budget) {
      notes.push(
        `Read the last ${tail} lines of each container, not ${input.tail}: at most ${ctx.limits.maxLogLines} lines per request.`,
      );
    }

    const results = await mapPool(streams, CONCURRENCY, (stream) =>
      readStream(ctx, stream, input, tail, input.tail === undefined || input.tail > budget),
    );
    const lines: LogLine[] = [];
    for (const result of results) {
      notes.push(...result.notes);
      for (const line of result.lines) if (!grep || grep.test(line.text)) lines.push(line);
    }
    lines.sort(compareLines);

    const rendered = lines.map((l) => `${l.source} ${l.time} ${l.text}`);
    const shown = rendered.slice(-ctx.limits.chatLogLines).map(cutForChat);
    const attachmentName = `logs-${slug(label)}.txt`;
    const attachments: Attachment[] = [];
    if (rendered.length > shown.length) {
      attachments.push({
        name: attachmentName,
        title: `Logs of ${label} in ${input.namespace}${window}`,
        mimeType: 'text/plain',
        content: `${rendered.join('\n')}\n`,
      });
    }
    const streamCount = `${streams.length} container${streams.length === 1 ? '' : 's'}`;
    const matched = grep ? ` matching /${input.grep}/` : '';
    const sections: Section[] = [
      {
        type: 'logs',
        lines: shown,
        total: rendered.length,
        ...(attachments.length ? { attachment: attachmentName } : {}),
      },
      ...notesSection(notes),
    ];
    if (rendered.length === 0) {
      return {
        summary: `No ${input.previous ? 'previous ' : ''}log lines${matched} from ${label} in ${input.namespace}${window} (${streamCount} read).`,
        tone: 'info',
        sections: notesSection(notes),
      };
    }
    const more = attachments.length ? `; the last ${shown.length} shown, all in ${attachmentName}` : '';
    return {
      summary: `${rendered.length} ${input.previous ? 'previous ' : ''}log line${rendered.length === 1 ? '' : 's'}${matched} from ${streamCount} of ${label} in ${input.namespace}${window}${more}.`,
      tone: 'info',
      sections,
      ...(attachments.length ? { attachments } : {}),
    };
  },
});

interface Stream {
  pod: V1Pod;
  podName: string;
  container: string;
  status: V1ContainerStatus | undefined;
}

interface LogLine {
  /** "pod/container" */
  source: string;
  /** RFC3339 as the kubelet wrote it. */
  time: string;
  seconds: number;
  nanos: number;
  text: string;
}

interface StreamResult {
  lines: LogLine[];
  notes: string[];
}

interface LogInput {
  target?: string | undefined;
  namespace: string;
  selector?: string | undefined;
  container?: string | undefined;
  since?: number | undefined;
  tail?: number | undefined;
  grep?: string | undefined;
  previous: boolean;
}

function compiles(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

function formatTarget(target: string, namespace: string): string {
  return formatWorkloadRef(parseWorkloadRef(target, namespace));
}

async function resolvePods(kube: KubeReader, input: LogInput): Promise<V1Pod[]> {
  const pods =
    input.target !== undefined
      ? await kube.podsOf(parseWorkloadRef(input.target, input.namespace))
      : await kube.listPods({ namespace: input.namespace, selector: input.selector });
  return [...pods].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/** Which containers to read; explains the ones that have nothing to read. */
function planStreams(
  pods: V1Pod[],
  container: string | undefined,
  previous: boolean,
  notes: string[],
): Stream[] {
  const streams: Stream[] = [];
  const known = new Set<string>();
  for (const pod of pods) {
    const podName = pod.metadata?.name ?? '';
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    const ran = new Set(
      (pod.status?.initContainerStatuses ?? [])
        .filter((s) => s.state?.running || s.state?.terminated || s.lastState?.terminated)
        .map((s) => s.name),
    );
    const names = [
      ...(pod.spec?.initContainers ?? []).map((c) => c.name).filter((n) => ran.has(n)),
      ...(pod.spec?.containers ?? []).map((c) => c.name),
    ];
    for (const name of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map(
      (c) => c.name,
    )) {
      known.add(name);
    }
    if (container !== undefined && !names.includes(container)) {
      notes.push(`${podName} has no container ${container}.`);
      continue;
    }
    for (const name of names) {
      if (container !== undefined && name !== container) continue;
      const status = statuses.find((s) => s.name === name);
      if (previous && !status?.lastState?.terminated) {
        notes.push(
          `${podName}/${name} has no previous container: it has not restarted, so there is no earlier run to read.`,
        );
        continue;
      }
      if (!previous && neverRan(status)) {
        notes.push(`${podName}/${name} has no logs yet: it is ${waitingText(status)}.`);
        continue;
      }
      streams.push({ pod, podName, container: name, status });
    }
  }
  if (container !== undefined && !known.has(container)) {
    throw new WheelhouseError('NOT_FOUND', `None of the pods has a container named ${container}.`, {
      hint: `Their containers: ${[...known].join(', ') || 'none'}. Leave out --container to read them all.`,
    });
  }
  return streams;
}

function neverRan(status: V1ContainerStatus | undefined): boolean {
  if (!status) return true;
  return status.state?.waiting !== undefined && status.restartCount === 0 && !status.lastState?.terminated;
}

function waitingText(status: V1ContainerStatus | undefined): string {
  const reason = status?.state?.waiting?.reason;
  return reason ? `waiting (${reason})` : 'not started';
}

function nothingToRead(label: string, input: LogInput): string {
  return input.previous
    ? `${label} has no previous container to read: nothing has restarted.`
    : `${label} has no logs yet: no container has started.`;
}

async function readStream(
  ctx: SkillContext,
  stream: Stream,
  input: LogInput,
  tail: number,
  tailIsBudget: boolean,
): Promise<StreamResult> {
  const source = `${stream.podName}/${stream.container}`;
  const notes: string[] = [];
  const query = {
    namespace: input.namespace,
    pod: stream.podName,
    container: stream.container,
    sinceSeconds: input.since,
    previous: input.previous,
    limitBytes: ctx.limits.maxLogBytes,
  };
  let text: string;
  try {
    text = await ctx.kube.readLog({ ...query, tailLines: tail });
    if (byteLength(text) >= ctx.limits.maxLogBytes) {
      // limitBytes keeps the *oldest* bytes of the window; ask again for fewer, newer lines.
      const fewer = Math.max(1, Math.floor(countLines(text) * 0.9) - 1);
      text = await ctx.kube.readLog({ ...query, tailLines: fewer });
      const stillCut = byteLength(text) >= ctx.limits.maxLogBytes;
      if (stillCut) text = text.slice(0, text.lastIndexOf('\n') + 1);
      notes.push(
        stillCut
          ? `${source}: its lines are long; read only ${countLines(text)} lines (${formatBytes(ctx.limits.maxLogBytes)}), the oldest of its last ${fewer}.`
          : `${source}: read only its last ${fewer} lines, which fit in ${formatBytes(ctx.limits.maxLogBytes)}; older lines were not read.`,
      );
    }
  } catch (error) {
    if (isWheelhouseError(error) && (error.code === 'NOT_FOUND' || error.code === 'INVALID_INPUT')) {
      return { lines: [], notes: [`${source}: ${error.message}`] };
    }
    throw error;
  }
  const lines = parseLines(text, source, ctx.redact);
  if (tailIsBudget && lines.length >= tail) {
    notes.push(
      `${source}: read its last ${tail} lines; older lines${input.since ? ' in the time window' : ''}, if any, were not read.`,
    );
  }
  if (!input.previous && lines.length === 0 && (stream.status?.restartCount ?? 0) > 0) {
    notes.push(
      `${source} restarted ${stream.status?.restartCount} times and its current run logged nothing; --previous shows the run that ended.`,
    );
  }
  return { lines, notes };
}

const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/;
const PEM_BEGIN = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;
const PEM_END = /-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----/;

/**
 * Splits kubelet output ("<RFC3339Nano> <message>" per line) and redacts each message. A private key
 * spreads over many lines, which a per-line redactor cannot see whole: its first line becomes the
 * marker and the rest of the block is dropped.
 */
function parseLines(text: string, source: string, redact: (text: string) => string): LogLine[] {
  const lines: LogLine[] = [];
  let inKey = false;
  let last = { time: '', seconds: 0, nanos: 0 };
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    const space = raw.indexOf(' ');
    const stamp = space > 0 ? TIMESTAMP.exec(raw.slice(0, space)) : null;
    let message = raw;
    if (stamp) {
      const [, base = '', fraction = '', zone = 'Z'] = stamp;
      last = {
        time: raw.slice(0, space),
        seconds: Date.parse(`${base}${zone}`) / 1000,
        nanos: Number(fraction.padEnd(9, '0').slice(0, 9)),
      };
      message = raw.slice(space + 1);
    }
    if (inKey) {
      if (PEM_END.test(message)) inKey = false;
      continue;
    }
    if (PEM_BEGIN.test(message) && !PEM_END.test(message)) {
      inKey = true;
      message = message.replace(/-----BEGIN [\s\S]*$/, '[REDACTED:private-key]');
    }
    lines.push({
      source,
      time: shortTime(last.time),
      seconds: last.seconds,
      nanos: last.nanos,
      text: redact(message),
    });
  }
  return lines;
}

/** 2026-11-25T08:40:15.003000000Z → 2026-11-25T08:40:15.003Z (chat needs no nanoseconds). */
function shortTime(time: string): string {
  const match = TIMESTAMP.exec(time);
  if (!match) return time;
  const [, base = '', fraction = '', zone = 'Z'] = match;
  return `${base}${fraction ? `.${fraction.padEnd(3, '0').slice(0, 3)}` : ''}${zone}`;
}

/** By time; Array.prototype.sort is stable, so equal times keep their stream's order. */
function compareLines(a: LogLine, b: LogLine): number {
  return a.seconds - b.seconds || a.nanos - b.nanos;
}

function cutForChat(line: string): string {
  return line.length > MAX_CHAT_LINE
    ? `${line.slice(0, MAX_CHAT_LINE)} …[${line.length - MAX_CHAT_LINE} more characters in the attachment]`
    : line;
}

function notesSection(notes: string[]): Section[] {
  return notes.length ? [{ type: 'list', title: 'Notes', items: notes, tone: 'info' }] : [];
}

function describeWindow(input: LogInput): string {
  return input.since !== undefined ? ` over the last ${formatDuration(input.since)}` : '';
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9.-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'pods'
  );
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function countLines(text: string): number {
  return text.split('\n').filter((l) => l !== '').length;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1_000_000) return `${Math.round(bytes / 100_000) / 10} MB`;
  return bytes >= 1000 ? `${Math.round(bytes / 1000)} kB` : `${bytes} bytes`;
}

/** Runs `work` over `items` with at most `limit` at a time, keeping the order of results. */
async function mapPool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      const item = items[index];
      if (item !== undefined) results[index] = await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

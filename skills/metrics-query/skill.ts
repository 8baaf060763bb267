import { z } from 'zod';
import { WheelhouseError } from '../../src/errors.ts';
import type { WorkloadRef } from '../../src/kube/types.ts';
import { formatWorkloadRef, parseWorkloadRef } from '../../src/kube/workload-ref.ts';
import type { SkillContext } from '../../src/skills/context.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import type { ChartSection, Section, SkillResult } from '../../src/skills/result.ts';
import { dnsLabel, duration, formatDuration } from '../../src/skills/schema.ts';
import {
  formatMetricValue,
  METRIC_TEMPLATE_NAMES,
  METRIC_UNITS,
  type MetricUnit,
  metricTemplate,
  podPatternOf,
} from '../../src/sources/metric-templates.ts';

/** Series drawn and listed at most; the rest are counted in a note. */
export const MAX_SERIES_SHOWN = 10;
/** Finer steps than this only repeat samples: most clusters scrape every 15–60 s. */
export const MIN_STEP_SECONDS = 15;
const MIN_RANGE_SECONDS = 60;

const input = z
  .object({
    template: z
      .enum(METRIC_TEMPLATE_NAMES)
      .optional()
      .describe(
        'Named metric of a workload (cpu and memory per pod, restarts, requests per second, errors as 5xx ' +
          'ratio, p99 latency, gpu utilisation), e.g. "cpu"',
      ),
    target: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe(
        'Workload the template is about: deploy/NAME, sts/NAME, ds/NAME, job/NAME or a pod name, e.g. "deploy/checkout"',
      ),
    namespace: dnsLabel.optional().describe('Namespace of the target, e.g. "shop"'),
    promql: z
      .string()
      .min(1)
      .max(4000)
      .optional()
      .describe(
        'A PromQL expression to chart instead of a template, e.g. "sum(rate(http_requests_total[5m]))"',
      ),
    last: duration.prefault('1h').describe('How far back from now to chart, e.g. "1h" or "6h"'),
    unit: z.enum(METRIC_UNITS).optional().describe('Unit of a --promql result, for formatting, e.g. "bytes"'),
  })
  .superRefine((value, ctx) => {
    if (value.promql !== undefined) {
      if (value.template !== undefined || value.target !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['promql'],
          message: 'is used instead of a template and target, not with them',
        });
      }
      return;
    }
    if (value.template === undefined) {
      ctx.addIssue({ code: 'custom', path: ['template'], message: 'is required (or give --promql)' });
    }
    if (value.target === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['target'],
        message: 'is required with a template, e.g. deploy/checkout',
      });
    }
    if (value.namespace === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['namespace'],
        message: 'is required with a template, e.g. -n shop',
      });
    }
    if (value.unit !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['unit'],
        message: 'only applies to --promql; templates know their unit',
      });
    }
  });

type Input = z.output<typeof input>;

/** What a query is about, for titles and the "no data" hints. */
interface Subject {
  title: string;
  promql: string;
  unit: MetricUnit;
  /** File name of the chart, e.g. "metrics-shop-checkout-cpu". */
  fileStem: string;
  ref?: WorkloadRef | undefined;
}

export const metricsQuery = defineSkill({
  name: 'metrics-query',
  title: 'Chart a metric',
  description:
    'Charts a Prometheus metric over time and reports min/avg/max/last per series: a named template ' +
    '(cpu, memory, restarts, requests, errors, p99, gpu) for a workload, or any PromQL expression. ' +
    'Use when asked how much CPU or memory something uses, whether errors or latency went up, or to see a trend. ' +
    'Not for current pod status or restarts right now (use pods-list), not for log lines (use logs-search).',
  input,
  risk: 'read',
  verbs: ['get'],
  resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets', 'jobs', 'pods'],
  grammar: {
    command: 'metrics',
    aliases: ['metric'],
    positional: ['template', 'target'],
    short: { n: 'namespace' },
  },
  examples: [
    {
      utterance: 'how much CPU did checkout use in the last hour?',
      command: '/wh metrics cpu deploy/checkout -n shop --last 1h',
      input: { template: 'cpu', target: 'deploy/checkout', namespace: 'shop', last: '1h' },
    },
    {
      utterance: 'is the checkout error rate up today?',
      command: '/wh metrics errors deploy/checkout -n shop --last 24h',
      input: { template: 'errors', target: 'deploy/checkout', namespace: 'shop', last: '24h' },
    },
    {
      utterance: 'chart total request rate over 30 minutes',
      command: "/wh metrics --promql 'sum(rate(http_requests_total[5m]))' --last 30m",
      input: { promql: 'sum(rate(http_requests_total[5m]))', last: '30m' },
    },
  ],
  summarize: (i) =>
    i.promql !== undefined
      ? `chart PromQL over the last ${formatDuration(i.last)}`
      : `chart ${i.template} of ${i.target} in ${i.namespace} over the last ${formatDuration(i.last)}`,
  run: queryMetrics,
});

async function queryMetrics(input: Input, ctx: SkillContext): Promise<SkillResult> {
  const metrics = ctx.metrics;
  if (!metrics) {
    throw new WheelhouseError('SOURCE_NOT_CONFIGURED', 'Metrics are not configured.', {
      hint: 'Set `prometheus.url` in the config file (or the env WH_PROMETHEUS_URL) to your Prometheus.',
    });
  }
  const rangeSeconds = checkRange(input.last, ctx.limits.maxMetricsRangeSeconds);
  const subject = await subjectOf(input, ctx);
  const end = ctx.now();
  const start = new Date(end.getTime() - rangeSeconds * 1000);
  const stepSeconds = stepFor(rangeSeconds, ctx.limits.maxPointsPerSeries);
  const raw = await metrics.rangeQuery({
    query: subject.promql,
    start,
    end,
    stepSeconds,
    signal: ctx.signal,
  });
  const series = raw
    .map((s) => ({ name: seriesName(s.labels), points: s.points.filter(([, v]) => Number.isFinite(v)) }))
    .filter((s) => s.points.length > 0);
  const queryText: Section = {
    type: 'text',
    text: `PromQL: ${subject.promql}\nRange: last ${formatDuration(rangeSeconds)}, step ${formatDuration(stepSeconds)}.`,
  };
  if (series.length === 0) return noData(subject, rangeSeconds, queryText, ctx);

  const ranked = series
    .map((s) => ({ ...s, stats: statsOf(s.points) }))
    .sort((a, b) => b.stats.last - a.stats.last || a.name.localeCompare(b.name));
  const shown = ranked.slice(0, MAX_SERIES_SHOWN);
  const hidden = ranked.length - shown.length;
  const png = await ctx.charts.renderLineChart({
    title: `${subject.title} · last ${formatDuration(rangeSeconds)}`,
    unit: subject.unit,
    series: shown.map((s) => ({ name: s.name, points: s.points })),
  });
  const attachment = `${subject.fileStem}.png`;
  const format = (value: number): string => formatMetricValue(value, subject.unit);
  const chart: ChartSection = {
    type: 'chart',
    title: subject.title,
    attachment,
    stats: shown.map((s) => ({ series: s.name, ...s.stats, unit: subject.unit })),
  };
  const sections: Section[] = [
    chart,
    {
      type: 'table',
      columns: ['SERIES', 'MIN', 'AVG', 'MAX', 'LAST'],
      rows: shown.map((s) => [
        s.name,
        format(s.stats.min),
        format(s.stats.avg),
        format(s.stats.max),
        format(s.stats.last),
      ]),
      ...(hidden > 0 ? { caption: `Top ${shown.length} of ${ranked.length} series by last value.` } : {}),
    },
  ];
  if (hidden > 0) {
    sections.push({
      type: 'text',
      tone: 'info',
      text: `${hidden} more series not shown (lowest last values): ${ranked
        .slice(MAX_SERIES_SHOWN)
        .map((s) => s.name)
        .slice(0, 20)
        .join(', ')}${hidden > 20 ? ', …' : ''}`,
    });
  }
  sections.push(queryText);
  const top = shown[0];
  const headline =
    top && ranked.length === 1
      ? `now ${format(top.stats.last)} (max ${format(top.stats.max)})`
      : `${ranked.length} series; highest now ${top?.name} at ${format(top?.stats.last ?? Number.NaN)}`;
  return {
    summary: `${subject.title} over the last ${formatDuration(rangeSeconds)}: ${headline}`,
    tone: 'info',
    sections,
    attachments: [{ name: attachment, title: subject.title, mimeType: 'image/png', content: png }],
  };
}

function checkRange(seconds: number, maxSeconds: number): number {
  if (seconds < MIN_RANGE_SECONDS) {
    throw new WheelhouseError('INVALID_INPUT', `--last ${formatDuration(seconds)} is too short to chart.`, {
      hint: 'Use --last 1m or more, e.g. --last 15m.',
    });
  }
  if (seconds > maxSeconds) {
    throw new WheelhouseError(
      'INVALID_INPUT',
      `--last ${formatDuration(seconds)} is longer than the ${formatDuration(maxSeconds)} a chart may cover.`,
      { hint: `Use --last ${formatDuration(maxSeconds)} or less (the limit is \`limits.maxMetricsRange\`).` },
    );
  }
  return seconds;
}

/** A step that keeps each series within `maxPoints` points, and never finer than 15 s. */
export function stepFor(rangeSeconds: number, maxPoints: number): number {
  const intervals = Math.max(1, maxPoints - 1);
  return Math.max(MIN_STEP_SECONDS, Math.ceil(rangeSeconds / intervals));
}

/** min/avg/max/last of the points of one series (all finite). */
export function statsOf(points: Array<[number, number]>): {
  min: number;
  avg: number;
  max: number;
  last: number;
} {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (const [, value] of points) {
    min = Math.min(min, value);
    max = Math.max(max, value);
    sum += value;
  }
  const last = points.at(-1)?.[1] ?? Number.NaN;
  return { min, avg: points.length ? sum / points.length : Number.NaN, max, last };
}

/** `{pod="x"}` → "x"; several labels → "k=v, k=v"; none → the metric name or "value". */
export function seriesName(labels: Record<string, string>): string {
  const entries = Object.entries(labels).filter(([key]) => key !== '__name__');
  const only = entries[0];
  if (entries.length === 1 && only) return only[1];
  if (entries.length === 0) return labels['__name__'] ?? 'value';
  return entries.map(([key, value]) => `${key}=${value}`).join(', ');
}

async function subjectOf(input: Input, ctx: SkillContext): Promise<Subject> {
  if (input.promql !== undefined) {
    const short = input.promql.length > 60 ? `${input.promql.slice(0, 57)}…` : input.promql;
    return { title: short, promql: input.promql, unit: input.unit ?? '', fileStem: 'metrics-promql' };
  }
  // The schema's refinement guarantees these with a template; narrowing keeps the compiler honest.
  if (input.template === undefined || input.target === undefined || input.namespace === undefined) {
    throw new WheelhouseError('INVALID_INPUT', 'A template needs a target and a namespace.', {
      hint: 'e.g. `/wh metrics cpu deploy/checkout -n shop`',
    });
  }
  const ref = parseWorkloadRef(input.target, input.namespace);
  // Confirm the workload exists first, so a typo is NOT_FOUND rather than an empty chart.
  await ctx.kube.getWorkload(ref);
  const template = metricTemplate(input.template);
  return {
    title: `${template.title} of ${formatWorkloadRef(ref)} in ${ref.namespace}`,
    promql: template.build({ namespace: ref.namespace, podPattern: podPatternOf(ref) }),
    unit: template.unit,
    fileStem: `metrics-${ref.namespace}-${ref.name}-${template.name}`.replace(/[^a-z0-9.-]+/g, '-'),
    ref,
  };
}

async function noData(
  subject: Subject,
  rangeSeconds: number,
  queryText: Section,
  ctx: SkillContext,
): Promise<SkillResult> {
  const reasons: string[] = [];
  if (subject.ref) {
    const pods = await podCount(subject.ref, ctx);
    const name = formatWorkloadRef(subject.ref);
    reasons.push(
      pods === 0
        ? `${name} has no pods right now, so nothing reports this metric.`
        : `${name} may not have had pods in this window (new or scaled to zero).`,
      "The series may not exist in this Prometheus: is the exporter (cAdvisor, kube-state-metrics, DCGM or the app's /metrics) scraped?",
      'The label names may differ from the ones this template selects on (namespace, pod, container).',
    );
  } else {
    reasons.push(
      'The selector matches no series in this range: check the metric name and the label values.',
      'The series may be newer than the range, or older and no longer scraped.',
    );
  }
  return {
    summary: `No data for ${subject.title} over the last ${formatDuration(rangeSeconds)}.`,
    tone: 'warning',
    sections: [{ type: 'list', title: 'Possible reasons', items: reasons, tone: 'warning' }, queryText],
  };
}

/** Pod count for the hint; undefined when it cannot be read, which only makes the hint vaguer. */
async function podCount(ref: WorkloadRef, ctx: SkillContext): Promise<number | undefined> {
  try {
    return (await ctx.kube.podsOf(ref)).length;
  } catch {
    return undefined;
  }
}
